"""HTML blocks of the report (header, KPI cards, takeaways, quotes, tables).

Every text that can come from a dump goes through `h`/`quote` (trustpulse.report.escape); numbers go through
`fmt`. Each function returns an HTML string wrapped in a `tp-report` element (styled by style.COMPONENT_CSS).
"""

from collections.abc import Sequence

import polars as pl

from trustpulse.report import fmt
from trustpulse.report.context import NO_BRAND, Report
from trustpulse.report.escape import h, quote, safe_link
from trustpulse.report.kpis import NOT_ENOUGH, NOT_IN_EXPORT, BrandKpis, Kpi, checked_interval, long_comments
from trustpulse.report.stated import (
    ANSWERED,
    ANSWERED_NOT_IN_DUMP,
    DUPLICATES,
    MENTIONS_TOTAL,
    NEEDS_ANSWER,
    QUARANTINED,
    RAW_RECORDS,
    UNANSWERED,
    UNANSWERED_NEGATIVE,
    UNDATED,
)
from trustpulse.sentiment.languages import NOT_SCORED_LANGUAGE
from trustpulse.settings import LONG_COMMENT_WORDS

COMPONENTS = ("ability", "benevolence", "integrity")
OWNERS_NAMED = 5  # owner accounts named in a sentence before "and N more"
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
    owners = ""
    if not report.brands and report.owners:
        owners = f" · Owner accounts <b>{', '.join(h(o) for o in report.owners)}</b>"
    lines = [
        "<h1>Trust &amp; responsiveness</h1>",
        f'<div class="tp-sub">Brands <b>{brands}</b>{owners} · Period <b>{h(period.title)}</b>{compared}'
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


def _answered_text(answered: int, n: int, outside: int) -> str:
    """'5 of 8 answered (2 answered, reply not in the export)'."""
    text = f"{answered:,} of {n:,} answered"
    if outside:
        text += f" ({outside:,} answered, {NOT_IN_EXPORT})"
    return text


def card(kpi: Kpi, previous_title: str) -> str:
    m = kpi.current
    if m.value is None:
        head = NOT_ENOUGH if m.n is None else f"{NOT_ENOUGH} (n={m.n:,})"
        why_parts = [m.need or (m.note or "").removeprefix(NOT_ENOUGH).strip(" :()")]
        if m.answered is not None and m.n:
            why_parts.insert(0, _answered_text(m.answered, m.n, m.answered_outside))
        why = " · ".join(p for p in why_parts if p)
        body = f'<div class="tp-value tp-empty">{h(head)}</div><div class="tp-why">{h(why)}</div>'
    else:
        parts = [fmt.interval(m.low, m.high, kpi.unit) or (m.interval_note or "")]
        if m.answered is not None and m.n is not None:
            parts.append(_answered_text(m.answered, m.n, m.answered_outside))
        elif m.n is not None and kpi.unit != "count":
            parts.append(f"n={m.n:,}")
        details = " · ".join(p for p in parts if p)
        body = (
            f'<div class="tp-value">{h(fmt.number(m.value, kpi.unit))}</div>'
            f'<div class="tp-interval">{h(details) or "&nbsp;"}</div>'
        )
        if m.caveat:
            body += f'<div class="tp-why">{h(m.caveat)}</div>'
    return (
        f'<div class="tp-card"><div class="tp-label">{h(kpi.label)}</div>{body}{_delta_html(kpi, previous_title)}</div>'
    )


def no_brand_note(report: Report) -> str:
    """Why there are no brand cards: no brand at all, or mentions attributed to no brand but owners present."""
    if not report.owners:
        return "No brand in the data: nothing to report."
    names = ", ".join(report.owners[:OWNERS_NAMED])
    more = f" and {len(report.owners) - OWNERS_NAMED:,} more" if len(report.owners) > OWNERS_NAMED else ""
    accounts = "account is" if len(report.owners) == 1 else "accounts are"
    return (
        f"No mention is attributed to a brand, so there are no brand cards; {len(report.owners):,} owner "
        f"{accounts} in the data ({names}{more}): their responsiveness is under Responsiveness below."
    )


def _silent(bk: BrandKpis) -> bool:
    """Nothing to show: no audience mention and nothing that needed an answer (a blog post nobody answered)."""
    return not bk.get("mentions").current.value and not bk.get("response_rate").current.n


def kpi_cards(report: Report, kpis: Sequence[BrandKpis]) -> str:
    if not kpis:
        return note(no_brand_note(report))
    rows = []
    silent = [bk.brand for bk in kpis if _silent(bk)]
    for bk in kpis:
        if _silent(bk) and len(silent) < len(kpis):
            continue
        swatch = f'<span class="tp-swatch" style="background:{h(report.color(bk.brand))}"></span>'
        cards = "".join(card(k, report.period.previous_title) for k in bk.kpis)
        rows.append(
            f'<div class="tp-brand-row"><h3>{swatch}{h(bk.brand)}</h3><div class="tp-cards">{cards}</div></div>'
        )
    if silent and len(silent) < len(kpis):
        names = ", ".join(h(b) for b in silent)
        rows.append(note(f"No card for {names}: no audience mention and nothing that needed an answer."))
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
        ci = fmt.interval(t.current.low, t.current.high, "index") or t.current.interval_note or ""
        points.append(
            f"<b>{h(scored[0].brand)}</b>: trust index {h(fmt.number(t.current.value, 'index'))}"
            + (f" ({h(ci)})." if ci else ".")
        )
    elif kpis:
        points.append(
            f"Trust index: {NOT_ENOUGH} in {h(report.period.title)} for any brand (each card says what is missing)."
        )
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
        ci = fmt.interval(r.low, r.high, "pct")
        outside = f", {r.answered_outside:,} of them answered, {NOT_IN_EXPORT}" if r.answered_outside else ""
        # "the fewest" compares: with one brand that has enough data, say what it did instead
        share = f"{h(fmt.number(r.value, 'pct'))} of {r.n:,}"
        sentence = (
            f"<b>{h(worst.brand)}</b> answered the fewest mentions that needed an answer: {share}{h(outside)}"
            if len(rates) > 1
            else f"<b>{h(worst.brand)}</b> answered {share} mentions that needed an answer{h(outside)}"
        )
        points.append(sentence + (f" ({h(ci)})." if ci else "."))
    open_now = report.in_period(report.unanswered)
    # Negative by the sentiment label, whatever made the mention need an answer: `reason` names only the first
    # of question > negative > direct, so a negative question would not count.
    negative_needs = report.needs.filter(pl.col("is_negative")).select("mention_id", "owner")
    negative_open = open_now.join(negative_needs, on=["mention_id", "owner"], how="semi")
    negative = negative_open.height
    if open_now.height:
        scope = {"period": report.period.label, "where": "takeaways"}
        when = "in all periods" if report.period.is_all else "from this period"
        # The count is the model's reading: where it rests mostly on long comments, which the model reads least
        # reliably, the sentence says so (as the net-sentiment card does).
        long = long_comments(negative_open["text"])
        caveat = (
            f" {long:,} of those {negative:,} are comments of {LONG_COMMENT_WORDS}+ words, which the model reads "
            "least reliably (see Methodology)."
            if negative and 2 * long >= negative
            else ""
        )
        points.append(
            f"{report.stated.add(UNANSWERED, open_now.height, **scope):,} mentions {when} are still unanswered, "
            f"{report.stated.add(UNANSWERED_NEGATIVE, negative, **scope):,} of them read as negative by the "
            f"sentiment model (the worst are quoted under <i>Worst unanswered mentions</i>).{h(caveat)}"
        )
    dumps = report.accounting.height
    kept = report.stated.add(MENTIONS_TOTAL, int(report.accounting["kept"].sum() or 0), where="takeaways")
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


def _share_cell(value: float | None, n: int, min_n: int, low: float | None = None, high: float | None = None) -> str:
    """A share (0..1) as a percent, or '– (n=2)' below `min_n`; its interval when it has a width."""
    if n < min_n or value is None:
        return h(f"{fmt.DASH} (n={n:,})")
    cell = h(fmt.number(100 * value, "pct"))
    lo, hi, _ = checked_interval(low, high)
    if lo is not None and hi is not None:
        cell += f'<br><span class="tp-meta">{h(fmt.interval(100 * lo, 100 * hi, "pct"))}</span>'
    return cell


def _minutes_cell(value: float | None, n: int, min_n: int) -> str:
    return h(f"{fmt.DASH} (n={n:,})") if n < min_n or value is None else h(fmt.minutes(value))


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
    min_n = report.min_n
    rows = []
    for r in overall.iter_rows(named=True):
        where = {"owner": r["owner"], "period": period, "where": "owner table"}
        needs = report.stated.add(NEEDS_ANSWER, r["needs_answer"] or 0, **where)
        answered = report.stated.add(ANSWERED, r["answered"] or 0, **where)
        outside = report.stated.add(ANSWERED_NOT_IN_DUMP, r["answered_not_in_dump"] or 0, **where)
        answered_cell = h(f"{answered:,}")
        if outside:
            answered_cell += f'<br><span class="tp-meta">{h(f"{outside:,} {NOT_IN_EXPORT}")}</span>'
        timed = max(0, answered - outside)
        platforms = abandoned.get((r["owner"], r["brand"]), [])
        flag = " ".join(f'<span class="tp-tag tp-bad">{h(p)}</span>' for p in platforms) or "–"
        rows.append(
            [
                f"<b>{h(r['owner'])}</b>",
                h(r["brand"] or NO_BRAND),
                h(f"{needs:,}"),
                answered_cell,
                _share_cell(r["response_rate"], needs, min_n, r["response_rate_low"], r["response_rate_high"]),
                _share_cell(r["negative_response_rate"], r["negative_needs_answer"] or 0, min_n),
                _minutes_cell(r["first_response_minutes_median"], timed, min_n),
                _minutes_cell(r["first_response_minutes_p90"], timed, min_n),
                h(f"{r['abandoned_threads'] or 0:,}"),
                flag,
                _share_cell(r["personal_reply_share"], r["owner_replies"] or 0, min_n),
            ]
        )
    headers = [
        "Owner",
        "Brand",
        "Needs answer",
        "Answered",
        "Response rate",
        "Negatives answered",
        "Median first reply",
        "90th pct first reply",
        "Abandoned threads",
        "Abandoned channels",
        "Personal replies",
    ]
    explain = (
        f"Rates and reply times need {min_n}+ observations (times: replies found in the export); below that a cell "
        "shows – and the count. Answered includes mentions the export marks as answered whose reply is not in the "
        "file (they have no reply time). A thread is abandoned when mentions needing an answer pile up after the "
        "owner's last reply; a channel (owner × platform) when a long run of them goes unanswered there. Personal "
        "replies: owner replies that are not near-copies of another."
    )
    return wrap(table(headers, rows, numeric=(2, 3, 4, 5, 6, 7, 8, 10)) + f'<p class="tp-caption">{h(explain)}</p>')


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
        brand = f" ({h(r['brand'])})" if r["brand"] else ""
        items.append(
            f'<li><p class="tp-quote tp-minus">“{quote(r["text"], 400)}”</p>'
            f'<div class="tp-meta"><span class="tp-tag tp-bad">{h(reason)}</span>'
            f"{h(r['author'] or 'unknown author')} on {source} · {h(when)} · to <b>{h(r['owner'])}</b> "
            f"{brand}{h(sentiment)}</div></li>"
        )
    scope_label = report.period.label if scope == report.period.title else "all"
    report.stated.add(UNANSWERED, rows.height, period=scope_label, where="worst unanswered")
    more = rows.height - len(items)
    tail = f'<p class="tp-caption">…and {more:,} more in the <code>unanswered</code> table.</p>' if more > 0 else ""
    head = f'<p class="tp-caption">{h(scope[:1].upper() + scope[1:])}, worst first.</p>'
    return wrap(f'{head}<ol class="tp-list">{"".join(items)}</ol>{tail}')


def coverage(report: Report) -> str:
    """Per dump: raw records and where each one went (kept / duplicate / quarantined)."""
    acc = report.accounting
    if acc.height == 0:
        return note(f"No ingest accounting found: {NOT_ENOUGH}.")
    metrics = {"raw_records": RAW_RECORDS, "kept": MENTIONS_TOTAL, "duplicates": DUPLICATES, "quarantined": QUARANTINED}

    def stated(column: str, value: int | None, dump: str | None = None) -> str:
        return f"{report.stated.add(metrics[column], int(value or 0), dump=dump, where='data coverage'):,}"

    rows = []
    for r in acc.iter_rows(named=True):
        ok = (
            '<span class="tp-tag tp-good">balanced</span>'
            if r["balanced"]
            else f'<span class="tp-tag tp-bad">{r["unread"] or 0:,} in the file not read</span>'
        )
        dump = r["dump_file"]
        rows.append(
            [
                h(dump),
                h(r["source_format"]),
                *(h(stated(c, r[c], dump)) for c in ("raw_records", "kept", "duplicates", "quarantined")),
                ok,
            ]
        )
    totals = {c: int(acc[c].sum() or 0) for c in ("raw_records", "kept", "duplicates", "quarantined")}
    rows.append(
        [
            f"{acc.height:,} dump{'s' if acc.height != 1 else ''}",
            "",
            h(stated("raw_records", totals["raw_records"])),
            h(stated("kept", totals["kept"]))
            + f' <span class="tp-meta">{fmt.share(totals["kept"], totals["raw_records"])}</span>',
            h(stated("duplicates", totals["duplicates"])),
            h(stated("quarantined", totals["quarantined"])),
            "",
        ]
    )
    mentions = report.all_mentions if report.all_mentions is not None else report.mentions.unique("mention_id")
    total = report.stated.add(MENTIONS_TOTAL, mentions.height, where="data coverage")
    undated = report.stated.add(UNDATED, mentions.filter(pl.col("created_at").is_null()).height, where="data coverage")
    dated = mentions.filter(pl.col("created_at").is_not_null())["created_at"]
    span = ""
    if dated.len():
        span = f"Kept mentions run from {dated.min():%d %b %Y} to {dated.max():%d %b %Y}; "
    extra = f"{span}{undated:,} of {total:,} have no date (they count in 'all periods' only)."
    if "not_scored_reason" in mentions.columns:
        unread = mentions.filter(pl.col("not_scored_reason") == NOT_SCORED_LANGUAGE).height
        if unread:
            extra += (
                f" {unread:,} are in a language the sentiment model does not read: not scored (left out of sentiment"
                " and the ability component, never counted as neutral)."
            )
    headers = ["Dump", "Format", "Raw records", "Kept", "Duplicates", "Quarantined", ""]
    return wrap(table(headers, rows, numeric=(2, 3, 4, 5), total=True) + f'<p class="tp-caption">{h(extra)}</p>')
