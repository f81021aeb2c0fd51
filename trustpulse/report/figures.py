"""The report's Plotly figures, all in the `trustpulse` template and palette (style.py).

Each function returns a figure, or None when there is nothing to draw (the notebook then says "not enough
data"). Names that can come from a dump (owners, topics) are HTML-escaped before they reach Plotly.
"""

from collections.abc import Sequence
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from trustpulse.report import fmt
from trustpulse.report.context import NO_BRAND, Report
from trustpulse.report.escape import clip, h
from trustpulse.report.kpis import NOT_IN_EXPORT, ZERO_WIDTH_EPS, interval_needs
from trustpulse.report.periods import describe, infer_grain, is_dated
from trustpulse.report.stated import ANSWERED, AUDIENCE_MENTIONS, NEEDS_ANSWER
from trustpulse.report.style import BAD, MUTED, PALETTE, RAMP, band_color
from trustpulse.scoring.stats import wilson_interval

# A chart, a sentence that replaces it (one period: no chart over time), or None (nothing to show).
Chart = go.Figure | str | None
OWNERS_NAMED_IN_CAPTION = 6  # owners left out of a chart that its caption names before "…"

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


def _gate_intervals(rows: pl.DataFrame, column: str, min_threads: int) -> pl.DataFrame:
    """Drop `<column>_low/_high` where the interval rests on fewer than `min_threads` threads or has zero width;
    `<column>_why` says why (shown in the hover instead of an interval)."""
    low, high = pl.col(f"{column}_low"), pl.col(f"{column}_high")
    few = pl.col("threads").fill_null(0) < min_threads
    flat = (high - low) <= ZERO_WIDTH_EPS
    why = (
        pl.when(pl.col(column).is_null())
        .then(None)
        .when(few)
        .then(pl.lit(interval_needs(min_threads)))
        .when(low.is_null() | high.is_null())
        .then(pl.lit("no interval"))
        .when(flat)
        .then(pl.lit("no interval (zero width)"))
        .otherwise(None)
    )
    keep = ~few & ~flat.fill_null(True)
    return rows.with_columns(
        pl.when(keep).then(low).otherwise(None).alias(f"{column}_low"),
        pl.when(keep).then(high).otherwise(None).alias(f"{column}_high"),
        why.alias(f"{column}_why"),
    )


def _line(
    fig: go.Figure, rows: pl.DataFrame, column: str, name: str, color: str, show_legend: bool = True, **where: object
) -> None:
    """A value over time with its 95% band (`<column>_low/_high`); a lone point gets error bars instead.
    Points without an interval say why in their hover ('interval needs 5+ threads')."""
    x = rows["x"].to_list()
    y, low, high = rows[column].to_list(), rows[f"{column}_low"].to_list(), rows[f"{column}_high"].to_list()
    why = rows[f"{column}_why"].to_list() if f"{column}_why" in rows.columns else [None] * len(y)
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
    hover = [
        w or ("" if lo is None or hi is None else f"95% CI {lo:.1f}–{hi:.1f}")
        for lo, hi, w in zip(low, high, why, strict=True)
    ]
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
            customdata=hover,
            hovertemplate="%{x|%d %b %Y}: <b>%{y:.1f}</b> (%{customdata})" + f"<extra>{h(name)}</extra>",
        ),
        **where,
    )


def _gated_note(rows: pl.DataFrame, columns: Sequence[str], min_threads: int) -> str:
    """A title suffix when some drawn values have no interval because of too few threads."""
    few = rows.filter(
        pl.any_horizontal(*(pl.col(c).is_not_null() for c in columns)) & (pl.col("threads").fill_null(0) < min_threads)
    )
    return f"; no band where the {interval_needs(min_threads)}" if few.height else ""


def _values_sentence(report: Report, rows: pl.DataFrame, column: str, what: str) -> str:
    """One period only: the values as a sentence (with an interval only where it is backed by enough threads)."""
    label = rows["period"][0]
    parts = []
    for brand in report.brands:
        r = rows.filter(pl.col("brand") == brand)
        if r.height == 0 or r[column][0] is None:
            continue
        row = r.row(0, named=True)
        ci = fmt.interval(row[f"{column}_low"], row[f"{column}_high"], "index") or row[f"{column}_why"] or ""
        parts.append(f"{h(brand)} {fmt.number(row[column], 'index')}" + (f" ({h(ci)})" if ci else ""))
    return (
        f"Only {h(describe(label, report.period.grain))} has a {h(what)}, so there is no chart over time: "
        + "; ".join(parts)
        + "."
    )


