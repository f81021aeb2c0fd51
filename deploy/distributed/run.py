"""trustpulse as a real multi-process deployment, on loopback: `python deploy/distributed/run.py`.

Prototype for issue 19 (see NOTES.md beside this file). It starts, each as its own process:

- a throwaway Postgres cluster (initdb in a temporary folder, as the `postgres` user when run as root,
  listening on 127.0.0.1 on a free port, trust auth): Dagster's run, event-log and schedule storage;
- redis-server on a free loopback port: the Celery broker and result backend;
- an S3-compatible server (moto's, `python -m moto.server`) on a free loopback port: the data root is
  `s3://trustpulse-distributed/deploy` there (landing/, warehouse/, models/, reports/);
- the Dagster daemon (`dagster-daemon run`, which starts the code server): the landing sensor, the
  automation sensor and the queued run coordinator;
- two Celery workers (`dagster-celery worker start`, one task at a time each), which run every step.

Every Dagster process gets the S3 environment (AWS_ENDPOINT_URL, credentials, region) and a scratch
directory of its own (TRUSTPULSE_SCRATCH: caches, local copies of dumps and models, the DuckDB file), as
separate machines would have. Once the landing sensor runs, it uploads the demo dumps into the landing prefix
and lets the deployment work as it would in production:
the landing sensor adds a partition and queues an `ingest_dump` run per dump, the automation sensor queues
one refresh of everything downstream; every step of every run goes to a Celery worker. It waits for the
report to be published, reads from the Dagster instance (Postgres) which worker ran each step and how long
each step took, and compares every warehouse table in the bucket with a single-process `trustpulse run` on
a local copy of the same dumps (content digests, scripts/warehouse_digests.py). It prints one summary line,
stops everything it started
(also on failure and Ctrl-C) and exits 0 only if every run succeeded, the steps ran on both workers and
every table is identical.

Needs dagster-celery[redis] and dagster-postgres (`pip install -e ".[distributed]"`, or `make distributed`),
moto[server], s3fs and universal_pathlib (the `dev` extra), redis-server and Postgres' server binaries
(Debian: `apt-get install redis-server postgresql`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PG_USER = "dagster"
PG_DB = "dagster"
WORKERS = ("trustpulse-w1", "trustpulse-w2")
MAX_CONCURRENT_RUNS = 2  # two workers: two ingest runs keep both busy; more would only queue steps
CELERY_WORKER = "Celery worker"  # engine-event metadata key dagster-celery writes for each step it runs
BUCKET, PREFIX = "trustpulse-distributed", "deploy"
DATA_URL = f"s3://{BUCKET}/{PREFIX}"  # the distributed data root
S3_ENV = {"AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto", "AWS_DEFAULT_REGION": "us-east-1"}


def say(message: str) -> None:
    print(message, flush=True)


class Failed(Exception):
    """The deployment did not do what it should; the message says what."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, ready: Callable[[], bool], timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise Failed(f"{what} exited with code {process.returncode} before it was ready")
        try:
            if ready():
                return
        except Failed:
            raise
        except Exception:
            pass
        time.sleep(0.5)
    raise Failed(f"{what} not ready after {timeout:.0f} s")


class Processes:
    """Every process this script starts, each in its own session (process group), stopped in reverse order."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen, int]] = []

    def start(
        self,
        name: str,
        args: list[str],
        env: dict[str, str] | None = None,
        stop_signal: int = signal.SIGTERM,
        **kwargs: object,
    ) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            args,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **kwargs,
        )
        log.close()
        self.started.append((name, process, stop_signal))
        return process

    def stop(self, timeout: float = 30.0) -> list[str]:
        """Stop everything (signal to each process group, then SIGKILL to what is left); the names of the
        groups that had to be killed."""
        killed = []
        while self.started:
            name, process, stop_signal = self.started.pop()
            group = process.pid  # start_new_session: the process leads its own group
            try:
                os.killpg(group, stop_signal)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and (process.poll() is None or _group_alive(group)):
                time.sleep(0.2)
            if _group_alive(group):
                killed.append(name)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
            process.wait()
        return killed


def _group_alive(group: int) -> bool:
    """Whether any process of the group is still running (zombies do not count: nothing may reap them)."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = proc.joinpath("stat").read_text().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if len(fields) > 2 and fields[2] == str(group) and fields[0] != "Z":
                return True
    return False


