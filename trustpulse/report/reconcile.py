"""Recount every count a rendered report stated, straight from the warehouse parquet files, and compare.

The report computes its numbers with Polars from frames it has filtered, joined and labelled
(`trustpulse.report.context`); this module counts the same things again with DuckDB SQL over the parquet
files, from the table that owns each fact (`needs_answer` for answers, not the `responsiveness` summary;
`quarantine` / `duplicates` / `raw_mentions` for the accounting, not `ingest_accounting`). A stated count whose
source table is absent is listed as unverified, not failed. Used by the blocking `report_reconciles` asset check
and by `render_report` before anything is published.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from trustpulse.report.periods import is_dated
from trustpulse.report.stated import (
    ANSWERED,
    ANSWERED_NOT_IN_DUMP,
    AUDIENCE_MENTIONS,
    DUPLICATES,
    MENTIONS_TOTAL,
    NEEDS_ANSWER,
    QUARANTINED,
    RAW_RECORDS,
    UNANSWERED,
    UNANSWERED_NEGATIVE,
    StatedCount,
    StatedCounts,
)
from trustpulse.report.stated import (
    UNDATED as UNDATED_METRIC,
)
from trustpulse.storage import table_path
from trustpulse.tables import ALL_PERIODS, UNDATED, period_bounds

# the table each metric is recounted from
SOURCE = {
    AUDIENCE_MENTIONS: "mentions",
    NEEDS_ANSWER: "needs_answer",
    ANSWERED: "needs_answer",
    ANSWERED_NOT_IN_DUMP: "needs_answer",
    UNANSWERED: "needs_answer",
    UNANSWERED_NEGATIVE: "needs_answer",
    MENTIONS_TOTAL: "mentions",
    UNDATED_METRIC: "mentions",
    RAW_RECORDS: "raw_mentions",
    DUPLICATES: "duplicates",
    QUARANTINED: "quarantine",
}
ANSWERED_SQL = "coalesce(answered, false)"


@dataclass
class Reconciliation:
    checked: int = 0
    mismatches: list[dict] = field(default_factory=list)  # the stated entry plus `warehouse` (the recount)
    unverified: list[dict] = field(default_factory=list)  # the stated entry plus `missing` (its source table)

    @property
    def passed(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        if self.passed:
            return f"{self.checked} stated counts match the warehouse ({len(self.unverified)} unverifiable)"
        first = "; ".join(
            f"{m['metric']} {m.get('brand') or m.get('owner') or m.get('dump') or 'all'} {m['period']}: "
            f"report {m['value']}, warehouse {m['warehouse']}"
            for m in self.mismatches[:3]
        )
        return f"{len(self.mismatches)} of {self.checked} stated counts differ from the warehouse: {first}"


def _period_sql(label: str, grain: str, params: list) -> str:
    if label == ALL_PERIODS:
        return "true"
    if label == UNDATED:
        return "created_at is null"
    if not is_dated(label):
        raise ValueError(f"unknown period label {label!r}")
    params.extend(period_bounds(label, grain))
    return "(created_at >= ? and created_at < ?)"


class _Warehouse:
    """DuckDB views over the parquet files that exist; the columns of each."""

    def __init__(self, warehouse_dir: Path) -> None:
        self.con = duckdb.connect()
        self.columns: dict[str, set[str]] = {}
        for table in set(SOURCE.values()):
            path = table_path(warehouse_dir, table)
            if path.exists():
                quoted = str(path).replace("'", "''")
                self.con.execute(f"create view {table} as select * from read_parquet('{quoted}')")
                self.columns[table] = {row[0] for row in self.con.execute(f"describe {table}").fetchall()}

    def count(self, table: str, where: str, params: list) -> int:
        return int(self.con.execute(f"select count(*) from {table} where {where}", params).fetchone()[0])  # type: ignore[index]

    def close(self) -> None:
        self.con.close()


def _scope_sql(item: StatedCount, stated: StatedCounts, params: list) -> str:
    """needs_answer rows of the entry: its owner, its brand, or the report's brands."""
    if item.owner is not None:
        params.append(item.owner)
        return "owner = ?"
    if item.brand is not None:
        params.append(item.brand)
        return "brand = ?"
    params.append(list(stated.brands))
    unbranded = " or brand is null" if stated.include_unbranded else ""
    return f"(list_contains(?, brand){unbranded})"


def recount(wh: _Warehouse, item: StatedCount, stated: StatedCounts) -> int | None:
    """The warehouse's count of what `item` states; None when its source table is absent."""
    table = SOURCE[item.metric]
    if table not in wh.columns:
        return None
    params: list = []
    if table == "needs_answer":
        clauses = [_scope_sql(item, stated, params), _period_sql(item.period, item.grain or stated.grain, params)]
        if item.metric == ANSWERED:
            clauses.append(ANSWERED_SQL)
        elif item.metric == ANSWERED_NOT_IN_DUMP:
            if "answer_in_dump" not in wh.columns[table]:
                return 0  # the scoring stage does not mark replies outside the export yet
            clauses.append(f"{ANSWERED_SQL} and answer_in_dump = false")
        elif item.metric == UNANSWERED:
            clauses.append(f"not {ANSWERED_SQL}")
        elif item.metric == UNANSWERED_NEGATIVE:
            clauses.append(f"not {ANSWERED_SQL} and is_negative")
        return wh.count(table, " and ".join(clauses), params)
    if item.metric == AUDIENCE_MENTIONS:
        params.append(item.brand)
        clauses = ["not coalesce(is_owner, false)", "list_contains(brand, ?)"]
        clauses.append(_period_sql(item.period, item.grain or stated.grain, params))
        return wh.count(table, " and ".join(clauses), params)
    clauses = ["true"]
    if item.dump is not None:
        params.append(item.dump)
        clauses.append("dump_file = ?")
    if item.metric == UNDATED_METRIC:
        clauses.append("created_at is null")
    return wh.count(table, " and ".join(clauses), params)


def reconcile(
    warehouse_dir: str | Path, stated: StatedCounts, items: Iterable[StatedCount] | None = None
) -> Reconciliation:
    """Compare every stated count with its recount from the parquet files under `warehouse_dir`."""
    result = Reconciliation()
    wh = _Warehouse(Path(warehouse_dir))
    try:
        for item in stated.items if items is None else items:
            counted = recount(wh, item, stated)
            entry = asdict(item)
            if counted is None:
                result.unverified.append({**entry, "missing": SOURCE[item.metric]})
                continue
            result.checked += 1
            if counted != item.value:
                result.mismatches.append({**entry, "warehouse": counted})
    finally:
        wh.close()
    return result


def reconcile_file(warehouse_dir: str | Path, stated_file: str | Path) -> Reconciliation:
    return reconcile(warehouse_dir, StatedCounts.read(stated_file))
