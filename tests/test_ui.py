"""The analyst's day in the Dagster UI (issue 20): automation keeps results fresh with one publish per batch
and no duplicate, `trustpulse demo` is quiet on stderr, the reports are served read-only, and a real browser
drives `trustpulse ui`: asset graph, Materialize all, success, the report opened from its asset page."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import build_definitions
from pipelines.sensors import landing_sensor
from tests.browser import CHROMIUM, chromium_context
from trustpulse.serve import serve_reports
from trustpulse.settings import TrustpulseSettings

REPO = Path(__file__).resolve().parent.parent
TRUSTPULSE = Path(sys.executable).parent / "trustpulse"
DEMO_SCALE = "0.2"
INGEST = ["raw_mentions", "mentions", "quarantine", "duplicates", "dump_sentiment"]
TOPICS = ["topic_model", "mention_topics", "topic_trends"]
SCORES = ["needs_answer", "unanswered", "responsiveness", "trust_index", "trust_drivers"]
AFTER_TOPICS = [*SCORES, "warehouse", "executive_report", "published_report"]
DOWNSTREAM = ["mention_dataset", "mention_sentiment", *TOPICS, *AFTER_TOPICS]
UI_DEADLINE_S = 120
BACKFILL_DEADLINE_S = 420


# --- automation ------------------------------------------------------------------------------------------


def _materialise(instance: dg.DagsterInstance, names: list[str], partition: str | None = None) -> None:
    """What a run that materialised these assets leaves in the instance (whoever launched it)."""
    for name in names:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=name, partition=partition))


def _requested(result: dg.EvaluateAutomationConditionsResult) -> set[str]:
    return {
        key.to_user_string() for key in (dg.AssetKey(n) for n in DOWNSTREAM + INGEST) if result.get_num_requested(key)
    }


def test_automation_one_publish_per_batch_refreshes_after_refit_and_never_twice(settings: TrustpulseSettings):
    defs = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("dumps", ["a.csv~1", "b.csv~2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tester's own BetaWarning

        def tick(cursor: object = None) -> dg.EvaluateAutomationConditionsResult:
            return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)

        result = tick()
        assert result.total_requested == 0  # nothing ingested: nothing to publish (and no empty report)
        _materialise(instance, INGEST, "a.csv~1")
        result = tick(result.cursor)
        assert result.total_requested == 0  # one dump of the batch still to ingest: wait
        _materialise(instance, INGEST, "b.csv~2")
        result = tick(result.cursor)
        assert _requested(result) == set(DOWNSTREAM)  # the batch is in: everything downstream, in one tick
        _materialise(instance, DOWNSTREAM)  # the run the automation launched
        result = tick(result.cursor)
        assert result.total_requested == 0

        # a topic refit (the topics_refit job): scores, warehouse and report follow, nothing else
        _materialise(instance, TOPICS)
        result = tick(result.cursor)
        assert _requested(result) == set(AFTER_TOPICS)
        _materialise(instance, AFTER_TOPICS)
        result = tick(result.cursor)
        assert result.total_requested == 0

        # one partition re-ingested from the UI: everything downstream refreshes once
        _materialise(instance, INGEST, "a.csv~1")
        result = tick(result.cursor)
        assert _requested(result) == set(DOWNSTREAM)
        _materialise(instance, DOWNSTREAM)
        assert tick(result.cursor).total_requested == 0

        # re-ingested, then `publish` launched by hand before the automation's tick: no second publish
        _materialise(instance, INGEST, "b.csv~2")
        _materialise(instance, DOWNSTREAM)  # the hand-launched publish (no tags)
        result = tick(result.cursor)
        assert result.total_requested == 0
    # nor does the landing sensor ask for one: it only ingests
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    context = dg.build_sensor_context(instance=instance, resources={"settings": settings})
    assert not [r for r in (landing_sensor(context).run_requests or []) if r.job_name == "publish"]


def test_every_job_runs_in_one_process_and_the_schedule_is_on():
    defs = build_definitions()
    for name in ("publish", "ingest_dump", "topics_refit", "__ASSET_JOB"):
        assert defs.resolve_job_def(name).executor_def.name == "in_process", name
    assert defs.resolve_schedule_def("weekly_report").default_status == dg.DefaultScheduleStatus.RUNNING
    sensor = defs.resolve_sensor_def("default_automation_condition_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    for spec in defs.resolve_all_asset_specs():
        assert spec.owners and spec.code_version and spec.description, spec.key


# --- the report server -----------------------------------------------------------------------------------


def test_reports_are_served_read_only(tmp_path: Path):
    reports = tmp_path / "reports"
    (reports / "2026-01-05").mkdir(parents=True)
    (reports / "latest.html").write_text("<html><title>r</title></html>")
    (tmp_path / "secret.txt").write_text("no")
    server = serve_reports(reports)
    try:
        with urllib.request.urlopen(server.url + "latest.html", timeout=5) as response:
            assert response.status == 200 and b"<title>r</title>" in response.read()
        for path, method, code in (("", "GET", 404), ("2026-01-05/", "GET", 404), ("latest.html", "POST", 405)):
            request = urllib.request.Request(server.url + path, method=method, data=b"" if method == "POST" else None)
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(request, timeout=5)
            assert error.value.code == code, path
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(server.url + "../secret.txt", timeout=5)
    finally:
        server.close()


# --- the demo and the UI ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_root() -> Iterator[tuple[Path, subprocess.CompletedProcess[str]]]:
    """`trustpulse demo --scale 0.2` on a fresh data root, as a person runs it (a subprocess)."""
    with tempfile.TemporaryDirectory(prefix="tp-ui-") as tmp:
        root = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "TRUSTPULSE_DATA")}
        env["HF_HUB_OFFLINE"] = "1"
        done = subprocess.run(
            [str(TRUSTPULSE), "demo", "--scale", DEMO_SCALE, "--data", str(root)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
            timeout=600,
        )
        yield root, done


def test_demo_writes_nothing_to_stderr_and_shows_progress(demo_root):
    root, done = demo_root
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr == ""
    out = done.stdout
    assert "mention_sentiment ..." in out and "mention_sentiment: done in" in out
    assert "new texts scored" in out and "tables written" in out and "publish done in" in out
    assert (root / "reports" / "latest.html").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    return json.loads(urllib.request.urlopen(request, timeout=10).read())["data"]


BACKFILLS = "{ partitionBackfillsOrError { ... on PartitionBackfills { results { id status } } } }"
RUNS = "{ runsOrError { ... on Runs { results { runId status jobName tags { key value } } } } }"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium missing: run scripts/install_browser.sh")
def test_browser_materialize_all_then_open_the_report(demo_root):

    root, done = demo_root
    assert done.returncode == 0
    port, reports_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "TRUSTPULSE_DATA")}
    env["HF_HUB_OFFLINE"] = "1"
    ui = subprocess.Popen(
        [str(TRUSTPULSE), "ui", "--data", str(root), "--port", str(port), "--reports-port", str(reports_port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    errors: list[str] = []
    try:
        deadline = time.time() + UI_DEADLINE_S
        while True:
            try:
                _graphql(port, "{ version }")
                break
            except OSError:
                assert ui.poll() is None and time.time() < deadline, "trustpulse ui did not start"
                time.sleep(1)
        with chromium_context(width=1400) as context:
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            base = f"http://127.0.0.1:{port}"
            # the asset graph, its five groups
            page.goto(base + "/asset-groups", wait_until="networkidle", timeout=60_000)
            page.wait_for_timeout(2_000)
            if page.get_by_role("button", name="Skip").is_visible():  # Dagster's community pop-up
                page.get_by_role("button", name="Skip").click()
            for group in ("ingest", "enrich", "score", "publish", "report"):
                assert page.get_by_text(group, exact=True).first.is_visible(), group
            # Materialize all: every dump partition, one backfill
            page.get_by_role("button", name="Materialize all").click()
            dialog = page.locator("[role=dialog]")
            dialog.get_by_text("Loading pipeline and partition sets").first.wait_for(state="detached", timeout=60_000)
            dialog.get_by_role("button", name="All", exact=True).click()
            dialog.get_by_text("6 partitions", exact=True).first.wait_for(timeout=30_000)  # the six demo dumps
            dialog.get_by_role("button", name="Launch backfill").click()
            page.get_by_text("Created backfill").wait_for(timeout=30_000)
            deadline, status = time.time() + BACKFILL_DEADLINE_S, None
            while time.time() < deadline:
                backfills = _graphql(port, BACKFILLS)["partitionBackfillsOrError"]["results"]
                status = backfills[0]["status"] if backfills else None
                if status not in (None, "REQUESTED"):
                    break
                time.sleep(3)
            assert status == "COMPLETED_SUCCESS", status
            runs = _graphql(port, RUNS)["runsOrError"]["results"]
            assert all(r["status"] == "SUCCESS" for r in runs), [(r["jobName"], r["status"]) for r in runs]
            # the report, from its asset page, through the link on the materialisation
            page.goto(base + "/assets/published_report", wait_until="networkidle", timeout=60_000)
            link = page.get_by_role("link", name=f"http://127.0.0.1:{reports_port}/latest.html").first
            link.wait_for(timeout=30_000)
            href = link.get_attribute("href")
            assert href == f"http://127.0.0.1:{reports_port}/latest.html"
            page.goto(href, wait_until="load", timeout=60_000)
            assert page.locator(".plotly-graph-div").count() > 0
            assert "report" in page.title().lower() or page.locator("h1").count()
            danger = page.locator(".bp5-toast.bp5-intent-danger").count()
            context.close()
        assert danger == 0
        assert not errors, errors
        # no second publish launched by the automation after the backfill
        time.sleep(5)
        runs = _graphql(port, RUNS)["runsOrError"]["results"]
        automation = [r for r in runs if {"key": "trustpulse/launched_by", "value": "automation"} in r["tags"]]
        assert not automation, automation
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        try:
            ui.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
