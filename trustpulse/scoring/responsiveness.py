"""Responsiveness per owner x period (also cut by platform and by topic).

Inputs are the `needs_answer` table, the mentions with their sentiment, and optionally topics. Every
metric and parameter is described in docs/methodology.md ("Responsiveness").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from trustpulse.scoring.stats import wilson_interval
from trustpulse.settings import ScoringConfig
from trustpulse.tables import ALL_PERIODS, RESPONSIVENESS_SCHEMA, period_label

_HANDLES = re.compile(r"@[\w.\-']+")


def owner_replies(scored: pl.DataFrame) -> pl.DataFrame:
    """Owner mentions that answer someone (not the post that opens a thread)."""
    return scored.filter(pl.col("is_owner") & (pl.col("position") > 0)).select(
        "mention_id", pl.col("author").alias("owner"), "thread_id", "platform", "created_at", "text"
    )


def canned_flags(texts: list[str], ratio: float, window: int) -> np.ndarray:
    """Which of one owner's replies (in time order, already stripped of @handles and case) are canned.

    A reply is canned when the same text occurs again anywhere in the owner's history, or when one of the
    `window` distinct texts used just before or after it (in order of first use) is a near-copy (rapidfuzz
    `ratio` >= `ratio`).
    Why a window: comparing every pair is quadratic (a brand with 100k replies: 10^10 comparisons, over an
    hour on 2 cores), while a template in use recurs among the replies around it. With at most `window`
    distinct replies the window holds them all and this is the all-pairs comparison."""
    counts = Counter(texts)
    distinct = list(counts)  # in order of first use
    canned = np.array([counts[t] > 1 for t in distinct], dtype=bool)
    for start in range(0, len(distinct), window):
        stop = min(start + window, len(distinct))
        lo = max(0, start - window)
        scores = process.cdist(
            distinct[start:stop], distinct[lo:stop], scorer=fuzz.ratio, score_cutoff=ratio, dtype=np.uint8, workers=-1
        )
        rows, cols = np.nonzero(scores)
        i, j = rows + start, cols + lo
        near = (i != j) & (np.abs(i - j) <= window)
        canned[i[near]] = True
        canned[j[near]] = True
    row_of = {text: row for row, text in enumerate(distinct)}
    return canned[[row_of[t] for t in texts]]


def personal_reply_flags(replies: pl.DataFrame, ratio: float, window: int) -> pl.DataFrame:
    """`is_personal`: the reply is not canned (`canned_flags`: a repeat or a near-copy of another reply by
    the same owner, @handles and case ignored)."""
    flags: list[pl.DataFrame] = []
    ordered = replies.sort("created_at", "mention_id", nulls_last=True)
    for (owner,), group in ordered.group_by("owner", maintain_order=True):
        texts = [_HANDLES.sub("", t).casefold().strip() for t in group["text"].to_list()]
        canned = canned_flags(texts, ratio, window)
        flags.append(group.select("mention_id").with_columns(owner=pl.lit(owner), is_personal=pl.Series(~canned)))
    if not flags:
        return pl.DataFrame(schema={"mention_id": pl.String, "owner": pl.String, "is_personal": pl.Boolean})
    return pl.concat(flags)


def abandoned_threads(scored: pl.DataFrame, needs: pl.DataFrame, k: int) -> pl.DataFrame:
    """Threads where the owner took part, then left >= k mentions needing an answer unanswered after
    their last mention ("start the conversation, then walk away"). `abandoned_at`: the first of them."""
    last_owner = (
        scored.filter(pl.col("is_owner"))
        .group_by("thread_id", pl.col("author").alias("owner"))
        .agg(pl.col("position").max().alias("last_owner_position"))
    )
    after = needs.join(last_owner, on=["thread_id", "owner"], how="inner").filter(
        pl.col("position") > pl.col("last_owner_position")
    )
    return (
        after.sort("position")
        .group_by("thread_id", "owner", "platform")
        .agg(
            pl.len().alias("unanswered_after_last_owner"),
            pl.col("created_at").first().alias("abandoned_at"),
            pl.col("mention_id").first().alias("first_unanswered_id"),
            pl.col("mention_id").alias("unanswered_ids"),
        )
        .filter(pl.col("unanswered_after_last_owner") >= k)
    )


def abandoned_channel_runs(needs: pl.DataFrame, run: int) -> pl.DataFrame:
    """Runs of >= `run` consecutive unanswered mentions in an owner x platform channel, after the owner
    has answered there at least once (ordered by time; undated mentions by thread and position)."""
    rows = []
    ordered = needs.sort("owner", "platform", "created_at", "thread_id", "position", nulls_last=True)
    for (owner, platform), group in ordered.group_by("owner", "platform", maintain_order=True):
        answered = group["answered"].to_list()
        ids = group["mention_id"].to_list()
        seen_answer, start = False, None
        for i, a in enumerate([*answered, True]):
            if a:
                if seen_answer and start is not None and i - start >= run:
                    rows.append(
                        {
                            "owner": owner,
                            "platform": platform,
                            "run_length": i - start,
                            "mention_ids": ids[start:i],
                        }
                    )
                seen_answer = seen_answer or i < len(answered)
                start = None
            elif start is None:
                start = i
    schema = {
        "owner": pl.String,
        "platform": pl.String,
        "run_length": pl.Int64,
        "mention_ids": pl.List(pl.String),
    }
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def sentiment_recovery(scored: pl.DataFrame, needs: pl.DataFrame) -> pl.DataFrame:
    """For each answered mention: the author's next message in the thread after the owner's answer,
    minus the mention's own sentiment score."""
    answered = needs.filter(pl.col("answered") & pl.col("author_id").is_not_null()).join(
        scored.select(pl.col("mention_id").alias("answer_mention_id"), pl.col("position").alias("answer_position")),
        on="answer_mention_id",
    )
    later = scored.filter(~pl.col("is_owner") & pl.col("author_id").is_not_null()).select(
        "thread_id",
        "author_id",
        pl.col("position").alias("next_position"),
        pl.col("score").alias("score_after"),
    )
    nxt = (
        answered.join(later, on=["thread_id", "author_id"])
        .filter(pl.col("next_position") > pl.col("answer_position"))
        .sort("next_position")
        .group_by("mention_id")
        .agg(pl.col("score_after").first())
    )
    return (
        answered.join(nxt, on="mention_id")
        .select("mention_id", (pl.col("score_after") - pl.col("sentiment_score")).alias("recovery"))
        .drop_nulls()
    )