# --- services ----------------------------------------------------------------------------------------------


def postgres_bin() -> Path:
    explicit = os.environ.get("TRUSTPULSE_PG_BIN")
    candidates = [Path(explicit)] if explicit else [Path("/usr/lib/postgresql/15/bin")]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "postgres").exists():
            return folder
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise Failed("no Postgres server binaries (initdb, postgres): apt-get install postgresql, or set TRUSTPULSE_PG_BIN")


def start_postgres(procs: Processes, folder: Path) -> int:
    """A throwaway cluster in `folder`: initdb (as `postgres` when we are root: initdb refuses root), trust auth
    on 127.0.0.1 only, a free port; database `dagster` owned by user `dagster`."""
    import psycopg2

    binaries = postgres_bin()
    as_user: dict[str, object] = {}
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    data = folder / "data"
    init = subprocess.run(
        [
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            PG_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        **as_user,
    )
    if init.returncode != 0:
        raise Failed(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    port = free_port()
    process = procs.start(
        "postgres",
        [
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(folder),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ],
        stop_signal=signal.SIGINT,  # "fast" shutdown
        cwd=folder,
        **as_user,
    )

    def connect() -> bool:
        psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres", connect_timeout=2).close()
        return True

    wait_for("postgres", connect, 60, process)
    conn = psycopg2.connect(host="127.0.0.1", port=port, user=PG_USER, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {PG_DB}")
    conn.close()
    return port


def start_redis(procs: Processes, folder: Path) -> int:
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        raise Failed("no redis-server: apt-get install redis-server")
    import redis

    port = free_port()
    process = procs.start(
        "redis",
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--protected-mode",
            "yes",
        ],
    )
    wait_for("redis-server", lambda: redis.Redis(host="127.0.0.1", port=port).ping(), 30, process)
    return port


def start_moto(procs: Processes) -> str:
    """moto's S3 server on a free loopback port (its own process) with an empty bucket; its endpoint URL."""
    import boto3

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = procs.start("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)])
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_ENV["AWS_DEFAULT_REGION"],
        aws_access_key_id=S3_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    wait_for("moto S3 server", lambda: client.list_buckets() is not None, 60, process)
    client.create_bucket(Bucket=BUCKET)
    return endpoint


def wait_for_sensor_tick(instance, sensor: str, timeout: float) -> bool:
    """Until the daemon has evaluated `sensor` once (so dumps uploaded next are new to a running sensor)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for state in instance.all_instigator_state():
            if state.name == sensor and instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1):
                return True
        time.sleep(1)
    return False


def host_scratch(folder: Path) -> str:
    """What one process kept on its local disk: top-level entries of its scratch dir, and the DuckDB file."""
    if not folder.exists():
        return "nothing"
    fetched = folder / "fetched"
    parts = [f"{sum(1 for f in fetched.rglob('*') if f.is_file())} fetched copies"] if fetched.exists() else []
    parts += [str(p.relative_to(folder)) for p in sorted(folder.glob("s3/*/*/*")) if p.name != "fetched"]
    return ", ".join(parts) or "empty"


# --- runs --------------------------------------------------------------------------------------------------


def single_process(data: Path, env: dict[str, str], logs: Path) -> float:
    """`trustpulse run` on `data` in one process (in-process executor, its own sqlite DAGSTER_HOME)."""
    started = time.perf_counter()
    with open(logs / "single-process.log", "wb") as log:
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "run", "--data", str(data)],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise Failed(f"single-process `trustpulse run` exited {done.returncode}: see {logs / 'single-process.log'}")
    return seconds


IN_PROGRESS = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


def _failure(instance, run) -> str:
    from dagster import DagsterEventType

    for entry in instance.all_logs(run.run_id, of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE}):
        event = entry.dagster_event
        data = event.step_failure_data if event.is_step_failure else None
        error = data.error if data is not None else None
        text = error.message.strip().splitlines()[0] if error and error.message else event.message or ""
        return f"{entry.step_key or 'run'}: {text}"
    return "no failure event"


def wait_for_publish(instance, dump_keys: list[str], timeout: float, settle: float, procs: Processes):
    """Until every dump is ingested, the report of exactly those dumps is published and no run is queued or
    running; then `settle` seconds more in which no new run may start (one refresh per batch). Returns the
    runs and the time the pipeline was done."""
    import dagster as dg

    from pipelines.partitions import last_published_signature
    from trustpulse.landing import dumps_signature

    wanted = dumps_signature(dump_keys)
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    done_at = None
    while time.monotonic() < deadline:
        for name, process, _ in procs.started:
            if process.poll() is not None:
                raise Failed(f"{name} exited with code {process.returncode}: see its log")
        runs = instance.get_runs()
        for run in reversed(runs):
            status = run.status.value
            if seen.get(run.run_id) != status:
                seen[run.run_id] = status
                what = run.tags.get("dagster/partition") or run.tags.get("trustpulse/launched_by", "")
                say(f"  run {run.run_id[:8]} {run.job_name} {what}: {status.lower()}")
            if status in ("FAILURE", "CANCELED"):
                raise Failed(f"run {run.run_id[:8]} ({run.job_name}) {status.lower()}: {_failure(instance, run)}")
        busy = [r for r in runs if r.status.value in IN_PROGRESS]
        published = last_published_signature(instance) == wanted
        ingested = set(dump_keys) <= set(instance.get_materialized_partitions(dg.AssetKey("mentions")))
        if ingested and published and not busy:
            if done_at is None:
                done_at = time.time()
                say(
                    f"  report published from all {len(dump_keys)} dumps; "
                    f"checking for {settle:.0f} s that no run follows"
                )
            elif time.time() - done_at >= settle:
                return instance.get_runs(), done_at
        elif done_at is not None:
            done_at = None  # something started after all: wait for it
        time.sleep(2)
    raise Failed(f"not published after {timeout:.0f} s (runs so far: {len(seen)})")


def step_workers(instance, runs) -> dict[tuple[str, str], str]:
    """(run id, step key) -> the Celery worker (name@host) that ran the step, from dagster-celery's engine event."""
    from dagster import DagsterEventType

    out = {}
    for run in runs:
        for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT):
            data = entry.dagster_event.engine_event_data
            worker = data.metadata.get(CELERY_WORKER) if data is not None else None
            if worker is not None and entry.step_key:
                out[(run.run_id, entry.step_key)] = str(worker.value)
    return out


def step_times(instance, runs) -> dict[tuple[str, str], float]:
    out = {}
    for run in reversed(runs):  # oldest first
        for stat in instance.get_run_step_stats(run.run_id):
            if stat.start_time and stat.end_time:
                out[(run.run_id, stat.step_key)] = stat.end_time - stat.start_time
    return out


def run_timeline(instance, runs, started: float, times: dict[tuple[str, str], float]) -> list[dict]:
    """Per run, oldest first: what it was, when it was queued and started (seconds after `started`: the upload),
    how long it ran, and how much of that its steps took (the rest: run worker start-up, Celery hand-offs)."""
    ids = {r.run_id for r in runs}
    records = sorted(
        (r for r in instance.get_run_records() if r.dagster_run.run_id in ids), key=lambda r: r.create_timestamp
    )
    out = []
    for r in records:
        run = r.dagster_run
        out.append(
            {
                "run": run.run_id[:8],
                "job": run.job_name,
                "what": (run.tags.get("dagster/partition") or "").split("~")[0],
                "queued": r.create_timestamp.timestamp() - started,
                "started": (r.start_time or float("nan")) - started,
                "seconds": (r.end_time or float("nan")) - (r.start_time or float("nan")),
                "steps": sum(t for (run_id, _), t in times.items() if run_id == run.run_id),
            }
        )
    return out


def single_process_steps(dagster_home: Path) -> dict[str, list[float]]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
        times = step_times(instance, runs)
    out: dict[str, list[float]] = defaultdict(list)
    for (_, step), seconds in times.items():
        out[step].append(seconds)
    return out


def digests(data) -> dict[str, dict]:
    """Content digest of every published table under a data root (a directory or `s3://`: read through the
    storage layer, from a local copy of each object)."""
    from trustpulse.storage import local_copy, published_table_paths

    table_digest = runpy.run_path(str(REPO / "scripts" / "warehouse_digests.py"))["table_digest"]
    return {name: table_digest(local_copy(path)) for name, path in published_table_paths(data / "warehouse").items()}


def print_steps(
    single: dict[str, list[float]], distributed: dict[str, list[float]], workers_of: dict[str, Counter]
) -> None:
    say(f"  {'step':<48} {'single-process':>15} {'distributed':>12}  worker(s)")
    order = list(dict.fromkeys([*single, *distributed]))
    for step in order:
        a, b = single.get(step, []), distributed.get(step, [])
        n = f" x{len(b)}" if len(b) > 1 else ""
        ran = ", ".join(f"{w.split('@')[0]}{f' x{c}' if c > 1 else ''}" for w, c in sorted(workers_of[step].items()))
        say(f"  {step + n:<48} {sum(a):>14.1f}s {sum(b):>11.1f}s  {ran}")
    say(
        f"  {'sum of step times':<48} {sum(map(sum, single.values())):>14.1f}s "
        f"{sum(map(sum, distributed.values())):>11.1f}s"
    )


# --- main --------------------------------------------------------------------------------------------------


def jupyter_path() -> str:
    """JUPYTER_PATH for the report's notebook: nbconvert looks for its templates under sys.prefix, which is not
    where they are when this venv borrows the project venv's site-packages through a .pth file (make
    distributed); then the project venv's share/jupyter is added."""
    import nbconvert

    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    share = Path(nbconvert.__file__).resolve().parents[4] / "share" / "jupyter"
    if share.is_dir() and not share.is_relative_to(Path(sys.prefix).resolve()):
        paths.append(str(share))
    return os.pathsep.join(paths)


def check_requirements() -> None:
    missing = []
    for module in ("dagster_celery", "dagster_postgres", "redis", "psycopg2", "moto.server", "boto3", "s3fs", "upath"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise Failed(f"missing Python packages {missing}: pip install -e '.[dev,distributed]' (or make distributed)")


@dataclass(frozen=True)
class Work:
    """The work folder and what goes in it."""

    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def dumps(self) -> Path:
        """The demo dumps (landing/) and brands, uploaded to the bucket."""
        return self.root / "dumps"

    @property
    def single_data(self) -> Path:
        """The single-process run's data root: a local copy of the same dumps and brands."""
        return self.root / "single-process"

    @property
    def single_record(self) -> Path:
        """The single-process run's seconds and pseudonym key (for --reuse-single)."""
        return self.root / "single-process.json"

    @property
    def hosts(self) -> Path:
        """One scratch dir per Dagster process, as on machines of their own."""
        return self.root / "hosts"


class Observed(NamedTuple):
    """What the Dagster instance says about the distributed runs."""

    runs: list
    workers: dict[tuple[str, str], str]  # (run id, step key) -> Celery worker
    times: dict[tuple[str, str], float]  # (run id, step key) -> seconds
    timeline: list[dict]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--work",
        type=Path,
        help="folder for the data roots and logs, kept (default: a temporary one, removed on success)",
    )
    p.add_argument("--keep", action="store_true", help="keep the work folder (services are stopped all the same)")
    p.add_argument("--scale", type=float, default=1.0, help="demo size (1.0: about 2,500 mentions)")
    p.add_argument("--timeout", type=float, default=1200, help="seconds to wait for the report to be published")
    p.add_argument(
        "--reuse-single", action="store_true", help="keep the single-process result already in --work (iterating)"
    )
    p.add_argument("--settle", type=float, default=35, help="seconds with no new run after the report (default 35)")
    return p.parse_args(argv)


def trap_signals() -> None:
    """Ctrl-C and SIGTERM both raise KeyboardInterrupt, so both end in main's clean-up (also when started with
    SIGINT ignored, as `cmd &` is)."""

    def terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)


def prepare_dumps(work: Work, scale: float, reuse: bool) -> list[str]:
    """The same demo dumps and brands for both data roots (work.dumps, uploaded to the bucket later, and the
    single-process copy, left as it is when reused); the dump keys."""
    from trustpulse.demo import DEMO_BRANDS_FILE, generate_demo_dumps
    from trustpulse.landing import landed_dumps

    for folder in (work.dumps, work.hosts) if reuse else (work.dumps, work.hosts, work.single_data):
        if folder.exists():
            shutil.rmtree(folder)
    generate_demo_dumps(work.dumps / "landing", seed=7, scale=scale)
    shutil.copyfile(DEMO_BRANDS_FILE, work.dumps / "brands.yaml")
    if not reuse:
        shutil.copytree(work.dumps, work.single_data)
    return sorted(d.key for d in landed_dumps(work.dumps / "landing"))


def base_environment() -> dict[str, str]:
    """The environment of both runs: this one's without DAGSTER_, TRUSTPULSE_ and AWS_ settings, plus the repo,
    this venv, offline Hugging Face, the notebook templates and one pseudonym key (identical tables expected)."""
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "TRUSTPULSE_", "AWS_"))}
    base_env.update(
        PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        HF_HUB_OFFLINE="1",
        JUPYTER_PATH=jupyter_path(),
        TRUSTPULSE_PSEUDONYM_KEY=os.environ.get("TRUSTPULSE_PSEUDONYM_KEY") or secrets.token_hex(16),
    )
    return base_env


