"""The report's Plotly figures, all in the `trustpulse` template and palette (style.py).

Each function returns a figure, or None when there is nothing to draw (the notebook then says "not enough
data"). Names that can come from a dump (owners, topics) are HTML-escaped before they reach Plotly.
"""

from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from trustpulse.report.context import Report
from trustpulse.report.escape import clip, h
from trustpulse.report.kpis import MIN_SENTIMENT_N
from trustpulse.report.periods import is_dated
from trustpulse.report.style import BAD, MUTED, PALETTE, RAMP, band_color, color_for

COMPONENTS = ("ability", "benevolence", "integrity")
HALF_PERIOD = {"day": 0.5, "week": 3.5, "month": 15.0}


def _dated(df: pl.DataFrame) -> pl.DataFrame:
    """Rows whose `period` is a date, with `x` (the period start as a date), in time order."""
    return (
        df.filter(pl.col("period").map_elements(is_dated, return_dtype=pl.Boolean))
        .with_columns(x=pl.col("period").str.to_date("%Y-%m-%d"))
        .sort("x")
    )


def _mark_period(fig: go.Figure, report: Report, **where: object) -> None:
    """Shade the report period on a time axis."""
    if not is_dated(report.period.label):
        return
    start = date.fromisoformat(report.period.label)
    half = timedelta(days=HALF_PERIOD[report.period.grain])
    fig.add_vrect(x0=start - half, x1=start + half, fillcolor=MUTED, opacity=0.08, line_width=0, layer="below", **where)


def _band(fig: go.Figure, x: list, low: list, high: list, color: str, group: str, **where: object) -> None:
    pts = [(a, lo, hi) for a, lo, hi in zip(x, low, high, strict=True) if lo is not None and hi is not None]
    if len(pts) < 2:
        return
    xs = [p[0] for p in pts]
    ys = [p[2] for p in pts] + [p[1] for p in pts][::-1]
    fig.add_trace(
        go.Scatter(
            x=xs + xs[::-1],
            y=ys,
            mode="lines",
            fill="toself",
            fillcolor=band_color(color),
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            legendgroup=group,
        ),
        **where,
    )


def _line(
    fig: go.Figure, rows: pl.DataFrame, column: str, name: str, color: str, show_legend: bool = True, **where: object
) -> None:
    """A value over time with its 95% band (`<column>_low/_high`); a lone point gets error bars instead."""
    x = rows["x"].to_list()
    y, low, high = rows[column].to_list(), rows[f"{column}_low"].to_list(), rows[f"{column}_high"].to_list()
    _band(fig, x, low, high, color, name, **where)
    lone = sum(v is not None for v in y) < 2
    error = None
    if lone:
        error = {
            "type": "data",
            "array": [None if v is None or u is None else u - v for v, u in zip(y, high, strict=True)],
            "arrayminus": [None if v is None or lo is None else v - lo for v, lo in zip(y, low, strict=True)],
            "color": color,
        }
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            name=h(name),
            legendgroup=name,
            showlegend=show_legend,
            mode="lines+markers",
            line={"color": color, "width": 2.5},
            marker={"size": 6},
            error_y=error,
            customdata=list(zip(low, high, strict=True)),
            hovertemplate="%{x|%d %b %Y}: <b>%{y:.1f}</b> (95% CI %{customdata[0]:.1f}–%{customdata[1]:.1f})"
            f"<extra>{h(name)}</extra>",
        ),
        **where,
    )


def trust_over_time(report: Report) -> go.Figure | None:
    rows = _dated(report.trust)
    if rows.height == 0 or rows["trust_index"].drop_nulls().len() == 0:
        return None
    fig = go.Figure()
    for brand in report.brands:
        _line(fig, rows.filter(pl.col("brand") == brand), "trust_index", brand, report.color(brand))
    _mark_period(fig, report)
    fig.update_layout(title="Trust index (0–100) with its 95% interval", yaxis={"range": [0, 100]}, hovermode="closest")
    return fig


