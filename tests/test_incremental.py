"""Incremental by partition (issue 19): a dump's per-mention work is done once, by its own runs, and kept as its
partition; publishing assembles the tables from the partitions. A second dump leaves the first one's enrichment
untouched, and publishing dump by dump gives the tables that publishing them at once gives."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import cli
from tests.conftest import FIXTURES
from trustpulse.enrichment import assemble_from_partitions, stale_dumps
from trustpulse.settings import TopicStageConfig, TrustpulseSettings
from trustpulse.storage import partition_path, table_path
from trustpulse.topics import load_topics, model_dir
from trustpulse.topics.stage import ASSIGNED_WITH, mention_topics_table, topic_embedder, topic_mentions

REPO = Path(__file__).resolve().parent.parent
# the digest of the demo check (scripts/warehouse_digests.py): rows compared as written, minus run-specific columns
_DIGESTS = importlib.util.spec_from_file_location("warehouse_digests", REPO / "scripts" / "warehouse_digests.py")
warehouse_digests = importlib.util.module_from_spec(_DIGESTS)
_DIGESTS.loader.exec_module(warehouse_digests)

SCHEMA = {"mention_id": pl.String(), "value": pl.Int64()}
FIRST, SECOND = ("first.csv", "twcs_sample.csv"), ("second.json", "x_api_response.json")
ENRICHED = ("mention_sentiment", "mention_topics")
# what the topic model is fitted on differs (the first dump alone, then both): these follow the model (responsiveness
# through its cut by topic)
TOPIC_MODEL_TABLES = {"topics", "mention_topics", "topic_trends", "responsiveness"}


def _published(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"mention_id": pl.String, "dump_key": pl.String}, orient="row")


def test_assembly_takes_current_partitions_and_redoes_the_stale_dumps_in_one_call():
    published = _published([("m1", "a"), ("m2", "b"), ("m3", "a"), ("m4", "c")])
    partitions = {
        "a": pl.DataFrame({"mention_id": ["m3", "m1", "x"], "value": [3, 1, 9], "made_with": ["v1"] * 3}),
        "b": pl.DataFrame({"mention_id": ["m2"], "value": [2], "made_with": ["v0"]}),  # another model: stale
    }  # "c": none yet
    calls: list[list[str]] = []

    def redo(todo: pl.DataFrame) -> pl.DataFrame:
        calls.append(todo["mention_id"].to_list())
        return pl.DataFrame({"mention_id": todo["mention_id"], "value": [20, 40], "made_with": ["v1", "v1"]})

    def current(partition: pl.DataFrame) -> bool:
        return bool((partition["made_with"] == "v1").all())

    assembled = assemble_from_partitions(published, partitions, SCHEMA, current, redo)
    assert calls == [["m2", "m4"]]  # one call, in published order
    assert assembled.table.rows() == [("m1", 1), ("m2", 20), ("m3", 3), ("m4", 40)]
    assert sorted(assembled.redone) == ["b", "c"]
    assert assembled.redone["c"].columns == ["mention_id", "value", "made_with"]  # kept as made, to write
    # a partition that lacks one of its dump's published mentions (un-deduplicated since) is stale
    assert stale_dumps(_published([("m5", "a")]), partitions, current) == ["a"]


def _run(settings: TrustpulseSettings, *dumps: tuple[str, str]) -> None:
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    for name, fixture in dumps:
        shutil.copy(FIXTURES / fixture, settings.landing_dir / name)
    assert cli.main(["run", "--data", str(settings.root)]) == 0


def _partition_files(settings: TrustpulseSettings, prefix: str) -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of a dump's partition files (every table), by table."""
    out = {}
    for directory in (settings.warehouse_dir / "partitions").iterdir():
        for path in directory.glob(f"{prefix}*"):
            out[directory.name] = (path.read_bytes(), path.stat().st_mtime_ns)
    return out


def _digests(settings: TrustpulseSettings) -> dict[str, dict[str, object]]:
    return {p.stem: warehouse_digests.table_digest(p) for p in sorted(settings.warehouse_dir.glob("*.parquet"))}


@pytest.fixture
def other_settings(settings: TrustpulseSettings, tmp_path: Path) -> TrustpulseSettings:
    return settings.model_copy(update={"data_root": str(tmp_path / "at_once")})


def test_a_second_dump_leaves_the_first_dumps_enrichment_untouched_and_publishes_the_same_tables(
    settings, other_settings, monkeypatch
):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("TRUSTPULSE_PSEUDONYM_KEY", "incremental-test")  # the same pseudonyms in both data roots
    _run(settings, FIRST)
    first = _partition_files(settings, FIRST[0])
    assert set(ENRICHED) <= set(first)  # sentiment by its ingest run, topics by the publish that assigned it

    _run(settings, SECOND)
    assert _partition_files(settings, FIRST[0]) == first  # neither B's ingest nor the publish rewrote A's
    assert set(ENRICHED) <= set(_partition_files(settings, SECOND[0]))

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    _run(other_settings, FIRST, SECOND)
    one_by_one, at_once = _digests(settings), _digests(other_settings)
    assert set(one_by_one) == set(at_once)
    for name in sorted(set(one_by_one) - TOPIC_MODEL_TABLES):
        assert one_by_one[name] == at_once[name], name

    # mention_topics, assembled from the first dump's assignment and the second's, is what assigning every
    # published mention to the same saved model at once gives
    topics = TopicStageConfig()
    mentions = pl.read_parquet(table_path(settings.warehouse_dir, "mentions"))
    whole = mention_topics_table(
        topic_mentions(mentions),
        load_topics(model_dir(settings.root)),
        pl.read_parquet(table_path(settings.warehouse_dir, "topics")),
        topics,
        topic_embedder(topics, settings.root),
    )
    assert_frame_equal(pl.read_parquet(table_path(settings.warehouse_dir, "mention_topics")), whole, check_exact=True)
    assigned = pl.read_parquet(partition_path(settings.warehouse_dir, "mention_topics", mentions["dump_key"][0]))
    assert assigned[ASSIGNED_WITH][0].startswith(load_topics(model_dir(settings.root)).manifest["version"])