def _trust_rows(report: Report, columns: Sequence[str]) -> pl.DataFrame:
    rows = _dated(report.trust)
    for column in columns:
        rows = _gate_intervals(rows, column, report.min_n)
    return rows


def _periods_with_values(rows: pl.DataFrame, columns: Sequence[str]) -> list[str]:
    if rows.height == 0:
        return []
    has = rows.filter(pl.any_horizontal(*(pl.col(c).is_not_null() for c in columns)))
    return sorted(set(has["period"].to_list()))


def trust_over_time(report: Report) -> Chart:
    rows = _trust_rows(report, ("trust_index",))
    periods = _periods_with_values(rows, ("trust_index",))
    if not periods:
        return None
    if len(periods) == 1:
        return _values_sentence(report, rows.filter(pl.col("period") == periods[0]), "trust_index", "trust index")
    fig = go.Figure()
    for brand in report.brands:
        _line(fig, rows.filter(pl.col("brand") == brand), "trust_index", brand, report.color(brand))
    _mark_period(fig, report)
    title = "Trust index (0–100) with its 95% interval" + _gated_note(rows, ("trust_index",), report.min_n)
    fig.update_layout(title=title, yaxis={"range": [0, 100]}, hovermode="closest")
    return fig


def components_over_time(report: Report) -> Chart:
    rows = _trust_rows(report, COMPONENTS)
    periods = _periods_with_values(rows, COMPONENTS)
    if not periods:
        return None
    if len(periods) == 1:
        one = rows.filter(pl.col("period") == periods[0])
        return " ".join(_values_sentence(report, one, c, c) for c in COMPONENTS if one[c].drop_nulls().len())
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
        title="Components of the trust index (0–100)" + _gated_note(rows, COMPONENTS, report.min_n),
        height=380,
        margin={"t": 72, "b": 24},
        legend={"y": -0.16, "yanchor": "top"},
    )
    fig.update_annotations(font={"size": 13, "color": MUTED})
    return fig


def brand_comparison(report: Report) -> go.Figure | None:
    measures = ("trust_index", *COMPONENTS)
    rows = report.trust.filter(pl.col("period") == report.period.label)
    for m in measures:
        rows = _gate_intervals(rows, m, report.min_n)
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
        why = [row[f"{m}_why"] or "" for m in measures]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=y,
                name=h(brand),
                marker_color=report.color(brand),
                error_y={"type": "data", "array": up, "arrayminus": down, "color": MUTED, "thickness": 1.2},
                customdata=why,
                hovertemplate="%{x}: <b>%{y:.1f}</b> %{customdata}" + f"<extra>{h(brand)}</extra>",
            )
        )
    fig.update_layout(
        title=f"Brands side by side, {report.period.title} (bars: value, whiskers: 95% interval"
        + _gated_note(rows, measures, report.min_n)
        + ")",
        barmode="group",
        yaxis={"range": [0, 100]},
        bargap=0.25,
    )
    return fig


def _volume_sentence(report: Report, audience: pl.DataFrame) -> str:
    """Fewer than two periods of dated audience mentions: the counts as a sentence."""
    dated = _dated(audience)
    if audience.height == 0:
        return "No audience mention of the brands in the data, so there is no volume or sentiment over time."
    if dated.height == 0:
        return "No audience mention of the brands has a date, so there is no volume or sentiment over time."
    label = dated["period"][0]
    counts = []
    for brand in report.brands:
        n = dated.filter(pl.col("brand") == brand).height
        if n:
            stated = report.stated.add(AUDIENCE_MENTIONS, n, brand=brand, period=label, where="volume sentence")
            counts.append(f"{h(brand)} {stated:,}")
    return (
        f"All dated audience mentions fall in {h(describe(label, report.period.grain))}, so there is no chart over "
        f"time: {', '.join(counts)}."
    )