def run_baseline(work: Work, base_env: dict[str, str], dump_keys: list[str], reuse: bool) -> float:
    """The single-process `trustpulse run` and its seconds; when reused, the recorded seconds, and base_env's
    pseudonym key set to the recorded one."""
    if reuse:
        recorded = json.loads(work.single_record.read_text())
        single_seconds = recorded["seconds"]
        base_env["TRUSTPULSE_PSEUDONYM_KEY"] = recorded["pseudonym_key"]
        say(f"single process: reusing {work.single_data} ({single_seconds:.1f} s)")
    else:
        say(f"single process: trustpulse run on {len(dump_keys)} demo dumps ({work.single_data}) ...")
        single_seconds = single_process(work.single_data, base_env, work.logs)
        say(f"single process: done in {single_seconds:.1f} s")
        record = {"seconds": single_seconds, "pseudonym_key": base_env["TRUSTPULSE_PSEUDONYM_KEY"]}
        work.single_record.write_text(json.dumps(record))
    return single_seconds


def start_services(procs: Processes, pg_folder: Path, work: Work, base_env: dict[str, str]) -> dict[str, str]:
    """Postgres, Redis and moto's S3 server; the environment of the Dagster processes (also this process's, with
    a scratch dir of its own: it reads the same instance and the same bucket)."""
    pg_port = start_postgres(procs, pg_folder)
    redis_port = start_redis(procs, work.logs)
    endpoint = start_moto(procs)
    say(f"postgres on 127.0.0.1:{pg_port}, redis on 127.0.0.1:{redis_port}, S3 (moto) at {endpoint}: {DATA_URL}")
    home = work.root / "dagster_home"
    home.mkdir(exist_ok=True)
    shutil.copyfile(HERE / "dagster.yaml", home / "dagster.yaml")
    env = dict(
        base_env,
        DAGSTER_HOME=str(home),
        DAGSTER_PG_HOST="127.0.0.1",
        DAGSTER_PG_PORT=str(pg_port),
        DAGSTER_PG_USER=PG_USER,
        DAGSTER_PG_PASSWORD="",
        DAGSTER_PG_DB=PG_DB,
        TRUSTPULSE_MAX_CONCURRENT_RUNS=str(MAX_CONCURRENT_RUNS),
        TRUSTPULSE_DATA=DATA_URL,
        AWS_ENDPOINT_URL=endpoint,
        **S3_ENV,
        TRUSTPULSE_EXECUTOR="celery",
        TRUSTPULSE_CELERY_BROKER=f"redis://127.0.0.1:{redis_port}/0",
        TRUSTPULSE_CELERY_BACKEND=f"redis://127.0.0.1:{redis_port}/1",
    )
    os.environ.update(env, TRUSTPULSE_SCRATCH=str(work.hosts / "check"))
    return env


