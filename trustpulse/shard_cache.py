"""A key -> row cache kept as parquet shards in one directory (the embedding and sentiment caches).

Why shards: a stage that scores a million texts saves its work every few thousand texts, so a crash
loses at most one chunk. Rewriting one growing file at each save would cost O(n^2) bytes written (a
million mentions: tens of GB); appending a shard costs O(chunk). Shards are merged into one file by
`compact`, which callers run once at the end of a stage, not after each chunk.

Each shard is written to a hidden temporary file, fsynced, then renamed (`trustpulse.storage`), so a
killed writer never leaves a half-written shard that a reader would pick up.
"""

from __future__ import annotations

import uuid
from collections.abc import Container, Sequence
from pathlib import Path

import polars as pl

from trustpulse.storage import write_parquet_atomic

KEY = "key"
MAX_SHARDS = 16  # `compact_if_needed` merges the shards into one beyond this many


def missing(keys: Sequence[str], texts: Sequence[str], known: Container[str]) -> tuple[list[str], list[str]]:
    """The distinct (key, text) pairs whose key is not in `known`, in first-seen order: what to compute."""
    todo: dict[str, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if key not in known and key not in todo:
            todo[key] = text
    return list(todo), list(todo.values())


class ShardCache:
    """Rows of a fixed `schema` (which has a string column `key`) under `directory`, one row per key."""

    def __init__(self, directory: Path | str, schema: dict[str, pl.DataType]) -> None:
        if schema.get(KEY) != pl.String:
            raise ValueError(f"a shard cache schema needs a String column {KEY!r}")
        self.directory = Path(directory)
        self.schema = schema

    def shards(self) -> list[Path]:
        return sorted(self.directory.glob("part-*.parquet")) if self.directory.is_dir() else []

    def _scan(self) -> pl.LazyFrame | None:
        shards = self.shards()
        if not shards:
            return None
        return pl.scan_parquet(shards).select(list(self.schema)).cast(self.schema)

    def __len__(self) -> int:
        scan = self._scan()
        return 0 if scan is None else scan.select(pl.col(KEY).n_unique()).collect().item()

    def get(self, keys: Sequence[str]) -> pl.DataFrame:
        """The cached rows whose key is in `keys` (one per key, unordered; the newest when a key repeats)."""
        scan = self._scan()
        if scan is None or len(keys) == 0:
            return pl.DataFrame(schema=self.schema)
        wanted = pl.LazyFrame({KEY: list(set(keys))}, schema={KEY: pl.String})
        return scan.join(wanted, on=KEY, how="semi").unique(subset=KEY, keep="last").collect()

    def put(self, rows: pl.DataFrame) -> None:
        """Save `rows` as one new shard."""
        if rows.height == 0:
            return
        rows = rows.select(list(self.schema)).cast(self.schema)
        write_parquet_atomic(rows, self.directory / f"part-{uuid.uuid4().hex}.parquet")

    def compact(self) -> None:
        """Merge all shards into one (first value wins for a repeated key: values never change)."""
        shards = self.shards()
        if len(shards) <= 1:
            return
        merged = pl.scan_parquet(shards).unique(subset=KEY, keep="first", maintain_order=True).collect()
        write_parquet_atomic(merged, self.directory / f"part-{uuid.uuid4().hex}.parquet")
        for shard in shards:
            shard.unlink(missing_ok=True)

    def compact_if_needed(self, max_shards: int = MAX_SHARDS) -> None:
        if len(self.shards()) > max_shards:
            self.compact()
