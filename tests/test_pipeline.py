"""The ingest assets through Dagster, the CLI on a persistent instance, and the warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets import checks, inputs
from assets.dataset import mention_dataset
from assets.ingest import DUMPS, clean_mentions, raw_mentions
from assets.report import executive_report
from assets.topics import topic_trends
from assets.warehouse import warehouse
from pipelines import cli
from pipelines.definitions import defs
from pipelines.partitions import sync_dump_partitions
from tests.conftest import FIXTURES
from trustpulse.dataset import accounting_table, dedupe_across_dumps
from trustpulse.landing import landed_dumps
from trustpulse.report.data import OPTIONAL, REQUIRED
from trustpulse.report.reconcile import SOURCE as RECONCILED_TABLES
from trustpulse.settings import TopicStageConfig
from trustpulse.storage import partition_path
from trustpulse.tables import TABLES as TABLE_CONTRACTS

TABLES = ("raw_mentions", "mentions", "quarantine", "duplicates", "ingest_accounting")


def test_materialize_ingest_assets_per_dump(settings, landing):
    instance = dg.DagsterInstance.ephemeral()
    sync = sync_dump_partitions(instance, settings)
    assert sorted(sync.added) == sorted(d.key for d in landed_dumps(landing))
    resources = {"settings": settings}
    for dump in sync.current:
        result = dg.materialize(
            [raw_mentions, clean_mentions], partition_key=dump.key, instance=instance, resources=resources
        )
        assert result.success
        mats = {e.asset_key.path[-1]: e for e in result.get_asset_materialization_events()}
        assert set(mats) == {"raw_mentions", "mentions", "quarantine", "duplicates"}
        meta = mats["mentions"].materialization.metadata
        assert meta["raw_records"].value == meta["kept"].value + meta["duplicates"].value + meta["quarantined"].value
    result = dg.materialize(
        [mention_dataset, warehouse],
        instance=instance,
        resources=resources,
        selection=[mention_dataset, warehouse],
    )
    assert result.success
    for table in TABLES:
        assert (settings.warehouse_dir / f"{table}.parquet").exists()
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
        assert views == set(TABLES)
        n_raw, kept, dup, quarantined = con.execute(
            "select sum(raw_records), sum(kept), sum(duplicates), sum(quarantined) from ingest_accounting"
        ).fetchone()
        assert n_raw == kept + dup + quarantined == con.execute("select count(*) from raw_mentions").fetchone()[0]
        assert con.execute("select count(*) - count(distinct mention_id) from mentions").fetchone()[0] == 0
        columns = {r[0] for r in con.execute("describe mentions").fetchall()}
    assert {
        "mention_id",
        "dump_file",
        "thread_id",
        "parent_id",
        "author",
        "author_id",
        "is_owner",
        "brand",
        "mention_type",
        "created_at",
        "text",
        "lang",
        "n_chars",
        "url",
        "platform",
        "position",
    } <= columns


def test_cross_dump_copies_become_duplicates(settings):
    m = pl.DataFrame(
        {
            "mention_id": ["a", "a", "b"],
            "record_id": ["k2:0", "k1:3", "k1:4"],
            "dump_file": ["z.csv", "a.csv", "a.csv"],
            "dump_key": ["k2", "k1", "k1"],
        }
    )
    dups = pl.DataFrame(
        schema={
            "record_id": pl.String,
            "dump_file": pl.String,
            "dump_key": pl.String,
            "duplicate_of": pl.String,
            "rule": pl.String,
            "similarity": pl.Float64,
        }
    )
    kept, dups = dedupe_across_dumps(m, dups)
    assert kept["record_id"].to_list() == ["k1:3", "k1:4"]
    assert dups.select("record_id", "rule").rows() == [("k2:0", "cross_dump")]
    # z.csv's file holds 3 records by its own count, its reader produced 1: two records show as unread
    manifest = pl.DataFrame(
        {
            "dump_file": ["a.csv", "z.csv"],
            "dump_key": ["k1", "k2"],
            "source_format": ["csv"] * 2,
            "read_records": [2, 1],
            "file_records": [None, 3],
        }
    )
    q = pl.DataFrame(schema={"dump_key": pl.String})
    acc = accounting_table(manifest, kept, q, dups)
    assert acc.select("dump_file", "raw_records", "kept", "duplicates", "unread", "balanced").rows() == [
        ("a.csv", 2, 2, 0, 0, True),
        ("z.csv", 3, 0, 1, 2, False),
    ]


def test_cli_run_is_persistent_incremental_and_survives_a_bad_dump(settings, landing, monkeypatch, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    (landing / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    shutil.copy(FIXTURES / "brands.yaml", settings.root / "brands.yaml")
    data = str(settings.root)
    assert cli.main(["run", "--data", data]) == 1  # the binary dump fails, the others go through
    out, err = capsys.readouterr()
    # one line that names the file and says what it is; no stack trace, no Dagster wrapper
    assert "  broken.png: not a dump (PNG image)\n" in err
    assert "Traceback" not in out + err and "DagsterExecutionStepExecutionError" not in out + err
    assert "broken.png: FAILED: broken.png: not a dump (PNG image)" in out
    accounting = pl.read_parquet(settings.warehouse_dir / "ingest_accounting.parquet")
    assert accounting.height == len([p for p in FIXTURES.iterdir() if p.is_file()]) - 1
    assert accounting["balanced"].all()

    (landing / "broken.png").unlink()
    assert cli.main(["run", "--data", data]) == 0
    out, _ = capsys.readouterr()
    assert out.count("unchanged, already ingested") == accounting.height
    assert "nothing to recompute" in out  # the same dumps were published by the first run
    # the runs are in the persistent instance under the data root, for the UI
    home = settings.root / "dagster_home"
    assert "enabled: false" in (home / "dagster.yaml").read_text()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert len(runs) == accounting.height + 1 + 1  # ingest runs, the failed one, one publish run
        assert set(instance.get_dynamic_partitions(DUMPS.name)) == {d.key for d in landed_dumps(landing)}


def test_changed_dump_replaces_its_partition(settings, landing, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    for path in landing.iterdir():
        if path.name != "generic.jsonl":
            path.unlink()
    assert cli.main(["run", "--data", str(settings.root)]) == 0
    with (landing / "generic.jsonl").open("a") as fh:
        fh.write('{"id": "g9", "text": "Acme answered me within the hour, impressive", "author": "fay"}\n')
    assert cli.main(["run", "--data", str(settings.root)]) == 0
    mentions = pl.read_parquet(settings.warehouse_dir / "mentions.parquet")
    assert mentions["dump_key"].n_unique() == 1
    assert "Acme answered me within the hour, impressive" in mentions["text"].to_list()
    assert len(list((settings.warehouse_dir / "partitions" / "mentions").iterdir())) == 1


@pytest.mark.parametrize("name", ["blog_thread.txt"])
def test_seed_shaped_blog_through_the_cli(settings, monkeypatch, name, tmp_path: Path):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings.landing_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / name, settings.landing_dir / name)
    assert cli.main(["run", "--data", str(settings.root)]) == 0
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        owners = con.execute("select author, count(*) from mentions where is_owner group by 1").fetchall()
        boiler = con.execute("select count(*) from mentions where text ilike '%post a comment%'").fetchone()[0]
    assert owners == [("Maria", 3)] and boiler == 0


def test_new_dump_only_ingests_itself_and_updates_the_report(settings, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings.landing_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "twcs_sample.csv", settings.landing_dir / "first.csv")
    shutil.copy(FIXTURES / "brands.yaml", settings.root / "brands.yaml")
    assert cli.main(["run", "--data", str(settings.root)]) == 0
    first_partition = next((settings.warehouse_dir / "partitions" / "mentions").glob("first.csv*"))
    stamp = first_partition.stat().st_mtime_ns
    report_before = (settings.root / "reports" / "latest.html").read_text()

    shutil.copy(FIXTURES / "x_api_response.json", settings.landing_dir / "second.json")
    assert cli.main(["run", "--data", str(settings.root)]) == 0
    assert first_partition.stat().st_mtime_ns == stamp  # the earlier dump's partition was not rewritten
    report_after = (settings.root / "reports" / "latest.html").read_text()
    assert report_after != report_before
    assert "second.json" in report_after and "second.json" not in report_before  # data coverage lists it


def test_records_a_reader_misses_fail_the_run_and_the_accounting_check(settings, monkeypatch, capsys):
    """A reader that yields fewer records than the file holds (here: the structural count says 2 more) is a gap:
    the dump is still published, `unread` names it, the accounting check fails and the run exits 1."""
    import trustpulse.ingest

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings.landing_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "generic.jsonl", settings.landing_dir / "generic.jsonl")
    real_count = trustpulse.ingest.count_file_records
    monkeypatch.setattr(trustpulse.ingest, "count_file_records", lambda *a, **k: real_count(*a, **k) + 2)
    assert cli.main(["run", "--data", str(settings.root)]) == 1
    _, err = capsys.readouterr()
    accounting = pl.read_parquet(settings.warehouse_dir / "ingest_accounting.parquet").row(0, named=True)
    assert accounting["unread"] == 2 and not accounting["balanced"]
    assert f"generic.jsonl: 2 of {accounting['raw_records']} records in the file were not read (read as jsonl)" in err
    home = settings.root / "dagster_home"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("mention_dataset"), "accounting_balanced")]
        )
    evaluation = check[dg.AssetCheckKey(dg.AssetKey("mention_dataset"), "accounting_balanced")].event
    assert evaluation is not None and not evaluation.dagster_event.event_specific_data.passed


def test_a_data_root_ingested_by_the_previous_version_still_publishes(settings, monkeypatch):
    """Partitions written before this version lack `read_records`, `file_records`, `reader_notes` (manifest),
    `skip_reason`, `reader_note`, `reply_native_ids` (raw) and `replies_not_in_dump` (mentions): publishing
    with them reads those as absent instead of failing, and the old dump keeps its account."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings.landing_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "generic.jsonl", settings.landing_dir / "generic.jsonl")
    assert cli.main(["run", "--data", str(settings.root)]) == 0
    parts = settings.warehouse_dir / "partitions"
    old_shapes = {
        "dump_manifest": (["read_records", "file_records", "reader_notes"], {"read_records": "raw_records"}),
        "raw_mentions": (["skip_reason", "reader_note", "reply_native_ids"], {}),
        "mentions": (["replies_not_in_dump"], {}),
    }
    for table, (dropped, renamed) in old_shapes.items():
        for path in (parts / table).glob("*.parquet"):
            frame = pl.read_parquet(path)
            frame = frame.rename(renamed).drop([c for c in dropped if c in frame.columns and c not in renamed])
            frame.write_parquet(path)
    shutil.copy(FIXTURES / "reddit_comments.jsonl", settings.landing_dir / "reddit.jsonl")
    assert cli.main(["run", "--data", str(settings.root)]) == 0
    accounting = pl.read_parquet(settings.warehouse_dir / "ingest_accounting.parquet")
    assert accounting["balanced"].all() and accounting.height == 2


