"""JSON dumps: X/Twitter (API v2 responses, twarc2 flattened tweets, v1.1 statuses), Reddit (thread pages, listings,
Pushshift), and generic JSON records.

JSON lines are streamed one line at a time; a line that is not valid JSON, or holds no usable record, becomes a record
with `parse_error` set. A whole-file JSON document is parsed at once, and a syntax error there is a `DumpParseError`
with line and column. One JSON value may hold many records (a Reddit thread page, an API response page): each becomes
its own record, with its own `raw`. One bad record never fails the dump.

Values are passed on as the file has them: timestamps as text (epoch numbers included, cleaning parses them), ids as
text (`str(int)` for JSON integers; a float id that lost its digits is dropped with a `reader_note`).

`count_json_records` counts the records a file holds by a separate, simpler walk, for the accounting check.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from trustpulse.readers.reddit import (
    LISTING_KIND,
    REDDIT_RECORD_KINDS,
    dumps,
    id_value,
    is_listing,
    is_reddit_object,
    is_thing,
    object_record,
    records_from_reddit,
    text_value,
    time_value,
)
from trustpulse.readers.schema import DumpParseError
from trustpulse.readers.youtube import count_youtube_comments, is_youtube, youtube_comments, youtube_record

MAX_JSON_DEPTH = 64
X_STATUS_URL = "https://x.com/{username}/status/{tweet_id}"
# fields only an X API v2 tweet has (a bare {"id", "text"} object stays a generic record)
TWEET_V2_KEYS = ("author_id", "conversation_id", "referenced_tweets", "edit_history_tweet_ids", "in_reply_to_user_id")
RETWEET_PREFIX = re.compile(r"^RT @(\w{1,15}): ")
MISSING_USERNAME_NOTE = "no username for author id {author_id} in the file; the numeric id is used"


def _depth(value: object, limit: int = MAX_JSON_DEPTH) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _is_reddit_container(value: object) -> bool:
    """A Listing, a t1/t3/more thing, or a thread page (an array of Listings)."""
    if isinstance(value, list):
        return bool(value) and all(is_listing(item) for item in value)
    return is_listing(value) or is_thing(value)


def is_v1_tweet(obj: dict) -> bool:
    """An X API v1.1 status (twarc1, tweepy, python-twitter): a ``user`` object and ``text`` / ``full_text``."""
    return isinstance(obj.get("user"), dict) and ("text" in obj or "full_text" in obj)


def is_v2_tweet(obj: dict) -> bool:
    """An X API v2 tweet, raw (``author_id`` ...) or twarc2-flattened (``author: {username}``)."""
    if "text" not in obj and "note_tweet" not in obj:
        return False
    return any(key in obj for key in TWEET_V2_KEYS) or "username" in _dict(obj.get("author"))


# --- X / Twitter ---------------------------------------------------------------------------------------------------


def _status_url(username: str | None, tweet_id: str | None) -> str | None:
    return X_STATUS_URL.format(username=username, tweet_id=tweet_id) if username and tweet_id else None


def _retweet_text(text: str | None, original_text: str | None, original_username: str | None) -> str | None:
    """A retweet's own text is cut at 140 characters ("RT @x: ...…"): the full text is the original's."""
    if not original_text:
        return text
    prefix = RETWEET_PREFIX.match(text or "")
    if prefix:
        return prefix.group(0) + original_text
    return f"RT @{original_username}: {original_text}" if original_username else original_text


def _v2_full_text(tweet: dict) -> str | None:
    """Tweets over 280 characters carry the whole text in ``note_tweet``."""
    return text_value(_dict(tweet.get("note_tweet")).get("text")) or text_value(tweet.get("text"))


def _v2_record(tweet: dict, users: dict[str, dict], tweets: dict[str, dict]) -> dict:
    """An X API v2 tweet; the author from twarc2's inlined ``author`` or from the response's ``includes.users``."""
    notes: list[str] = []
    tweet_id, id_note = id_value(tweet.get("id"))
    author_id, author_note = id_value(tweet.get("author_id"))
    notes += [note for note in (id_note, author_note) if note]
    # the author: twarc2's inlined `author`, the response's `includes.users`, or an `includes` a tool left on
    # the tweet itself (one tweet per line, each with its own expansions)
    own_users = {
        text_value(u.get("id")): u for u in _dict(tweet.get("includes")).get("users") or [] if isinstance(u, dict)
    }
    author = _dict(tweet.get("author")) or users.get(author_id or "", {}) or own_users.get(author_id or "", {})
    username = text_value(author.get("username"))
    if username is None and author_id:
        notes.append(MISSING_USERNAME_NOTE.format(author_id=author_id))
    references = [ref for ref in tweet.get("referenced_tweets") or [] if isinstance(ref, dict)]
    parent_id = next((id_value(ref.get("id"))[0] for ref in references if ref.get("type") == "replied_to"), None)
    text = _v2_full_text(tweet)
    retweeted = next((ref for ref in references if ref.get("type") == "retweeted"), None)
    if retweeted is not None:
        original = retweeted if "text" in retweeted else tweets.get(id_value(retweeted.get("id"))[0] or "", {})
        original_author = _dict(original.get("author")) or users.get(text_value(original.get("author_id")) or "", {})
        text = _retweet_text(text, _v2_full_text(original) if original else None, original_author.get("username"))
    return _tweet_record(
        tweet_id,
        id_value(tweet.get("conversation_id"))[0],
        parent_id,
        username,
        author_id,
        text_value(author.get("name")),
        time_value(tweet.get("created_at")),
        text,
        notes,
    )


def _v1_full_text(status: dict) -> str | None:
    extended = _dict(status.get("extended_tweet"))
    return text_value(extended.get("full_text") or status.get("full_text") or status.get("text"))


def _v1_id(status: dict, key: str) -> tuple[str | None, str | None]:
    """``<key>_str`` when the file has it (exact); else the number."""
    as_text = text_value(status.get(f"{key}_str"))
    return (as_text, None) if as_text else id_value(status.get(key))


def _v1_record(status: dict) -> dict:
    """An X API v1.1 status: ``user.screen_name``, ``full_text``, ``in_reply_to_status_id_str``."""
    user = _dict(status.get("user"))
    tweet_id, id_note = _v1_id(status, "id")
    parent_id, parent_note = _v1_id(status, "in_reply_to_status_id")
    username = text_value(user.get("screen_name"))
    text = _v1_full_text(status)
    original = status.get("retweeted_status")
    if isinstance(original, dict):
        original_user = _dict(original.get("user"))
        text = _retweet_text(text, _v1_full_text(original), text_value(original_user.get("screen_name")))
    notes = [note for note in (id_note, parent_note) if note]
    user_id = text_value(user.get("id_str")) or id_value(user.get("id"))[0]
    if username is None and user_id:
        notes.append(MISSING_USERNAME_NOTE.format(author_id=user_id))
    return _tweet_record(
        tweet_id,
        None,
        parent_id,
        username,
        user_id,
        text_value(user.get("name")),
        time_value(status.get("created_at")),
        text,
        notes,
    )


def _tweet_record(
    tweet_id: str | None,
    thread_id: str | None,
    parent_id: str | None,
    username: str | None,
    author_id: str | None,
    author_name: str | None,
    created_at: str | None,
    text: str | None,
    notes: list[str],
) -> dict:
    """A tweet as a raw record, whichever API version it came from: the author is the username when the
    file has it (the numeric id only as a last resort, with a note)."""
    record = {
        "kind": "message",
        "native_id": tweet_id,
        "thread_native_id": thread_id,
        "parent_native_id": parent_id,
        "author_handle": username or author_id,
        "author_name": author_name,
        "created_at_raw": created_at,
        "text": text,
        "platform": "twitter",
        "url": _status_url(username, tweet_id),
    }
    if notes:
        record["reader_note"] = "; ".join(notes)
    return record


# --- generic -------------------------------------------------------------------------------------------------------


def _generic_record(obj: dict) -> dict:
    author = obj.get("author")
    if isinstance(author, dict):
        handle = text_value(author.get("username") or author.get("handle") or author.get("screen_name"))
        handle = handle or id_value(author.get("id"))[0]
        name = text_value(author.get("name"))
    else:
        handle, name = text_value(author), None
    native_id, id_note = id_value(obj.get("id"))
    record = {
        "native_id": native_id,
        "thread_native_id": id_value(obj.get("thread_id"))[0],
        "parent_native_id": id_value(obj.get("in_reply_to"))[0],
        "author_handle": handle,
        "author_name": name,
        "created_at_raw": time_value(obj.get("created_at")),
        "text": text_value(obj.get("text")),
        "platform": text_value(obj.get("platform")),
        "url": text_value(obj.get("url")),
    }
    if id_note:
        record["reader_note"] = id_note
    return record


# --- dispatch ------------------------------------------------------------------------------------------------------


def _item_record(obj: object, users: dict[str, dict], tweets: dict[str, dict]) -> dict:
    """One record-shaped object (a tweet, a Reddit object, or a generic record)."""
    if not isinstance(obj, dict):
        return {"parse_error": f"expected a JSON object, got {type(obj).__name__}"}
    if _depth(obj) > MAX_JSON_DEPTH:
        return {"parse_error": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}
    if is_reddit_object(obj):
        record = object_record(obj)
    elif is_v1_tweet(obj):
        record = _v1_record(obj)
    elif is_v2_tweet(obj):
        record = _v2_record(obj, users, tweets)
    else:
        record = _generic_record(obj)
    if not record.get("text") and not record.get("skip_reason"):
        record["parse_error"] = "record has no text"
    return record


def _by_id(items: object) -> dict[str, dict]:
    """Expansion objects (``includes.users`` / ``includes.tweets``) by their id."""
    found = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and (item_id := id_value(item.get("id"))[0]):
            found[item_id] = item
    return found


def _is_response(obj: dict) -> bool:
    """An API page: a ``data`` list, or a ``data`` object around a record that has no text of its own."""
    data = obj.get("data")
    return isinstance(data, list) or (isinstance(data, dict) and "text" not in obj and "body" not in obj)


def _response_records(obj: dict) -> list[dict]:
    """An API page: one record per item of ``data`` (X API v2, Pushshift), expansions from ``includes``."""
    includes = _dict(obj.get("includes"))
    users, tweets = _by_id(includes.get("users")), _by_id(includes.get("tweets"))
    items = obj["data"] if isinstance(obj["data"], list) else [obj["data"]]
    records = []
    for item in items:
        record = _item_record(item, users, tweets)
        record["raw"] = dumps(item)
        records.append(record)
    return records


def _leaves(value: object) -> list[object]:
    """The values an array stands for, nested arrays flattened (iteratively, so nesting cannot exhaust recursion).

    A Reddit thread page is one leaf (its Listings are walked together); an array of plain values is one bad leaf.
    """
    leaves, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list) and not _is_reddit_container(item) and any(isinstance(i, dict | list) for i in item):
            stack.extend(reversed(item))
        else:
            leaves.append(item)
    return leaves


def _records_from_leaf(value: object) -> list[dict]:
    if _is_reddit_container(value):
        return records_from_reddit(value)
    if is_youtube(value):
        return [
            {**youtube_record(comment, thread, channel), "raw": dumps(comment)}
            for comment, thread, channel in youtube_comments(value)
        ] or [{"skip_reason": "no comment: a YouTube object without comments"}]
    if isinstance(value, dict) and _is_response(value):
        return _response_records(value)
    if isinstance(value, list):
        return [{"parse_error": "expected a JSON object, got list"}]
    return [_item_record(value, {}, {})]


def records_from_object(obj: object) -> list[dict]:
    """Contract fields from one JSON value: none, one or many records; an unusable value gets `parse_error`.

    Records taken from inside a larger value carry their own `raw`; a value that is itself one record does not (the
    caller uses the line or the serialised value).
    """
    leaves = _leaves(obj)
    if len(leaves) == 1 and leaves[0] is obj:
        return _records_from_leaf(obj)
    records = []
    for leaf in leaves:
        records.extend({**record, "raw": record.get("raw") or dumps(leaf)} for record in _records_from_leaf(leaf))
    return records


def read_json_lines(lines: Iterable[tuple[int, str]], kind: str = "message") -> Iterator[dict]:
    for number, line in lines:
        if not line.strip():
            continue
        base = {"line_start": number, "line_end": number, "raw": line, "kind": kind}
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield {
                **base,
                "parse_error": f"invalid JSON at column {getattr(exc, 'colno', '?')}: {getattr(exc, 'msg', exc)}",
            }
            continue
        for rec in records_from_object(obj):
            yield {**base, **rec, "raw": rec.get("raw") or line}


def read_json_document(text: str, file: str) -> Iterator[dict]:
    """One JSON document; records are numbered by their position in it (``line_start`` = 1-based ordinal)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DumpParseError(file, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise DumpParseError(file, "document", "JSON nested too deeply to parse") from exc
    for index, rec in enumerate(records_from_object(doc), start=1):
        yield {"line_start": index, "line_end": index, "kind": "message", **rec, "raw": rec.get("raw") or dumps(doc)}


# --- accounting ----------------------------------------------------------------------------------------------------


def _count_reddit_things(value: object) -> int:
    """Every t1 / t3 / more wrapper anywhere under `value`, whatever it is nested in."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            count += item.get("kind") in REDDIT_RECORD_KINDS
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _is_reddit_json(value: object) -> bool:
    """Reddit's own JSON: an object of kind Listing / t1 / t3 / more, or an array made only of Listings."""
    if isinstance(value, dict):
        return value.get("kind") in (LISTING_KIND, *REDDIT_RECORD_KINDS)
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and item.get("kind") == LISTING_KIND for item in value)
    )


