"""Dagster operations: the landing sensor, asset checks on planted bad tables, the UI's GraphQL view."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets import checks
from assets.ingest import DUMPS
from pipelines.partitions import DUMPS_TAG
from pipelines.sensors import landing_sensor
from tests.conftest import FIXTURES
from trustpulse.landing import dumps_signature, landed_dumps
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import PARTITIONED_TABLES, partition_path, table_path, write_parquet_atomic

REPO = Path(__file__).resolve().parent.parent


def _tick(instance: dg.DagsterInstance, settings: TrustpulseSettings, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"settings": settings})
    return landing_sensor(context)


def _apply(instance: dg.DagsterInstance, result: dg.SensorResult) -> None:
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def test_sensor_adds_partitions_only_for_new_or_changed_files(settings):
    settings.landing_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "generic.jsonl", settings.landing_dir / "a.jsonl")
    shutil.copy(FIXTURES / "reddit_comments.jsonl", settings.landing_dir / "b.jsonl")
    instance = dg.DagsterInstance.ephemeral()

    first = _tick(instance, settings, None)
    keys = sorted(d.key for d in landed_dumps(settings.landing_dir))
    assert [r.partition_key for r in first.run_requests] == keys
    assert {r.job_name for r in first.run_requests} == {"ingest_dump"}
    _apply(instance, first)

    again = _tick(instance, settings, first.cursor)
    assert not again.run_requests and not again.dynamic_partitions_requests  # nothing new; waits for ingest

    with (settings.landing_dir / "a.jsonl").open("a") as fh:
        fh.write('{"id": "g4", "text": "new line", "author": "zed"}\n')
    changed = _tick(instance, settings, again.cursor)
    new_key = next(d.key for d in landed_dumps(settings.landing_dir) if d.name == "a.jsonl")
    assert [r.partition_key for r in changed.run_requests] == [new_key]
    deleted = [
        k
        for r in changed.dynamic_partitions_requests
        if isinstance(r, dg.DeleteDynamicPartitionsRequest)
        for k in r.partition_keys
    ]
    assert deleted == [k for k in keys if k.startswith("a.jsonl")]
    _apply(instance, changed)
    assert set(instance.get_dynamic_partitions(DUMPS.name)) == {new_key, *[k for k in keys if k.startswith("b.")]}


def test_sensor_drops_the_partition_and_parquet_files_of_a_dump_that_left_landing(settings):
    """As `trustpulse run` does (pipelines.partitions.sync_dump_partitions): one diff, one clean-up."""
    settings.landing_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "generic.jsonl", settings.landing_dir / "a.jsonl")
    shutil.copy(FIXTURES / "reddit_comments.jsonl", settings.landing_dir / "b.jsonl")
    instance = dg.DagsterInstance.ephemeral()
    _apply(instance, _tick(instance, settings, None))
    (gone,) = [d.key for d in landed_dumps(settings.landing_dir) if d.name == "b.jsonl"]
    assert {"mentions", "mention_sentiment", "mention_topics"} <= set(PARTITIONED_TABLES)
    for table in PARTITIONED_TABLES:  # what its ingest run and the enrichment left in the warehouse
        write_parquet_atomic(pl.DataFrame({"x": [1]}), partition_path(settings.warehouse_dir, table, gone))

    (settings.landing_dir / "b.jsonl").unlink()
    result = _tick(instance, settings, None)
    deleted = [
        k
        for r in result.dynamic_partitions_requests
        if isinstance(r, dg.DeleteDynamicPartitionsRequest)
        for k in r.partition_keys
    ]
    assert deleted == [gone]
    assert not any(partition_path(settings.warehouse_dir, table, gone).exists() for table in PARTITIONED_TABLES)
    _apply(instance, result)
    assert set(instance.get_dynamic_partitions(DUMPS.name)) == {d.key for d in landed_dumps(settings.landing_dir)}


def test_sensor_leaves_publishing_to_automation_and_publishes_a_removal_once(settings, monkeypatch):
    settings.landing_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "generic.jsonl", settings.landing_dir / "a.jsonl")
    shutil.copy(FIXTURES / "reddit_comments.jsonl", settings.landing_dir / "b.jsonl")
    instance = dg.DagsterInstance.ephemeral()
    first = _tick(instance, settings, None)
    _apply(instance, first)
    keys = sorted(r.partition_key for r in first.run_requests)
    monkeypatch.setattr(type(instance), "get_materialized_partitions", lambda self, asset_key, **kw: set(keys))
    assert not _tick(instance, settings, first.cursor).run_requests  # ingested: automation publishes, not the sensor
    # a dump removed without a replacement: no ingest, so one publish of the smaller set (deduplicated by run key)
    (settings.landing_dir / "b.jsonl").unlink()
    removed = _tick(instance, settings, None)
    (request,) = removed.run_requests
    (kept,) = [k for k in keys if k.startswith("a.jsonl")]
    assert request.job_name == "publish" and request.tags[DUMPS_TAG] == dumps_signature([kept])
    assert request.run_key == f"publish-{dumps_signature([kept])}"
    # a hand-added partition with a run in progress is left alone until the run ends (its one-line error)
    instance.add_dynamic_partitions(DUMPS.name, ["typed-by-hand.csv"])
    monkeypatch.setattr("pipelines.sensors._running_partitions", lambda instance, keys: {"typed-by-hand.csv"})
    deleted = [k for r in _tick(instance, settings, None).dynamic_partitions_requests for k in r.partition_keys]
    assert "typed-by-hand.csv" not in deleted


def _with(settings: TrustpulseSettings, **changes) -> TrustpulseSettings:
    return TrustpulseSettings(data_root=settings.data_root, brands_file=settings.brands_file, **changes)


@pytest.fixture
def published(settings) -> TrustpulseSettings:
    """A tiny, valid set of published tables."""
    from trustpulse.tables import ACCOUNTING_SCHEMA, MENTION_SCHEMA

    wh = settings.warehouse_dir
    mentions = (
        pl.DataFrame({"mention_id": ["a", "b"], "text": ["hi", "ho"], "brand": [["X"], []]})
        .with_columns(
            [
                pl.lit(None, dtype=t).alias(c)
                for c, t in MENTION_SCHEMA.items()
                if c not in ("mention_id", "text", "brand")
            ]
        )
        .select(list(MENTION_SCHEMA))
        .cast(MENTION_SCHEMA)
    )
    write_parquet_atomic(mentions, table_path(wh, "mentions"))
    accounting = pl.DataFrame(
        {
            "dump_file": ["d"],
            "dump_key": ["k"],
            "source_format": ["jsonl"],
            "raw_records": [3],
            "kept": [2],
            "duplicates": [0],
            "quarantined": [1],
            "unread": [0],
            "balanced": [True],
        },
        schema=ACCOUNTING_SCHEMA,
    )
    write_parquet_atomic(accounting, table_path(wh, "ingest_accounting"))
    return settings


def test_checks_pass_on_good_tables(published):
    for fn in (checks.mentions_contract, checks.mention_id_unique, checks.accounting_balanced, checks.mentions_fresh):
        assert fn(published).passed, fn.__name__
    ceiling = _with(published, max_quarantine_share=0.5)
    assert checks.quarantine_under_ceiling(ceiling).passed


def test_each_check_fails_on_a_planted_bad_table(published):
    wh = published.warehouse_dir
    mentions = pl.read_parquet(table_path(wh, "mentions"))
    write_parquet_atomic(mentions.drop("lang"), table_path(wh, "mentions"))
    assert not checks.mentions_contract(published).passed
    write_parquet_atomic(pl.concat([mentions, mentions.head(1)]), table_path(wh, "mentions"))
    assert not checks.mention_id_unique(published).passed
    accounting = pl.read_parquet(table_path(wh, "ingest_accounting"))
    write_parquet_atomic(accounting.with_columns(kept=pl.lit(5, pl.Int64)), table_path(wh, "ingest_accounting"))
    assert not checks.accounting_balanced(published).passed
    assert not checks.quarantine_under_ceiling(_with(published, max_quarantine_share=0.1)).passed
    old = time.time() - 30 * 24 * 3600
    os.utime(table_path(wh, "mentions"), (old, old))
    assert not checks.mentions_fresh(published).passed


def test_sentiment_drift_check_compares_with_previous_materialisation(settings):
    from assets.sentiment import mention_sentiment

    instance = dg.DagsterInstance.ephemeral()
    wh = settings.warehouse_dir

    def materialise(labels: list[str]) -> dg.AssetCheckResult:
        sentiment = pl.DataFrame(
            {
                "mention_id": [str(i) for i in range(len(labels))],
                "label": labels,
                "p_negative": 0.0,
                "p_neutral": 1.0,
                "p_positive": 0.0,
                "score": 0.0,
                "model_id": "m",
                "scored": True,
                "not_scored_reason": None,
            },
            schema_overrides={"not_scored_reason": pl.String},
        )
        write_parquet_atomic(sentiment, table_path(wh, "mention_sentiment"))
        shares = {k: labels.count(k) / len(labels) for k in set(labels)}
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                asset_key=mention_sentiment.key, metadata={"label_shares": dg.MetadataValue.json(shares)}
            )
        )
        context = dg.build_asset_check_context(instance=instance)
        return checks.sentiment_drift(context, settings)

    assert materialise(["neutral"] * 8 + ["negative"] * 2).passed
    assert materialise(["neutral"] * 7 + ["negative"] * 3).passed  # drift 0.1
    bad = materialise(["negative"] * 9 + ["positive"])
    assert not bad.passed and bad.metadata["drift"].value > 0.2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webserver_graphql_lists_assets_checks_sensor_schedule(tmp_path):
    port = _free_port()
    env = {**os.environ, "TRUSTPULSE_DATA": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-w",
            str(REPO / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    query = """{ assetNodes { assetKey { path } hasAssetChecks
        assetChecksOrError { ... on AssetChecks { checks { name } } } }
      workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { ... on RepositoryLocation {
        repositories { sensors { name } schedules { name cronSchedule } } } } } } } }"""
    try:
        deadline, data = time.time() + 90, None
        while time.time() < deadline and data is None:
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql",
                    data=json.dumps({"query": query}).encode(),
                    headers={"Content-Type": "application/json"},
                )
                data = json.loads(urllib.request.urlopen(request, timeout=5).read())["data"]
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(1)
        assert data is not None, "webserver did not answer"
    finally:
        server.terminate()
        server.wait(timeout=30)
    assets = {"/".join(n["assetKey"]["path"]) for n in data["assetNodes"]}
    assert {
        "raw_mentions",
        "mentions",
        "quarantine",
        "mention_dataset",
        "mention_sentiment",
        "needs_answer",
        "responsiveness",
        "trust_index",
        "warehouse",
    } <= assets
    check_names = {
        c["name"] for n in data["assetNodes"] if n["hasAssetChecks"] for c in n["assetChecksOrError"]["checks"]
    }
    assert {
        "mentions_contract",
        "mention_id_unique",
        "accounting_balanced",
        "quarantine_under_ceiling",
        "sentiment_drift",
        "mentions_fresh",
    } <= check_names
    repo = data["workspaceOrError"]["locationEntries"][0]["locationOrLoadError"]["repositories"][0]
    assert sorted(s["name"] for s in repo["sensors"]) == ["default_automation_condition_sensor", "landing_sensor"]
    assert repo["schedules"] == [{"name": "weekly_report", "cronSchedule": "0 7 * * 1"}]


def test_sentiment_refresh_is_not_held_back_by_a_dump_without_its_sentiment_partition():
    """A dump ingested by an earlier version (or held back by a failed check) has no `dump_sentiment`
    partition; `mention_sentiment` scores such dumps itself, so when the dataset is republished it must still
    be refreshed (plain eager() waits for every upstream partition and would never run)."""
    from pipelines.catalog import automation_condition

    parts = dg.StaticPartitionsDefinition(["old", "new"])

    @dg.asset(partitions_def=parts)
    def dump_sentiment() -> None: ...

    @dg.asset
    def mention_dataset() -> None: ...

    @dg.asset(deps=[mention_dataset, dump_sentiment], automation_condition=automation_condition("mention_sentiment"))
    def mention_sentiment() -> None: ...

    instance = dg.DagsterInstance.ephemeral()
    assets = [dump_sentiment, mention_dataset, mention_sentiment]
    first = dg.evaluate_automation_conditions(defs=assets, instance=instance)
    dg.materialize([dump_sentiment], partition_key="new", instance=instance)  # "old" never got one
    dg.materialize([mention_dataset], instance=instance)
    after = dg.evaluate_automation_conditions(defs=assets, instance=instance, cursor=first.cursor)
    assert after.get_requested_partitions(mention_sentiment.key) == {None}


def test_cleaning_a_dump_again_forgets_its_manifest_and_enrichment(tmp_path):
    """Re-cleaning (a new column map, --force after a fix) may change texts under the same dump key: the
    previous sentiment and topic partitions must not be reused, and the dump is unpublished until its new
    cleaning is complete (the manifest is written last, and only when every record is accounted for)."""
    from trustpulse.storage import forget_dump_outputs

    key = "a.csv~0123456789ab"
    tables = ["dump_manifest", "mention_sentiment", "mention_topics", "mentions", "raw_mentions"]
    for table in tables:
        write_parquet_atomic(pl.DataFrame({"x": [1]}), partition_path(tmp_path, table, key))
    forget_dump_outputs(tmp_path, key)
    left = {t for t in tables if partition_path(tmp_path, t, key).exists()}
    assert left == {"mentions", "raw_mentions"}  # overwritten by the cleaning itself; raw is its input
