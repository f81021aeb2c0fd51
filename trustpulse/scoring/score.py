"""All scoring tables from the mentions, their sentiment and (optionally) their topics."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from trustpulse.brands import BrandBook
from trustpulse.scoring.drivers import build_trust_drivers
from trustpulse.scoring.needs_answer import build_needs_answer
from trustpulse.scoring.responsiveness import build_responsiveness, thread_evidence
from trustpulse.scoring.signals import is_advocacy, is_detraction
from trustpulse.scoring.trust import build_trust_index, periods_for, thread_stats
from trustpulse.settings import ScoringConfig


@dataclass(frozen=True)
class Scores:
    needs_answer: pl.DataFrame
    unanswered: pl.DataFrame
    responsiveness: pl.DataFrame
    trust_index: pl.DataFrame
    trust_drivers: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def with_sentiment(mentions: pl.DataFrame, sentiment: pl.DataFrame) -> pl.DataFrame:
    """Mentions with `label`, `score` and the advocacy / detraction signals."""
    scored = mentions.join(sentiment.select("mention_id", "label", "score"), on="mention_id", how="left")
    flags = [(is_advocacy(t, s), is_detraction(t, s)) for t, s in zip(scored["text"], scored["score"], strict=True)]
    return scored.with_columns(
        pl.Series("advocacy", [a for a, _ in flags], dtype=pl.Boolean),
        pl.Series("detraction", [d for _, d in flags], dtype=pl.Boolean),
    )


def score_mentions(
    mentions: pl.DataFrame,
    sentiment: pl.DataFrame,
    book: BrandBook,
    config: ScoringConfig,
    topics: pl.DataFrame | None = None,
) -> Scores:
    scored = with_sentiment(mentions, sentiment)
    needs = build_needs_answer(scored, book)
    evidence = thread_evidence(scored, needs, config)
    abandoned_ids = evidence.abandoned_ids
    grains = periods_for(config)
    stats = pl.concat(
        [thread_stats(scored, needs, evidence.replies, abandoned_ids, evidence.recovery, g) for g in grains],
        how="vertical_relaxed",
    )
    drivers = pl.concat(
        [build_trust_drivers(scored, needs, evidence.replies, abandoned_ids, config, g) for g in grains]
    )
    unanswered = (
        needs.filter(~pl.col("answered"))
        .join(mentions.select("mention_id", "text", "url", "author"), on="mention_id")
        .sort("sentiment_score", "created_at", descending=[False, True], nulls_last=True)
    )
    return Scores(
        needs_answer=needs,
        unanswered=unanswered,
        responsiveness=build_responsiveness(needs, evidence, config, topics),
        trust_index=build_trust_index(stats, config),
        trust_drivers=drivers,
    )
