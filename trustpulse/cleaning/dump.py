"""One dump's raw records -> cleaned mentions (the contract), quarantine, duplicates.

`clean_dump` is pure (Polars in, Polars out); the `clean_mentions` asset (`assets/ingest.py`) calls it.
Every raw record ends in exactly one of: mentions (kept), duplicates, quarantine.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import polars as pl

from trustpulse.brands import BrandBook
from trustpulse.cleaning.authors import (
    addressee,
    infer_post_author,
    pseudonymise,
    thanks_for_comment,
)
from trustpulse.cleaning.classify import brands_named, industry_brands, mention_type
from trustpulse.cleaning.dates import FileTimestamps, parse_timestamps
from trustpulse.cleaning.dedup import Duplicate, find_duplicates
from trustpulse.cleaning.language import detect_language
from trustpulse.cleaning.owners import answering_accounts, owners_talked_to
from trustpulse.cleaning.platforms import platform_of
from trustpulse.cleaning.text import EMAIL, EMAIL_MASK, mask_pii, normalise_text
from trustpulse.cleaning.threads import blog_reply_parent, stable_id, thread_roots
from trustpulse.settings import TrustpulseSettings
from trustpulse.tables import DUPLICATE_SCHEMA, MENTION_SCHEMA, QUARANTINE_SCHEMA

GLOBAL_ID_PLATFORMS = ("twitter", "reddit")  # native ids unique across dumps
# platforms where people are known by their @handle
HANDLE_PLATFORMS = ("twitter", "reddit", "instagram", "tiktok", "threads", "bluesky", "mastodon", "support")
PLAIN_TEXT_PLATFORMS = ("twitter", "reddit", "support")  # text is never HTML there


@dataclass(frozen=True)
class CleanedDump:
    mentions: pl.DataFrame
    quarantine: pl.DataFrame
    duplicates: pl.DataFrame
    notes: tuple[str, ...] = ()  # what a person should know about how this dump was read

    def accounting(self, raw_records: int) -> dict[str, int]:
        return {
            "raw_records": raw_records,
            "kept": self.mentions.height,
            "duplicates": self.duplicates.height,
            "quarantined": self.quarantine.height,
        }


def _quarantine_reason(row: dict, max_chars: int) -> str | None:
    """Why a raw record cannot become a mention, judged before its text is cleaned."""
    if row["parse_error"]:
        return f"parse_error: {row['parse_error']}"
    if row.get("skip_reason"):
        return row["skip_reason"]
    if row["kind"] == "boilerplate":
        return "boilerplate: comment-form or page furniture"
    if row["text"] is not None and len(row["text"]) > max_chars:
        return f"text_too_long: {len(row['text']):,} characters > {max_chars:,} (not a mention; kept raw)"
    return None


def _date_notes(stamps: FileTimestamps) -> list[str]:
    notes = []
    if stamps.order.numeric_dates_seen:
        order = "day" if stamps.order.day_first else "month"
        notes.append(f"numeric dates read {order}-first: {stamps.order.evidence}")
    if stamps.not_understood:
        notes.append(
            f"{len(stamps.not_understood)} date(s) not understood, those mentions are undated "
            f"(e.g. {stamps.not_understood[0][:40]!r})"
        )
    return notes


def _same_record(a: dict, b: dict, text_a: str, text_b: str) -> bool:
    """Two records with one id are one record only if author and text agree (a shorter text may be the
    other cut off): an export that mangled ids (Excel rounding `5,70306E+17`) gives many records one id."""
    author_a, author_b = a["author_handle"] or a["author_name"], b["author_handle"] or b["author_name"]
    fa, fb = text_a.casefold(), text_b.casefold()
    return author_a == author_b and (fa.startswith(fb) or fb.startswith(fa))


def _drop_conflicting_ids(rows: list[dict], texts: list[str]) -> list[str]:
    """Ids that several different records share are no ids: later holders lose the id (kept as
    mentions of their own, flagged in the dump's notes) instead of being collapsed as `same_id`."""
    first: dict[str, int] = {}
    conflicts: list[str] = []
    for i, row in enumerate(rows):
        native = row["native_id"]
        if native is None:
            continue
        j = first.setdefault(native, i)
        if j != i and not _same_record(rows[j], row, texts[j], texts[i]):
            conflicts.append(native)
            row["native_id"] = None
    if not conflicts:
        return []
    return [
        f"{len(conflicts)} record(s) share an id with a different author or text (e.g. {conflicts[0]!r}): "
        "kept apart, the id not used for them"
    ]


def _name_unnamed_owners(
    rows: list[dict], is_owner: list[bool], authors: list[str | None], handles: list[str | None], thread_ids: list[str]
) -> None:
    """An owner row without a name (a page that does not say who wrote the post) is named after the owner who
    signs in the same thread (the post's author answering as "Phil Whelan"), else after its page: the
    conversation then has an owner to talk to, and two blogs' authors are never merged. In place."""
    named = {thread_ids[i]: (authors[i], handles[i]) for i in range(len(rows)) if is_owner[i] and authors[i]}
    for i, r in enumerate(rows):
        if is_owner[i] and not authors[i]:
            name, handle = named.get(thread_ids[i]) or (f"author of {r['dump_file']}", None)
            authors[i] = name
            handles[i] = handle or f"post author of {r['dump_file']}:{thread_ids[i]}"


def _answering_accounts(rows: list[dict], roots: list[str | None]) -> set[str]:
    """Accounts that answer people addressing them (X, Reddit): owners found without configuration."""
    return answering_accounts({**r, "_thread": roots[i]} for i, r in enumerate(rows) if r["platform"] != "blog")


def _owner_entities(
    rows: list[dict],
    is_owner: list[bool],
    owner_brand: list[str | None],
    authors: list[str | None],
    thread_ids: list[str],
    root_of_thread: dict[str, int],
    named_by_row: list[list[str]],
) -> dict[str, str]:
    """The brand each owner answers for: its configured brand (by account, or the brand a blog's own
    post names), else the owner itself: without a brands file every owner found is an entity of its own."""
    entity: dict[str, str] = {}
    for i, owner in enumerate(is_owner):
        if not owner or not authors[i]:
            continue
        root = root_of_thread.get(thread_ids[i])
        blog_brand = named_by_row[root][0] if root is not None and is_owner[root] and named_by_row[root] else None
        entity.setdefault(authors[i], owner_brand[i] or blog_brand or authors[i])
    return entity


def _owners_talked_to(
    rows: list[dict],
    mention_ids: list[str],
    parent_ids: list[str | None],
    position: list[int],
    thread_ids: list[str],
    is_owner: list[bool],
    authors: list[str | None],
    handles: list[str | None],
    texts: list[str],
    book: BrandBook,
) -> dict[str, str | None]:
    """`owners_talked_to` over this dump's threads: mention id -> the owner an audience mention talks to."""
    owner_by_handle = {
        (handles[i] or "").lstrip("@").casefold(): authors[i]
        for i in range(len(rows))
        if is_owner[i] and handles[i] and authors[i]
    }
    for brand in book.brands:  # a configured account addressed before it ever answers in this dump
        for account in brand.accounts:
            owner_by_handle.setdefault(account.lstrip("@").casefold(), account.lstrip("@"))
    threads: dict[str, list[dict]] = defaultdict(list)
    for i in sorted(range(len(rows)), key=lambda i: (thread_ids[i], position[i])):
        threads[thread_ids[i]].append(
            {
                "mention_id": mention_ids[i],
                "parent_id": parent_ids[i],
                "position": position[i],
                "is_owner": is_owner[i],
                "author": authors[i],
                "author_id": handles[i],
                "text": texts[i],
            }
        )
    talks_to: dict[str, str | None] = {}
    for thread in threads.values():
        talks_to.update(owners_talked_to(thread, owner_by_handle))
    return talks_to


def _namespace(row: dict) -> str:
    return row["platform"] if row["platform"] in GLOBAL_ID_PLATFORMS and row["native_id"] else row["dump_file"]


def _duplicate_group(row: dict, root: str | None) -> tuple:
    """Rows that may duplicate each other: replies by one author to one parent in one thread; or
    top-level posts by one author stamped with the same time (an export that repeats a post under a
    new id)."""
    author = row["author_handle"] or row["author_name"]
    if row["parent_native_id"] is None and row["thread_native_id"] is None and row["native_id"] is not None:
        return ("top-level", row["platform"], author, row["created_at_raw"])
    if row["platform"] in GLOBAL_ID_PLATFORMS and row["native_id"] is not None:
        # two replies with their own platform ids are two comments, even with the same words ("test")
        return (root, author, row["parent_native_id"], row["kind"], row["native_id"])
    return (root, author, row["parent_native_id"], row["kind"])


def _blog_structure(rows: list[dict], texts: list[str], dump_has_repeats: bool, repeated_rows: set[int]) -> None:
    """Owner, author and parent of each kept blog row (one thread per page), in place."""
    post = next((i for i, r in enumerate(rows) if r["kind"] == "post"), None)
    comments = [i for i, r in enumerate(rows) if r["kind"] != "post"]
    audience_texts = [texts[i] for i in comments if rows[i]["author_name"]]
    post_author = infer_post_author(audience_texts or [texts[i] for i in comments])
    # an unnamed post author stays unnamed here: `_name_unnamed_owners` names every such owner, by page
    owner_name = owner_handle = post_author
    if post is not None:
        rows[post].update(_owner=True, _author=owner_name, _handle=owner_handle, _parent_row=None)
    earlier: list[tuple[int, str | None, str]] = []
    for i in comments:
        signed = rows[i]["author_name"]
        owner = bool(
            (signed and post_author and signed.casefold() == post_author.casefold())
            or (
                not signed
                and (
                    addressee(texts[i]) is not None
                    or thanks_for_comment(texts[i])
                    or (dump_has_repeats and i not in repeated_rows)
                )
            )
        )
        rows[i].update(
            _owner=owner,
            _author=owner_name if owner else signed,
            _handle=owner_handle if owner else signed,
            _parent_row=blog_reply_parent(texts[i], earlier, post, post_author, by_post_author=owner),
        )
        if not owner:
            earlier.append((i, rows[i]["_author"], texts[i]))


def _screen_records(raw: pl.DataFrame, max_text_chars: int) -> tuple[list[dict], list[dict], list[str], FileTimestamps]:
    """(quarantined rows, candidate rows, their cleaned texts, the dump's timestamps): each raw record, in dump
    order, is quarantined with its reason or becomes a candidate mention."""
    all_rows = raw.sort("record_index").to_dicts()
    for row in all_rows:
        row["platform"] = platform_of(row["platform"], row["url"])
    stamps = parse_timestamps([r["created_at_raw"] for r in all_rows])
    quarantine, candidates, texts = [], [], []
    for row, created_at, bad_date in zip(all_rows, stamps.times, stamps.bad, strict=True):
        row["_created"] = created_at
        reason = _quarantine_reason(row, max_text_chars)
        if not reason and bad_date:
            reason = f"bad_value: created_at {bad_date}"
        text = "" if reason else normalise_text(row["text"], markup=row["platform"] not in PLAIN_TEXT_PLATFORMS)
        if not reason and not text:
            reason = "empty_text: nothing left after cleaning"
        if reason:
            quarantine.append({**{k: row[k] for k in QUARANTINE_SCHEMA if k in row}, "reason": reason})
        else:
            candidates.append(row)
            texts.append(text)
    return quarantine, candidates, texts, stamps


@dataclass(frozen=True)
class _Collapsed:
    """The candidates after duplicates are collapsed: which were kept and why the others went."""

    duplicates: list[Duplicate]  # `find_duplicates` matches, by candidate row
    keep: list[int]  # candidate rows kept, in order
    roots: list[str | None]  # thread root of every candidate
    repeat_of: list[int | None]  # candidate row a reader said this one repeats

    @property
    def new_index(self) -> dict[int, int]:
        """candidate row -> kept row."""
        return {old: new for new, old in enumerate(self.keep)}


def _collapse_duplicates(candidates: list[dict], texts: list[str], near_duplicate_ratio: float) -> _Collapsed:
    """Threads from native ids (blogs: one thread per page), then the duplicates among the candidates."""
    roots = thread_roots(
        [r["native_id"] for r in candidates],
        [r["parent_native_id"] for r in candidates],
        [r["thread_native_id"] for r in candidates],
    )
    index_of_record = {r["record_index"]: i for i, r in enumerate(candidates)}
    repeat_of = [
        index_of_record.get(r["duplicate_of_index"]) if r["duplicate_of_index"] is not None else None
        for r in candidates
    ]
    dups = find_duplicates(
        texts,
        [f"{_namespace(r)}:{r['native_id']}" if r["native_id"] else None for r in candidates],
        repeat_of,
        [_duplicate_group(r, roots[i]) for i, r in enumerate(candidates)],
        near_duplicate_ratio,
    )
    dup_rows = {d.row for d in dups}
    keep = [i for i in range(len(candidates)) if i not in dup_rows]
    return _Collapsed(duplicates=dups, keep=keep, roots=roots, repeat_of=repeat_of)


def _structure_blog_pages(rows: list[dict], texts: list[str], roots: list[str | None], repeated_rows: set[int]) -> None:
    """Owner, author and parent (`_owner`, `_author`, `_handle`, `_parent_row`) of every kept row, from the page
    structure for blog rows without ids (one thread per page), unset elsewhere. In place."""
    for row in rows:
        row.update(_owner=None, _author=None, _handle=None, _parent_row=None)
    blog_rows = [i for i, r in enumerate(rows) if r["platform"] == "blog" and r["native_id"] is None]
    if not blog_rows:
        return
    by_thread: dict[str, list[int]] = {}
    for i in blog_rows:
        by_thread.setdefault(roots[i] or "", []).append(i)
    for members in by_thread.values():
        sub = [rows[i] for i in members]
        _blog_structure(
            sub,
            [texts[i] for i in members],
            bool(repeated_rows),
            {k for k, i in enumerate(members) if i in repeated_rows},
        )
        for k, i in enumerate(members):
            if sub[k]["_parent_row"] is not None:
                rows[i]["_parent_row"] = members[sub[k]["_parent_row"]]


def _threads_and_positions(rows: list[dict], roots: list[str | None]) -> tuple[list[str], list[int]]:
    """(thread id, position within the thread) of every kept row: by time (undated last), then dump order."""
    created = [r["_created"] for r in rows]
    thread_ids = [
        stable_id(_namespace(r) if r["native_id"] else r["dump_file"], roots[i] or f"row{i}")
        for i, r in enumerate(rows)
    ]
    order = sorted(
        range(len(rows)),
        key=lambda i: (thread_ids[i], created[i] is None, created[i] or 0, rows[i]["record_index"]),
    )
    position = [0] * len(rows)
    counter: Counter[str] = Counter()
    for i in order:
        position[i] = counter[thread_ids[i]]
        counter[thread_ids[i]] += 1
    return thread_ids, position


def _mention_ids(rows: list[dict], thread_ids: list[str], position: list[int], texts: list[str]) -> list[str]:
    """Stable ids: from the native id where the source has one, else from file, thread, position and text."""
    return [
        stable_id(_namespace(r), r["native_id"])
        if r["native_id"]
        else stable_id(r["dump_file"], thread_ids[i], position[i], texts[i])
        for i, r in enumerate(rows)
    ]


@dataclass(frozen=True)
class _Authorship:
    """Per kept row: whether an owner wrote it, the configured brand of its account, its author and handle."""

    is_owner: list[bool]
    owner_brand: list[str | None]
    authors: list[str | None]
    handles: list[str | None]


def _authorship(rows: list[dict], roots: list[str | None], thread_ids: list[str], book: BrandBook) -> _Authorship:
    """Who wrote each kept row and whether that is an owner (the page structure, the source's own hint, a
    configured account, or an account found answering people)."""
    answering = set() if any(r["owner_hint"] is not None for r in rows) else _answering_accounts(rows, roots)
    is_owner, owner_brand, authors, handles = [], [], [], []
    for r in rows:
        brand = book.owner_brand(r["author_handle"])
        found_answering = (r["author_handle"] or "").casefold() in answering
        owner = (
            r["_owner"]
            if r["_owner"] is not None
            else (r["owner_hint"] if r["owner_hint"] is not None else brand is not None or found_answering)
        )
        is_owner.append(bool(owner))
        owner_brand.append(brand)
        # where people are known by @handle (X, Reddit, ...) the handle names an account the same way in every
        # export (display names vary); elsewhere (blogs, Disqus, YouTube) the display name is what people read,
        # and the handle may be an internal id ("facebook-1787732238"). A bare numeric id never wins a name.
        handle = r["author_handle"]
        readable_handle = handle if handle and not (handle.isdigit() and r["author_name"]) else None
        by_handle = r["platform"] in HANDLE_PLATFORMS
        authors.append(
            handle
            if owner and handle and by_handle
            else r["_author"] or (readable_handle if by_handle else r["author_name"]) or r["author_name"] or handle
        )
        handles.append(r["author_handle"] or r["_handle"] or r["author_name"])
    _name_unnamed_owners(rows, is_owner, authors, handles, thread_ids)
    return _Authorship(is_owner=is_owner, owner_brand=owner_brand, authors=authors, handles=handles)


def _parent_ids(rows: list[dict], mention_ids: list[str]) -> list[str | None]:
    """The mention id each kept row replies to: the page structure's parent, else the native parent id (a mention
    of this dump, or the id that parent would have)."""
    id_by_native = {f"{_namespace(r)}:{r['native_id']}": mention_ids[i] for i, r in enumerate(rows) if r["native_id"]}
    parent_ids: list[str | None] = []
    for r in rows:
        if r["_parent_row"] is not None:
            parent_ids.append(mention_ids[r["_parent_row"]])
        elif r["parent_native_id"]:
            ns = _namespace(r)
            parent_ids.append(id_by_native.get(f"{ns}:{r['parent_native_id']}") or stable_id(ns, r["parent_native_id"]))
        else:
            parent_ids.append(None)
    return parent_ids


def _mention_brands(
    i: int,
    kind: str,
    text: str,
    who: _Authorship,
    entity: dict[str, str],
    named: list[str],
    owner_talked_to: str | None,
    book: BrandBook,
) -> list[str]:
    """The brands a kept row belongs to. An owner's own words are its brand's, whatever names it signs with
    ("^HP"); aliases count in audience text only. An audience mention belongs to the brands it names and to the
    brand of the owner it talks to; a product or industry mention naming none, to the industry's brands."""
    if who.is_owner[i]:
        own = entity.get(who.authors[i] or "") or who.owner_brand[i]
        brands = [own] if own else []
    else:
        brands = list(named)
        if owner_talked_to is not None and entity.get(owner_talked_to) not in (None, *brands):
            brands.append(entity[owner_talked_to])
    if not brands and kind in ("product", "industry"):
        brands = industry_brands(text, book)
    return brands


def _frame(rows: list[dict], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def clean_dump(raw: pl.DataFrame, settings: TrustpulseSettings, book: BrandBook, pseudonym_key: bytes) -> CleanedDump:
    """Clean one dump's raw records into the mention contract: screen, collapse duplicates, structure threads,
    find owners and authors, then mask, classify and attribute each kept mention."""
    quarantine, candidates, texts, stamps = _screen_records(raw, settings.max_text_chars)
    notes = list(_date_notes(stamps)) + _drop_conflicting_ids(candidates, texts)
    collapsed = _collapse_duplicates(candidates, texts, settings.near_duplicate_ratio)
    new_index = collapsed.new_index
    rows = [candidates[i] for i in collapsed.keep]
    kept_texts = [texts[i] for i in collapsed.keep]
    kept_roots = [collapsed.roots[i] for i in collapsed.keep]
    repeated_rows = {new_index[j] for j in collapsed.repeat_of if j is not None and j in new_index}
    _structure_blog_pages(rows, kept_texts, kept_roots, repeated_rows)

    thread_ids, position = _threads_and_positions(rows, kept_roots)
    mention_ids = _mention_ids(rows, thread_ids, position, kept_texts)
    who = _authorship(rows, kept_roots, thread_ids, book)
    parent_ids = _parent_ids(rows, mention_ids)

    root_of_thread = {thread_ids[i]: i for i in range(len(rows)) if position[i] == 0}
    masked = [mask_pii(t, settings.phone_region) for t in kept_texts]
    named_by_row = [brands_named(t, book) for t in masked]
    entity = _owner_entities(rows, who.is_owner, who.owner_brand, who.authors, thread_ids, root_of_thread, named_by_row)
    talks_to = _owners_talked_to(
        rows, mention_ids, parent_ids, position, thread_ids, who.is_owner, who.authors, who.handles, masked, book
    )
    present = {r["native_id"] for r in rows if r["native_id"]}
    out = []
    for i, r in enumerate(rows):
        text = masked[i]
        owner_talked_to = talks_to.get(mention_ids[i])
        named = [] if who.is_owner[i] else named_by_row[i]
        kind = mention_type(text, book, talks_to_owner=who.is_owner[i] or owner_talked_to is not None, named=named)
        replies = [x for x in (r["reply_native_ids"] or "").split(",") if x]
        platform = r["platform"] or ("support" if r["source_format"] == "twcs_csv" else "other")
        out.append(
            {
                "mention_id": mention_ids[i],
                "record_id": r["record_id"],
                "dump_file": r["dump_file"],
                "dump_key": r["dump_key"],
                "source_format": r["source_format"],
                "platform": platform,
                "thread_id": thread_ids[i],
                "parent_id": parent_ids[i],
                "position": position[i],
                "author_id": pseudonymise(pseudonym_key, platform, who.handles[i]),
                # an author is a name or an account, often all digits: only e-mail addresses are masked there
                "author": EMAIL.sub(EMAIL_MASK, who.authors[i]) if who.authors[i] else None,
                "is_owner": who.is_owner[i],
                "brand": _mention_brands(i, kind, text, who, entity, named, owner_talked_to, book),
                "mention_type": kind,
                "created_at": r["_created"],
                "text": text,
                "lang": detect_language(text, settings.min_lang_confidence),
                "n_chars": len(text),
                "url": r["url"],
                "replies_not_in_dump": sum(x not in present for x in replies),
            }
        )

    kept_id = {old: mention_ids[new] for old, new in new_index.items()}
    duplicates = [
        {
            "record_id": candidates[d.row]["record_id"],
            "dump_file": candidates[d.row]["dump_file"],
            "dump_key": candidates[d.row]["dump_key"],
            "duplicate_of": kept_id[d.of_row],
            "rule": d.rule,
            "similarity": d.similarity,
        }
        for d in collapsed.duplicates
    ]
    return CleanedDump(
        mentions=_frame(out, MENTION_SCHEMA),
        quarantine=_frame(quarantine, QUARANTINE_SCHEMA),
        duplicates=_frame(duplicates, DUPLICATE_SCHEMA),
        notes=tuple(notes),
    )
