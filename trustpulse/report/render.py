"""Run the report notebook with papermill and export it with nbconvert to one self-contained HTML file.

`render_report(data_root, ...)` writes `DATA_ROOT/reports/<run date>/executive_report.html` (and the executed
notebook beside it), then copies the HTML to `DATA_ROOT/reports/latest.html`; every file is written to a
temporary name and renamed, so a reader never sees half a report. The export shows no code, no prompts and
no stderr, embeds plotly.js once and loads nothing from the network: the template drops nbconvert's
require.js / MathJax / widget / mermaid CDN tags, Plotly's per-figure MathJax CDN tag is removed, and
`inspect_html` refuses the result if any external resource load is left.
"""

import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill as pm
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from trustpulse.report.checks import HtmlCheck, inspect_html
from trustpulse.report.context import check_run_date
from trustpulse.report.style import PAGE_CSS
from trustpulse.storage import write_bytes_atomic

NOTEBOOK = Path(__file__).resolve().parents[2] / "reports" / "executive_report.ipynb"
NOTEBOOK_ENV_VAR = "TRUSTPULSE_REPORT_NOTEBOOK"
REPORT_NAME = "executive_report"
ANALYST_TAG = "analyst"  # notebook cells for analysts only (how to use the notebook): left out of the report
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


@dataclass(frozen=True)
class RenderedReport:
    path: Path  # DATA_ROOT/reports/<run date>/executive_report.html
    latest: Path  # DATA_ROOT/reports/latest.html
    notebook: Path  # the executed notebook, beside the HTML
    size_bytes: int
    chart_count: int
    seconds: float


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
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={ANALYST_TAG}, enabled=True), enabled=True)
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


def render_report(
    data_root: str | Path,
    period: str = "latest",
    brands: list[str] | tuple[str, ...] | None = None,
    run_date: str | None = None,
    notebook: str | Path | None = None,
    timeout: int = 600,
) -> RenderedReport:
    """Execute the report notebook for `data_root` and publish its HTML (dated copy, then latest.html)."""
    started = time.perf_counter()
    root = Path(data_root).expanduser().resolve()
    run_date = check_run_date(run_date)
    source = Path(notebook) if notebook else default_notebook()
    if not source.exists():
        raise ReportError(f"report notebook not found: {source}")
    out_dir = root / "reports" / run_date
    parameters = {"data_root": str(root), "period": period, "brands": list(brands or []), "run_date": run_date}
    with tempfile.TemporaryDirectory(prefix="trustpulse-report-") as tmp:
        executed = execute_notebook(source, Path(tmp) / f"{REPORT_NAME}.ipynb", parameters, timeout)
    title = "Trust & responsiveness report " + run_date
    html = export_html(executed, title)
    check: HtmlCheck = inspect_html(html)
    if check.external_loads:
        raise ReportError(f"the report would load external resources: {check.external_loads[:5]}")
    data = html.encode("utf-8")
    path = write_bytes_atomic(data, out_dir / f"{REPORT_NAME}.html")
    nb_path = write_bytes_atomic(nbformat.writes(executed).encode("utf-8"), out_dir / f"{REPORT_NAME}.ipynb")
    latest = write_bytes_atomic(data, root / "reports" / "latest.html")
    return RenderedReport(
        path=path,
        latest=latest,
        notebook=nb_path,
        size_bytes=len(data),
        chart_count=check.charts,
        seconds=round(time.perf_counter() - started, 2),
    )
