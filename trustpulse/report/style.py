"""The report's one visual style: one palette, one Plotly template, the CSS of its HTML blocks and page.

`COMPONENT_CSS` styles the `tp-*` blocks (shown by the notebook itself, so Jupyter shows them too);
`PAGE_CSS` lays out the exported page and its print version (used only by the HTML export template).
"""

import hashlib
from collections.abc import Iterable

import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE_NAME = "trustpulse"

# Twenty colours for brands and owners, pairwise apart (CIE76 distance >= 21 on white); the first eight are the
# report's original Okabe-Ito derived set. Up to 20 entities each get their own colour (`assign_colors`).
PALETTE = (
    "#2f5d8a",
    "#e08a2e",
    "#2a9d8f",
    "#c2536b",
    "#7b6bb0",
    "#8a6e4b",
    "#4f9fd6",
    "#9aa23a",
    "#d62728",
    "#1b1f5e",
    "#e377c2",
    "#2ca02c",
    "#17becf",
    "#7f7f7f",
    "#ffbf00",
    "#a6cee3",
    "#b15928",
    "#ff9e9e",
    "#fdbf6f",
    "#5c0f2e",
)
INK = "#1f2933"
MUTED = "#6b7280"
GRID = "#e5e7eb"
GOOD = "#2a9d6f"
BAD = "#c0392b"
# Sequential ramp (fast -> slow) for response-time buckets, then BAD for never answered.
RAMP = ("#2f5d8a", "#5b86b0", "#93b2cf", "#c9d8e6")
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans", Arial, sans-serif'


def _stable_index(name: str) -> int:
    """A palette index from the name alone (same in every run and chart), for names outside an assignment."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest(), "big") % len(PALETTE)


def assign_colors(names: Iterable[str]) -> dict[str, str]:
    """One colour per distinct name: sorted names take the palette in order, so up to len(PALETTE) names never
    share a colour and a name keeps its colour in every chart of a report; beyond that, a stable hash."""
    ordered = sorted({str(n) for n in names})
    if len(ordered) <= len(PALETTE):
        return {name: PALETTE[i] for i, name in enumerate(ordered)}
    return {name: PALETTE[i] if i < len(PALETTE) else PALETTE[_stable_index(name)] for i, name in enumerate(ordered)}


def color_for(name: str, names: Iterable[str] | None = None) -> str:
    """The colour of `name`: its place among `names` (every brand and owner of the report), else a stable hash."""
    if names is not None:
        assigned = assign_colors(names)
        if name in assigned:
            return assigned[name]
    return PALETTE[_stable_index(name)]


def band_color(hex_color: str, alpha: float = 0.15) -> str:
    """`#rrggbb` -> `rgba(r,g,b,alpha)`, for interval bands."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def register_template() -> str:
    """Register the `trustpulse` Plotly template (built on plotly_white) and make it the default."""
    template = go.layout.Template(pio.templates["plotly_white"])
    template.layout.update(
        colorway=list(PALETTE),
        font={"family": FONT, "size": 13, "color": INK},
        title={
            "font": {"size": 15, "color": INK},
            "x": 0.0,
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
            "pad": {"t": 12, "l": 4},
        },
        margin={"l": 56, "r": 24, "t": 84, "b": 48},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0.0, "title": None},
        hoverlabel={"font": {"family": FONT}},
        xaxis={"gridcolor": GRID, "linecolor": GRID, "zerolinecolor": GRID},
        yaxis={"gridcolor": GRID, "linecolor": GRID, "zerolinecolor": GRID},
        paper_bgcolor="white",
        plot_bgcolor="white",
        height=380,
    )
    pio.templates[TEMPLATE_NAME] = template
    pio.templates.default = TEMPLATE_NAME
    return TEMPLATE_NAME


