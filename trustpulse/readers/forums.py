"""Forum threads (phpBB 3 and the boards that copy its markup): one record per post.

A phpBB topic page lists its posts as `div.post` elements with ids `p<number>`; each has the author in
`p.author` (or the `dl.postprofile`), its time after the "»" in `p.author` (or in a `time[datetime]`), and its
words in `div.content`. A reply quotes the post it answers in a `blockquote` whose `cite` links the quoted
post (`data-post-id`). The first post opens the topic; who owes answers on a forum is not in the markup (the
topic starter asks, the community answers), so no post is marked an owner here: a brand's accounts come from
the brands file, or from answering people across threads.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lxml_html

FORUM_POST_ID = re.compile(r"^p(\d+)$")
FORUM_PLATFORM = "forum"
TOPIC_THREAD = "topic"
MAX_RAW_CHARS = 20_000
# "All times are UTC-06:00" (phpBB's footer), in the board's language or English
_BOARD_ZONE = re.compile(r"UTC\s*([+-]\d{1,2}(?::\d{2})?)")
_AFTER_RAQUO = re.compile(r"»\s*(.+?)\s*$", re.DOTALL)


def _has_class(element: etree._Element, name: str) -> bool:
    return name in (element.get("class") or "").split()


def forum_posts(root: lxml_html.HtmlElement) -> list[etree._Element]:
    """The page's forum posts: `div.post` elements with a `p<number>` id and a `div.content` inside."""
    return [
        element
        for element in root.iter("div")
        if _has_class(element, "post")
        and FORUM_POST_ID.match(element.get("id") or "")
        and element.xpath(".//div[contains(concat(' ', normalize-space(@class), ' '), ' content ')]")
    ]


def _board_offset(root: lxml_html.HtmlElement) -> str | None:
    match = _BOARD_ZONE.search(" ".join(root.itertext())[-5000:])
    if not match:
        return None
    hours, _, minutes = match.group(1).partition(":")
    return f"{int(hours):+03d}:{minutes or '00'}"


def _author(post: etree._Element) -> str | None:
    for path in (".//p[contains(@class,'author')]//strong//a", ".//dl[contains(@class,'postprofile')]//dt//a"):
        found = [a.text_content().strip() for a in post.xpath(path) if a.text_content().strip()]
        if found:
            return found[0]
    return None


def _time(post: etree._Element, offset: str | None) -> str | None:
    stamps = post.xpath(".//p[contains(@class,'author')]//time/@datetime")
    if stamps:
        return str(stamps[0])
    author_line = post.xpath(".//p[contains(@class,'author')]")
    match = _AFTER_RAQUO.search(author_line[0].text_content()) if author_line else None
    if not match:
        return None
    return f"{match.group(1)} {offset}" if offset else match.group(1)


def _words_and_quoted(post: etree._Element) -> tuple[str, str | None]:
    """The post's own words (quotes of other posts removed) and the id of the first post it quotes."""
    content = post.xpath(".//div[contains(concat(' ', normalize-space(@class), ' '), ' content ')]")[0]
    quoted = content.xpath(".//blockquote//cite//a/@data-post-id")
    own = lxml_html.fromstring(lxml_html.tostring(content))
    for quote in own.xpath(".//blockquote"):
        quote.drop_tree()
    for br in own.iter("br"):
        br.tail = "\n" + (br.tail or "")
    text = "\n".join(line.strip() for line in own.text_content().splitlines()).strip()
    return text, (f"p{quoted[0]}" if quoted else None)


def read_forum_posts(root: lxml_html.HtmlElement, posts: list[etree._Element], page_url: str | None) -> list[dict]:
    offset = _board_offset(root)
    records = []
    opener: str | None = None
    for index, post in enumerate(posts):
        post_id = post.get("id")
        text, quoted = _words_and_quoted(post)
        records.append(
            {
                "line_start": post.sourceline,
                "line_end": max((e.sourceline or 0) for e in post.iter()) or post.sourceline,
                "raw": lxml_html.tostring(post, encoding="unicode")[:MAX_RAW_CHARS],
                "kind": "post" if index == 0 else "comment",
                "native_id": post_id,
                "thread_native_id": TOPIC_THREAD,
                # a reply answers the post it quotes, else the topic's opening post
                "parent_native_id": None if index == 0 else (quoted or opener),
                "author_name": _author(post),
                "created_at_raw": _time(post, offset),
                "text": text,
                "platform": FORUM_PLATFORM,
                "url": f"{page_url}#{post_id}" if page_url else None,
            }
        )
        opener = opener or post_id
    return records


def count_forum_posts(root: lxml_html.HtmlElement) -> int:
    """Elements whose id is a phpBB post id (`p123`) and whose class says post (the accounting's own walk)."""
    return sum(
        1 for e in root.iter() if FORUM_POST_ID.match(str(e.get("id") or "")) and "post" in (e.get("class") or "")
    )