def components_over_time(report: Report) -> go.Figure | None:
    rows = _dated(report.trust)
    if rows.height == 0 or all(rows[c].drop_nulls().len() == 0 for c in COMPONENTS):
        return None
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=[c.capitalize() for c in COMPONENTS])
    for col, component in enumerate(COMPONENTS, start=1):
        for brand in report.brands:
            _line(
                fig,
                rows.filter(pl.col("brand") == brand),
                component,
                brand,
                report.color(brand),
                show_legend=col == 1,
                row=1,
                col=col,
            )
    _mark_period(fig, report, row="all", col="all")
    fig.update_yaxes(range=[0, 100])
    fig.update_layout(
        title="Components of the trust index (0–100)",
        height=380,
        margin={"t": 72, "b": 24},
        legend={"y": -0.16, "yanchor": "top"},
    )
    fig.update_annotations(font={"size": 13, "color": MUTED})
    return fig


def brand_comparison(report: Report) -> go.Figure | None:
    rows = report.trust.filter(pl.col("period") == report.period.label)
    measures = ("trust_index", *COMPONENTS)
    if rows.height == 0 or all(rows[c].drop_nulls().len() == 0 for c in measures):
        return None
    labels = ["Trust index", *(c.capitalize() for c in COMPONENTS)]
    fig = go.Figure()
    for brand in report.brands:
        r = rows.filter(pl.col("brand") == brand)
        if r.height == 0:
            continue
        row = r.row(0, named=True)
        y = [row[m] for m in measures]
        up = [None if row[m] is None or row[f"{m}_high"] is None else row[f"{m}_high"] - row[m] for m in measures]
        down = [None if row[m] is None or row[f"{m}_low"] is None else row[m] - row[f"{m}_low"] for m in measures]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=y,
                name=h(brand),
                marker_color=report.color(brand),
                error_y={"type": "data", "array": up, "arrayminus": down, "color": MUTED, "thickness": 1.2},
                hovertemplate="%{x}: <b>%{y:.1f}</b>" + f"<extra>{h(brand)}</extra>",
            )
        )
    fig.update_layout(
        title=f"Brands side by side, {report.period.title} (bars: value, whiskers: 95% interval)",
        barmode="group",
        yaxis={"range": [0, 100]},
        bargap=0.25,
    )
    return fig


def volume_and_sentiment(report: Report) -> go.Figure | None:
    audience = _dated(report.audience)
    if audience["period"].n_unique() < 2:  # one period: the cards already say it all
        return None
    per = (
        audience.group_by("brand", "period", "x")
        .agg(
            mentions=pl.len(),
            scored=pl.col("label").is_not_null().sum(),
            net=(pl.col("label") == "positive").sum().cast(pl.Int64)
            - (pl.col("label") == "negative").sum().cast(pl.Int64),
        )
        .with_columns(
            net=pl.when(pl.col("scored") >= MIN_SENTIMENT_N)
            .then(100 * pl.col("net") / pl.col("scored"))
            .otherwise(None)
        )
        .sort("x")
    )
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=["Audience mentions per period", "Net sentiment (positive − negative, points)"],
    )
    for brand in report.brands:
        r = per.filter(pl.col("brand") == brand)
        color = report.color(brand)
        fig.add_trace(
            go.Bar(
                x=r["x"].to_list(),
                y=r["mentions"].to_list(),
                name=h(brand),
                legendgroup=brand,
                marker_color=color,
                hovertemplate="%{x|%d %b %Y}: <b>%{y}</b> mentions" + f"<extra>{h(brand)}</extra>",
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=r["x"].to_list(),
                y=r["net"].to_list(),
                name=h(brand),
                legendgroup=brand,
                showlegend=False,
                mode="lines+markers",
                line={"color": color, "width": 2.5},
                hovertemplate="%{x|%d %b %Y}: <b>%{y:+.0f}</b>" + f"<extra>{h(brand)}</extra>",
            ),
            row=2,
            col=1,
        )
    _mark_period(fig, report, row="all", col=1)
    fig.update_yaxes(range=[-100, 100], zeroline=True, zerolinecolor=MUTED, row=2, col=1)
    fig.update_layout(
        title="Volume and net sentiment over time",
        barmode="group",
        height=540,
        margin={"t": 72, "b": 24},
        legend={"y": -0.08, "yanchor": "top"},
    )
    fig.update_annotations(font={"size": 13, "color": MUTED})
    return fig


