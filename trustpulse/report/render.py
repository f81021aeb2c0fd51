"""Run the report notebook with papermill and export it with nbconvert to one self-contained HTML file.

`render_report(data_root, ...)` runs three steps (the Dagster assets run them as `executive_report`, the blocking
`report_reconciles` check and `published_report`): `stage_report` renders into `DATA_ROOT/reports/staging/` (the
HTML, the executed notebook and `stated_counts.json`, every count the report states); `reconcile_staged` recounts
each of them from the warehouse parquet files (`trustpulse.report.reconcile`); only when they all match,
`publish_report` writes `DATA_ROOT/reports/<run date>/executive_report.html` (with the notebook and the counts
beside it), then `DATA_ROOT/reports/latest.html`. Every file is written to a temporary name and renamed, so a
reader never sees half a report, and a report that does not reconcile is never published.

The export shows no code, no prompts and no stderr, embeds plotly.js once and loads nothing from the network:
the template drops nbconvert's require.js / MathJax / widget / mermaid CDN tags, Plotly's per-figure MathJax CDN
tag is removed, and `inspect_html` refuses the result if any external resource load is left.

With an object-store data root the notebook still runs on local files: the tables it and the reconciliation read
are copied to the root's scratch directory (`report-input/warehouse/`), the report is rendered there, and its
files are uploaded to `reports/staging/`; publishing writes the dated objects, then `latest.html` (each one PUT).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat
import papermill as pm
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from reports import EXECUTIVE_REPORT_NOTEBOOK
from trustpulse.report.checks import HtmlCheck, inspect_html
from trustpulse.report.context import DEFAULT_MIN_KPI_N, check_run_date
from trustpulse.report.data import OPTIONAL, REQUIRED
from trustpulse.report.reconcile import SOURCE, Reconciliation, reconcile_file
from trustpulse.report.stated import STATED_FILE
from trustpulse.report.style import PAGE_CSS
from trustpulse.storage import (
    StorePath,
    data_path,
    is_remote,
    local_copy,
    local_files,
    scratch_root,
    table_path,
    write_bytes_atomic,
)

NOTEBOOK = EXECUTIVE_REPORT_NOTEBOOK
NOTEBOOK_ENV_VAR = "TRUSTPULSE_REPORT_NOTEBOOK"
REPORT_NAME = "executive_report"
ANALYST_TAG = "analyst"  # notebook cells for analysts only (how to use the notebook): left out of the report
INTERNAL_TAG = "internal"  # bookkeeping cells (writing the stated counts): left out of the report
STAGING_DIR = "staging"  # DATA_ROOT/reports/staging: rendered, not yet reconciled and published
STAGED_FILE = "staged.json"  # what is staged (paths, run date, chart count)
REPORT_INPUT_DIR = "report-input"  # scratch/report-input/warehouse: local copies of the tables (object-store root)
LATEST_FILE = "latest.html"
TEMPLATE_FILE = "trustpulse_report.html.j2"
# The JupyterLab template without anything it would fetch from a CDN, plus the report's page and print CSS.
TEMPLATE = (
    "{%- extends 'lab/index.html.j2' -%}\n"
    "{%- block html_head_js -%}{%- endblock html_head_js -%}\n"
    "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n"
    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
    '{%- block html_head_css -%}<style type="text/css">' + PAGE_CSS + "</style>{%- endblock html_head_css -%}\n"
)
_EXTERNAL_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?(?:https?:)?//[^>]*>\s*</script>", re.IGNORECASE)


class ReportError(RuntimeError):
    """The report could not be rendered, or its HTML would load something from the network."""


class ReportNotReconciled(ReportError):
    """A count the report states differs from the warehouse's: the report is not published."""

    def __init__(self, message: str, result: Reconciliation) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class RenderedReport:
    path: StorePath  # DATA_ROOT/reports/<run date>/executive_report.html
    latest: StorePath  # DATA_ROOT/reports/latest.html
    notebook: StorePath  # the executed notebook, beside the HTML
    size_bytes: int
    chart_count: int
    seconds: float
    stated: StorePath | None = None  # the counts the report stated, beside the HTML


