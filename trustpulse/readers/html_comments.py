"""Comments as the markup of blog engines writes them: WordPress, Blogger, schema.org, Disqus exports.

Every engine gives each comment an element with an id (`li#comment-123`, `li#c8195…`), a block that
names the author (`.comment-author .fn`, `cite.user`), a time (`time[datetime]`, `.datetime`) and a
body (`.comment-content`); replies sit inside their parent's element (`ol.children`,
`.comment-replies`). The reader follows that structure instead of guessing from the page's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

from trustpulse.cleaning.html import html_to_text  # one definition of "visible text"

# ids the engines give a comment's element; group 1 is the comment's number
WORDPRESS_COMMENT_ID = re.compile(r"^(?:li-|div-)?comment-(\d+)$")
BLOGGER_COMMENT_ID = re.compile(r"^c(\d{5,})$")
COMMENT_NUMBER_ATTRIBUTE = "data-comment-id"
# a bare `class="comment"` block (no id) is still a comment when it holds text of its own
COMMENT_CLASS = "comment"
SCHEMA_COMMENT_TYPE = re.compile(r"schema\.org/Comment$", re.IGNORECASE)

# markup that never holds a comment, skipped by every walk
NON_CONTENT_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link"})


def has_class(name: str) -> str:
    """XPath test: the element's class attribute holds the token `name`."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# where engines put the author, the time, the body (XPath, first match wins; searched in the comment
# itself, replies removed)
AUTHOR_PATHS = (
    f".//*[{has_class('comment-author')}]//*[{has_class('fn')}]",
    f".//*[{has_class('fn')}]",
    f".//cite[{has_class('user')}]",
    f".//*[{has_class('comment-author')}]",
    f".//*[{has_class('comment_author')}]",
    ".//*[@itemprop='author']//*[@itemprop='name']",
    ".//*[@itemprop='author']",
    ".//cite",
    f".//*[{has_class('comment-author-name')}]",
    f".//*[{has_class('username')}]",
)
TIME_PATHS = (
    ".//time[@datetime]",
    ".//*[@itemprop='dateCreated']",
    ".//*[@itemprop='datePublished']",
    f".//*[{has_class('comment-metadata')}]//a",
    f".//*[{has_class('comment-meta')}]//a",
    f".//*[{has_class('comment_meta')}]//a",
    f".//*[{has_class('datetime')}]",
    f".//*[{has_class('comment-date')}]",
    f".//*[{has_class('comment_date')}]",
    f".//*[{has_class('comment-timestamp')}]",
    ".//small//a",
    ".//abbr[@title]",
)
BODY_PATHS = (
    f".//*[{has_class('comment-content')}]",
    ".//*[@itemprop='text']",
    f".//*[{has_class('comment-text')}]",
)
# blocks inside a comment that are chrome, not the comment's words
CHROME_PATHS = (
    f".//*[{has_class('comment-author')}]",
    f".//*[{has_class('comment_author')}]",
    f".//*[{has_class('comment-meta')}]",
    f".//*[{has_class('comment_meta')}]",
    f".//*[{has_class('comment_counter')}]",
    f".//*[{has_class('comment-metadata')}]",
    f".//*[{has_class('comment-header')}]",
    f".//*[{has_class('reply')}]",
    f".//*[{has_class('comment-actions')}]",
    f".//*[{has_class('avatar-image-container')}]",
    ".//cite",
    ".//small",
    ".//footer",
)
# nested reply lists: removed from a comment before its own text is read
REPLY_CONTAINER_PATHS = (
    f".//ol[{has_class('children')}]",
    f".//ul[{has_class('children')}]",
    f".//*[{has_class('comment-replies')}]",
)
PINGBACK = re.compile(r"^\s*(?:pingback|trackback)\b", re.IGNORECASE)
POST_AUTHOR_CLASSES = frozenset({"bypostauthor"})
BLOGGER_AUTHOR_MARK = f".//*[{has_class('blog-author')}]"
# WordPress's comment_class() always writes depth-N; a page that has it would also mark the post author
WORDPRESS_DEPTH_CLASS = re.compile(r"^depth-\d+$")
SAYS_SUFFIX = re.compile(r"\s*says:?\s*$", re.IGNORECASE)
SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
MAX_RAW_CHARS = 20_000

DISQUS_NS = "{http://disqus.com}"
DISQUS_INTERNALS_NS = "{http://disqus.com/disqus-internals}"