def response_rate_by_owner(report: Report, max_owners: int = len(PALETTE)) -> go.Figure | None:
    overall = report.responsiveness.filter(pl.col("cut") == "all")
    rows = _dated(overall)
    if rows.height == 0 or rows["response_rate"].drop_nulls().len() == 0:
        return None
    volume = (
        overall.filter(pl.col("period") == "all")
        .sort(["brand", "needs_answer"], descending=[False, True])
        .select("owner", "brand")
    )
    if volume.height == 0:
        volume = rows.select("owner", "brand").unique(maintain_order=True)
    owners = volume.head(max_owners).rows()
    fig = go.Figure()
    for i, (owner, brand) in enumerate(owners):
        r = rows.filter((pl.col("owner") == owner) & (pl.col("brand") == brand))
        name = f"{clip(owner, 40)} ({clip(brand, 30)})"
        fig.add_trace(
            go.Scatter(
                x=r["x"].to_list(),
                y=[None if v is None else 100 * v for v in r["response_rate"].to_list()],
                name=h(name),
                mode="lines+markers",
                line={"color": color_for(i), "width": 2},
                marker={"size": 6},
                customdata=r.select("answered", "needs_answer").rows(),
                hovertemplate="%{x|%d %b %Y}: <b>%{y:.0f}%</b> (%{customdata[0]} of %{customdata[1]})"
                f"<extra>{h(name)}</extra>",
            )
        )
    _mark_period(fig, report)
    fig.update_layout(
        title="Response rate by owner account (% of mentions needing an answer that got one)",
        yaxis={"range": [0, 100], "ticksuffix": "%"},
        legend={"y": -0.14, "yanchor": "top"},
        height=440,
        margin={"t": 56, "b": 24},
    )
    return fig


BUCKETS = (
    ("within 1 h", 0, 60),
    ("1–4 h", 60, 240),
    ("4–24 h", 240, 1440),
    ("after 24 h", 1440, float("inf")),
)


def first_response_buckets(report: Report) -> go.Figure | None:
    """How fast mentions needing an answer got one, per brand: 100% stacked bars, 'never' included."""
    needs = report.in_period(report.needs)
    if needs.height == 0:
        return None
    minutes = pl.col("first_response_minutes")
    answered = pl.col("answered").fill_null(False)
    exprs = [(answered & (minutes >= lo) & (minutes < hi)).sum().alias(label) for label, lo, hi in BUCKETS]
    counts = needs.group_by("brand").agg(*exprs, (~answered).sum().alias("not answered"), pl.len().alias("n"))
    brands = [b for b in report.brands if b in set(counts["brand"].to_list())][::-1]
    fig = go.Figure()
    for (label, *_), color in zip([*BUCKETS, ("not answered",)], [*RAMP, BAD], strict=True):
        values, texts, hover = [], [], []
        for brand in brands:
            r = counts.filter(pl.col("brand") == brand).row(0, named=True)
            share = 100 * r[label] / r["n"] if r["n"] else 0.0
            values.append(share)
            texts.append(f"{share:.0f}%" if share >= 7 else "")
            hover.append(f"{r[label]} of {r['n']}")
        fig.add_trace(
            go.Bar(
                y=[h(b) for b in brands],
                x=values,
                name=label,
                orientation="h",
                marker_color=color,
                text=texts,
                textposition="inside",
                insidetextanchor="middle",
                customdata=hover,
                hovertemplate="%{y}: <b>%{x:.0f}%</b> (%{customdata})" + f"<extra>{label}</extra>",
            )
        )
    fig.update_layout(
        title=f"Time to first owner reply, {report.period.title}",
        barmode="stack",
        xaxis={"range": [0, 100], "ticksuffix": "%"},
        height=max(220, 90 + 52 * len(brands)),
        legend={"traceorder": "normal"},
    )
    fig.update_traces(textfont={"color": "white"})
    return fig


TOPIC_LABELS_SHOWN = 6