def test_a_failing_blocking_check_stops_the_assets_downstream_in_the_run(settings, landing):
    """`raw_records_read` (blocking) fails when raw_mentions does not hold what the manifests say was read: the
    checked mention_dataset is published, the warehouse downstream of it is not built in that run."""
    instance = dg.DagsterInstance.ephemeral()
    dump = sync_dump_partitions(instance, settings).current[0]
    resources = {"settings": settings}
    assert dg.materialize(
        [raw_mentions, clean_mentions], partition_key=dump.key, instance=instance, resources=resources
    ).success
    manifest_path = partition_path(settings.warehouse_dir, "dump_manifest", dump.key)
    pl.read_parquet(manifest_path).with_columns(pl.col("read_records") + 1).write_parquet(manifest_path)
    result = dg.materialize(
        [mention_dataset, warehouse, checks.raw_records_read],
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )
    assert not result.success
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert mention_dataset.key in materialised and warehouse.key not in materialised
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "raw_records_read"]
    assert not evaluation.passed and "raw_mentions holds" in (evaluation.description or "")
    assert not settings.duckdb_path.exists()


def test_a_missing_upstream_table_fails_naming_the_asset_to_materialise(settings):
    result = dg.materialize(
        [topic_trends],
        resources={"settings": settings, "topics": TopicStageConfig()},
        raise_on_error=False,
    )
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    while error.cause is not None and not error.message.startswith("dagster._core.definitions.events.Failure"):
        error = error.cause
    assert "no mention_topics table" in error.message and "materialise `mention_topics` first" in error.message


