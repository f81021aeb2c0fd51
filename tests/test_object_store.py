"""The data root in an object store (`s3://bucket/prefix`), against a real S3 server on loopback (moto's).

The storage layer (`trustpulse.storage`): write, read, list, delete, atomic publication, create-if-absent; the
landing folder, the topic model pointer and the DuckDB views over the store; then the whole demo run on an
`s3://` data root gives the same warehouse tables as on a local directory, and its report lands in the bucket.
Skipped only where moto is not installed (it is in the `dev` extra).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("moto.server", reason="moto[server] (dev extra) is not installed: no S3 server to test against")
pytest.importorskip("s3fs", reason="s3fs is not installed")

from moto.server import ThreadedMotoServer

from trustpulse.landing import landed_dumps
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import (
    SCRATCH_ENV_VAR,
    atomic_directory,
    atomic_target,
    build_duckdb_views,
    data_path,
    duckdb_connect,
    local_copy,
    partition_path,
    published_table_paths,
    read_parquet,
    read_partitions,
    remove_tree,
    scratch_root,
    table_path,
    write_bytes_atomic,
    write_bytes_once,
    write_parquet_atomic,
)
from trustpulse.tables import TOPIC_INFO_SCHEMA
from trustpulse.topics.store import load_topics

REPO = Path(__file__).resolve().parents[1]
BUCKET = "trustpulse-test"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
DEMO_SCALE = "0.3"  # ~700 mentions: the whole pipeline twice in well under a minute and a half


@pytest.fixture(scope="module")
def s3_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A moto S3 server on 127.0.0.1 with one bucket; the AWS environment pointing at it (set in this process
    for the module's tests, and returned for subprocesses)."""
    import boto3
    import s3fs

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        **CREDENTIALS,
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        SCRATCH_ENV_VAR: str(tmp_path_factory.mktemp("scratch")),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    s3fs.S3FileSystem.clear_instance_cache()  # a cached filesystem would keep an earlier endpoint
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        s3fs.S3FileSystem.clear_instance_cache()
        server.stop()


@pytest.fixture
def root(s3_env: dict[str, str], request: pytest.FixtureRequest):
    """A fresh prefix in the bucket for one test."""
    path = data_path(f"s3://{BUCKET}/{request.node.name}")
    yield path
    remove_tree(path)


def test_data_path_and_scratch(s3_env: dict[str, str], tmp_path: Path):
    remote = data_path(f"s3://{BUCKET}/some/prefix/")
    assert str(remote) == f"s3://{BUCKET}/some/prefix"
    assert scratch_root(remote) == Path(s3_env[SCRATCH_ENV_VAR]) / "s3" / BUCKET / "some" / "prefix"
    assert data_path(tmp_path) == tmp_path.resolve() == scratch_root(tmp_path)  # a local root keeps everything
    settings = TrustpulseSettings(data_root=f"s3://{BUCKET}/some/prefix")
    assert str(settings.warehouse_dir) == f"s3://{BUCKET}/some/prefix/warehouse"
    assert settings.duckdb_path.is_relative_to(scratch_root(remote))
    assert settings.cache_dir.is_relative_to(scratch_root(remote))
    assert settings.dagster_home.is_relative_to(scratch_root(remote))


def test_tables_write_read_list_delete(root):
    wh = root / "warehouse"
    frames = {key: pl.DataFrame({"mention_id": [f"{key}-1", f"{key}-2"], "n": [1, 2]}) for key in ("a~1", "b~2")}
    for key, df in frames.items():
        write_parquet_atomic(df, partition_path(wh, "mentions", key))
    both = read_partitions(wh, "mentions", ["b~2", "a~1", "gone~3"], {"mention_id": pl.String, "n": pl.Int64})
    assert both["mention_id"].to_list() == ["a~1-1", "a~1-2", "b~2-1", "b~2-2"]

    write_parquet_atomic(both, table_path(wh, "mentions"))
    write_parquet_atomic(both.head(1), table_path(wh, "duplicates"))
    assert sorted(published_table_paths(wh)) == ["duplicates", "mentions"]
    assert read_parquet(table_path(wh, "mentions"), columns=["n"]).to_series().to_list() == [1, 2, 1, 2]

    partition_path(wh, "mentions", "a~1").unlink(missing_ok=True)  # a stale partition, deleted
    partition_path(wh, "mentions", "never").unlink(missing_ok=True)
    assert not partition_path(wh, "mentions", "a~1").exists()
    assert read_partitions(wh, "mentions", ["a~1", "b~2"]).height == 2


def test_a_failed_write_publishes_nothing(root):
    target = root / "warehouse" / "trust_index.parquet"
    with pytest.raises(RuntimeError), atomic_target(target) as tmp:
        tmp.write_bytes(b"half a file")
        raise RuntimeError("killed mid-write")
    assert not target.exists()
    assert write_bytes_atomic(b"whole", target).read_bytes() == b"whole"
    write_bytes_atomic(b"replaced", target)  # one PUT: readers see the old or the new object, never a mix
    assert target.read_bytes() == b"replaced"


def test_write_bytes_once_is_create_if_absent(root):
    key = root / ".pseudonym_key"
    assert write_bytes_once(b"first", key) == b"first"
    assert write_bytes_once(b"second", key) == b"first"
    # the conditional PUT itself refuses to replace (what a racing writer that passed `exists` meets)
    with pytest.raises(FileExistsError):
        key.fs.pipe_file(key.path, b"third", mode="create")
    assert key.read_bytes() == b"first"
    settings = TrustpulseSettings(data_root=str(root))
    assert settings.resolved_pseudonym_key() == b"first"