def count_json_records(values: Iterable[object]) -> int:
    """How many records the parsed JSON values hold, counted from their structure, not by the reader.

    * Reddit JSON (a Listing, a thing, or an array of Listings): every object whose ``kind`` is t1, t3 or more,
      wherever it sits;
    * YouTube Data API JSON: every ``youtube#comment`` object, wherever it sits;
    * an API page (an object with a ``data`` list): one per item of the list (``data`` object: one);
    * an array holding objects: each element counted by these rules; an array of plain values: one (bad) record;
    * any other value: one record (usable or not, the reader keeps it with a reason).
    """
    total, stack = 0, list(values)
    while stack:
        value = stack.pop()
        if _is_reddit_json(value):
            total += _count_reddit_things(value)
        elif is_youtube(value):
            total += max(1, count_youtube_comments(value))
        elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
            stack.extend(value)
        elif isinstance(value, dict) and isinstance(value.get("data"), list):
            total += len(value["data"])
        elif isinstance(value, dict) and not _has_text(value):
            # an object of a shape we do not know, with texts inside it: each is a record the file holds, so
            # a reader that keeps only the outer object shows a gap instead of a balanced account
            total += max(1, _nested_texts(value))
        else:
            total += 1
    return total


# keys that hold a record's words in the JSON shapes of the platforms we know, and of generic exports
TEXT_KEYS = ("text", "full_text", "body", "selftext", "title", "message", "content", "comment", "textOriginal")


def _has_text(obj: dict) -> bool:
    return any(isinstance(obj.get(key), str) and obj[key].strip() for key in TEXT_KEYS)


def _nested_texts(obj: dict) -> int:
    """Objects below `obj` that hold a text of their own (iteratively: nesting cannot exhaust recursion)."""
    total, stack = 0, [v for v in obj.values() if isinstance(v, dict | list)]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            total += _has_text(item)
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return total