def test_every_asset_declares_exactly_the_assets_whose_output_it_reads(settings, landing, monkeypatch):
    """Lineage from the reads: a full run records, through `assets.inputs.check_declared` (which every input read
    goes through, and which fails on an undeclared read), what each asset read; its declared deps must be exactly
    the producers of those inputs. The report reads in the notebook's kernel: its deps are held to the tables the
    report and its reconciliation read."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    read: dict[dg.AssetKey, set[dg.AssetKey]] = {}
    declared_check = inputs.check_declared

    def recording(context: dg.AssetExecutionContext, upstream: str) -> None:
        declared_check(context, upstream)
        for key in context.selected_asset_keys:
            read.setdefault(key, set()).add(dg.AssetKey(upstream))

    monkeypatch.setattr(inputs, "check_declared", recording)
    assert cli.main(["run", "--data", str(settings.root)]) in (0, 1)  # landing/ holds one dump that fails to read
    graph = defs.resolve_asset_graph()
    report_tables = {*REQUIRED, *OPTIONAL, *RECONCILED_TABLES.values()}
    read[executive_report.key] = {dg.AssetKey(TABLE_CONTRACTS[t].asset) for t in report_tables}
    for key in graph.get_all_asset_keys():
        assert graph.get(key).parent_keys == read.get(key, set()), key.to_user_string()