def host_env(env: dict[str, str], work: Work, name: str) -> dict[str, str]:
    """The environment of one Dagster process: a local scratch dir of its own, as on its own machine."""
    return dict(env, TRUSTPULSE_SCRATCH=str(work.hosts / name))


def prepare_bucket_and_instance(work: Work) -> Path:
    """The brands uploaded to the bucket, and Dagster's tables created once before the processes start: each
    process creates missing tables on its first connection, and two doing it at once fail ('type "run_tags"
    already exists'). The bucket's data root."""
    import dagster as dg

    from trustpulse.storage import data_path, write_bytes_atomic

    dist_root = data_path(DATA_URL)
    write_bytes_atomic((work.dumps / "brands.yaml").read_bytes(), dist_root / "brands.yaml")
    with dg.DagsterInstance.get():
        pass
    return dist_root


def start_workers(procs: Processes, env: dict[str, str], work: Work) -> None:
    """The Celery workers, waited for until each answers a ping."""
    worker_procs = [
        procs.start(
            name,
            [
                sys.executable,
                "-m",
                "dagster_celery.cli",
                "worker",
                "start",
                "-A",
                "dagster_celery.app",
                "-y",
                str(HERE / "celery.yaml"),
                "-n",
                name,
                "-l",
                "INFO",
            ],
            env=host_env(env, work, name),
            cwd=REPO,
        )
        for name in WORKERS
    ]
    from celery import Celery

    app = Celery("trustpulse-check", broker=env["TRUSTPULSE_CELERY_BROKER"], backend=env["TRUSTPULSE_CELERY_BACKEND"])

    def workers_up() -> bool:
        for name, process in zip(WORKERS, worker_procs, strict=True):
            if process.poll() is not None:
                raise Failed(f"celery worker {name} exited with code {process.returncode}: see its log")
        return len(app.control.ping(timeout=1.0)) >= len(WORKERS)

    wait_for(f"{len(WORKERS)} celery workers", workers_up, 90)
    say(f"celery workers up: {', '.join(sorted(n for r in app.control.ping(timeout=1.0) for n in r))}")


