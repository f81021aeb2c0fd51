"""Stage `score`: needs_answer, unanswered, responsiveness, trust_index and trust_drivers.

Pure logic in `trustpulse.scoring`; definitions and parameters in docs/methodology.md.
"""

import time

import dagster as dg
import polars as pl

from assets.catalog import catalog_metadata
from assets.dataset import mention_dataset
from assets.inputs import read_input, read_optional_input
from assets.metadata import table_metadata
from assets.sentiment import mention_sentiment
from assets.topics import mention_topics
from trustpulse.brands import load_brandbook
from trustpulse.scoring.score import Scores, score_mentions
from trustpulse.settings import TrustpulseSettings
from trustpulse.storage import table_path, write_parquet_atomic
from trustpulse.tables import ALL_PERIODS

SCORE_TABLES = ("needs_answer", "unanswered", "responsiveness", "trust_index", "trust_drivers")
SCORE_DESCRIPTIONS = {
    "needs_answer": "One row per audience mention that needs an answer: owner, reason, answered, response time.",
    "unanswered": "The open needs_answer mentions, worst (most negative, most recent) first.",
    "responsiveness": "Per owner x period (and per platform / topic): response rate with Wilson 95% bounds, "
    "response times, abandonment, personal replies, sentiment recovery.",
    "trust_index": "Per brand x period: ability, benevolence, integrity and the trust index, with bootstrap 95% "
    "bounds.",
    "trust_drivers": "Per brand x period x component: the mentions that moved it most.",
}


def _headline(scores: Scores) -> dict[str, float]:
    """Numbers the UI can plot over runs: overall response rate and trust index per brand."""
    out: dict[str, float] = {}
    overall = scores.responsiveness.filter((pl.col("period") == ALL_PERIODS) & (pl.col("cut") == "all"))
    if overall.height and overall["needs_answer"].sum():
        out["response_rate"] = float(overall["answered"].sum() / overall["needs_answer"].sum())
    for row in scores.trust_index.filter(pl.col("period") == ALL_PERIODS).iter_rows(named=True):
        if row["trust_index"] is not None:
            out[f"trust_index/{row['brand']}"] = round(float(row["trust_index"]), 2)
    return out


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            deps=[mention_dataset, mention_sentiment, mention_topics],
            group_name="score",
            kinds={"polars", "parquet"},
            description=SCORE_DESCRIPTIONS[name],
        )
        for name in SCORE_TABLES
    ],
)
def score_tables(context: dg.AssetExecutionContext, settings: dg.ResourceParam[TrustpulseSettings]):
    """needs_answer, unanswered, responsiveness, trust_index and trust_drivers from the published mentions,
    their sentiment and (where present) topics."""
    started = time.perf_counter()
    wh = settings.warehouse_dir
    mentions = read_input(context, settings, "mentions")
    scores = score_mentions(
        mentions,
        read_input(context, settings, "mention_sentiment"),
        load_brandbook(settings.brands_path()),
        settings.scoring,
        read_optional_input(context, settings, "mention_topics"),
    )
    seconds = round(time.perf_counter() - started, 3)
    headline = _headline(scores)
    figures = ", ".join(
        f"{name} {value:.0%}" if name == "response_rate" else f"{name} {value:.1f}" for name, value in headline.items()
    )
    context.log.info(f"scores from {mentions.height:,} mentions in {seconds:.1f} s: {figures}")
    tables = scores.tables()
    for name, table in tables.items():
        path = write_parquet_atomic(table, table_path(wh, name))
        extra = headline if name in ("responsiveness", "trust_index") else {}
        yield dg.MaterializeResult(
            asset_key=name, metadata=table_metadata(table, path, **catalog_metadata(table), seconds=seconds, **extra)
        )
    context.log.info("tables written: " + ", ".join(f"{name} ({t.height:,} rows)" for name, t in tables.items()))
