"""The first page's KPIs per brand: value in the report period, the value before, the 95% interval, and why a
value is missing ("not enough data ...").

mentions          audience mentions naming the brand
net sentiment     (positive - negative) / scored audience mentions, in points (-100..100), normal 95% interval
trust index       from `trust_index` (bootstrap 95% interval, `index_note` when null)
response rate     answered / needing an answer (from `needs_answer`), Wilson 95% interval
median response   median minutes to the first owner reply, over answered mentions
"""

import math
from dataclasses import dataclass

import polars as pl

from trustpulse.report.context import DEFAULT_MIN_KPI_N, Report
from trustpulse.report.stated import ANSWERED, ANSWERED_NOT_IN_DUMP, AUDIENCE_MENTIONS, NEEDS_ANSWER
from trustpulse.scoring.stats import Z95, wilson_interval
from trustpulse.settings import LONG_COMMENT_WORDS

NOT_ENOUGH = "not enough data"
MIN_SENTIMENT_N = DEFAULT_MIN_KPI_N  # kept for callers; the report uses `Report.min_n`
ZERO_WIDTH = "no interval: every observation agrees, so the spread cannot be estimated"
# An interval narrower than this (in the unit shown) is a zero-width interval: never shown.
ZERO_WIDTH_EPS = 1e-9
NOT_IN_EXPORT = "reply not in the export"


def too_few(n: int, min_n: int, what: str) -> dict[str, str | int]:
    """Measure fields of a value withheld for its sample size: 'not enough data (n=2)', 'needs 5+ threads'."""
    return {"n": n, "note": f"{NOT_ENOUGH} (n={n})", "need": f"needs {min_n}+ {what}"}


def interval_needs(min_n: int, what: str = "threads") -> str:
    return f"interval needs {min_n}+ {what}"


@dataclass(frozen=True)
class Measure:
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    note: str | None = None  # why the value is missing
    interval_note: str | None = None  # why the interval is missing although the value is shown
    need: str | None = None  # with a withheld value: what it would need ('needs 5+ scored threads')
    answered: int | None = None  # response rate: answered (of n)
    answered_outside: int = 0  # response rate: of those answered, the reply not in the export
    caveat: str | None = None  # a shown value the reader should weigh: why


def checked_interval(low: float | None, high: float | None) -> tuple[float | None, float | None, str | None]:
    """The interval, or (None, None, why) when it is missing or of zero width (never shown as certainty)."""
    if low is None or high is None or any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        return None, None, None
    if high - low <= ZERO_WIDTH_EPS:
        return None, None, ZERO_WIDTH
    return low, high, None


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str  # count | points | index | pct | minutes
    better: str  # up | down | none
    current: Measure
    previous: Measure | None  # None: no previous period to compare with

    @property
    def delta(self) -> float | None:
        if self.previous is None or self.current.value is None or self.previous.value is None:
            return None
        return self.current.value - self.previous.value


