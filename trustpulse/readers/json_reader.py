"""JSON dumps: X/Twitter API v2 responses, Reddit comment dumps, and generic JSON lines.

JSON lines are streamed one line at a time; a line that is not valid JSON, or not an object with a
text, becomes a record with `parse_error` set. A whole-file JSON document (an API response or an array)
is parsed at once, and a syntax error there is a `DumpParseError` with line and column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from trustpulse.readers.schema import DumpParseError

MAX_JSON_DEPTH = 64


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


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _epoch_or_text(value: object) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=UTC).isoformat()
    if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit() and len(value.strip()) >= 9:
        return datetime.fromtimestamp(float(value), tz=UTC).isoformat()
    return _text(value)


def flavour_of(obj: dict) -> str:
    """Which JSON record shape an object has: twitter_response, tweet, reddit, or generic."""
    if isinstance(obj.get("data"), list | dict) and ("includes" in obj or "meta" in obj or "data" in obj):
        return "twitter_response"
    if "body" in obj and ("subreddit" in obj or "link_id" in obj or "parent_id" in obj):
        return "reddit"
    if "text" in obj and ("author_id" in obj or "conversation_id" in obj or "referenced_tweets" in obj):
        return "tweet"
    return "generic"


def _tweet_record(tweet: dict, users: dict[str, dict]) -> dict:
    parent = next((r.get("id") for r in tweet.get("referenced_tweets") or [] if r.get("type") == "replied_to"), None)
    author_id = _text(tweet.get("author_id"))
    user = users.get(author_id or "", {})
    tweet_id = _text(tweet.get("id"))
    username = user.get("username")
    return {
        "native_id": tweet_id,
        "thread_native_id": _text(tweet.get("conversation_id")),
        "parent_native_id": _text(parent),
        "author_handle": username or author_id,
        "author_name": user.get("name"),
        "created_at_raw": _text(tweet.get("created_at")),
        "text": _text(tweet.get("text")),
        "platform": "twitter",
        "url": f"https://x.com/{username}/status/{tweet_id}" if username and tweet_id else None,
    }


def _reddit_record(obj: dict) -> dict:
    parent = _text(obj.get("parent_id"))
    link = _text(obj.get("link_id"))
    permalink = _text(obj.get("permalink"))
    return {
        "native_id": _text(obj.get("name")) or (f"t1_{obj['id']}" if obj.get("id") else None),
        "thread_native_id": link,
        "parent_native_id": parent if parent and parent != link else link,
        "author_handle": _text(obj.get("author")),
        "created_at_raw": _epoch_or_text(obj.get("created_utc")),
        "text": _text(obj.get("body")),
        "platform": "reddit",
        "url": f"https://www.reddit.com{permalink}" if permalink and permalink.startswith("/") else permalink,
    }


def _generic_record(obj: dict) -> dict:
    author = obj.get("author")
    if isinstance(author, dict):
        handle = _text(author.get("id") or author.get("handle") or author.get("username"))
        name = _text(author.get("name"))
    else:
        handle, name = _text(author), None
    return {
        "native_id": _text(obj.get("id")),
        "thread_native_id": _text(obj.get("thread_id")),
        "parent_native_id": _text(obj.get("in_reply_to")),
        "author_handle": handle,
        "author_name": name,
        "created_at_raw": _epoch_or_text(obj.get("created_at")),
        "text": _text(obj.get("text")),
        "platform": _text(obj.get("platform")),
        "url": _text(obj.get("url")),
    }


def records_from_object(obj: object) -> list[dict]:
    """Contract fields from one JSON value; a value that is no usable record gets `parse_error`."""
    if not isinstance(obj, dict):
        return [{"parse_error": f"expected a JSON object, got {type(obj).__name__}"}]
    if _depth(obj) > MAX_JSON_DEPTH:
        return [{"parse_error": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}]
    flavour = flavour_of(obj)
    if flavour == "twitter_response":
        data = obj["data"] if isinstance(obj["data"], list) else [obj["data"]]
        users = {str(u.get("id")): u for u in (obj.get("includes") or {}).get("users", []) if isinstance(u, dict)}
        out = []
        for tweet in data:
            rec = _tweet_record(tweet, users) if isinstance(tweet, dict) else {"parse_error": "tweet is not an object"}
            rec["raw"] = json.dumps(tweet, ensure_ascii=False)
            out.append(rec)
        return out
    rec = {"tweet": lambda o: _tweet_record(o, {}), "reddit": _reddit_record}.get(flavour, _generic_record)(obj)
    if not rec.get("text") and "parse_error" not in rec:
        rec["parse_error"] = "record has no text"
    return [rec]


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
            yield {**base, **rec, "raw": rec.get("raw", line)}


def read_json_document(text: str, file: str) -> Iterator[dict]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DumpParseError(file, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}") from exc
    except RecursionError as exc:
        raise DumpParseError(file, "document", "JSON nested too deeply to parse") from exc
    items = doc if isinstance(doc, list) else [doc]
    for index, item in enumerate(items, start=1):
        for rec in records_from_object(item):
            yield {
                "line_start": index,
                "line_end": index,
                "kind": "message",
                **rec,
                "raw": rec.get("raw") or json.dumps(item, ensure_ascii=False),
            }