def start_daemon(procs: Processes, env: dict[str, str], work: Work) -> None:
    procs.start(
        "dagster-daemon",  # its run workers (`dagster api execute_run`) inherit its environment
        [sys.executable, "-m", "dagster._daemon", "run", "-w", str(REPO / "workspace.yaml")],
        env=host_env(env, work, "dagster-daemon"),
        cwd=REPO,
    )


def land_dumps_and_wait(
    instance, procs: Processes, work: Work, dist_root: Path, dump_keys: list[str], timeout: float, settle: float
) -> tuple[list, float]:
    """The dumps uploaded to the bucket's landing prefix once the landing sensor is running (they must be new to
    it, as in production), then the wait until the report is published; the runs and the upload time."""
    from trustpulse.storage import write_bytes_atomic

    if not wait_for_sensor_tick(instance, "landing_sensor", 120):
        say("  (no landing_sensor tick after 120 s: landing the dumps anyway)")
    for dump in sorted((work.dumps / "landing").iterdir()):
        write_bytes_atomic(dump.read_bytes(), dist_root / "landing" / dump.name)
    started = time.time()
    say(
        f"dagster daemon running; {len(dump_keys)} dumps uploaded to {DATA_URL}/landing: the landing sensor "
        "ingests them, automation publishes ..."
    )
    runs, _ = wait_for_publish(instance, dump_keys, timeout, settle, procs)
    return runs, started