def volume_and_sentiment(report: Report) -> Chart:
    audience = _dated(report.audience)
    if not report.brands:
        return "No mention is attributed to a brand, so there is no volume or sentiment per brand over time."
    if audience["period"].n_unique() < 2:  # one period: a sentence, not a one-point chart
        return _volume_sentence(report, report.audience)
    per = (
        audience.group_by("brand", "period", "x")
        .agg(
            mentions=pl.len(),
            scored=pl.col("label").is_not_null().sum(),
            net=(pl.col("label") == "positive").sum().cast(pl.Int64)
            - (pl.col("label") == "negative").sum().cast(pl.Int64),
        )
        .with_columns(
            net=pl.when(pl.col("scored") >= report.min_n).then(100 * pl.col("net") / pl.col("scored")).otherwise(None)
        )
        .sort("x", "brand")
    )
    for r in per.iter_rows(named=True):
        report.stated.add(AUDIENCE_MENTIONS, r["mentions"], brand=r["brand"], period=r["period"], where="volume chart")
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[
            "Audience mentions per period",
            f"Net sentiment (positive − negative, points; periods with {report.min_n}+ scored mentions)",
        ],
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


MAX_OWNER_LINES = 12  # owners drawn in the response-rate chart; the rest are named in its caption


def _owner_name(owner: str, brand: str | None) -> str:
    return f"{clip(owner, 40)} ({clip(brand or NO_BRAND, 30)})"


def _subset_caption(shown: int, total: int, hidden: Sequence[str], in_table: bool) -> str:
    if total <= shown:
        return ""
    rest = total - shown
    where = "they are in the table below" if in_table else "the responsiveness table has them"
    named = ", ".join(hidden[:OWNERS_NAMED_IN_CAPTION]) + (" …" if len(hidden) > OWNERS_NAMED_IN_CAPTION else "")
    return (
        f"Top {shown} of {total} owners by mentions needing an answer (all periods); the other {rest} "
        f"({named}): {where}."
    )


def response_rate_by_owner(report: Report, max_owners: int = MAX_OWNER_LINES) -> tuple[Chart, str]:
    """Response rate per owner over time (the `max_owners` owners with most mentions needing an answer), and the
    caption that says which owners are left out; one dated period: a sentence instead of the chart."""
    overall = report.responsiveness.filter(pl.col("cut") == "all")
    rows = _dated(overall).filter(pl.col("needs_answer").fill_null(0) > 0)
    periods = sorted(set(rows["period"].to_list()))
    if not periods:
        if overall.filter(pl.col("needs_answer").fill_null(0) > 0).height:
            return (
                "No mention needing an answer has a date, so there is no response rate over time; the owner "
                "table below covers every period.",
                "",
            )
        return None, ""
    min_n = report.min_n
    if len(periods) == 1:
        parts = []
        for r in rows.sort("needs_answer", descending=True).iter_rows(named=True):
            where = {"owner": r["owner"], "period": r["period"], "where": "response-rate sentence"}
            n = report.stated.add(NEEDS_ANSWER, r["needs_answer"] or 0, **where)
            a = report.stated.add(ANSWERED, r["answered"] or 0, **where)
            rate = f" ({fmt.number(100 * a / n, 'pct')})" if n >= min_n else ""
            parts.append(f"{h(r['owner'])} answered {a:,} of {n:,}{rate}")
        sentence = (
            f"Only {h(describe(periods[0], report.period.grain))} has dated mentions needing an answer, so there "
            f"is no response rate over time: {'; '.join(parts)}."
        )
        return sentence, ""
    volume = (
        overall.filter(pl.col("period") == "all")
        .sort(["needs_answer", "owner"], descending=[True, False])
        .select("owner", "brand")
    )
    if volume.height == 0:
        volume = rows.group_by("owner", "brand").agg(pl.col("needs_answer").sum()).sort("needs_answer", descending=True)
    everyone = volume.select("owner", "brand").unique(maintain_order=True).rows()
    owners = everyone[:max_owners]
    fig = go.Figure()
    # responsiveness is written at the scoring stage's grain, which may be finer than the report's
    rows_grain = infer_grain(rows["period"].to_list())
    for owner, brand in owners:
        r = rows.filter((pl.col("owner") == owner) & (pl.col("brand").eq_missing(brand)))
        name = _owner_name(owner, brand)
        counts = r.select("answered", "needs_answer").rows()
        for (a, n), label in zip(counts, r["period"].to_list(), strict=True):
            where = {"owner": owner, "period": label, "where": "response-rate chart", "grain": rows_grain}
            report.stated.add(NEEDS_ANSWER, n or 0, **where)
            report.stated.add(ANSWERED, a or 0, **where)
        y = [
            None if v is None or (n or 0) < min_n else 100 * v
            for v, n in zip(r["response_rate"].to_list(), r["needs_answer"].to_list(), strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=r["x"].to_list(),
                y=y,
                name=h(name),
                mode="lines+markers",
                line={"color": report.color(owner), "width": 2},
                marker={"size": 6},
                connectgaps=False,
                customdata=counts,
                hovertemplate="%{x|%d %b %Y}: <b>%{y:.0f}%</b> (%{customdata[0]} of %{customdata[1]})"
                f"<extra>{h(name)}</extra>",
            )
        )
    _mark_period(fig, report)
    fig.update_layout(
        title=f"Response rate by owner account (% of mentions needing an answer that got one; periods with {min_n}+)",
        yaxis={"range": [0, 100], "ticksuffix": "%"},
        legend={"y": -0.14, "yanchor": "top"},
        height=440,
        margin={"t": 56, "b": 24},
    )
    hidden = everyone[max_owners:]
    in_table = (
        report.responsiveness.filter((pl.col("cut") == "all") & (pl.col("period") == report.period.label))
        .select("owner", "brand")
        .rows()
    )
    caption = _subset_caption(
        len(owners), len(everyone), [o for o, _ in hidden], all(tuple(x) in set(in_table) for x in hidden)
    )
    return fig, caption


