"""The table contract (`trustpulse.tables`): one schema per published table, strict conforming, the one period
helper (and its SQL twin in the reconciliation), and the atomic writes of `trustpulse.storage`."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from trustpulse.report.reconcile import _period_sql
from trustpulse.storage import DUMP_TABLES, atomic_directory
from trustpulse.tables import (
    ALL_PERIODS,
    TABLES,
    UNDATED,
    UTC_TIMESTAMP,
    TableContractError,
    conform,
    period_bounds,
    period_label,
    period_start,
)

REPO = Path(__file__).resolve().parent.parent
DIGESTS = REPO / "bench" / "results" / "demo_warehouse_digests.json"


# ---- the contract ------------------------------------------------------------------------------------------------


def test_every_published_table_has_one_contract():
    published = set(json.loads(DIGESTS.read_text()))
    assert {name for name, contract in TABLES.items() if contract.asset} == published
    assert set(DUMP_TABLES) == {"raw_mentions", "mentions", "quarantine", "duplicates", "dump_manifest"}
    for contract in TABLES.values():
        assert contract.added <= set(contract.schema), contract.name


def test_conform_orders_and_casts_to_the_contract():
    df = pl.DataFrame({"score": [1, 2], "mention_id": ["a", "b"], "extra": [0, 0]})
    out = conform(df, "mention_sentiment", ["mention_id", "score"])
    assert out.schema == pl.Schema({"mention_id": pl.String(), "score": pl.Float64()})
    assert out["score"].to_list() == [1.0, 2.0]
    stamps = conform(pl.DataFrame({"created_at": ["2026-10-05T10:00:00+00:00", None]}), "mentions", ["created_at"])
    assert stamps.schema["created_at"] == UTC_TIMESTAMP
    assert stamps["created_at"][0] == datetime(2026, 10, 5, 10, tzinfo=UTC)


def test_conform_fails_loudly_on_a_drifted_column():
    with pytest.raises(TableContractError, match=r"^table mention_sentiment: column score holds String") as err:
        conform(pl.DataFrame({"mention_id": ["a"], "score": ["high"]}), "mention_sentiment", ["mention_id", "score"])
    assert "\n" not in str(err.value)
    with pytest.raises(TableContractError, match=r"^table trust_drivers: column period \(String\) is missing$"):
        conform(pl.DataFrame({"brand": ["Acme"]}), "trust_drivers")


def test_a_column_an_earlier_version_did_not_write_reads_as_null():
    old = pl.DataFrame({"mention_id": ["a"], "label": ["neutral"], "score": [0.0]})
    out = conform(old, "mention_sentiment", ["mention_id", "not_scored_reason"])
    assert out["not_scored_reason"].to_list() == [None] and out.schema["not_scored_reason"] == pl.String()


# ---- periods -----------------------------------------------------------------------------------------------------


def test_period_label_and_start():
    stamps = pl.DataFrame(
        {"created_at": [datetime(2026, 10, 8, 23, 59, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC), None]},
        schema={"created_at": UTC_TIMESTAMP},
    )
    labels = stamps.select(
        day=period_label("created_at", "day"),
        week=period_label("created_at", "week"),
        month=period_label("created_at", "month"),
        all=period_label("created_at", ALL_PERIODS),
        start=period_start(pl.col("created_at"), "week"),
    )
    assert labels["day"].to_list() == ["2026-10-08", "2026-11-30", UNDATED]
    assert labels["week"].to_list() == ["2026-10-05", "2026-11-30", UNDATED]  # weeks start on Monday
    assert labels["month"].to_list() == ["2026-10-01", "2026-11-01", UNDATED]
    assert labels["all"].to_list() == [ALL_PERIODS] * 3
    assert labels["start"].to_list() == [datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC), None]
    with pytest.raises(ValueError, match="period must be one of"):
        period_label("created_at", "fortnight")


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_sql_period_filter_counts_what_the_period_label_says(grain):
    """The reconciliation recounts a period in DuckDB with `period_bounds`; the report labels it with
    `period_label`: the two agree on every timestamp, boundaries included."""
    rng = random.Random(7)
    start = datetime(2025, 12, 20, tzinfo=UTC)
    stamps = [start + timedelta(minutes=rng.randrange(0, 60 * 24 * 120)) for _ in range(400)]
    # period starts, and the last second of a month
    stamps += [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 5, tzinfo=UTC),
        datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
    ]
    mentions = pl.DataFrame({"created_at": [*stamps, None]}, schema={"created_at": UTC_TIMESTAMP})
    labelled = mentions.with_columns(period=period_label("created_at", grain))
    with duckdb.connect() as con:
        con.register("mentions", mentions)
        for label, expected in labelled.group_by("period").len().iter_rows():
            params: list = []
            where = _period_sql(label, grain, params)
            counted = con.execute(f"select count(*) from mentions where {where}", params).fetchone()[0]
            assert counted == expected, (label, grain)
            if label != UNDATED:
                low, high = period_bounds(label, grain)
                assert low.strftime("%Y-%m-%d") == label and low < high


# ---- atomic writes -----------------------------------------------------------------------------------------------


def test_atomic_directory_appears_whole_or_not_at_all(tmp_path: Path):
    target = tmp_path / "models" / "v1"
    with atomic_directory(target) as staging:
        (staging / "model.bin").write_bytes(b"weights")
        (staging / "sub").mkdir()
        (staging / "sub" / "meta.json").write_text("{}")
        assert not target.exists() and staging.name.startswith(".")
    assert (target / "model.bin").read_bytes() == b"weights" and (target / "sub" / "meta.json").exists()
    assert [p.name for p in target.parent.iterdir()] == ["v1"]

    failed = tmp_path / "models" / "v2"
    with pytest.raises(RuntimeError), atomic_directory(failed) as staging:
        (staging / "half.bin").write_bytes(b"half")
        raise RuntimeError("killed")
    assert not failed.exists() and [p.name for p in target.parent.iterdir()] == ["v1"]

    with pytest.raises(OSError), atomic_directory(target) as staging:  # never over a finished directory
        (staging / "model.bin").write_bytes(b"other")
    assert (target / "model.bin").read_bytes() == b"weights"
    assert [p.name for p in target.parent.iterdir()] == ["v1"]
