"""Per-dump enrichment: the per-mention work (sentiment, topic assignment) kept per dump as a partition, and the
published tables assembled from those partitions instead of being recomputed.

A new dump then costs work on that dump only. A dump's partition (`warehouse/partitions/<table>/<dump key>`) is
made once: sentiment by the dump's ingest run, over every mention its cleaning kept; topic assignment by the first
publish that needs it, over the dump's published mentions. The published table takes, for each published mention,
the row of the dump that kept it (`mention_id` + `dump_key`: the cross-dump dedup picks the dump), in the
published order. A partition is redone (and rewritten) when it is missing, was made for another model (a sentiment
model id, a topic model version: a refit re-assigns every dump, which is a refit's cost), or lacks a published
mention of its dump (another dump's removal un-deduplicated it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

# what identifies a mention's row in a dump's partition: the cross-dump dedup keeps the row of one dump
ROW_KEY = ("mention_id", "dump_key")


def published_dump_keys(published: pl.DataFrame) -> list[str]:
    """The dumps the published mentions come from, in published order."""
    return published["dump_key"].unique(maintain_order=True).to_list()


@dataclass(frozen=True)
class Assembled:
    """A published table assembled from per-dump partitions, and the partitions that had to be (re)made."""

    table: pl.DataFrame
    redone: dict[str, pl.DataFrame]  # dump key -> its new partition, to write


def stale_dumps(
    published: pl.DataFrame, partitions: Mapping[str, pl.DataFrame], is_current: Callable[[pl.DataFrame], bool]
) -> list[str]:
    """The published dumps whose partition is missing, not `is_current`, or lacks one of their published mentions."""
    stale = []
    for key in published_dump_keys(published):
        partition = partitions.get(key)
        if (
            partition is None
            or partition.height == 0
            or not is_current(partition)
            or published.filter(pl.col("dump_key") == key).join(partition, on="mention_id", how="anti").height
        ):
            stale.append(key)
    return stale


def assemble_from_partitions(
    published: pl.DataFrame,
    partitions: Mapping[str, pl.DataFrame],
    schema: Mapping[str, pl.DataType],
    is_current: Callable[[pl.DataFrame], bool],
    redo: Callable[[pl.DataFrame], pl.DataFrame],
) -> Assembled:
    """One row per `published` mention (its `mention_id` and `dump_key`, in order), with the `schema` columns of
    its dump's partition. `partitions`: dump key -> partition (absent or empty: none). The stale dumps
    (`stale_dumps`) are redone in one call, `redo(their published mentions, in published order)` -> one row each
    in that order, so that a first run computes exactly what computing the whole table at once would."""
    stale = stale_dumps(published, partitions, is_current)
    todo = published.filter(pl.col("dump_key").is_in(stale))
    if todo.height:
        made = pl.concat([todo.select("dump_key"), redo(todo).cast(dict(schema))], how="horizontal")
    else:
        made = pl.DataFrame(schema={"dump_key": pl.String, **schema})
    # a partition keeps what `redo` made (with any column it adds, e.g. what the rows were made with)
    redone = {key: made.filter(pl.col("dump_key") == key).drop("dump_key") for key in stale}
    kept = [
        partitions[key].select(list(schema)).cast(dict(schema)).with_columns(dump_key=pl.lit(key))
        for key in published_dump_keys(published)
        if key not in redone
    ]
    rows = pl.concat([*kept, made.select(*schema, "dump_key")])
    table = (
        published.select(ROW_KEY)
        .join(rows, on=list(ROW_KEY), how="left", maintain_order="left")
        .select(list(schema))
        .cast(dict(schema))
    )
    return Assembled(table=table, redone=redone)
