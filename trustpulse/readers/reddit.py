"""Reddit JSON as it comes: thread pages, listings, Pushshift dumps; and the JSON-value helpers the JSON reader shares.

Shapes handled:

* a thread page (``/comments/<id>.json``): a 2-element array, the post's Listing then the comment Listing, comments
  (``t1``) nesting their replies in ``data.replies`` Listings, with ``more`` stubs for comments the page left out;
* a user or subreddit listing: one ``{"kind": "Listing", ...}`` of ``t1``/``t3`` things (possibly one per line);
* Pushshift: bare comment / submission objects (one per line, or in a ``{"data": [...]}`` API response).

Every ``t1``, ``t3`` and ``more`` thing becomes exactly one record: a stub or a ``[deleted]`` body is a record with a
``skip_reason``, so the accounting sees it instead of it silently vanishing. Other kinds (``t2`` accounts, ``t5``
subreddits, ...) hold no mention and are not records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

REDDIT_RECORD_KINDS = ("t1", "t3", "more")
LISTING_KIND = "Listing"
REDDIT_URL = "https://www.reddit.com"
DELETED_BODIES = ("[deleted]", "[removed]")
DELETED_AUTHOR = "[deleted]"
# keys that make a bare object a Reddit comment / submission (Pushshift, PRAW exports) rather than a generic record
REDDIT_OBJECT_KEYS = ("link_id", "parent_id", "subreddit", "subreddit_id")
# the "continue this thread" link: a `more` with no children and id "_"
CONTINUE_THREAD_ID = "_"
# integers above this cannot be held exactly by a JSON number that went through a double
MAX_EXACT_FLOAT_INT = 2**53


# --- JSON values (shared with json_reader) ---------------------------------------------------------------------


def text_value(value: object) -> str | None:
    """A JSON scalar as text; None stays None."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def time_value(value: object) -> str | None:
    """A timestamp as the text it stands for. Numbers are passed on, not converted: cleaning knows epoch s/ms/µs.

    A float that holds a whole number (Pushshift's ``1706745600.0``) is written without the ``.0``.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return text_value(value).strip() or None


def id_value(value: object) -> tuple[str | None, str | None]:
    """An id as text, and a note when the id could not be trusted.

    A JSON integer is exact (Python reads it whole). A float id above 2**53 has lost digits on the way (a JavaScript
    or pandas export): it is not used, since a wrong id would join the record to someone else's thread.
    """
    if value is None or isinstance(value, bool):
        return None, None
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= MAX_EXACT_FLOAT_INT:
            return str(int(value)), None
        return None, f"id {value!r} lost precision as a JSON number; not used"
    text = text_value(value).strip()
    return text or None, None


def dumps(value: object) -> str:
    """Compact JSON for a record's `raw`; a value too deep to write back gives a placeholder, not a crash."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return "<value too deeply nested to write back>"


# --- shapes -------------------------------------------------------------------------------------------------------


def is_listing(value: object) -> bool:
    return isinstance(value, dict) and value.get("kind") == LISTING_KIND


def is_thing(value: object) -> bool:
    """A ``{"kind": "t1" | "t3" | "more", "data": ...}`` wrapper."""
    return isinstance(value, dict) and value.get("kind") in REDDIT_RECORD_KINDS


def is_reddit_object(obj: dict) -> bool:
    """A bare comment or submission (Pushshift line, or an item of a Pushshift ``data`` list)."""
    has_content = "body" in obj or "selftext" in obj
    return has_content and any(key in obj for key in REDDIT_OBJECT_KEYS)


# --- walking ------------------------------------------------------------------------------------------------------


def _children(listing: dict) -> list:
    data = listing.get("data")
    children = data.get("children") if isinstance(data, dict) else None
    return children if isinstance(children, list) else []


def iter_things(value: object) -> Iterator[tuple[dict, str | None]]:
    """Every t1 / t3 / more thing under a Listing, a thing, or a thread array, in document order (a comment before
    its replies), with the thread id known from the enclosing post or comment (``more`` stubs lack ``link_id``).

    Iterative, so a deep comment tree cannot exhaust Python's recursion limit.
    """
    stack: list[tuple[object, str | None]] = [(value, None)]
    while stack:
        item, thread_id = stack.pop()
        if isinstance(item, list):
            stack.extend((child, thread_id) for child in reversed(item))
        elif is_listing(item):
            stack.extend((child, thread_id) for child in reversed(_children(item)))
        elif is_thing(item):
            yield item, thread_id
            data = item.get("data")
            if item["kind"] == "t1" and isinstance(data, dict) and is_listing(data.get("replies")):
                own_thread = text_value(data.get("link_id")) or thread_id
                stack.extend((child, own_thread) for child in reversed(_children(data["replies"])))


