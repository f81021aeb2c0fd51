"""`Report`: the warehouse tables filtered to the chosen brands, labelled with periods, plus the report period.

The notebook builds one `Report` from its parameters and hands it to the KPI, figure and block functions.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from trustpulse.report.data import Warehouse, load_warehouse
from trustpulse.report.periods import ReportPeriod, infer_grain, is_dated, resolve_period
from trustpulse.report.stated import StatedCounts
from trustpulse.report.style import assign_colors, color_for
from trustpulse.settings import TrustpulseSettings
from trustpulse.tables import period_label

_RUN_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A KPI, rate or interval needs at least this many observations to be shown (TrustpulseSettings.min_kpi_n).
DEFAULT_MIN_KPI_N: int = TrustpulseSettings.model_fields["min_kpi_n"].default
NO_BRAND = "(no brand)"  # how a row with no brand is labelled where every brand was asked for


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def check_run_date(run_date: str | None) -> str:
    """The run date as 'YYYY-MM-DD' (today, UTC, when empty); anything else is refused (it names a folder)."""
    value = (run_date or "").strip() or today()
    if not _RUN_DATE.match(value):
        raise ValueError(f"run_date must look like YYYY-MM-DD, got {run_date!r}")
    datetime.strptime(value, "%Y-%m-%d")  # a real date
    return value


@dataclass(frozen=True)
class Report:
    data_root: Path
    run_date: str
    brands: tuple[str, ...]
    period: ReportPeriod
    mentions: pl.DataFrame  # one row per mention x selected brand, with sentiment `label`/`score` and `period`
    needs: pl.DataFrame  # needs_answer rows of the brands, with `period`
    unanswered: pl.DataFrame  # worst first, with `period`
    responsiveness: pl.DataFrame
    trust: pl.DataFrame
    drivers: pl.DataFrame
    accounting: pl.DataFrame
    topics: pl.DataFrame | None  # mention_topics x audience mentions of the brands (brand, topic, label, period)
    topic_trends: pl.DataFrame | None
    missing_tables: tuple[str, ...] = ()
    colors: dict[str, str] = field(default_factory=dict)
    min_n: int = DEFAULT_MIN_KPI_N  # observations a KPI, rate or interval needs to be shown
    owners: tuple[str, ...] = ()  # owner accounts in the report's needs_answer rows
    all_mentions: pl.DataFrame | None = None  # every kept mention (mention_id, dump_file, created_at)
    include_unbranded: bool = False  # rows with no brand are kept (every brand was asked for)
    stated: StatedCounts = field(default_factory=StatedCounts)  # every count the report states, for reconciliation

    def color(self, name: str) -> str:
        """The colour of a brand or owner account: the same in every chart of the report."""
        return self.colors.get(name) or color_for(name)

    @property
    def audience(self) -> pl.DataFrame:
        return self.mentions.filter(~pl.col("is_owner").fill_null(False))

    def in_period(self, df: pl.DataFrame, label: str | None = None) -> pl.DataFrame:
        """Rows of `df` (with a `period` column) in `label` (default: the report period; 'all': every row)."""
        label = self.period.label if label is None else label
        return df if label == "all" else df.filter(pl.col("period") == label)


def available_brands(wh: Warehouse) -> list[str]:
    names = set(wh.trust["brand"].drop_nulls().to_list())
    names |= set(wh.mentions.select(pl.col("brand").explode()).to_series().drop_nulls().to_list())
    names |= set(wh.needs["brand"].drop_nulls().to_list())
    return sorted(names)


def select_brands(wh: Warehouse, requested: Iterable[str] | None) -> tuple[str, ...]:
    available = available_brands(wh)
    wanted = [b for b in (requested or []) if str(b).strip()]
    if not wanted:
        return tuple(available)
    unknown = [b for b in wanted if b not in available]
    if unknown:
        raise ValueError(f"unknown brand(s) {unknown}; the data has {available}")
    return tuple(dict.fromkeys(wanted))


def load_report(
    data_root: str | Path,
    period: str = "latest",
    brands: Iterable[str] | None = None,
    run_date: str | None = None,
    min_n: int | None = None,
) -> Report:
    """Everything the report shows, for `brands` (empty: all) and `period` ('latest', 'all' or a label)."""
    root = Path(data_root).expanduser().resolve()
    wh = load_warehouse(root / "warehouse")
    chosen = select_brands(wh, brands)
    every_brand = not [b for b in (brands or []) if str(b).strip()]
    in_scope = pl.col("brand").is_in(chosen)
    if every_brand:  # nothing left out: rows no brand could be given to stay in the owner sections
        in_scope = in_scope | pl.col("brand").is_null()
    trust = wh.trust.filter(pl.col("brand").is_in(chosen))
    grain = infer_grain([p for p in wh.trust["period"].to_list() if is_dated(p)])

    mentions = (
        wh.mentions.explode("brand")
        .filter(pl.col("brand").is_in(chosen))
        .join(wh.sentiment, on="mention_id", how="left")
        .with_columns(period=period_label("created_at", grain))
    )
    needs = wh.needs.filter(in_scope).with_columns(period=period_label("created_at", grain))
    unanswered = (
        wh.unanswered.filter(in_scope).with_row_index("rank").with_columns(period=period_label("created_at", grain))
    )
    labels = mentions["period"].unique().to_list()
    report_period = resolve_period(period, trust, labels, grain)

    topics = None
    if wh.topics is not None:
        topics = wh.topics.join(
            mentions.filter(~pl.col("is_owner").fill_null(False)).select("mention_id", "brand", "label", "period"),
            on="mention_id",
            how="inner",
        )
    owners = tuple(sorted(set(needs["owner"].drop_nulls().to_list())))
    run_date = check_run_date(run_date)
    stated = StatedCounts(grain=grain, brands=list(chosen), include_unbranded=every_brand, run_date=run_date)
    return Report(
        data_root=root,
        run_date=run_date,
        brands=chosen,
        period=report_period,
        mentions=mentions,
        needs=needs,
        unanswered=unanswered,
        responsiveness=wh.responsiveness.filter(in_scope),
        trust=trust,
        drivers=wh.drivers.filter(pl.col("brand").is_in(chosen)),
        accounting=wh.accounting.sort("dump_file"),
        topics=topics,
        topic_trends=wh.topic_trends,
        missing_tables=wh.missing,
        colors=assign_colors([*available_brands(wh), *wh.needs["owner"].drop_nulls().unique().to_list()]),
        min_n=DEFAULT_MIN_KPI_N if min_n is None else int(min_n),
        owners=owners,
        all_mentions=wh.mentions.select("mention_id", "dump_file", "created_at").join(
            wh.sentiment.select("mention_id", "not_scored_reason"), on="mention_id", how="left"
        ),
        include_unbranded=every_brand,
        stated=stated,
    )