OUTSIDE_BUCKET = f"answered, {NOT_IN_EXPORT}"  # counted as answered; no reply time to bucket

BUCKETS = (
    ("within 1 h", 0, 60),
    ("1–4 h", 60, 240),
    ("4–24 h", 240, 1440),
    ("after 24 h", 1440, float("inf")),
)


def first_response_buckets(report: Report) -> Chart:
    """How fast mentions needing an answer got one, per brand: 100% stacked bars, 'never' included."""
    needs = report.in_period(report.needs)
    if needs.height == 0:
        return None
    minutes = pl.col("first_response_minutes")
    answered = pl.col("answered").fill_null(False)
    timed = answered & pl.col("answer_in_dump").fill_null(True)
    exprs = [(timed & (minutes >= lo) & (minutes < hi)).sum().alias(label) for label, lo, hi in BUCKETS]
    counts = needs.group_by("brand").agg(
        *exprs,
        (answered & ~pl.col("answer_in_dump").fill_null(True)).sum().alias(OUTSIDE_BUCKET),
        (~answered).sum().alias("not answered"),
        pl.len().alias("n"),
    )
    brands = [b for b in report.brands if b in set(counts["brand"].to_list())][::-1]
    if not brands:
        return (
            "No mention needing an answer is attributed to a brand, so there is no time to first reply per brand; "
            "the owner table below gives each owner's reply times."
        )
    fig = go.Figure()
    buckets = [*BUCKETS, (OUTSIDE_BUCKET,), ("not answered",)]
    for (label, *_), color in zip(buckets, [*RAMP, MUTED, BAD], strict=True):
        if label == OUTSIDE_BUCKET and not counts[OUTSIDE_BUCKET].sum():
            continue
        values, texts, hover = [], [], []
        for brand in brands:
            r = counts.filter(pl.col("brand") == brand).row(0, named=True)
            share = 100 * r[label] / r["n"] if r["n"] else 0.0
            values.append(share)
            texts.append(f"{share:.0f}%" if share >= 7 else "")
            hover.append(f"{r[label]} of {r['n']}")
        fig.add_trace(
            go.Bar(
                y=[h(f"{b} (n={int(counts.filter(pl.col('brand') == b)['n'][0]):,})") for b in brands],
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


TOPICS_SHOWN = 15  # topics in the sentiment chart, largest first
TOPIC_LABEL_CHARS = 60


def _topic_name(label: str, taxonomy: str | None) -> str:
    """'Refund still pending · pricing and value' (escaped): the topic's phrase and its business category."""
    name = clip(label, TOPIC_LABEL_CHARS)
    return h(f"{name} · {taxonomy}" if taxonomy else name)


def _topic_taxonomy(topics: pl.DataFrame) -> pl.Expr:
    """A topic's taxonomy entry: its centroid's (`topic_taxonomy_label`) where the table has it, else the
    entry most of its mentions map to."""
    if "topic_taxonomy_label" in topics.columns:
        return pl.col("topic_taxonomy_label").drop_nulls().first()
    if "taxonomy_label" in topics.columns:
        return pl.col("taxonomy_label").drop_nulls().mode().sort().first()
    return pl.lit(None, dtype=pl.String)


def topic_sentiment(report: Report, scope: pl.DataFrame) -> pl.DataFrame:
    """Per topic (outliers left out): mentions, scored, negative, positive, share negative with its 95%
    Wilson interval and net sentiment (points); `shown` when it has at least `report.min_n` scored mentions."""
    per = (
        scope.group_by("topic_id")
        .agg(
            pl.col("topic_label").first(),
            _topic_taxonomy(scope).alias("taxonomy"),
            mentions=pl.len(),
            scored=pl.col("label").is_not_null().sum().cast(pl.Int64),
            negative=(pl.col("label") == "negative").sum().cast(pl.Int64),
            positive=(pl.col("label") == "positive").sum().cast(pl.Int64),
        )
        .sort("mentions", "topic_id", descending=[True, False])
    )
    bounds = [wilson_interval(neg, n) for neg, n in per.select("negative", "scored").iter_rows()]
    return per.with_columns(
        share_negative=pl.when(pl.col("scored") > 0).then(pl.col("negative") / pl.col("scored")),
        negative_low=pl.Series([lo for lo, _ in bounds], dtype=pl.Float64),
        negative_high=pl.Series([hi for _, hi in bounds], dtype=pl.Float64),
        net=pl.when(pl.col("scored") > 0).then(100 * (pl.col("positive") - pl.col("negative")) / pl.col("scored")),
        shown=pl.col("scored") >= report.min_n,
    )


def topic_map(report: Report, min_mentions: int = 20) -> tuple[go.Figure | str | None, str]:
    """Topics by name (phrase · taxonomy entry): share of negative mentions with a 95% Wilson interval and
    net sentiment, for the topics with at least `report.min_n` scored audience mentions in the window (the
    report's period, or all periods when it has fewer than `min_mentions`). Returns the figure and the window.

    A sentence instead of a chart when fewer than two topics have enough mentions: one topic is no map."""
    if report.topics is None:
        return None, ""
    topics = report.topics.filter(pl.col("topic_id") != -1)
    scope = report.in_period(topics)
    window = report.period.title
    if scope.height < min_mentions:
        scope, window = topics, "all periods"
    if scope.height == 0:
        return None, window
    per = topic_sentiment(report, scope)
    shown = per.filter(pl.col("shown")).head(TOPICS_SHOWN)
    if shown.height < 2:
        outliers = report.topics.filter(pl.col("topic_id") == -1).height
        why = (
            f"No topic map for {h(window)}: {scope.height:,} audience mentions fall into {per.height:,} "
            f"topic{'s' if per.height != 1 else ''}, and {shown.height} of them "
            f"{'has' if shown.height == 1 else 'have'} the {report.min_n}+ sentiment-scored mentions a topic "
            "needs to be compared; a map needs at least two."
        )
        if per.height == 1:
            why += f" All of them are about “{_topic_name(per['topic_label'][0], per['taxonomy'][0])}”."
        if outliers:
            why += f" {outliers:,} mentions fit no topic."
        return why, window
    rows = shown.reverse()  # largest at the top
    names = [_topic_name(t, c) for t, c in rows.select("topic_label", "taxonomy").iter_rows()]
    share = [100 * v for v in rows["share_negative"].to_list()]
    fig = go.Figure(
        go.Scatter(
            x=share,
            y=names,
            mode="markers",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [100 * hi - v for hi, v in zip(rows["negative_high"], share, strict=True)],
                "arrayminus": [v - 100 * lo for lo, v in zip(rows["negative_low"], share, strict=True)],
                "color": MUTED,
                "thickness": 1.5,
            },
            marker={
                "size": [8 + 16 * (m / max(rows["mentions"].max(), 1)) ** 0.5 for m in rows["mentions"]],
                "color": [BAD if (n or 0) < 0 else PALETTE[0] for n in rows["net"].to_list()],
                "line": {"color": "white", "width": 1},
            },
            customdata=rows.select("mentions", "scored", "net").rows(),
            hovertemplate="%{y}<br><b>%{x:.0f}% negative</b> of %{customdata[1]} scored "
            "(%{customdata[0]} mentions), net sentiment %{customdata[2]:+.0f}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_layout(
        title=f"Topics: share of negative mentions (95% Wilson interval), {window}",
        xaxis={"title": "negative mentions (%)", "range": [0, 100], "ticksuffix": "%"},
        height=max(260, 90 + 34 * rows.height),
        margin={"l": 320},
    )
    return fig, window


def topic_map_caption(report: Report, figure: go.Figure | str | None) -> str:
    """What the topic chart shows and leaves out (plain text)."""
    if not isinstance(figure, go.Figure):
        return ""
    return (
        "Each topic is named by a phrase from its own mentions, with the business category its centre is "
        f"closest to. Bars: 95% Wilson interval of the share of negative mentions; only topics with "
        f"{report.min_n}+ sentiment-scored audience mentions are shown (largest {TOPICS_SHOWN} at most); "
        "red dots: more negative than positive mentions. Dot size: mentions."
    )


RISING_NEEDS_TWO_PERIODS = "Rising topics compare each topic's share of mentions between two dated periods"


def rising_topics(report: Report, limit: int = 10) -> tuple[go.Figure | str | None, str]:
    """Topics whose share of mentions grew most against the period before (rising ones highlighted); a
    sentence instead when there are not two dated periods to compare (never "no topic grew" then)."""
    trends = report.topic_trends
    if trends is None or trends.height == 0:
        return f"{RISING_NEEDS_TWO_PERIODS}: none of these mentions has a date.", ""
    trends = trends.filter(pl.col("topic_id") != -1).with_columns(period=pl.col("period_start").dt.strftime("%Y-%m-%d"))
    periods = sorted(set(trends["period"].drop_nulls().to_list()))
    if len(periods) < 2:
        only = h(describe(periods[0], report.period.grain)) if periods else "no period"
        return f"{RISING_NEEDS_TWO_PERIODS}: only {only} has dated mentions, so there is nothing to compare yet.", ""
    label = report.period.label if report.period.label in set(trends["period"].to_list()) else trends["period"].max()
    if trends.filter((pl.col("period") == label) & pl.col("prev_share").is_not_null()).height == 0:
        when = h(describe(str(label), report.period.grain))
        return f"{RISING_NEEDS_TWO_PERIODS}: the period before {when} has no mentions: nothing to compare.", ""
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
            customdata=rows.select("mentions", pl.col("p_value").fill_null(1.0)).rows(),
            hovertemplate="%{y}: <b>%{x:+.1f} pts</b> of mentions (%{customdata[0]} mentions), "
            "one-sided p = %{customdata[1]:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Growing topics: change in share of mentions against the period before (orange: rising)",
        xaxis={"ticksuffix": " pts"},
        height=max(240, 80 + 30 * rows.height),
        margin={"l": 220},
    )
    return fig, str(label)


def rising_caption() -> str:
    """The rising test, as the trends stage applies it (plain text)."""
    return (
        "Rising (orange): the topic's share of this period's dated mentions is higher than its share of the "
        "period before under a one-sided pooled two-proportion z-test (p < 0.05 unless configured otherwise), "
        "with at least 10 mentions this period (the trends stage's `rising_alpha`, `rising_min_mentions`)."
    )