def read_runs(instance, runs: list, started: float) -> Observed:
    """Which worker ran each step, how long each step took, and each run's timeline."""
    workers = step_workers(instance, runs)
    times = step_times(instance, runs)
    return Observed(runs, workers, times, run_timeline(instance, runs, started, times))


def write_timings(work: Work, single_seconds: float, observed: Observed) -> None:
    """Per-step and per-run times, single-process beside distributed, printed and written to timings.json."""
    timeline = observed.timeline
    distributed_seconds = max(t["started"] + t["seconds"] for t in timeline)
    workers_of: dict[str, Counter] = defaultdict(Counter)
    distributed_steps: dict[str, list[float]] = defaultdict(list)
    for (run_id, step), seconds in observed.times.items():
        distributed_steps[step].append(seconds)
        workers_of[step][observed.workers.get((run_id, step), "?")] += 1

    say("per step (summed over runs/partitions):")
    single_steps = single_process_steps(work.single_data / "dagster_home")
    print_steps(single_steps, distributed_steps, workers_of)
    say(f"single process: {single_seconds:.1f} s (trustpulse run, landing -> report)")
    say("runs (seconds after the dumps were uploaded):")
    for t in timeline:
        say(
            f"  {t['run']} {t['job']:<12} {t['what']:<30} queued {t['queued']:6.1f}  started {t['started']:6.1f}"
            f"  ran {t['seconds']:5.1f} (steps {t['steps']:5.1f})"
        )
    say(
        f"distributed: {distributed_seconds:.1f} s from landing (upload) to published report; "
        f"{distributed_seconds - timeline[0]['started']:.1f} s from the first run's start"
    )
    (work.root / "timings.json").write_text(
        json.dumps(
            {
                "single_process_seconds": single_seconds,
                "distributed_seconds": distributed_seconds,
                "runs": timeline,
                "steps": {"single": single_steps, "distributed": distributed_steps},
                "workers": {k: dict(v) for k, v in workers_of.items()},
            },
            indent=2,
        )
    )
    say(f"steps per worker: {dict(Counter(w.split('@')[0] for w in observed.workers.values()))}")