def _without_replies(thing: dict) -> dict:
    """The thing as it is in the file, minus its nested replies (each reply is its own record with its own raw)."""
    data = thing.get("data")
    if isinstance(data, dict) and isinstance(data.get("replies"), dict):
        return {**thing, "data": {**data, "replies": "<replies: separate records>"}}
    return thing


def _url(permalink: str | None) -> str | None:
    if permalink and permalink.startswith("/"):
        return REDDIT_URL + permalink
    return permalink


def _more_record(data: dict, thread_id: str | None) -> dict:
    children = data.get("children") if isinstance(data.get("children"), list) else []
    count = data.get("count") if isinstance(data.get("count"), int) else 0
    missing = len(children) or count
    if missing == 0 and (data.get("id") == CONTINUE_THREAD_ID or not children):
        reason = "not_in_dump: reddit 'continue this thread' stub; deeper replies are not in this file"
    else:
        reason = f"not_in_dump: reddit 'more' stub for {missing} comments not in this file"
    return {
        "kind": "comment",
        # a stub's name is the id of its first hidden comment: not an id of anything in this file
        "native_id": None,
        "parent_native_id": text_value(data.get("parent_id")),
        "thread_native_id": thread_id,
        "platform": "reddit",
        "skip_reason": reason,
    }


def comment_record(data: dict, thread_id: str | None = None) -> dict:
    """A t1 comment (from a thread page, a listing, or a Pushshift line)."""
    native_id, id_note = id_value(data.get("name"))
    if native_id is None:
        bare_id, id_note = id_value(data.get("id"))
        native_id = f"t1_{bare_id}" if bare_id else None
    link = text_value(data.get("link_id")) or thread_id
    body = text_value(data.get("body"))
    author = text_value(data.get("author"))
    notes = [id_note] if id_note else []
    record = {
        "kind": "comment",
        "native_id": native_id,
        "thread_native_id": link,
        "parent_native_id": text_value(data.get("parent_id")) or link,
        "author_handle": None if author == DELETED_AUTHOR else author,
        "created_at_raw": time_value(data.get("created_utc", data.get("created"))),
        "text": body,
        "platform": "reddit",
        "url": _url(text_value(data.get("permalink"))),
    }
    stripped = (body or "").strip()
    if stripped in DELETED_BODIES:
        record["skip_reason"] = f"deleted: comment body is {stripped}"
    elif author == DELETED_AUTHOR:
        notes.append("author account is [deleted]; the comment text is kept")
    if notes:
        record["reader_note"] = "; ".join(notes)
    return record


def post_record(data: dict) -> dict:
    """A t3 submission: the title and self text (or the linked url) are what the author wrote."""
    native_id, id_note = id_value(data.get("name"))
    if native_id is None:
        bare_id, id_note = id_value(data.get("id"))
        native_id = f"t3_{bare_id}" if bare_id else None
    title = (text_value(data.get("title")) or "").strip()
    selftext = (text_value(data.get("selftext")) or "").strip()
    permalink_url = _url(text_value(data.get("permalink")))
    link_url = text_value(data.get("url"))
    author = text_value(data.get("author"))
    notes = [id_note] if id_note else []
    if selftext in DELETED_BODIES:
        notes.append(f"post body is {selftext}; only the title is kept")
        selftext = ""
    if selftext:
        text = f"{title}\n\n{selftext}" if title else selftext
    elif link_url and link_url != permalink_url and not (link_url.startswith("/") and _url(link_url) == permalink_url):
        text = f"{title}\n{link_url}" if title else link_url
    else:
        text = title
    if author == DELETED_AUTHOR:
        notes.append("author account is [deleted]; the post text is kept")
    record = {
        "kind": "post",
        "native_id": native_id,
        "thread_native_id": native_id,
        "parent_native_id": None,
        "author_handle": None if author == DELETED_AUTHOR else author,
        "created_at_raw": time_value(data.get("created_utc", data.get("created"))),
        "text": text or None,
        "platform": "reddit",
        "url": permalink_url,
        "owner_hint": None,
    }
    if notes:
        record["reader_note"] = "; ".join(notes)
    return record


def object_record(obj: dict) -> dict:
    """A bare Pushshift object: a comment has ``body``, a submission ``selftext``/``title``."""
    return comment_record(obj) if "body" in obj else post_record(obj)


def records_from_reddit(value: object) -> list[dict]:
    """One record per t1 / t3 / more thing under `value`, each with its own `raw`."""
    records = []
    for thing, thread_id in iter_things(value):
        kind, data = thing["kind"], thing.get("data")
        if not isinstance(data, dict):
            record = {"parse_error": f"reddit {kind} thing has no data object"}
        elif kind == "t1":
            record = comment_record(data, thread_id)
        elif kind == "t3":
            record = post_record(data)
        else:
            record = _more_record(data, thread_id)
        record["raw"] = dumps(_without_replies(thing))
        records.append(record)
    return records