@dataclass(frozen=True)
class StagedReport:
    """A rendered report in DATA_ROOT/reports/staging, not yet published."""

    html: StorePath
    notebook: StorePath
    stated: StorePath  # stated_counts.json
    run_date: str
    size_bytes: int
    chart_count: int
    seconds: float

    def to_json(self) -> dict:
        paths = ("html", "notebook", "stated")
        return {k: str(getattr(self, k)) if k in paths else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict) -> StagedReport:
        paths = {k: data_path(data[k]) for k in ("html", "notebook", "stated")}
        rest = {k: data[k] for k in ("run_date", "size_bytes", "chart_count", "seconds")}
        return cls(**paths, **rest)


def default_notebook() -> Path:
    return Path(os.environ.get(NOTEBOOK_ENV_VAR) or NOTEBOOK)


def _drop_noise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """No stderr, no warnings, no tracebacks in the exported page (papermill already failed on errors)."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                out
                for out in cell.get("outputs", [])
                if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
                and out.get("output_type") != "error"
            ]
    return nb


def export_html(nb: nbformat.NotebookNode, title: str) -> str:
    """The executed notebook as HTML: outputs only, offline."""
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({TEMPLATE_FILE: TEMPLATE})],
        template_file=TEMPLATE_FILE,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_output_stdin=True,
    )
    remove = TagRemovePreprocessor(remove_cell_tags={ANALYST_TAG, INTERNAL_TAG}, enabled=True)
    exporter.register_preprocessor(remove, enabled=True)
    nb = _drop_noise(nb)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    return _EXTERNAL_SCRIPT.sub("", body)


KERNEL_LOG_LEVEL = "--IPKernelApp.log_level=ERROR"


def execute_notebook(
    notebook: Path, output: Path, parameters: dict, timeout: int, cwd: Path | None = None
) -> nbformat.NotebookNode:
    try:
        pm.execute_notebook(
            str(notebook),
            str(output),
            parameters=parameters,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            cwd=str(cwd or notebook.parent),
            execution_timeout=timeout,
            # the kernel runs on loopback for this one notebook; its start-up notice about unencrypted TCP
            # would read as a fault on every healthy run
            extra_arguments=[KERNEL_LOG_LEVEL],
        )
    except pm.PapermillExecutionError as exc:
        raise ReportError(f"the report notebook failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}") from exc
    return nbformat.read(str(output), as_version=4)


def staging_dir(root: StorePath) -> StorePath:
    """DATA_ROOT/reports/staging: the report rendered but not yet published (reconciliation pending)."""
    return root / "reports" / STAGING_DIR


def stage_report(
    data_root: str | StorePath,
    period: str = "latest",
    brands: list[str] | tuple[str, ...] | None = None,
    run_date: str | None = None,
    notebook: str | Path | None = None,
    timeout: int = 600,
    min_kpi_n: int | None = None,
) -> StagedReport:
    """Execute the report notebook for `data_root` into DATA_ROOT/reports/staging/ (HTML, executed notebook, the
    counts it stated); nothing a reader sees (the dated copy, latest.html) is touched."""
    started = time.perf_counter()
    root = data_path(data_root)
    run_date = check_run_date(run_date)
    source = Path(notebook) if notebook else default_notebook()
    if not source.exists():
        raise ReportError(f"report notebook not found: {source}")
    tables_root = report_input(root)
    stage = staging_dir(scratch_root(root))  # the data root itself when it is a directory
    stage.mkdir(parents=True, exist_ok=True)
    stated = stage / STATED_FILE
    stated.unlink(missing_ok=True)  # never reconcile a previous rendering's counts
    staging_dir(root).joinpath(STATED_FILE).unlink(missing_ok=True)
    parameters = {
        "data_root": str(tables_root),
        "period": period,
        "brands": list(brands or []),
        "run_date": run_date,
        "min_kpi_n": DEFAULT_MIN_KPI_N if min_kpi_n is None else int(min_kpi_n),
        "stated_path": str(stated),
    }
    with tempfile.TemporaryDirectory(prefix="trustpulse-report-") as tmp:
        executed = execute_notebook(source, Path(tmp) / f"{REPORT_NAME}.ipynb", parameters, timeout)
    if not stated.exists():
        raise ReportError(f"the report notebook did not write the counts it stated ({STATED_FILE})")
    title = "Trust & responsiveness report " + run_date
    html = export_html(executed, title)
    check: HtmlCheck = inspect_html(html)
    if check.external_loads:
        raise ReportError(f"the report would load external resources: {check.external_loads[:5]}")
    data = html.encode("utf-8")
    published_stage = staging_dir(root)
    if is_remote(published_stage):
        stated = write_bytes_atomic(stated.read_bytes(), published_stage / STATED_FILE)
    staged = StagedReport(
        html=write_bytes_atomic(data, published_stage / f"{REPORT_NAME}.html"),
        notebook=write_bytes_atomic(
            nbformat.writes(executed).encode("utf-8"), published_stage / f"{REPORT_NAME}.ipynb"
        ),
        stated=stated,
        run_date=run_date,
        size_bytes=len(data),
        chart_count=check.charts,
        seconds=round(time.perf_counter() - started, 2),
    )
    write_bytes_atomic(json.dumps(staged.to_json()).encode("utf-8"), published_stage / STAGED_FILE)
    return staged


def report_input(root: StorePath) -> Path:
    """A local data root holding the tables the report and its reconciliation read: `root` itself when it is a
    directory; for an object-store root, local copies of those tables under scratch/report-input/warehouse/."""
    if not is_remote(root):
        return root
    local = scratch_root(root) / REPORT_INPUT_DIR
    names = sorted({*REQUIRED, *OPTIONAL, *SOURCE.values()})
    tables = {f"{n}.parquet": p for n in names if (p := table_path(root / "warehouse", n)).exists()}
    local_files(tables, local / "warehouse")
    return local


def read_staged(data_root: str | StorePath) -> StagedReport:
    """The report waiting in DATA_ROOT/reports/staging (ReportError when there is none)."""
    marker = staging_dir(data_path(data_root)) / STAGED_FILE
    if not marker.exists():
        raise ReportError(f"no staged report to publish: {marker} is missing")
    return StagedReport.from_json(json.loads(marker.read_text(encoding="utf-8")))


def reconcile_staged(data_root: str | StorePath, staged: StagedReport | None = None) -> Reconciliation:
    """The staged report's stated counts against the warehouse's own counts."""
    root = data_path(data_root)
    staged = staged or read_staged(root)
    return reconcile_file(report_input(root) / "warehouse", local_copy(staged.stated))


def publish_report(data_root: str | StorePath, staged: StagedReport | None = None) -> RenderedReport:
    """Publish the staged report: the dated copy (HTML, notebook, stated counts), then latest.html."""
    started = time.perf_counter()
    root = data_path(data_root)
    staged = staged or read_staged(root)
    out_dir = root / "reports" / staged.run_date
    data = staged.html.read_bytes()
    path = write_bytes_atomic(data, out_dir / f"{REPORT_NAME}.html")
    nb_path = write_bytes_atomic(staged.notebook.read_bytes(), out_dir / f"{REPORT_NAME}.ipynb")
    stated = write_bytes_atomic(staged.stated.read_bytes(), out_dir / STATED_FILE)
    latest = write_bytes_atomic(data, root / "reports" / LATEST_FILE)
    return RenderedReport(
        path=path,
        latest=latest,
        notebook=nb_path,
        size_bytes=len(data),
        chart_count=staged.chart_count,
        seconds=round(staged.seconds + time.perf_counter() - started, 2),
        stated=stated,
    )


def render_report(
    data_root: str | StorePath,
    period: str = "latest",
    brands: list[str] | tuple[str, ...] | None = None,
    run_date: str | None = None,
    notebook: str | Path | None = None,
    timeout: int = 600,
    min_kpi_n: int | None = None,
) -> RenderedReport:
    """Stage the report, reconcile every count it states with the warehouse, and only then publish it (dated
    copy, then latest.html). A count that differs raises ReportNotReconciled and publishes nothing."""
    staged = stage_report(data_root, period, brands, run_date, notebook, timeout, min_kpi_n)
    result = reconcile_staged(data_root, staged)
    if not result.passed:
        raise ReportNotReconciled(result.summary(), result)
    return publish_report(data_root, staged)