def _wilson_columns(df: pl.DataFrame, k: str, n: str, prefix: str) -> pl.DataFrame:
    bounds = [wilson_interval(a, b) for a, b in zip(df[k].to_list(), df[n].to_list(), strict=True)]
    return df.with_columns(
        pl.Series(f"{prefix}_low", [b[0] for b in bounds], dtype=pl.Float64),
        pl.Series(f"{prefix}_high", [b[1] for b in bounds], dtype=pl.Float64),
    )


@dataclass(frozen=True)
class ThreadEvidence:
    """What responsiveness and trust both need, computed once: owner replies (with `is_personal` and
    the owner's brand), abandoned threads and channel runs, and sentiment recovery."""

    replies: pl.DataFrame
    abandoned: pl.DataFrame
    runs: pl.DataFrame
    recovery: pl.DataFrame

    @property
    def abandoned_ids(self) -> set[str]:
        """Mentions left unanswered in an abandoned thread or an abandoned channel run."""
        ids = set(self.abandoned["unanswered_ids"].explode().drop_nulls().to_list())
        return ids | set(self.runs["mention_ids"].explode().drop_nulls().to_list())


def thread_evidence(scored: pl.DataFrame, needs: pl.DataFrame, config: ScoringConfig) -> ThreadEvidence:
    replies = owner_replies(scored)
    flags = personal_reply_flags(replies, config.canned_reply_ratio, config.canned_reply_window).drop("owner")
    brands = scored.select("mention_id", pl.col("brand").list.first().alias("brand"))
    return ThreadEvidence(
        replies=replies.join(flags, on="mention_id").join(brands, on="mention_id"),
        abandoned=abandoned_threads(scored, needs, config.abandon_after_unanswered),
        runs=abandoned_channel_runs(needs, config.abandon_channel_run),
        recovery=sentiment_recovery(scored, needs),
    )


