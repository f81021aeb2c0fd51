"""What each published column means: one description per column name, from the table contracts.

`assets/catalog.py` turns them into the Dagster catalog's column schemas (`described_schema`), so the UI's
column list explains the contract (the text column first, as in the previews: `text_first`).
"""

from __future__ import annotations

import polars as pl

# One description per column name; a name means the same thing in every table that has it.
COLUMN_DESCRIPTIONS: dict[str, str] = {
    # identity and provenance
    "mention_id": "Stable id of the mention: hash of platform + native id (or of the text where the source has none).",
    "record_id": "'<dump key>:<record index>': the raw record, unique across dumps.",
    "dump_file": "File name of the dump in landing/ the record came from.",
    "dump_key": "Partition key of the dump: file name + content hash.",
    "source_format": "Format the reader detected (csv, jsonl, json, html, blog text, ...).",
    "record_index": "0-based order of the record in the dump.",
    "line_start": "1-based first line of the record in the file (array index + 1 for JSON arrays).",
    "line_end": "1-based last line of the record in the file.",
    "raw": "The record exactly as it was in the dump (decoded; e-mail addresses and phone numbers masked).",
    "kind": "post | comment | message | boilerplate.",
    "native_id": "The source's own id of the record.",
    "thread_native_id": "The source's id of the thread the record belongs to.",
    "parent_native_id": "The source's id of the record this one answers.",
    "author_handle": "Author handle as the source gives it.",
    "author_name": "Author display name as the source gives it.",
    "created_at_raw": "Timestamp as the source wrote it.",
    "reply_native_ids": "Ids of the replies the source says this record got (comma-separated).",
    "owner_hint": "The source itself says the author owes answers (twcs inbound == False).",
    "duplicate_of_index": "Reader-detected repeat of an earlier record of the dump (blogs print comments twice).",
    "parse_error": "Why the record could not be parsed (it is then quarantined).",
    "skip_reason": "Why a record in the file holds no mention (quarantined with this reason).",
    "reader_note": "A caveat the reader noted on this record.",
    # the mention contract
    "platform": "Platform in one vocabulary (twitter, reddit, blog, support, ...).",
    "thread_id": "mention_id of the thread's first mention.",
    "parent_id": "mention_id of the mention this one answers (null: starts the thread).",
    "position": "0-based position of the mention in its thread.",
    "author_id": "Pseudonymous author id (keyed hash of the handle).",
    "author": "Author handle (pseudonymised for people, kept for brand accounts).",
    "is_owner": "The author is a brand's own account (the one that owes answers).",
    "brand": "Brands the mention is about (from brands.yaml).",
    "mention_type": "audience (a customer's mention) | owner_reply | owner_post.",
    "created_at": "When the mention was posted, UTC (null: the dump gave no usable date).",
    "text": "The cleaned text: boilerplate removed, e-mail addresses and phone numbers masked.",
    "lang": "Detected language (ISO 639-1).",
    "n_chars": "Length of the cleaned text in characters.",
    "url": "Link to the mention at its source.",
    "replies_not_in_dump": "Replies the source says the mention got that are not in the dump.",
    # quarantine and duplicates
    "reason": "Why the record was quarantined.",
    "duplicate_of": "mention_id of the kept mention this record duplicates.",
    "rule": "The deduplication rule that matched (exact, near, repost, cross_dump, ...).",
    "similarity": "Text similarity to the kept mention, 0-100.",
    # accounting
    "raw_records": "Records the file holds, counted from its structure (else what the reader read).",
    "kept": "Records published as mentions.",
    "duplicates": "Records collapsed into a kept mention.",
    "quarantined": "Records that could not be used.",
    "unread": "raw_records - kept - duplicates - quarantined: records the reader missed (0 when balanced).",
    "balanced": "raw_records = kept + duplicates + quarantined.",
    # sentiment
    "label": "negative | neutral | positive: the most probable class.",
    "p_negative": "Probability of negative sentiment.",
    "p_neutral": "Probability of neutral sentiment.",
    "p_positive": "Probability of positive sentiment.",
    "score": "p_positive - p_negative, from -1 to 1.",
    "model_id": "The sentiment model (and classifier version) that scored the text.",
    "scored": "The model read the mention (false: its language is not one the model reads).",
    "not_scored_reason": "Why the mention has no sentiment (e.g. 'language'); null when scored.",
    # topics
    "topic_id": "Topic of the mention (-1: outlier).",
    "topic_label": "Readable topic label (its top keywords).",
    "topic_probability": "HDBSCAN membership, or cosine similarity to the topic centroid.",
    "taxonomy_label": "Closest business-taxonomy entry (zero-shot).",
    "taxonomy_score": "Cosine similarity to that taxonomy entry.",
    "assigned": "fitted (the model was fitted on this text) | nearest (assigned to the saved model later).",
    "period_start": "Start of the period (UTC).",
    "mentions": "Mentions of the topic in the period.",
    "period_mentions": "Dated mentions of all topics in the period.",
    "share": "mentions / period_mentions.",
    "rising": "The topic's share rose significantly against the previous period.",
    "net_sentiment": "(positive - negative) / scored mentions.",
}

TEXT_COLUMN = "text"


def text_first(df: pl.DataFrame) -> pl.DataFrame:
    """The table with its text column first (what an analyst reads in a preview), the rest in order."""
    if TEXT_COLUMN not in df.columns:
        return df
    return df.select(TEXT_COLUMN, pl.exclude(TEXT_COLUMN))