def test_pointer_switches_after_the_whole_version(root):
    """A topic model version is uploaded whole, then `CURRENT` names it; no pointer, no model."""
    directory = root / "models" / "topics"
    with atomic_directory(directory / "v1") as staging:
        pl.DataFrame(schema=TOPIC_INFO_SCHEMA).write_parquet(staging / "topics.parquet")
        pl.DataFrame({"text_key": ["k"], "topic_id": [0], "topic_probability": [1.0]}).write_parquet(
            staging / "assignments.parquet"
        )
        (staging / "manifest.json").write_text('{"version": "v1"}')
    assert load_topics(directory) is None  # written, but not yet current
    with pytest.raises(FileExistsError), atomic_directory(directory / "v1"):
        pass
    write_bytes_atomic(b"v1", directory / "CURRENT")
    saved = load_topics(directory)
    assert saved is not None and saved.manifest == {"version": "v1"} and str(saved.path) == str(directory / "v1")
    assert saved.assignments["text_key"].to_list() == ["k"]


def test_listings_see_what_other_processes_wrote(root):
    """Another process (the sensor's, another worker's) adds and deletes objects: this process's `glob`, `iterdir`
    and `exists` must see it, not a listing it cached earlier (s3fs caches listings per filesystem instance)."""
    import s3fs

    other = s3fs.S3FileSystem(skip_instance_cache=True)  # what a second process has: a filesystem of its own
    wh, landing = root / "warehouse", root / "landing"
    write_bytes_atomic(b"a", wh / "a.parquet")
    write_bytes_atomic(b"1", landing / "one.jsonl")
    assert sorted(published_table_paths(wh)) == ["a"] and not (wh / "b.parquet").exists()
    assert [p.name for p in landing.iterdir()] == ["one.jsonl"]

    other.pipe_file((wh / "b.parquet").path, b"b")
    other.pipe_file((landing / "two.jsonl").path, b"2")
    other.rm_file((wh / "a.parquet").path)
    assert sorted(published_table_paths(wh)) == ["b"]
    assert (wh / "b.parquet").exists() and not (wh / "a.parquet").exists()
    assert sorted(p.name for p in landing.iterdir()) == ["one.jsonl", "two.jsonl"]


def test_landing_in_the_store_gives_the_local_partition_keys(root, tmp_path: Path):
    local_landing = tmp_path / "landing"
    local_landing.mkdir()
    files = {"a.jsonl": b'{"id": 1, "text": "hi"}\n', "b.csv": b"id,text\n1,hello\n", ".hidden.tmp": b"x"}
    for name, data in files.items():
        (local_landing / name).write_bytes(data)
        write_bytes_atomic(data, root / "landing" / name)
    remote = landed_dumps(root / "landing")
    assert [d.key for d in remote] == [d.key for d in landed_dumps(local_landing)]
    assert [d.name for d in remote] == ["a.jsonl", "b.csv"]
    assert local_copy(root / "landing" / "a.jsonl") == remote[0].path  # downloaded once per content
    write_bytes_atomic(b'{"id": 2, "text": "changed"}\n', root / "landing" / "a.jsonl")
    assert landed_dumps(root / "landing")[0].key != remote[0].key


def test_duckdb_views_over_the_store(root, tmp_path: Path):
    wh = root / "warehouse"
    write_parquet_atomic(pl.DataFrame({"brand": ["a", "b", "b"]}), table_path(wh, "mentions"))
    tables = published_table_paths(wh)
    database = tmp_path / "warehouse.duckdb"
    assert build_duckdb_views(database, tables) == ["mentions"]
    with duckdb_connect(database, [root]) as con:
        assert con.execute("select count(*) from mentions where brand = 'b'").fetchone() == (2,)


def _digests(tables: dict[str, object]) -> dict[str, dict]:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from warehouse_digests import table_digest
    finally:
        sys.path.pop(0)
    return {name: table_digest(local_copy(path)) for name, path in tables.items()}


def _demo(data: str, env: dict[str, str], cwd: Path) -> None:
    command = [sys.executable, "-m", "pipelines.cli", "demo", "--data", data, "--scale", DEMO_SCALE]
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_demo_on_the_store_matches_a_local_run(s3_env: dict[str, str], tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(s3_env, TRUSTPULSE_PSEUDONYM_KEY="object-store-test", PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    url = f"s3://{BUCKET}/demo-run"
    _demo(str(tmp_path / "local"), env, tmp_path)
    _demo(url, env, tmp_path)
    local = _digests(published_table_paths(tmp_path / "local" / "warehouse"))
    remote_root = data_path(url)
    remote = _digests(published_table_paths(remote_root / "warehouse"))
    assert len(local) >= 14 and remote == local

    reports = remote_root / "reports"
    latest = (reports / "latest.html").read_bytes()
    assert b"<html" in latest.lower()
    assert any((p / "executive_report.html").exists() for p in reports.iterdir() if p.name[:2] == "20")
    assert (remote_root / "models" / "topics" / "CURRENT").exists()
    # nothing local left in the bucket; the DuckDB file and DAGSTER_HOME are in the scratch directory
    assert not (remote_root / "warehouse.duckdb").exists() and not (remote_root / "dagster_home").exists()
    assert (scratch_root(remote_root) / "warehouse.duckdb").is_file()
    with duckdb_connect(scratch_root(remote_root) / "warehouse.duckdb", [remote_root]) as con:
        assert con.execute("select count(*) from mentions").fetchone()[0] == local["mentions"]["rows"]
