"""The data root's files, on disk or in an object store, written atomically; the DuckDB file of views over them.

Layout: `warehouse/partitions/<table>/<dump key>.parquet` per dump, `warehouse/<table>.parquet` for the
published table, `warehouse.duckdb` with one view per published table. DuckDB takes one writer at a time,
so views are (re)built only by `build_duckdb_views`, called from the `warehouse` asset.

The data root is a local directory or an object-store URL (`s3://bucket/prefix`, any S3-compatible endpoint:
s3fs, configured by the standard AWS environment, see `trustpulse.settings.OBJECT_STORE_ENV_VARS`). `data_path`
gives a `Path` for the first and a `UPath` for the second; both have the same `/`, `exists`, `glob`, `open`,
`read_bytes`, `unlink` methods, and every write and read that differs goes through this module:

- a file is written whole, then published in one step: on disk a rename; in an object store one PUT (multipart
  for large files), which makes the object appear whole or not at all;
- a set of files (a topic model version, a report) is written first, then a pointer object names it
  (`CURRENT`, `latest.html`), as on disk;
- `write_bytes_once` is create-if-absent: a hard link on disk, a conditional PUT (`If-None-Match: *`) in the
  store;
- what must stay local (model runtime and shard caches, the DuckDB file, DAGSTER_HOME, copies of landed dumps
  and saved models) lives under `scratch_root(root)`: the data root itself when it is local (the layout is as it
  always was), else `$TRUSTPULSE_SCRATCH` (default `~/.cache/trustpulse`)/<scheme>/<bucket>/<prefix>.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import duckdb
import polars as pl

from trustpulse.tables import TABLES

if TYPE_CHECKING:
    from upath import UPath

# Where a file of the data root lives: a path on disk, or an object in an object store (`upath.UPath`).
StorePath: TypeAlias = "Path | UPath"

SCRATCH_ENV_VAR = "TRUSTPULSE_SCRATCH"  # local directory for what stays local when the data root is remote
DEFAULT_SCRATCH = Path("~/.cache/trustpulse")
FETCHED_DIR = "fetched"  # scratch/fetched/<key>/: local copies of objects (landed dumps, saved models)


def is_remote(path: StorePath) -> bool:
    """Whether `path` is an object in an object store rather than a file on disk."""
    return not isinstance(path, Path)


def is_store_url(location: str | os.PathLike[str]) -> bool:
    text = str(location)
    return "://" in text and not text.startswith("file://")


def data_path(location: str | os.PathLike[str] | StorePath) -> StorePath:
    """A data root (or a file under it) as a path: `s3://bucket/prefix` -> `UPath` (credentials, region and
    endpoint from the standard AWS environment), anything else -> an absolute `Path`."""
    if not isinstance(location, str | os.PathLike):
        return location  # already a UPath
    if is_store_url(location):
        from upath import UPath

        # no listings cache: other processes (sensor, workers on other machines) add and delete objects, and
        # s3fs would otherwise answer `exists`/`glob`/`iterdir` from a listing made earlier in this process
        return UPath(str(location).rstrip("/"), use_listings_cache=False)
    return Path(location).expanduser().resolve()


def scratch_base() -> Path:
    return Path(os.environ.get(SCRATCH_ENV_VAR) or DEFAULT_SCRATCH).expanduser().resolve()


def scratch_root(root: str | os.PathLike[str] | StorePath) -> Path:
    """The local directory for what a data root keeps on local disk: the root itself when it is local; for an
    object-store root, `$TRUSTPULSE_SCRATCH/<scheme>/<bucket>/<prefix>` (one per root, so two roots never share
    a DuckDB file or a DAGSTER_HOME)."""
    path = data_path(root)
    if not is_remote(path):
        return path
    return scratch_base() / path.protocol / path.path.strip("/")


def _upload(local: Path, path: StorePath) -> None:
    """One PUT of a local file (s3fs switches to a multipart upload for large files, which also publishes the
    object only when it completes)."""
    path.fs.put_file(str(local), path.path)


def _staging_path(path: Path) -> Path:
    """A hidden, unique sibling of `path` to build it under before it is renamed into place."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")