CUT_KEYS = ["owner", "period", "cut_value"]
NO_TOPIC = "(no topic)"


def _need_rows(needs: pl.DataFrame, recovery: pl.DataFrame, topics: pl.DataFrame | None) -> pl.DataFrame:
    """The mentions needing an answer with their sentiment `recovery` and, when topics are given, `topic_label`."""
    rows = needs.join(recovery, on="mention_id", how="left")
    if topics is not None and not topics.is_empty():
        rows = rows.join(topics.select("mention_id", "topic_label"), on="mention_id", how="left")
    return rows


def _cuts(need_rows: pl.DataFrame) -> list[tuple[str, pl.Expr]]:
    """The cuts responsiveness is reported by, each with the expression giving a row's `cut_value`: all
    mentions, per platform, and per topic when the mentions have topics."""
    cuts = [("all", pl.lit(ALL_PERIODS)), ("platform", pl.col("platform"))]
    if "topic_label" in need_rows.columns:
        cuts.append(("topic", pl.col("topic_label").fill_null(NO_TOPIC)))
    return cuts


def _need_metrics(need_rows: pl.DataFrame, cut_value: pl.Expr) -> pl.DataFrame:
    """Per owner x period x cut value: mentions needing an answer, answered (and answered by a reply not in
    the dump), first-response times, negative ones and sentiment recovery."""
    return (
        need_rows.with_columns(cut_value=cut_value)
        .group_by(CUT_KEYS)
        .agg(
            pl.len().alias("needs_answer"),
            pl.col("answered").sum().alias("answered"),
            (pl.col("answered") & ~pl.col("answer_in_dump")).sum().alias("answered_not_in_dump"),
            pl.col("first_response_minutes").median().alias("first_response_minutes_median"),
            pl.col("first_response_minutes").quantile(0.9, "linear").alias("first_response_minutes_p90"),
            pl.col("is_negative").sum().alias("negative_needs_answer"),
            (pl.col("is_negative") & pl.col("answered")).sum().alias("negative_answered"),
            pl.col("recovery").count().alias("recovery_n"),
            pl.col("recovery").mean().alias("sentiment_recovery"),
        )
    )


def _without_thread_metrics(metrics: pl.DataFrame) -> pl.DataFrame:
    """The topic cut: owner replies and abandonment are per thread, not per topic, so they are null there."""
    return metrics.with_columns(
        pl.lit(None, pl.UInt32).alias("abandoned_threads"),
        pl.lit(None, pl.Boolean).alias("abandoned_channel"),
        pl.lit(None, pl.UInt32).alias("owner_replies"),
        pl.lit(None, pl.UInt32).alias("personal_replies"),
    )