@dataclass
class FoundComment:
    """One comment as found in the page, before it becomes a raw record."""

    element: etree._Element | None
    native_id: str
    parent_id: str | None
    author_name: str | None = None
    author_handle: str | None = None
    created_at_raw: str | None = None
    text: str = ""
    raw: str = ""
    line_start: int | None = None
    line_end: int | None = None
    owner_hint: bool | None = None
    url: str | None = None
    skip_reason: str | None = None
    reader_note: str | None = None
    extra: dict = field(default_factory=dict)


def classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").split())


def comment_number(element: etree._Element) -> str | None:
    """The number an engine gave this comment element, from its id (None when it has none)."""
    element_id = element.get("id") or ""
    match = WORDPRESS_COMMENT_ID.match(element_id) or BLOGGER_COMMENT_ID.match(element_id)
    return match.group(1) if match else None


def is_schema_comment(element: etree._Element) -> bool:
    return bool(SCHEMA_COMMENT_TYPE.search(element.get("itemtype") or ""))


def _content_elements(root: etree._Element) -> Iterator[etree._Element]:
    """Every element of the page except scripts, styles and the head."""
    stack = [root]
    while stack:
        element = stack.pop()
        if not isinstance(element.tag, str) or element.tag.lower() in NON_CONTENT_TAGS:
            continue
        yield element
        stack.extend(reversed(list(element)))


def find_comment_elements(root: etree._Element) -> list[etree._Element]:
    """The outermost element of every comment the markup names, in document order.

    Elements with an engine's comment id (`comment-N`, `div-comment-N`, `li-comment-N`, Blogger's `cN`)
    when the page has any; several elements of one comment (WordPress' `li#comment-5 >
    article#div-comment-5`) are one comment and the outermost wins. Else schema.org `Comment` microdata
    items. The strongest signal a page gives wins, so a stray `class="comment"` elsewhere on a
    WordPress page is not a comment.
    """
    numbered: list[etree._Element] = []
    seen_numbers: set[str] = set()
    microdata: list[etree._Element] = []
    for element in _content_elements(root):
        number = comment_number(element)
        if number is not None and number not in seen_numbers:
            seen_numbers.add(number)
            numbered.append(element)
        elif number is None and is_schema_comment(element):
            microdata.append(element)
    return numbered or microdata


def find_bare_comment_blocks(root: etree._Element) -> list[etree._Element]:
    """Elements whose class is exactly the token `comment` and that hold text: the last resort."""
    return [e for e in _content_elements(root) if COMMENT_CLASS in classes(e) and _own_text(e)]


def _own_text(element: etree._Element) -> str:
    return " ".join(element.text_content().split())


