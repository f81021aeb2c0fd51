"""Parquet tables under the data root, written atomically, and the DuckDB file of views over them.

Layout: `warehouse/partitions/<table>/<dump key>.parquet` per dump, `warehouse/<table>.parquet` for the
published table, `warehouse.duckdb` with one view per published table. DuckDB takes one writer at a time,
so views are (re)built only by `build_duckdb_views`, called from the `warehouse` asset.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from trustpulse.tables import TABLES


def _staging_path(path: Path) -> Path:
    """A hidden, unique sibling of `path` to build it under before it is renamed into place."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def _fsync(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; on success it is fsynced and renamed onto `path`,
    so readers never see half a file. A killed writer leaves only a hidden `.*.tmp` file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _staging_path(path)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """A hidden staging directory beside `path` to fill; on success its files are fsynced and it is renamed onto
    `path`, so readers see the whole directory or none of it. The rename fails (OSError) when `path` already
    exists and is not empty. A killed writer leaves only a hidden `.*.tmp` directory; any error removes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = _staging_path(path)
    staging.mkdir()
    try:
        yield staging
        for file in staging.rglob("*"):
            if file.is_file():
                _fsync(file)
        os.replace(staging, path)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_parquet_atomic(df: pl.DataFrame, path: Path) -> Path:
    with atomic_target(path) as tmp:
        df.write_parquet(tmp, compression="zstd", statistics=True)
    return path


def write_bytes_atomic(data: bytes, path: Path) -> Path:
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_bytes_once(data: bytes, path: Path) -> bytes:
    """Create `path` holding `data` unless it already exists, and return what `path` holds. Processes racing
    to create it agree on one content: each writes a complete temporary file and hard-links it into place,
    which fails instead of replacing when another got there first."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_bytes()


def remove_stale_temp_files(root: Path) -> int:
    """Delete temporary files left by a writer that was killed before its rename (one writer at a time)."""
    stale = [p for p in root.rglob(".*.tmp") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def partition_path(warehouse_dir: Path, table: str, dump_key: str) -> Path:
    return warehouse_dir / "partitions" / table / f"{dump_key}.parquet"


# per-dump partition tables; `dump_manifest` is written last and marks a dump's partition as complete
DUMP_TABLES = tuple(name for name, contract in TABLES.items() if contract.per_dump)


def dump_is_complete(warehouse_dir: Path, dump_key: str) -> bool:
    return all(partition_path(warehouse_dir, table, dump_key).exists() for table in DUMP_TABLES)


def table_path(warehouse_dir: Path, table: str) -> Path:
    return warehouse_dir / f"{table}.parquet"


def read_partitions(
    warehouse_dir: Path, table: str, dump_keys: Iterable[str], schema: dict[str, pl.DataType] | None = None
) -> pl.DataFrame:
    """The given dumps' partitions of a table, concatenated (missing partitions are skipped). Partitions written
    by an earlier version may lack a column added since: it is null there, not an error."""
    paths = [p for key in sorted(dump_keys) if (p := partition_path(warehouse_dir, table, key)).exists()]
    if not paths:
        return pl.DataFrame(schema=schema) if schema else pl.DataFrame()
    frames = pl.concat([pl.read_parquet(p) for p in paths], how="diagonal_relaxed")
    if schema:
        missing = [pl.lit(None, dtype).alias(name) for name, dtype in schema.items() if name not in frames.columns]
        frames = frames.with_columns(missing) if missing else frames
    return frames


def build_duckdb_views(duckdb_path: Path, tables: dict[str, Path]) -> list[str]:
    """Rebuild the DuckDB file: one view per parquet table. Built beside, then renamed into place."""
    created = []
    with atomic_target(duckdb_path) as tmp:
        try:
            with duckdb.connect(str(tmp)) as con:
                for name, path in sorted(tables.items()):
                    if path.exists():
                        literal = str(path.resolve()).replace("'", "''")
                        con.execute(f"CREATE OR REPLACE VIEW \"{name}\" AS SELECT * FROM read_parquet('{literal}')")
                        created.append(name)
                con.execute("CHECKPOINT")
        finally:
            Path(f"{tmp}.wal").unlink(missing_ok=True)
    return created