def topic_map(report: Report, min_mentions: int = 20) -> tuple[go.Figure | None, str]:
    """Topics: size (mentions) x net sentiment. Returns the figure and the window it covers."""
    if report.topics is None:
        return None, ""
    topics = report.topics.filter(pl.col("topic_id") != -1)
    scope = report.in_period(topics)
    window = report.period.title
    if scope.height < min_mentions:
        scope, window = topics, "all periods"
    if scope.height == 0:
        return None, window
    per = (
        scope.group_by("topic_id")
        .agg(
            pl.col("topic_label").first(),
            mentions=pl.len(),
            scored=pl.col("label").is_not_null().sum(),
            net=(pl.col("label") == "positive").sum().cast(pl.Int64)
            - (pl.col("label") == "negative").sum().cast(pl.Int64),
        )
        .with_columns(net=pl.when(pl.col("scored") > 0).then(100 * pl.col("net") / pl.col("scored")).otherwise(0.0))
        .sort("mentions", descending=True)
        .head(25)
    )
    biggest = max(per["mentions"].max() or 1, 1)
    log_x = biggest / max(per["mentions"].min() or 1, 1) > 20
    labels = [h(clip(t, 48)) for t in per["topic_label"].to_list()]
    # only the largest topics get a printed label (the rest would overlap); every bubble has a hover label
    shown = [label if rank < TOPIC_LABELS_SHOWN else "" for rank, label in enumerate(labels)]
    fig = go.Figure(
        go.Scatter(
            x=per["mentions"].to_list(),
            y=per["net"].to_list(),
            mode="markers+text",
            text=shown,
            customdata=labels,
            textposition="top center",
            textfont={"size": 11, "color": MUTED},
            marker={
                "size": per["mentions"].to_list(),
                "sizemode": "area",
                "sizeref": 2.0 * biggest / (46.0**2),
                "sizemin": 5,
                "color": PALETTE[0],
                "opacity": 0.7,
                "line": {"color": "white", "width": 1},
            },
            hovertemplate="%{customdata}<br>%{x} mentions, net sentiment %{y:+.0f}<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_hline(y=0, line_color=MUTED, line_width=1, line_dash="dot")
    fig.update_layout(
        title=f"Topics: size × sentiment, {window}",
        xaxis={"title": "audience mentions", "type": "log" if log_x else "linear"},
        yaxis={"title": "net sentiment (points)", "range": [-110, 110]},
        height=440,
    )
    return fig, window


def rising_topics(report: Report, limit: int = 10) -> tuple[go.Figure | None, str]:
    """Topics whose share of mentions grew most against the period before (rising ones highlighted)."""
    trends = report.topic_trends
    if trends is None or trends.height == 0:
        return None, ""
    trends = trends.filter(pl.col("topic_id") != -1).with_columns(period=pl.col("period_start").dt.strftime("%Y-%m-%d"))
    label = report.period.label if report.period.label in set(trends["period"].to_list()) else trends["period"].max()
    rows = (
        trends.filter((pl.col("period") == label) & pl.col("prev_share").is_not_null())
        .with_columns(change=100 * (pl.col("share") - pl.col("prev_share")))
        .filter(pl.col("change") > 0)
        .sort("change", descending=True)
        .head(limit)
        .reverse()
    )
    if rows.height == 0:
        return None, str(label)
    rising = rows["rising"].fill_null(False).to_list()
    fig = go.Figure(
        go.Bar(
            y=[h(clip(t, 48)) for t in rows["topic_label"].to_list()],
            x=rows["change"].to_list(),
            orientation="h",
            marker_color=[PALETTE[1] if r else PALETTE[0] for r in rising],
            customdata=rows.select("mentions", "share").rows(),
            hovertemplate="%{y}: <b>%{x:+.1f} pts</b> of mentions (%{customdata[0]} mentions)<extra></extra>",
        )
    )
    fig.update_layout(
        title="Growing topics (change in share of mentions; orange: significantly rising)",
        xaxis={"ticksuffix": " pts"},
        height=max(240, 80 + 30 * rows.height),
        margin={"l": 220},
    )
    return fig, str(label)
