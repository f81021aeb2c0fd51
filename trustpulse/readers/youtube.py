"""YouTube Data API v3 comments: `commentThreads.list` / `comments.list` responses and their items.

A comment thread holds its top-level comment (`snippet.topLevelComment`) and up to five replies
(`replies.comments`); replies name their parent in `snippet.parentId`. The channel that owns the video owes
the answers: a comment whose author channel is the video's channel (`snippet.channelId`) is the owner's.
"""

from __future__ import annotations

from collections.abc import Iterator

YOUTUBE_KIND_PREFIX = "youtube#"
COMMENT_KIND = "youtube#comment"
THREAD_KIND = "youtube#commentThread"
WATCH_URL = "https://www.youtube.com/watch?v={video}&lc={comment}"


def is_youtube(value: object) -> bool:
    return isinstance(value, dict) and str(value.get("kind", "")).startswith(YOUTUBE_KIND_PREFIX)


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def youtube_comments(value: dict) -> Iterator[tuple[dict, str | None, str | None]]:
    """(comment, thread id, channel id of the video) for every comment a YouTube value holds, in file order."""
    stack: list[tuple[object, str | None, str | None]] = [(value, None, None)]
    while stack:
        item, thread, channel = stack.pop(0)
        if isinstance(item, list):
            stack[0:0] = [(i, thread, channel) for i in item]
            continue
        if not isinstance(item, dict):
            continue
        kind = item.get("kind")
        if kind == COMMENT_KIND:
            yield item, thread, channel
        elif kind == THREAD_KIND:
            snippet = _dict(item.get("snippet"))
            thread_id = item.get("id")
            video_channel = snippet.get("channelId") or channel
            children: list[tuple[object, str | None, str | None]] = []
            if snippet.get("topLevelComment") is not None:
                children.append((snippet["topLevelComment"], thread_id, video_channel))
            children.append((_dict(item.get("replies")).get("comments") or [], thread_id, video_channel))
            stack[0:0] = children
        elif "items" in item:  # a list response
            stack.insert(0, (item["items"], thread, channel))


def count_youtube_comments(value: dict) -> int:
    """Every `youtube#comment` object anywhere in the value (the accounting's own walk)."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            total += item.get("kind") == COMMENT_KIND
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return total


def youtube_record(comment: dict, thread: str | None, channel: str | None) -> dict:
    snippet = _dict(comment.get("snippet"))
    comment_id = comment.get("id")
    author_channel = _dict(snippet.get("authorChannelId")).get("value")
    video_channel = snippet.get("channelId") or channel
    video = snippet.get("videoId")
    parent = snippet.get("parentId")
    record = {
        "kind": "comment",
        "native_id": comment_id,
        "thread_native_id": thread or parent or comment_id,
        "parent_native_id": parent,
        "author_handle": author_channel,
        "author_name": snippet.get("authorDisplayName"),
        "created_at_raw": snippet.get("publishedAt"),
        "text": snippet.get("textOriginal") or snippet.get("textDisplay"),
        "platform": "youtube",
        "url": WATCH_URL.format(video=video, comment=comment_id) if video and comment_id else None,
        "owner_hint": (author_channel == video_channel) if author_channel and video_channel else None,
    }
    if not record["text"]:
        record["parse_error"] = "record has no text"
    return record
