"""HTML blocks of the report (header, KPI cards, takeaways, quotes, tables).

Every text that can come from a dump goes through `h`/`quote` (trustpulse.report.escape); numbers go through
`fmt`. Each function returns an HTML string wrapped in a `tp-report` element (styled by style.COMPONENT_CSS).
"""

from collections.abc import Sequence

import polars as pl

from trustpulse.report import fmt
from trustpulse.report.context import Report
from trustpulse.report.escape import h, quote, safe_link
from trustpulse.report.kpis import NOT_ENOUGH, BrandKpis, Kpi

COMPONENTS = ("ability", "benevolence", "integrity")
REASONS = {"question": "question", "negative": "negative", "direct": "addressed to the owner"}


def wrap(inner: str, cls: str = "") -> str:
    return f'<div class="tp-report {cls}">{inner}</div>'


def note(text: str) -> str:
    """A muted one-line note (escaped)."""
    return wrap(f'<p class="tp-note">{h(text)}</p>')


def caption(text: str) -> str:
    return wrap(f'<p class="tp-caption">{h(text)}</p>')


def page_break() -> str:
    return '<div class="tp-page-break"></div>'


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = (), total: bool = False
) -> str:
    """An HTML table. Cells must already be HTML (escaped); headers are escaped here."""
    num = set(numeric)
    head = "".join(f'<th class="tp-num">{h(x)}</th>' if i in num else f"<th>{h(x)}</th>" for i, x in enumerate(headers))
    body = []
    for r, row in enumerate(rows):
        cls = ' class="tp-total"' if total and r == len(rows) - 1 else ""
        cells = "".join(f'<td class="tp-num">{c}</td>' if i in num else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    return (
        f'<div class="tp-table-wrap"><table class="tp-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


# ---- header and first page ------------------------------------------------------------------------------------


def header(report: Report) -> str:
    period = report.period
    compared = f" · compared with <b>{h(period.previous_title)}</b>" if period.previous else ""
    brands = ", ".join(h(b) for b in report.brands) or "none"
    lines = [
        "<h1>Trust &amp; responsiveness</h1>",
        f'<div class="tp-sub">Brands <b>{brands}</b> · Period <b>{h(period.title)}</b>{compared}'
        f" · Run <b>{h(report.run_date)}</b></div>",
    ]
    if report.missing_tables:
        lines.append(
            f'<p class="tp-note">Tables not found in the warehouse: {h(", ".join(report.missing_tables))}; '
            "the sections that need them say there is not enough data.</p>"
        )
    return wrap("".join(lines), "tp-header")


def _delta_html(kpi: Kpi, previous_title: str) -> str:
    if kpi.previous is None:
        return '<div class="tp-delta tp-flat">no earlier period to compare</div>'
    if kpi.previous.value is None:
        return f'<div class="tp-delta tp-flat">was: {NOT_ENOUGH}</div>'
    change = kpi.delta
    if change is None:
        return '<div class="tp-delta tp-flat">&nbsp;</div>'
    flat = fmt.is_flat(change, kpi.unit)
    text = "no change" if flat else fmt.delta(change, kpi.unit, kpi.previous.value)
    good = (change > 0) == (kpi.better == "up")
    cls = "tp-flat" if kpi.better == "none" or flat else "tp-good" if good else "tp-bad"
    arrow = "■" if flat else "▲" if change > 0 else "▼"
    was = fmt.number(kpi.previous.value, kpi.unit)
    return f'<div class="tp-delta {cls}">{arrow} {h(text)} <span class="tp-meta">(was {h(was)})</span></div>'


def card(kpi: Kpi, previous_title: str) -> str:
    m = kpi.current
    if m.value is None:
        why = (m.note or NOT_ENOUGH).removeprefix(NOT_ENOUGH).strip(" :()")
        body = f'<div class="tp-value tp-empty">{NOT_ENOUGH}</div><div class="tp-why">{h(why)}</div>'
    else:
        parts = [fmt.interval(m.low, m.high, kpi.unit)]
        if m.n is not None and kpi.unit != "count":
            parts.append(f"n={m.n:,}")
        details = " · ".join(p for p in parts if p)
        body = (
            f'<div class="tp-value">{h(fmt.number(m.value, kpi.unit))}</div>'
            f'<div class="tp-interval">{h(details) or "&nbsp;"}</div>'
        )
    return (
        f'<div class="tp-card"><div class="tp-label">{h(kpi.label)}</div>{body}{_delta_html(kpi, previous_title)}</div>'
    )


def kpi_cards(report: Report, kpis: Sequence[BrandKpis]) -> str:
    if not kpis:
        return note("No brand in the data: nothing to report.")
    rows = []
    for bk in kpis:
        swatch = f'<span class="tp-swatch" style="background:{h(report.color(bk.brand))}"></span>'
        cards = "".join(card(k, report.period.previous_title) for k in bk.kpis)
        rows.append(
            f'<div class="tp-brand-row"><h3>{swatch}{h(bk.brand)}</h3><div class="tp-cards">{cards}</div></div>'
        )
    return wrap("".join(rows))


def _overlap(a: Kpi, b: Kpi) -> bool:
    ca, cb = a.current, b.current
    if None in (ca.low, ca.high, cb.low, cb.high):
        return True
    return not (ca.high < cb.low or cb.high < ca.low)  # type: ignore[operator]


def takeaways(report: Report, kpis: Sequence[BrandKpis]) -> str:
    """Three to five plain sentences an executive reads first."""
    points: list[str] = []
    scored = [bk for bk in kpis if bk.get("trust_index").current.value is not None]
    if len(scored) >= 2:
        ranked = sorted(scored, key=lambda bk: bk.get("trust_index").current.value or 0.0, reverse=True)
        top, bottom = ranked[0], ranked[-1]
        t, b = top.get("trust_index"), bottom.get("trust_index")
        clear = (
            " (their 95% intervals overlap: not a clear difference)"
            if _overlap(t, b)
            else ", a gap larger than the uncertainty"
        )
        points.append(
            f"<b>{h(top.brand)}</b> has the highest trust index ({h(fmt.number(t.current.value, 'index'))}), "
            f"<b>{h(bottom.brand)}</b> the lowest ({h(fmt.number(b.current.value, 'index'))}){h(clear)}."
        )
    elif len(scored) == 1:
        t = scored[0].get("trust_index")
        points.append(
            f"<b>{h(scored[0].brand)}</b>: trust index {h(fmt.number(t.current.value, 'index'))} "
            f"({h(fmt.interval(t.current.low, t.current.high, 'index'))})."
        )
    else:
        points.append(f"Trust index: {NOT_ENOUGH} in this period for any brand.")
    moves = [
        (bk, bk.get("trust_index"))
        for bk in kpis
        if bk.get("trust_index").delta is not None and abs(bk.get("trust_index").delta or 0) >= 2
    ]
    for bk, k in sorted(moves, key=lambda x: -abs(x[1].delta or 0))[:2]:
        verb = "rose" if (k.delta or 0) > 0 else "fell"
        points.append(
            f"Trust in <b>{h(bk.brand)}</b> {verb} {h(fmt.delta(k.delta, 'index'))} against "
            f"{h(report.period.previous_title)} ({h(fmt.number(k.previous.value if k.previous else None, 'index'))}"
            f" → {h(fmt.number(k.current.value, 'index'))})."
        )
    rates = [bk for bk in kpis if bk.get("response_rate").current.value is not None]
    if rates:
        worst = min(rates, key=lambda bk: bk.get("response_rate").current.value or 0.0)
        r = worst.get("response_rate").current
        points.append(
            f"<b>{h(worst.brand)}</b> answered the fewest mentions that needed an answer: "
            f"{h(fmt.number(r.value, 'pct'))} of {r.n:,} ({h(fmt.interval(r.low, r.high, 'pct'))})."
        )
    open_now = report.in_period(report.unanswered)
    negative = open_now.filter(pl.col("reason") == "negative").height
    if open_now.height:
        points.append(
            f"{open_now.height:,} mentions from this period are still unanswered, {negative:,} of them negative "
            "(the worst are quoted under <i>Worst unanswered mentions</i>)."
        )
    dumps = report.accounting.height
    kept = int(report.accounting["kept"].sum() or 0)
    points.append(f"Based on {kept:,} mentions kept from {dumps:,} dump{'s' if dumps != 1 else ''}.")
    items = "".join(f"<li>{p}</li>" for p in points)
    return wrap(f"<h3>In two minutes</h3><ul>{items}</ul>", "tp-takeaways")


# ---- details ----------------------------------------------------------------------------------------------------


def _quotes(rows: list[dict], cls: str) -> str:
    if not rows:
        return '<span class="tp-meta">–</span>'
    parts = [
        f'<div class="tp-q"><p class="tp-quote {cls}">“{quote(r["text"], 220)}”</p>'
        f'<div class="tp-meta">{h(r["why"])}</div></div>'
        for r in rows
    ]
    return "".join(parts)


def drivers(report: Report, per_cell: int = 2) -> str:
    """Per brand and component: the mentions that lifted it and those that dragged it down, quoted."""
    period = report.period.label
    rows_all = report.drivers.filter(pl.col("period") == period)
    if rows_all.height == 0:
        return note(f"No drivers for {report.period.title}: {NOT_ENOUGH}.")
    out = []
    for brand in report.brands:
        rows = rows_all.filter(pl.col("brand") == brand)
        if rows.height == 0:
            out.append(f"<h3>{h(brand)}</h3>" + f'<p class="tp-note">{NOT_ENOUGH} for drivers.</p>')
            continue
        body = []
        for component in COMPONENTS:
            cells = []
            for direction, cls in (("+", "tp-plus"), ("-", "tp-minus")):
                picked = (
                    rows.filter((pl.col("component") == component) & (pl.col("direction") == direction))
                    .sort("impact", descending=True, nulls_last=True)
                    .unique("text", keep="first", maintain_order=True)
                    .head(per_cell)
                )
                cells.append(_quotes(picked.to_dicts(), cls))
            body.append([f"<b>{h(component.capitalize())}</b>", *cells])
        out.append(f"<h3>{h(brand)}</h3>" + table(["Component", "Lifted by", "Dragged down by"], body))
    return wrap("".join(out))


def owner_scorecard(report: Report) -> str:
    """Per owner (account that owes answers): rate, times, abandonment, personal replies, for the period."""
    period = report.period.label
    resp = report.responsiveness.filter(pl.col("period") == period)
    overall = resp.filter(pl.col("cut") == "all").sort("brand", "needs_answer", descending=[False, True])
    if overall.height == 0:
        return note(f"No owner needed to answer anything in {report.period.title}: {NOT_ENOUGH}.")
    channels = (
        resp.filter((pl.col("cut") == "platform") & pl.col("abandoned_channel").fill_null(False))
        .group_by("owner", "brand")
        .agg(pl.col("cut_value").sort().alias("platforms"))
    )
    abandoned = {(r["owner"], r["brand"]): r["platforms"] for r in channels.iter_rows(named=True)}
    rows = []
    for r in overall.iter_rows(named=True):
        rate = fmt.number(None if r["response_rate"] is None else 100 * r["response_rate"], "pct")
        ci = ""
        if r["response_rate_low"] is not None and r["response_rate_high"] is not None:
            interval = fmt.interval(100 * r["response_rate_low"], 100 * r["response_rate_high"], "pct")
            ci = f'<br><span class="tp-meta">{h(interval)}</span>'
        neg = r["negative_response_rate"]
        personal = r["personal_reply_share"]
        platforms = abandoned.get((r["owner"], r["brand"]), [])
        flag = " ".join(f'<span class="tp-tag tp-bad">{h(p)}</span>' for p in platforms) or "–"
        rows.append(
            [
                f"<b>{h(r['owner'])}</b>",
                h(r["brand"]),
                h(f"{r['needs_answer'] or 0:,}"),
                h(rate) + ci,
                h(fmt.number(None if neg is None else 100 * neg, "pct")),
                h(fmt.minutes(r["first_response_minutes_median"])),
                h(fmt.minutes(r["first_response_minutes_p90"])),
                h(f"{r['abandoned_threads'] or 0:,}"),
                flag,
                h(fmt.number(None if personal is None else 100 * personal, "pct")),
            ]
        )
    headers = [
        "Owner",
        "Brand",
        "Needs answer",
        "Response rate",
        "Negatives answered",
        "Median first reply",
        "90th pct first reply",
        "Abandoned threads",
        "Abandoned channels",
        "Personal replies",
    ]
    explain = (
        "A thread is abandoned when mentions needing an answer pile up after the owner's last reply; a channel "
        "(owner × platform) when a long run of them goes unanswered there. Personal replies: owner replies that "
        "are not near-copies of another."
    )
    return wrap(table(headers, rows, numeric=(2, 3, 4, 5, 6, 7, 9)) + f'<p class="tp-caption">{h(explain)}</p>')


def unanswered(report: Report, limit: int = 8) -> str:
    """The worst open mentions (most negative, most recent first), quoted with where they were posted."""
    rows = report.in_period(report.unanswered)
    scope = report.period.title
    if rows.height == 0 and not report.period.is_all:
        rows, scope = report.unanswered, "all periods"
    if rows.height == 0:
        return note("No unanswered mention that needed an answer.")
    items = []
    for r in rows.sort("rank").head(limit).iter_rows(named=True):
        when = r["created_at"].strftime("%d %b %Y %H:%M") if r["created_at"] is not None else "undated"
        reason = REASONS.get(r["reason"] or "", r["reason"] or "")
        score = r["sentiment_score"]
        sentiment = "" if score is None else f" · sentiment {score:+.2f}"
        source = safe_link(r["url"], r["platform"] or "source")
        items.append(
            f'<li><p class="tp-quote tp-minus">“{quote(r["text"], 400)}”</p>'
            f'<div class="tp-meta"><span class="tp-tag tp-bad">{h(reason)}</span>'
            f"{h(r['author'] or 'unknown author')} on {source} · {h(when)} · to <b>{h(r['owner'])}</b> "
            f"({h(r['brand'])}){h(sentiment)}</div></li>"
        )
    more = rows.height - len(items)
    tail = f'<p class="tp-caption">…and {more:,} more in the <code>unanswered</code> table.</p>' if more > 0 else ""
    head = f'<p class="tp-caption">{h(scope[:1].upper() + scope[1:])}, worst first.</p>'
    return wrap(f'{head}<ol class="tp-list">{"".join(items)}</ol>{tail}')


def coverage(report: Report) -> str:
    """Per dump: raw records and where each one went (kept / duplicate / quarantined)."""
    acc = report.accounting
    if acc.height == 0:
        return note(f"No ingest accounting found: {NOT_ENOUGH}.")
    rows = []
    for r in acc.iter_rows(named=True):
        ok = (
            '<span class="tp-tag tp-good">balanced</span>'
            if r["balanced"]
            else f'<span class="tp-tag tp-bad">{r["unread"] or 0:,} in the file not read</span>'
        )
        rows.append(
            [
                h(r["dump_file"]),
                h(r["source_format"]),
                h(f"{r['raw_records'] or 0:,}"),
                h(f"{r['kept'] or 0:,}"),
                h(f"{r['duplicates'] or 0:,}"),
                h(f"{r['quarantined'] or 0:,}"),
                ok,
            ]
        )
    totals = {c: int(acc[c].sum() or 0) for c in ("raw_records", "kept", "duplicates", "quarantined")}
    rows.append(
        [
            f"{acc.height:,} dump{'s' if acc.height != 1 else ''}",
            "",
            h(f"{totals['raw_records']:,}"),
            h(f"{totals['kept']:,}")
            + f' <span class="tp-meta">{fmt.share(totals["kept"], totals["raw_records"])}</span>',
            h(f"{totals['duplicates']:,}"),
            h(f"{totals['quarantined']:,}"),
            "",
        ]
    )
    mentions = report.mentions.unique("mention_id")
    undated = mentions.filter(pl.col("created_at").is_null()).height
    dated = mentions.filter(pl.col("created_at").is_not_null())["created_at"]
    span = ""
    if dated.len():
        span = f"Mentions of the selected brands run from {dated.min():%d %b %Y} to {dated.max():%d %b %Y}; "
    extra = f"{span}{undated:,} of {mentions.height:,} have no date (they count in 'all periods' only)."
    headers = ["Dump", "Format", "Raw records", "Kept", "Duplicates", "Quarantined", ""]
    return wrap(table(headers, rows, numeric=(2, 3, 4, 5), total=True) + f'<p class="tp-caption">{h(extra)}</p>')