def compare_tables(work: Work, dist_root: Path) -> tuple[dict[str, dict], list[str]]:
    """Every warehouse table's digest, single-process and in the bucket (written to digests.json), and what each
    process kept on its local disk; the single-process digests and the tables that differ."""
    single_tables, dist_tables = digests(work.single_data), digests(dist_root)
    for name in (*WORKERS, "dagster-daemon", "check"):
        say(f"  local disk of {name}: {host_scratch(work.hosts / name)}")
    (work.root / "digests.json").write_text(json.dumps({"single": single_tables, "distributed": dist_tables}, indent=2))
    differ = sorted(t for t in set(single_tables) | set(dist_tables) if single_tables.get(t) != dist_tables.get(t))
    return single_tables, differ


def verdict(observed: Observed, single_tables: dict[str, dict], differ: list[str], dist_root: Path) -> tuple[bool, str]:
    """Every problem printed; whether there was none, and the summary line."""
    not_celery = sorted({step for (run_id, step) in observed.times if (run_id, step) not in observed.workers})
    used = sorted(set(observed.workers.values()))
    problems = []
    if not_celery:
        problems.append(f"steps not run by a Celery worker: {not_celery}")
    if len(used) < len(WORKERS):
        problems.append(f"steps ran on {len(used)} worker(s), expected {len(WORKERS)}")
    if differ:
        problems.append(f"tables differ from single-process: {differ}")
    if not single_tables:
        problems.append("no warehouse tables")
    local_only = [n for n in ("warehouse.duckdb", "dagster_home", "cache") if (dist_root / n).exists()]
    if local_only:
        problems.append(f"local-only files in the bucket: {local_only}")
    if not (dist_root / "reports" / "latest.html").exists():
        problems.append("no reports/latest.html in the bucket")
    for line in problems:
        say(f"  problem: {line}")
    ok = not problems
    identical = len(single_tables) - len(differ)
    summary = (
        f"distributed: {len(observed.runs)} runs, steps on {len(used)} workers, {identical} tables identical to "
        f"single-process" + ("" if ok else f" ({len(differ)} differ)")
    )
    return ok, summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    trap_signals()
    work = Work((args.work or Path(tempfile.mkdtemp(prefix="trustpulse-distributed-"))).resolve())
    work.root.mkdir(parents=True, exist_ok=True)
    work.logs.mkdir(exist_ok=True)
    pg_folder = Path(tempfile.mkdtemp(prefix="trustpulse-pg-"))
    procs = Processes(work.logs)
    ok, summary = False, "distributed: FAILED"
    try:
        check_requirements()
        reuse = args.reuse_single and work.single_record.exists()
        dump_keys = prepare_dumps(work, args.scale, reuse)
        base_env = base_environment()
        single_seconds = run_baseline(work, base_env, dump_keys, reuse)

        env = start_services(procs, pg_folder, work, base_env)
        dist_root = prepare_bucket_and_instance(work)
        start_workers(procs, env, work)
        start_daemon(procs, env, work)

        import dagster as dg

        with dg.DagsterInstance.get() as instance:
            runs, started = land_dumps_and_wait(instance, procs, work, dist_root, dump_keys, args.timeout, args.settle)
            observed = read_runs(instance, runs, started)

        write_timings(work, single_seconds, observed)
        single_tables, differ = compare_tables(work, dist_root)
        ok, summary = verdict(observed, single_tables, differ, dist_root)
    except Failed as exc:
        summary = f"distributed: FAILED: {exc}"
    except KeyboardInterrupt:
        summary = "distributed: interrupted"
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        killed = procs.stop()
        if killed:
            say(f"had to kill: {', '.join(killed)}")
        shutil.rmtree(pg_folder, ignore_errors=True)
        if args.keep or args.work or not ok:
            say(f"work folder kept: {work.root} (logs in {work.logs})")
        else:
            shutil.rmtree(work.root, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    say(summary)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
