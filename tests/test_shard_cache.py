"""The parquet shard cache behind the embedding and sentiment caches."""

from pathlib import Path

import polars as pl
import pytest

from trustpulse.shard_cache import MAX_SHARDS, ShardCache

SCHEMA: dict[str, pl.DataType] = {"key": pl.String(), "value": pl.Int64()}


def _rows(start: int, stop: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"key": [f"k{i}" for i in range(start, stop)], "value": list(range(start, stop))}, schema=SCHEMA
    )


def test_put_get_across_processes(tmp_path: Path) -> None:
    cache = ShardCache(tmp_path, SCHEMA)
    assert len(cache) == 0 and cache.get(["k1"]).height == 0
    cache.put(_rows(0, 3))
    cache.put(_rows(3, 5))
    reopened = ShardCache(tmp_path, SCHEMA)
    assert len(reopened) == 5 and len(reopened.shards()) == 2
    got = reopened.get(["k4", "k0", "missing", "k4"]).sort("key")
    assert got.to_dicts() == [{"key": "k0", "value": 0}, {"key": "k4", "value": 4}]


def test_compaction_keeps_every_row_once(tmp_path: Path) -> None:
    cache = ShardCache(tmp_path, SCHEMA)
    for start in range(0, 2 * (MAX_SHARDS + 1), 2):
        cache.put(_rows(start, start + 3))  # overlapping chunks: each key but the last in two shards
    cache.compact_if_needed()
    assert len(cache.shards()) == 1
    merged = pl.read_parquet(cache.shards()[0])
    assert merged.height == merged["key"].n_unique() == 2 * (MAX_SHARDS + 1) + 1
    assert not list(tmp_path.glob(".*.tmp"))


def test_schema_needs_a_string_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="key"):
        ShardCache(tmp_path, {"key": pl.Int64(), "value": pl.Int64()})
