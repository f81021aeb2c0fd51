"""Which audience mentions need an answer, from whom, and whether (and how fast) they got one.

Definitions (docs/methodology.md, "Needs an answer"):
- owner of an audience mention: the owner it talks to (`trustpulse.cleaning.owners.owners_talked_to`, the
  rule that also gives a mention its brand): the owner it replies to; else the owner it @-addresses; else,
  for a reply to another audience member, nobody; else the owner whose post it comments on, or who took part
  in the conversation it opened.
- it needs an answer when it has an owner and is `direct`, asks a question, or is negative; except a
  pure closing ("thanks, that sorted it!"), which needs none.
- answered: a later owner mention in the thread that replies to it (by `parent_id`), or, when that
  reply's parent is unknown or the thread's opening post, one that opens by addressing its author
  ("@Liz", "Liz,"). The earliest such reply is the answer.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import groupby
from operator import itemgetter

import polars as pl

from trustpulse.brands import BrandBook
from trustpulse.cleaning.owners import LEADING_HANDLE, owners_talked_to
from trustpulse.scoring.signals import is_gratitude_only, is_question
from trustpulse.tables import NEEDS_ANSWER_SCHEMA

NEGATIVE_LABEL = "negative"


def _opening_name(text: str) -> str | None:
    match = LEADING_HANDLE.match(text) or re.match(r"^\s*(?:hi|hey|hello|dear)?\s*([A-Z][\w.\-']+)\s*[,:–—-]", text)
    return match.group(1).casefold() if match else None


def _addresses(reply_text: str, author: str | None) -> bool:
    """Does the reply open by addressing this author ('@115712', '@Liz', 'Liz,')?"""
    if not author:
        return False
    name = _opening_name(reply_text)
    if not name:
        return False
    parts = author.casefold().lstrip("@").split()
    return name == author.casefold().lstrip("@").replace(" ", "") or (bool(parts) and name == parts[0])


def main_owner_by_brand(mentions: pl.DataFrame) -> dict[str, str]:
    """Each brand's most active owner account (the one answering on its behalf)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in mentions.filter(pl.col("is_owner")).select("brand", "author").iter_rows(named=True):
        for brand in row["brand"] or []:
            if row["author"]:
                counts[brand][row["author"]] += 1
    return {brand: c.most_common(1)[0][0] for brand, c in counts.items()}


def owner_handles(scored: pl.DataFrame, book: BrandBook) -> dict[str, str]:
    """Casefolded @handle -> the owner it reaches: every owner account in the data by its own name, and each
    configured account (to its brand's main owner when that account never answers in the data)."""
    main_owner = main_owner_by_brand(scored)
    owners = scored.filter(pl.col("is_owner") & pl.col("author").is_not_null())["author"].unique().to_list()
    handles = {owner.lstrip("@").casefold(): owner for owner in owners}
    for brand in book.brands:
        for account in brand.accounts:
            handles.setdefault(account.lstrip("@").casefold(), main_owner.get(brand.name, account.lstrip("@")))
    return handles


def build_needs_answer(scored: pl.DataFrame, book: BrandBook) -> pl.DataFrame:
    """One row per audience mention that needs an answer. `scored`: mentions with sentiment `label`, `score`."""
    if scored.is_empty():
        return pl.DataFrame(schema=NEEDS_ANSWER_SCHEMA)
    handle_owner = owner_handles(scored, book)
    brand_of_owner: dict[str, str] = {}
    for row in scored.filter(pl.col("is_owner")).select("author", "brand").iter_rows(named=True):
        if row["author"] and row["brand"]:
            brand_of_owner.setdefault(row["author"], row["brand"][0])
    out: list[dict] = []
    columns = ["mention_id", "thread_id", "parent_id", "position", "is_owner", "author", "author_id", "text"]
    columns += ["mention_type", "brand", "platform", "created_at", "label", "score"]
    if "replies_not_in_dump" in scored.columns:
        columns.append("replies_not_in_dump")
    ordered = scored.select(columns).sort("thread_id", "position").iter_rows(named=True)
    for _, thread in groupby(ordered, key=itemgetter("thread_id")):  # one pass; no per-thread frame
        rows = list(thread)
        root_id = rows[0]["mention_id"] if rows[0]["position"] == 0 else None
        owner_rows = [r for r in rows if r["is_owner"]]
        talks_to = owners_talked_to(rows, handle_owner)
        for r in rows:
            owner = None if r["is_owner"] else talks_to.get(r["mention_id"])
            if owner is None:
                continue
            question = is_question(r["text"])
            negative = r["label"] == NEGATIVE_LABEL
            if is_gratitude_only(r["text"]) or not (question or negative or r["mention_type"] == "direct"):
                continue
            answer = None
            for o in owner_rows:
                if o["position"] <= r["position"]:
                    continue
                if o["parent_id"] == r["mention_id"] or (
                    (o["parent_id"] is None or o["parent_id"] == root_id) and _addresses(o["text"], r["author"])
                ):
                    answer = o
                    break
            # the export says a reply exists (twcs `response_tweet_id`) but does not hold it: answered, time unknown
            reply_elsewhere = answer is None and (r.get("replies_not_in_dump") or 0) > 0
            minutes = None
            if answer is not None and answer["created_at"] is not None and r["created_at"] is not None:
                minutes = (answer["created_at"] - r["created_at"]).total_seconds() / 60
            out.append(
                {
                    "mention_id": r["mention_id"],
                    "owner": owner,
                    "brand": brand_of_owner.get(owner) or owner,
                    "thread_id": r["thread_id"],
                    "platform": r["platform"],
                    "author_id": r["author_id"],
                    "created_at": r["created_at"],
                    "position": r["position"],
                    "reason": "question" if question else "negative" if negative else "direct",
                    "is_question": question,
                    "is_negative": negative,
                    "answered": answer is not None or reply_elsewhere,
                    "answer_in_dump": not reply_elsewhere,
                    "answer_mention_id": answer["mention_id"] if answer is not None else None,
                    "first_response_minutes": minutes,
                    "sentiment_score": r["score"],
                }
            )
    if not out:
        return pl.DataFrame(schema=NEEDS_ANSWER_SCHEMA)
    return pl.DataFrame(out, schema=NEEDS_ANSWER_SCHEMA, orient="row")
