"""Stage `mention_dataset`: the dumps' partitions published as one table each, plus the accounting
(`trustpulse.dataset.publish_dataset`)."""

import dagster as dg
import polars as pl

from assets.catalog import catalog_metadata
from assets.ingest import DUMPS, raw_mentions
from assets.inputs import read_dumps_input
from assets.metadata import table_metadata
from trustpulse.catalog import text_first
from trustpulse.dataset import publish_dataset
from trustpulse.ingest import CLEANED_TABLES
from trustpulse.landing import SIGNATURE_METADATA, dumps_signature
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import dump_is_complete, table_path, write_parquet_atomic
from trustpulse.tables import DUPLICATE_SCHEMA, MANIFEST_SCHEMA, MENTION_SCHEMA, QUARANTINE_SCHEMA, RAW_SCHEMA


def accounting_markdown(accounting: pl.DataFrame) -> str:
    """The accounting as a markdown table for the materialisation's metadata."""
    return "\n".join(
        ["| dump | raw | kept | duplicates | quarantined | unread |", "|---|---|---|---|---|---|"]
        + [
            f"| {r['dump_file']} | {r['raw_records']} | {r['kept']} | {r['duplicates']} | "
            f"{r['quarantined']} | {r['unread']} |"
            for r in accounting.iter_rows(named=True)
        ]
    )


@dg.asset(deps=[raw_mentions, *CLEANED_TABLES], group_name="ingest", kinds={"polars", "parquet"})
def mention_dataset(
    context: dg.AssetExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]
) -> dg.MaterializeResult:
    """warehouse/{raw_mentions,mentions,quarantine,duplicates,ingest_accounting}.parquet for the dumps
    currently registered (one partition each). The `raw_records_read` check (blocking) holds raw_mentions to the
    dumps' manifests; `accounting_balanced` names any dump whose file holds records that were not read."""
    wh = settings.warehouse_dir
    registered = context.instance.get_dynamic_partitions(DUMPS.name)
    keys = [k for k in registered if dump_is_complete(wh, k)]  # a dump whose ingest was cut off waits
    dataset = publish_dataset(
        raw=read_dumps_input(context, settings, "raw_mentions", keys, RAW_SCHEMA),
        mentions=read_dumps_input(context, settings, "mentions", keys, MENTION_SCHEMA),
        quarantine=read_dumps_input(context, settings, "quarantine", keys, QUARANTINE_SCHEMA),
        duplicates=read_dumps_input(context, settings, "duplicates", keys, DUPLICATE_SCHEMA),
        manifest=read_dumps_input(context, settings, "dump_manifest", keys, MANIFEST_SCHEMA),
    )
    if note := dataset.unbalanced_note():  # published all the same: the accounting check fails and names the dumps
        context.log.error(note)
    tables = dataset.tables()
    for name, table in tables.items():
        write_parquet_atomic(table, table_path(wh, name))
    mentions, accounting = dataset.mentions, dataset.accounting
    context.log.info(
        f"published {mentions.height:,} mentions from {len(keys)} dump(s): {dataset.raw.height:,} raw records, "
        f"{dataset.duplicates.height:,} duplicates, {dataset.quarantine.height:,} quarantined; tables written: "
        + ", ".join(tables)
    )
    missing = sorted(set(registered) - set(keys))
    if missing:
        context.log.warning(f"dumps registered but not ingested (failed or pending): {missing}")
    return dg.MaterializeResult(
        metadata=table_metadata(
            text_first(mentions),
            table_path(wh, "mentions"),
            **catalog_metadata(mentions),
            **{SIGNATURE_METADATA: dumps_signature(keys)},
            dumps=accounting.height,
            raw_records=int(accounting["raw_records"].sum()),
            kept=mentions.height,
            duplicates=dataset.duplicates.height,
            quarantined=dataset.quarantine.height,
            dumps_not_ingested=dg.MetadataValue.json(missing),
            accounting=dg.MetadataValue.md(accounting_markdown(accounting)),
        )
    )