COMPONENT_CSS = f"""
.tp-report {{ font-family: {FONT}; color: {INK}; line-height: 1.45; }}
.tp-header {{ border-bottom: 3px solid {PALETTE[0]}; padding: 4px 0 12px; margin-bottom: 8px; }}
.tp-header h1 {{ font-size: 28px; margin: 0 0 4px; color: {INK}; }}
.tp-header .tp-sub {{ color: {MUTED}; font-size: 14px; }}
.tp-header .tp-sub b {{ color: {INK}; font-weight: 600; }}
.tp-brand-row {{ margin: 14px 0 4px; }}
.tp-brand-row h3 {{ font-size: 16px; margin: 0 0 6px; color: {INK}; display: flex; align-items: center; gap: 8px; }}
.tp-swatch {{ display: inline-block; width: 12px; height: 12px; border-radius: 3px; }}
.tp-cards {{ display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 10px; }}
.tp-card {{ border: 1px solid {GRID}; border-radius: 10px; padding: 10px 12px; background: #fafbfc;
  break-inside: avoid; }}
.tp-card .tp-label {{ font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: {MUTED}; }}
.tp-card .tp-value {{ font-size: 26px; font-weight: 650; margin: 2px 0; color: {INK}; }}
.tp-card .tp-value.tp-empty {{ font-size: 15px; font-weight: 600; color: {MUTED}; padding: 8px 0 6px; }}
.tp-card .tp-interval, .tp-card .tp-why {{ font-size: 12px; color: {MUTED}; }}
.tp-delta {{ font-size: 13px; font-weight: 600; }}
.tp-delta.tp-good {{ color: {GOOD}; }}
.tp-delta.tp-bad {{ color: {BAD}; }}
.tp-delta.tp-flat {{ color: {MUTED}; }}
.tp-takeaways {{ margin: 16px 0 4px; padding: 12px 16px; border-left: 4px solid {PALETTE[0]};
  background: #f4f7fb; border-radius: 0 8px 8px 0; }}
.tp-takeaways h3 {{ margin: 0 0 6px; font-size: 15px; }}
.tp-takeaways ul {{ margin: 0; padding-left: 20px; }}
.tp-takeaways li {{ margin: 3px 0; }}
.tp-note {{ color: {MUTED}; font-style: italic; margin: 6px 0 12px; }}
.tp-caption {{ color: {MUTED}; font-size: 13px; margin: 2px 0 10px; }}
table.tp-table {{ border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 14px; }}
.tp-table-wrap {{ overflow-x: auto; }}
.tp-report table.tp-table th {{ text-align: left; color: {MUTED}; font-weight: 600; border: none;
  border-bottom: 2px solid {GRID}; padding: 6px 8px; vertical-align: bottom; line-height: 1.25; }}
.tp-report table.tp-table td {{ text-align: left; border: none; border-bottom: 1px solid {GRID}; padding: 6px 8px;
  vertical-align: top; line-height: 1.35; }}
.tp-report table.tp-table tbody tr, .tp-report table.tp-table tbody tr:hover {{ background: transparent; }}
.tp-report table.tp-table td.tp-num, .tp-report table.tp-table th.tp-num {{ text-align: right;
  font-variant-numeric: tabular-nums; }}
.tp-report table.tp-table td.tp-num {{ white-space: nowrap; }}
.tp-report ol.tp-list {{ padding-left: 22px; margin: 4px 0 8px; }}
.tp-report ol.tp-list li {{ margin: 0 0 12px; }}
.tp-report .tp-q {{ margin: 0 0 10px; }}
.tp-report .tp-q:last-child {{ margin-bottom: 2px; }}
.tp-report p.tp-quote {{ margin: 0 0 2px; }}
.tp-report table.tp-table tr.tp-total td {{ font-weight: 650; border-top: 2px solid {GRID}; }}
.tp-quote {{ margin: 0; padding: 2px 0 2px 10px; border-left: 3px solid {GRID}; font-style: italic;
  overflow-wrap: anywhere; }}
.tp-quote.tp-plus {{ border-left-color: {GOOD}; }}
.tp-quote.tp-minus {{ border-left-color: {BAD}; }}
.tp-meta {{ color: {MUTED}; font-size: 12px; }}
.tp-tag {{ display: inline-block; font-size: 11px; padding: 1px 7px; border-radius: 9px; background: #eef2f7;
  color: {INK}; margin-right: 4px; white-space: nowrap; }}
.tp-tag.tp-bad {{ background: #fbeaea; color: {BAD}; }}
.tp-tag.tp-good {{ background: #e8f6ef; color: {GOOD}; }}
.tp-page-break {{ height: 0; }}
@media screen and (max-width: 900px) {{ .tp-cards {{ grid-template-columns: repeat(2, minmax(0, 1fr)); }} }}
"""

PAGE_CSS = f"""
body.jp-Notebook {{ background: white; margin: 0; }}
main {{ max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; font-family: {FONT}; color: {INK}; }}
.jp-InputPrompt, .jp-OutputPrompt, .jp-InputArea-prompt, .jp-OutputArea-prompt {{ display: none !important; }}
.jp-Cell {{ padding: 0 !important; }}
.jp-OutputArea-output {{ overflow: visible; }}
.jp-RenderedHTMLCommon {{ font-family: {FONT}; color: {INK}; padding-right: 0; }}
.jp-MarkdownOutput {{ padding-left: 0 !important; }}
.jp-MarkdownOutput h2, .jp-RenderedHTMLCommon h2 {{ font-size: 21px; margin: 30px 0 6px; padding-bottom: 4px;
  border-bottom: 1px solid {GRID}; color: {INK}; }}
.jp-MarkdownOutput h3, .jp-RenderedHTMLCommon h3 {{ font-size: 16px; margin: 18px 0 4px; color: {INK}; }}
.jp-MarkdownOutput p, .jp-RenderedHTMLCommon p {{ max-width: 80ch; }}
.jp-RenderedHTMLCommon table.tp-table {{ table-layout: auto; }}
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th {{ max-width: none; }}
.jp-mod-noOutputs, .jp-Cell-inputWrapper:empty {{ display: none; }}
@page {{ size: A4; margin: 14mm 12mm; }}
@media print {{
  main {{ max-width: none; padding: 0; }}
  .modebar-container, .modebar {{ display: none !important; }}
  .tp-page-break {{ break-after: page; page-break-after: always; }}
  .jp-Cell, .tp-card, table.tp-table tr, .plotly-graph-div {{ break-inside: avoid; page-break-inside: avoid; }}
  h2, h3 {{ break-after: avoid; page-break-after: avoid; }}
  a {{ color: inherit; text-decoration: none; }}
  .tp-cards {{ grid-template-columns: repeat(5, minmax(0, 1fr)); }}
}}
"""