@dataclass(frozen=True)
class BrandKpis:
    brand: str
    kpis: tuple[Kpi, ...]

    def get(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


def mentions_measure(audience: pl.DataFrame, min_n: int = DEFAULT_MIN_KPI_N) -> Measure:
    """A count is exact at any size: always shown."""
    return Measure(float(audience.height), n=audience.height)


def net_sentiment_measure(audience: pl.DataFrame, min_n: int = DEFAULT_MIN_KPI_N) -> Measure:
    labels = audience["label"].drop_nulls()
    n = labels.len()
    if n < min_n:
        return Measure(None, **too_few(n, min_n, "scored mentions"))
    pos = int((labels == "positive").sum()) / n
    neg = int((labels == "negative").sum()) / n
    net = pos - neg
    half = Z95 * math.sqrt(max(0.0, pos + neg - net * net) / n)
    low, high, why = checked_interval(100 * max(-1.0, net - half), 100 * min(1.0, net + half))
    return Measure(100 * net, low, high, n, interval_note=why, caveat=long_comment_caveat(audience))


def long_comments(texts: pl.Series) -> int:
    """How many of ``texts`` are comments of ``LONG_COMMENT_WORDS``+ words: the sentiment model's weak spot."""
    return int((texts.fill_null("").str.count_matches(r"\S+") >= LONG_COMMENT_WORDS).sum())


def long_comment_caveat(audience: pl.DataFrame) -> str | None:
    """When at least half of the scored mentions are long comments, say so: that is where the sentiment model is
    least reliable (its measured recall on comments of `LONG_COMMENT_WORDS`+ words is far below its recall on
    short texts), so the figure is the model's reading, to be checked against the comments themselves."""
    scored = audience.filter(pl.col("label").is_not_null())
    if scored.height == 0 or "text" not in scored.columns:
        return None
    long = long_comments(scored["text"])
    if 2 * long < scored.height:
        return None
    return (
        f"{long:,} of {scored.height:,} are comments of {LONG_COMMENT_WORDS}+ words, which the sentiment model "
        "reads least reliably (see Methodology)"
    )


def trust_measure(trust: pl.DataFrame, brand: str, period: str, min_n: int = DEFAULT_MIN_KPI_N) -> Measure:
    row = trust.filter((pl.col("brand") == brand) & (pl.col("period") == period))
    if row.height == 0:
        return Measure(None, **too_few(0, min_n, "scored threads"))
    r = row.row(0, named=True)
    threads = int(r["threads"] or 0)
    if r["trust_index"] is None:
        note = r["index_note"] or NOT_ENOUGH
        if not note.startswith(NOT_ENOUGH):
            note = f"{NOT_ENOUGH}: {note}"
        return Measure(None, n=threads, note=note)
    if threads < min_n:
        return Measure(None, **too_few(threads, min_n, "scored threads"))
    low, high, why = checked_interval(r["trust_index_low"], r["trust_index_high"])
    return Measure(r["trust_index"], low, high, threads, interval_note=why)


def answered_counts(needs: pl.DataFrame) -> tuple[int, int]:
    """(answered, answered with the reply not in the export) of `needs_answer` rows."""
    answered = pl.col("answered").fill_null(False)
    outside = answered & ~pl.col("answer_in_dump").fill_null(True)
    row = needs.select(answered.sum().alias("a"), outside.sum().alias("o")).row(0)
    return int(row[0] or 0), int(row[1] or 0)


def response_rate_measure(needs: pl.DataFrame, min_n: int = DEFAULT_MIN_KPI_N) -> Measure:
    n = needs.height
    answered, outside = answered_counts(needs)
    if n < min_n:
        return Measure(
            None,
            **too_few(n, min_n, "mentions needing an answer"),
            answered=answered,
            answered_outside=outside,
        )
    low, high = wilson_interval(answered, n)
    lo, hi, why = checked_interval(100 * low, 100 * high)  # type: ignore[operator]
    return Measure(100 * answered / n, lo, hi, n, interval_note=why, answered=answered, answered_outside=outside)


def median_response_measure(needs: pl.DataFrame, min_n: int = DEFAULT_MIN_KPI_N) -> Measure:
    """Median minutes to the first reply, over answered mentions whose reply is in the export (they have a time)."""
    timed = needs.filter(pl.col("answered").fill_null(False) & pl.col("answer_in_dump").fill_null(True))
    minutes = timed["first_response_minutes"].drop_nulls()
    n = minutes.len()
    if n < min_n:
        return Measure(None, **too_few(n, min_n, "timed replies"))
    return Measure(float(minutes.median()), n=n)  # type: ignore[arg-type]


def _state(report: Report, brand: str, period: str, audience: pl.DataFrame, needs: pl.DataFrame) -> None:
    """The counts the cards state, for reconciliation."""
    answered, outside = answered_counts(needs)
    where = {"brand": brand, "period": period, "where": "KPI cards"}
    report.stated.add(AUDIENCE_MENTIONS, audience.height, **where)
    report.stated.add(NEEDS_ANSWER, needs.height, **where)
    report.stated.add(ANSWERED, answered, **where)
    report.stated.add(ANSWERED_NOT_IN_DUMP, outside, **where)


def brand_kpis(report: Report, brand: str) -> BrandKpis:
    audience = report.audience.filter(pl.col("brand") == brand)
    needs = report.needs.filter(pl.col("brand") == brand)
    current, previous = report.period.label, report.period.previous
    min_n = report.min_n

    def pair(measure, frame: pl.DataFrame) -> tuple[Measure, Measure | None]:
        now = measure(report.in_period(frame, current), min_n)
        before = measure(report.in_period(frame, previous), min_n) if previous else None
        return now, before

    for label in (current, previous):
        if label is not None:
            _state(report, brand, label, report.in_period(audience, label), report.in_period(needs, label))
    trust_now = trust_measure(report.trust, brand, current, min_n)
    trust_before = trust_measure(report.trust, brand, previous, min_n) if previous else None
    return BrandKpis(
        brand,
        (
            Kpi("mentions", "Audience mentions", "count", "none", *pair(mentions_measure, audience)),
            Kpi("net_sentiment", "Net sentiment", "points", "up", *pair(net_sentiment_measure, audience)),
            Kpi("trust_index", "Trust index", "index", "up", trust_now, trust_before),
            Kpi("response_rate", "Response rate", "pct", "up", *pair(response_rate_measure, needs)),
            Kpi("median_response", "Median first response", "minutes", "down", *pair(median_response_measure, needs)),
        ),
    )


def all_kpis(report: Report) -> list[BrandKpis]:
    return [brand_kpis(report, brand) for brand in report.brands]