def _fsync(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


@contextmanager
def atomic_target(path: StorePath) -> Iterator[Path]:
    """A temporary path beside `path` to write to; on success it is fsynced and renamed onto `path`,
    so readers never see half a file. A killed writer leaves only a hidden `.*.tmp` file. For an object in a store,
    the temporary path is a local file, uploaded in one PUT on success (nothing is uploaded on error)."""
    if is_remote(path):
        with tempfile.TemporaryDirectory(prefix="trustpulse-put-") as tmp:
            local = Path(tmp) / path.name
            yield local
            _upload(local, path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _staging_path(path)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_directory(path: StorePath) -> Iterator[Path]:
    """A hidden staging directory beside `path` to fill; on success its files are fsynced and it is renamed onto
    `path`, so readers see the whole directory or none of it. The rename fails (OSError) when `path` already
    exists and is not empty. A killed writer leaves only a hidden `.*.tmp` directory; any error removes it.

    In an object store there is no directory rename: the staging directory is local, and on success each file is
    uploaded under `path` (FileExistsError, before anything is uploaded, when `path` already holds objects). Readers
    must find the set through a pointer written afterwards (as `topics.store` does with `CURRENT`)."""
    if is_remote(path):
        if path.exists():
            raise FileExistsError(f"{path} already exists")
        with tempfile.TemporaryDirectory(prefix="trustpulse-put-") as tmp:
            staging = Path(tmp) / path.name
            staging.mkdir()
            yield staging
            for file in sorted(staging.rglob("*")):
                if file.is_file():
                    _upload(file, path.joinpath(*file.relative_to(staging).parts))
        return
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


def file_sha256(path: StorePath) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_parquet_atomic(df: pl.DataFrame, path: StorePath) -> StorePath:
    with atomic_target(path) as tmp:
        df.write_parquet(tmp, compression="zstd", statistics=True)
    return path


def write_bytes_atomic(data: bytes, path: StorePath) -> StorePath:
    with atomic_target(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_bytes_once(data: bytes, path: StorePath) -> bytes:
    """Create `path` holding `data` unless it already exists, and return what `path` holds. Processes racing
    to create it agree on one content: each writes a complete temporary file and hard-links it into place,
    which fails instead of replacing when another got there first. In an object store: a conditional PUT
    (`If-None-Match: *`, S3 and moto honour it), which fails the same way."""
    if is_remote(path):
        if not path.exists():
            with contextlib.suppress(FileExistsError):
                path.fs.pipe_file(path.path, data, mode="create")
        return path.read_bytes()
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


def remove_stale_temp_files(root: StorePath) -> int:
    """Delete temporary files left by a writer that was killed before its rename (one writer at a time). Writes
    to an object store stage locally, in a temporary directory, so they leave nothing under the root."""
    if is_remote(root):
        return 0
    stale = [p for p in root.rglob(".*.tmp") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def remove_tree(path: StorePath) -> None:
    """Delete a directory (or every object under a prefix) and what it holds; nothing when it is absent."""
    if is_remote(path):
        if path.exists():
            path.fs.rm(path.path, recursive=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def read_parquet(path: StorePath, columns: list[str] | None = None) -> pl.DataFrame:
    """A parquet file of the data root (Polars reads only local paths and file objects)."""
    if is_remote(path):
        with path.open("rb") as fh:
            return pl.read_parquet(fh, columns=columns)
    return pl.read_parquet(path, columns=columns)


def parquet_rows(path: StorePath) -> int:
    """Rows of a parquet file, from its footer (no column is read)."""
    import pyarrow.parquet as pq

    with path.open("rb") as fh:
        return pq.ParquetFile(fh).metadata.num_rows


def _fetched_copy(path: StorePath, what: str) -> Path:
    """Where a local copy of `path` in version `what` (an ETag, a version name) is kept."""
    key = hashlib.sha256(f"{path}\0{what}".encode()).hexdigest()[:24]
    return scratch_base() / FETCHED_DIR / key / path.name


def local_copy(path: StorePath) -> Path:
    """A local file holding what `path` holds: `path` itself on disk; for an object, a copy under
    scratch/fetched/, keyed by the object's URL, ETag and size, so it is downloaded once per content (a replaced
    object gets a new ETag, hence a new copy). For readers that need a real file (zip, gzip, pyarrow)."""
    if not is_remote(path):
        return path
    info = path.fs.info(path.path)
    local = _fetched_copy(path, f"{info.get('ETag', '')}\0{info.get('size', '')}")
    if not local.exists():
        local.parent.mkdir(parents=True, exist_ok=True)
        with atomic_target(local) as tmp:
            path.fs.get_file(path.path, str(tmp))
    return local


def local_tree(path: StorePath, version: str) -> Path:
    """A local directory holding what the prefix `path` holds; for an object store, downloaded once per
    `version` (the caller's name for an immutable content, e.g. a saved model version) and renamed into place."""
    if not is_remote(path):
        return path
    local = _fetched_copy(path, version)
    if not local.exists():
        try:
            with atomic_directory(local) as staging:
                for name in path.fs.find(path.path):
                    target = staging / Path(name).relative_to(path.path)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    path.fs.get_file(name, str(target))
        except OSError:
            if not local.exists():  # not a process that fetched the same version first: a real failure
                raise
    return local


def local_files(files: dict[str, StorePath], directory: Path) -> dict[str, Path]:
    """Copies of `files` (name -> path) as `directory/<name>`, and nothing else in `directory`: a local view of
    a few tables for code that reads a directory (the report notebook, its reconciliation)."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.iterdir():
        if stale.name not in files and stale.is_file():
            stale.unlink()
    out = {}
    for name, path in files.items():
        with atomic_target(directory / name) as tmp:
            if is_remote(path):
                path.fs.get_file(path.path, str(tmp))
            else:
                shutil.copyfile(path, tmp)
        out[name] = directory / name
    return out


def partition_path(warehouse_dir: StorePath, table: str, dump_key: str) -> StorePath:
    return warehouse_dir / "partitions" / table / f"{dump_key}.parquet"


# per-dump partition tables; `dump_manifest` is written last and marks a dump's partition as complete
DUMP_TABLES = tuple(name for name, contract in TABLES.items() if contract.per_dump)
# per-dump enrichment (sentiment, topic assignment) made from a dump's cleaned mentions
ENRICHMENT_TABLES = tuple(name for name, contract in TABLES.items() if contract.enriched_per_dump)
# every table with files under partitions/: the dump tables and the per-dump enrichment; removed with their dump
PARTITIONED_TABLES = DUMP_TABLES + ENRICHMENT_TABLES
MANIFEST_TABLE = "dump_manifest"  # written last for a dump: its presence marks the dump as complete


def forget_dump_outputs(warehouse_dir: StorePath, dump_key: str) -> None:
    """Before a dump is cleaned again: its manifest goes, so the dump is not published again until its new
    cleaning is complete and accounted for, and so does its enrichment, made from the previous cleaning
    (texts can change under the same key: a new column map, a cleaning fix)."""
    for table in (MANIFEST_TABLE, *ENRICHMENT_TABLES):
        partition_path(warehouse_dir, table, dump_key).unlink(missing_ok=True)


def dump_is_complete(warehouse_dir: StorePath, dump_key: str) -> bool:
    return all(partition_path(warehouse_dir, table, dump_key).exists() for table in DUMP_TABLES)


def table_path(warehouse_dir: StorePath, table: str) -> StorePath:
    return warehouse_dir / f"{table}.parquet"


def published_table_paths(warehouse_dir: StorePath) -> dict[str, StorePath]:
    """Every published parquet table under `warehouse_dir`, by name."""
    return {p.stem: p for p in sorted(warehouse_dir.glob("*.parquet"), key=str)}


def read_partitions(
    warehouse_dir: StorePath, table: str, dump_keys: Iterable[str], schema: dict[str, pl.DataType] | None = None
) -> pl.DataFrame:
    """The given dumps' partitions of a table, concatenated (missing partitions are skipped). Partitions written
    by an earlier version may lack a column added since: it is null there, not an error."""
    paths = [p for key in sorted(dump_keys) if (p := partition_path(warehouse_dir, table, key)).exists()]
    if not paths:
        return pl.DataFrame(schema=schema) if schema else pl.DataFrame()
    frames = pl.concat([read_parquet(p) for p in paths], how="diagonal_relaxed")
    if schema:
        missing = [pl.lit(None, dtype).alias(name) for name, dtype in schema.items() if name not in frames.columns]
        frames = frames.with_columns(missing) if missing else frames
    return frames


def duckdb_connect(database: str | Path, tables: Iterable[StorePath] = ()) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that can read the data root's tables. For object-store tables it registers the
    store's fsspec filesystem (DuckDB's own httpfs extension is not needed): open the warehouse file of an
    `s3://` data root with `trustpulse.storage.duckdb_connect(path, [data_path("s3://bucket/prefix")])`."""
    con = duckdb.connect(str(database))
    remote = next((p for p in tables if is_remote(p)), None)
    if remote is not None:
        con.register_filesystem(remote.fs)
    return con


def build_duckdb_views(duckdb_path: Path, tables: dict[str, StorePath]) -> list[str]:
    """Rebuild the DuckDB file (always local): one view per parquet table. Built beside, then renamed into place.
    Views over object-store tables name their `s3://` URLs (see `duckdb_connect` to query them)."""
    created = []
    with atomic_target(duckdb_path) as tmp:
        try:
            with duckdb_connect(tmp, tables.values()) as con:
                for name, path in sorted(tables.items()):
                    if path.exists():
                        literal = (str(path) if is_remote(path) else str(path.resolve())).replace("'", "''")
                        con.execute(f"CREATE OR REPLACE VIEW \"{name}\" AS SELECT * FROM read_parquet('{literal}')")
                        created.append(name)
                con.execute("CHECKPOINT")
        finally:
            Path(f"{tmp}.wal").unlink(missing_ok=True)
    return created