def _with_thread_metrics(
    metrics: pl.DataFrame,
    replies: pl.DataFrame,
    abandoned: pl.DataFrame,
    abandoned_channels: pl.DataFrame,
    cut_value: pl.Expr,
) -> pl.DataFrame:
    """`metrics` with the owner's replies (all and personal), abandoned threads and whether a channel run was
    abandoned, per owner x period x cut value. An owner x period with replies but nothing needing an answer
    gets a row too; every count missing on either side is 0."""
    reply_counts = (
        replies.with_columns(cut_value=cut_value)
        .group_by(CUT_KEYS)
        .agg(pl.len().alias("owner_replies"), pl.col("is_personal").sum().alias("personal_replies"))
    )
    abandoned_counts = (
        abandoned.with_columns(cut_value=cut_value).group_by(CUT_KEYS).agg(pl.len().alias("abandoned_threads"))
    )
    channel_flags = (
        abandoned_channels.with_columns(cut_value=cut_value)
        .select(CUT_KEYS)
        .unique()
        .with_columns(abandoned_channel=pl.lit(True))
    )
    return (
        metrics.join(reply_counts, on=CUT_KEYS, how="full", coalesce=True)
        .join(abandoned_counts, on=CUT_KEYS, how="left")
        .join(channel_flags, on=CUT_KEYS, how="left")
        .with_columns(
            pl.col("abandoned_threads").fill_null(0),
            pl.col("abandoned_channel").fill_null(False),
            pl.col("owner_replies").fill_null(0),
            pl.col("personal_replies").fill_null(0),
            pl.col("needs_answer").fill_null(0),
            pl.col("answered").fill_null(0),
            pl.col("answered_not_in_dump").fill_null(0),
            pl.col("negative_needs_answer").fill_null(0),
            pl.col("negative_answered").fill_null(0),
            pl.col("recovery_n").fill_null(0),
        )
    )


def _metrics_at_grain(
    need_rows: pl.DataFrame, evidence: ThreadEvidence, run_members: pl.DataFrame, grain: str
) -> list[pl.DataFrame]:
    """Every cut's metrics per owner x period of `grain`, one frame per cut with its `cut` column."""
    needs_in_period = need_rows.with_columns(period=period_label("created_at", grain))
    replies = evidence.replies.with_columns(period=period_label("created_at", grain))
    abandoned = evidence.abandoned.with_columns(period=period_label("abandoned_at", grain))
    abandoned_channels = (
        needs_in_period.join(run_members, on="mention_id").select("owner", "platform", "period").unique()
    )
    frames = []
    for cut, cut_value in _cuts(needs_in_period):
        metrics = _need_metrics(needs_in_period, cut_value)
        if cut == "topic":
            metrics = _without_thread_metrics(metrics)
        else:  # the value of the 'all' and 'platform' cuts is known for replies and abandonment too
            metrics = _with_thread_metrics(metrics, replies, abandoned, abandoned_channels, cut_value)
        frames.append(metrics.with_columns(cut=pl.lit(cut)))
    return frames


def _with_rates(metrics: pl.DataFrame) -> pl.DataFrame:
    """Response rate (with its Wilson interval), negative response rate and personal reply share; a rate of
    nothing (0 / 0) is null."""
    rates = metrics.with_columns(
        (pl.col("answered") / pl.col("needs_answer")).alias("response_rate"),
        (pl.col("negative_answered") / pl.col("negative_needs_answer")).alias("negative_response_rate"),
        (pl.col("personal_replies") / pl.col("owner_replies")).alias("personal_reply_share"),
    ).with_columns(
        pl.col(c).fill_nan(None) for c in ("response_rate", "negative_response_rate", "personal_reply_share")
    )
    return _wilson_columns(rates, "answered", "needs_answer", "response_rate")


def build_responsiveness(
    needs: pl.DataFrame, evidence: ThreadEvidence, config: ScoringConfig, topics: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Responsiveness per owner x period, for all mentions ('all'), per platform and per topic."""
    grains = [config.period] if config.period == ALL_PERIODS else [config.period, ALL_PERIODS]
    brand_of_owner = needs.group_by("owner").agg(pl.col("brand").drop_nulls().mode().first())
    need_rows = _need_rows(needs, evidence.recovery, topics)
    run_members = (
        evidence.runs.explode("mention_ids").rename({"mention_ids": "mention_id"}).select("mention_id").unique()
    )
    frames = [frame for grain in grains for frame in _metrics_at_grain(need_rows, evidence, run_members, grain)]
    out = pl.concat(frames, how="diagonal_relaxed").join(brand_of_owner, on="owner", how="left")
    return _with_rates(out).select(list(RESPONSIVENESS_SCHEMA)).sort("owner", "cut", "cut_value", "period")