def element_text(element: etree._Element) -> str:
    """Visible text of an element, one block per line, blank runs collapsed."""
    text = html_to_text(lxml_html.tostring(element, encoding="unicode"))
    lines = [SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _inline_text(element: etree._Element) -> str:
    return SPACES.sub(" ", " ".join(element.text_content().split())).strip()


def _first(element: etree._Element, paths: tuple[str, ...]) -> etree._Element | None:
    for path in paths:
        found = element.xpath(path)
        if found:
            return found[0]
    return None


def _own_copy(element: etree._Element, nested: set[etree._Element]) -> etree._Element:
    """A copy of the comment without its replies (nested comments and reply containers)."""
    copy = deepcopy(element)
    originals = list(element.iter())
    copies = list(copy.iter())
    to_drop = [c for o, c in zip(originals, copies, strict=True) if o in nested and o is not element]
    for dropped in to_drop:
        if dropped.getparent() is not None:
            dropped.getparent().remove(dropped)
    for path in REPLY_CONTAINER_PATHS:
        for container in copy.xpath(path):
            if container.getparent() is not None:
                container.getparent().remove(container)
    return copy


def _line_span(element: etree._Element, nested: set[etree._Element]) -> tuple[int | None, int | None]:
    """First and last source line of the comment's own markup (replies excluded)."""
    start = element.sourceline
    end = start
    stack = list(element)
    while stack:
        child = stack.pop()
        if child in nested:
            continue
        if child.sourceline is not None and (end is None or child.sourceline > end):
            end = child.sourceline
        stack.extend(child)
    return start, end


def _time_of(own: etree._Element) -> str | None:
    found = _first(own, TIME_PATHS)
    if found is None:
        return None
    for attribute in ("datetime", "content", "title"):
        value = found.get(attribute)
        if value and value.strip():
            return value.strip()
    return _inline_text(found) or None


def _author_of(own: etree._Element) -> tuple[str | None, bool]:
    """The comment's author, and whether the comment is a pingback/trackback."""
    found = _first(own, AUTHOR_PATHS)
    if found is None:
        return None, False
    label = _inline_text(found)
    pingback = bool(PINGBACK.match(label))
    if pingback:
        links = found.xpath(".//a")
        label = _inline_text(links[0]) if links else PINGBACK.sub("", label).strip()
    if found.get("content"):
        label = found.get("content").strip()
    label = SAYS_SUFFIX.sub("", label).strip()
    return label or None, pingback


def _body_of(own: etree._Element) -> str:
    found = _first(own, BODY_PATHS)
    if found is not None:
        return element_text(found)
    body = deepcopy(own)
    for path in CHROME_PATHS:
        for chrome in body.xpath(path):
            if chrome.getparent() is not None:
                chrome.getparent().remove(chrome)
    paragraphs = body.xpath(".//p")
    if paragraphs:
        return "\n".join(t for t in (element_text(p) for p in paragraphs) if t)
    return element_text(body)


def _owner_hint(element: etree._Element, own: etree._Element) -> bool | None:
    """True for the post author's own comments; False where the engine would have said so; else unknown."""
    element_classes = classes(element)
    if element_classes & POST_AUTHOR_CLASSES or own.xpath(BLOGGER_AUTHOR_MARK):
        return True
    if any(WORDPRESS_DEPTH_CLASS.match(c) for c in element_classes):
        return False
    if BLOGGER_COMMENT_ID.match(element.get("id") or ""):
        return False
    return None


def native_id_of(element: etree._Element, index: int) -> str:
    """`comment-123` (WordPress), `c8195…` (Blogger), else the element's id, else a stable `c<index>`."""
    element_id = element.get("id") or ""
    wordpress = WORDPRESS_COMMENT_ID.match(element_id)
    if wordpress:
        return f"comment-{wordpress.group(1)}"
    if element_id:
        return element_id
    return f"c{index}"


def read_html_comments(
    comment_elements: list[etree._Element], top_parent: str | None, signature_author
) -> list[FoundComment]:
    """Turn comment elements into comments: ids, parents from nesting, author, time, body, owner."""
    nested = set(comment_elements)
    ids = {element: native_id_of(element, index) for index, element in enumerate(comment_elements)}
    found: list[FoundComment] = []
    for element in comment_elements:
        parent = next((ids[a] for a in element.iterancestors() if a in nested), top_parent)
        own = _own_copy(element, nested)
        author, pingback = _author_of(own)
        text = _body_of(own)
        if author is None and text:
            *body_lines, last_line = text.split("\n")
            signed = signature_author(last_line)
            if signed:  # CommentLuv signature "<name>s last blog post..<title>" names the author
                author, text = signed, "\n".join(body_lines)
        line_start, line_end = _line_span(element, nested)
        comment = FoundComment(
            element=element,
            native_id=ids[element],
            parent_id=parent,
            author_name=author,
            created_at_raw=_time_of(own),
            text=text,
            raw=lxml_html.tostring(own, encoding="unicode", with_tail=False)[:MAX_RAW_CHARS],
            line_start=line_start,
            line_end=line_end,
            owner_hint=_owner_hint(element, own),
        )
        if pingback:
            comment.skip_reason = "pingback: an automatic link notice quoting the post, not a reader's comment"
        elif not text:
            comment.skip_reason = "empty: comment element holds no text"
        found.append(comment)
    return found


# --- schema.org Comment objects in JSON-LD ---


def _is_comment_type(value: object) -> bool:
    types = value if isinstance(value, list) else [value]
    return any(isinstance(t, str) and t.rsplit("/", 1)[-1] == "Comment" for t in types)


def json_ld_blocks(root: etree._Element) -> Iterator[tuple[etree._Element, object]]:
    """Every parseable `<script type="application/ld+json">` block with its data."""
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            yield script, json.loads(script.text or "")
        except (json.JSONDecodeError, RecursionError):
            continue


def _walk_json_ld(value: object, parent: str | None, found: list[tuple[dict, str | None]]) -> None:
    if isinstance(value, list):
        for item in value:
            _walk_json_ld(item, parent, found)
        return
    if not isinstance(value, dict):
        return
    own_parent = parent
    if _is_comment_type(value.get("@type")):
        found.append((value, parent))
        own_parent = f"#jsonld{len(found) - 1}"
    for key, child in value.items():
        if key != "@type":
            _walk_json_ld(child, own_parent, found)


def json_ld_comment_objects(root: etree._Element) -> list[tuple[etree._Element, dict, str | None]]:
    """(script element, Comment object, parent placeholder) for every JSON-LD Comment, in order."""
    result = []
    for script, data in json_ld_blocks(root):
        found: list[tuple[dict, str | None]] = []
        _walk_json_ld(data, None, found)
        offset = len(result)
        for obj, parent in found:
            if parent is not None:  # "#jsonldN" is local to this block
                parent = f"#jsonld{int(parent.removeprefix('#jsonld')) + offset}"
            result.append((script, obj, parent))
    return result


def _json_text(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("alternateName")
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, (str, dict))), None)
        return _json_text(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_json_ld_comments(root: etree._Element, top_parent: str | None) -> list[FoundComment]:
    objects = json_ld_comment_objects(root)
    ids: list[str] = []
    for index, (_, obj, _) in enumerate(objects):
        ids.append(str(obj.get("@id") or obj.get("identifier") or obj.get("url") or f"ld{index}"))
    found = []
    for index, (script, obj, parent) in enumerate(objects):
        parent_id = ids[int(parent.removeprefix("#jsonld"))] if parent else top_parent
        author = obj.get("author")
        text = _json_text(obj.get("text")) or _json_text(obj.get("description")) or ""
        found.append(
            FoundComment(
                element=None,
                native_id=ids[index],
                parent_id=parent_id,
                author_name=_json_text(author),
                author_handle=_json_text(author.get("alternateName")) if isinstance(author, dict) else None,
                created_at_raw=_json_text(obj.get("dateCreated")) or _json_text(obj.get("datePublished")),
                text=text,
                raw=json.dumps(obj, ensure_ascii=False)[:MAX_RAW_CHARS],
                line_start=script.sourceline,
                line_end=script.sourceline,
                url=_json_text(obj.get("url")),
                skip_reason=None if text else "empty: JSON-LD Comment has no text",
            )
        )
    return found


# --- Disqus XML export ---


def _disqus_id(element: etree._Element | None) -> str | None:
    return element.get(f"{DISQUS_INTERNALS_NS}id") if element is not None else None


def _child_text(element: etree._Element, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def disqus_posts(root: etree._Element) -> list[etree._Element]:
    return root.findall(f"{DISQUS_NS}post")


def read_disqus_export(root: etree._Element) -> list[FoundComment]:
    """Every `<post>` of a Disqus export; a thread's `<link>` is the page it belongs to."""
    threads = {_disqus_id(t): t for t in root.findall(f"{DISQUS_NS}thread")}
    found = []
    for post in disqus_posts(root):
        post_id = _disqus_id(post)
        thread_id = _disqus_id(post.find(f"{DISQUS_NS}thread"))
        parent_id = _disqus_id(post.find(f"{DISQUS_NS}parent"))
        thread = threads.get(thread_id)
        message = _child_text(post, f"{DISQUS_NS}message") or ""
        text = element_text(lxml_html.fragment_fromstring(message, create_parent="div")) if message else ""
        comment = FoundComment(
            element=post,
            native_id=f"disqus-{post_id}",
            parent_id=f"disqus-{parent_id}" if parent_id else None,
            author_name=_child_text(post, f"{DISQUS_NS}author/{DISQUS_NS}name"),
            author_handle=_child_text(post, f"{DISQUS_NS}author/{DISQUS_NS}username"),
            created_at_raw=_child_text(post, f"{DISQUS_NS}createdAt"),
            text=text,
            raw=etree.tostring(post, encoding="unicode", with_tail=False)[:MAX_RAW_CHARS],
            line_start=post.sourceline,
            line_end=max((e.sourceline or 0) for e in post.iter()) or post.sourceline,
            url=_child_text(thread, f"{DISQUS_NS}link") if thread is not None else None,
        )
        comment.extra["thread_native_id"] = f"disqus-thread-{thread_id}" if thread_id else None
        if (_child_text(post, f"{DISQUS_NS}isDeleted") or "").lower() == "true":
            comment.skip_reason = "deleted: Disqus marks this post isDeleted"
        elif (_child_text(post, f"{DISQUS_NS}isSpam") or "").lower() == "true":
            comment.skip_reason = "spam: Disqus marks this post isSpam"
        elif not text:
            comment.skip_reason = "empty: Disqus post has no message"
        if thread_id and thread is None:
            comment.reader_note = f"its Disqus thread {thread_id} is not in this export"
        found.append(comment)
    return found
