"""What the report notebook calls to set itself up and to show figures and HTML blocks.

`setup()` makes the notebook render offline: Plotly's "notebook" renderer embeds plotly.js once (never the
CDN variants), the `trustpulse` template is the default, and warnings stay out of the output.
"""

import warnings

import plotly.graph_objects as go
import plotly.io as pio
from IPython.display import HTML, display

from trustpulse.report.blocks import caption, note, wrap
from trustpulse.report.context import Report
from trustpulse.report.kpis import NOT_ENOUGH
from trustpulse.report.style import COMPONENT_CSS, register_template

RENDERER = "notebook"
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def setup() -> None:
    """Call once, first: offline Plotly renderer, the report's template, quiet warnings, the block CSS."""
    warnings.filterwarnings("ignore")
    register_template()
    pio.renderers[RENDERER].config = dict(PLOT_CONFIG)
    pio.renderers.default = RENDERER  # embeds plotly.js in the notebook once; no CDN
    display(HTML(f"<style>{COMPONENT_CSS}</style>"))


def show(fig: go.Figure | str | None, empty: str = f"{NOT_ENOUGH} for this chart.", caption_text: str = "") -> None:
    """Show a figure; a sentence (already escaped HTML) that stands in for a chart with one period; or the
    `empty` note when there is nothing to draw. `caption_text` (plain) goes under a drawn chart."""
    if fig is None:
        show_html(note(empty))
    elif isinstance(fig, str):
        show_text(fig)
    else:
        fig.show()
        if caption_text:
            show_html(caption(caption_text))


def save_stated(report: Report, path: str) -> None:
    """Write the counts the report stated (for the reconciliation check); nothing when `path` is empty."""
    if path:
        report.stated.write(path)


def show_html(html: str) -> None:
    """Show an HTML block built by trustpulse.report.blocks (already escaped)."""
    display(HTML(html))


def show_text(html: str) -> None:
    """A paragraph of report prose (already escaped), in the report's style."""
    display(HTML(wrap(f"<p>{html}</p>")))
