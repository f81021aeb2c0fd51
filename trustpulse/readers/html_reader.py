"""HTML pages of blog posts with their comment threads, and Disqus XML exports.

The page's structure decides what is what: comments come from the markup the blog engine wrote
(see `html_comments`), the article from trafilatura run on the page *after* the comments were cut
out, so a comment is never merged into the post and a sidebar widget never becomes a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import deepcopy

import trafilatura
from lxml import etree
from lxml import html as lxml_html

from trustpulse.cleaning.html import html_to_text
from trustpulse.readers.blog_text import signature_author
from trustpulse.readers.forums import count_forum_posts, forum_posts, read_forum_posts
from trustpulse.readers.html_comments import (
    BLOGGER_COMMENT_ID,
    COMMENT_NUMBER_ATTRIBUTE,
    DISQUS_NS,
    MAX_RAW_CHARS,
    WORDPRESS_COMMENT_ID,
    FoundComment,
    find_bare_comment_blocks,
    find_comment_elements,
    has_class,
    json_ld_comment_objects,
    read_disqus_export,
    read_html_comments,
    read_json_ld_comments,
)
from trustpulse.readers.html_comments import (
    NON_CONTENT_TAGS as COMMENT_WALK_SKIPPED,
)
from trustpulse.readers.schema import DumpParseError

POST_ID = "post"
PLATFORM_BLOG = "blog"
NO_COMMENT_STRUCTURE_NOTE = "no recognisable comment structure: article only"
NO_ARTICLE_NOTE = "the page's article could not be extracted: comments only"

BOM = "\ufeff"
# an "article" most of whose lines end like CSS rules is a stylesheet that lost its <style> tag
CSS_LINE_ENDINGS = ("{", "}", ";")
STYLESHEET_LINE_SHARE = 0.5
# how far into the file detection looks, and what counts as markup there
DETECTION_WINDOW = 4096
_LEADING_NOISE = re.compile(r"^(?:\s+|<!--.*?-->|<\?xml[^>]*\?>|<!doctype[^>]*>)+", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(
    r"<(?:html|head|body|div|p|article|section|span|br|a|meta|title|link|script|ol|ul|li|table)\b", re.IGNORECASE
)
_DISQUS_ROOT = re.compile(r"<disqus\b", re.IGNORECASE)

# containers that hold the comment section (list, heading, reply form); cut before the article is extracted
COMMENT_SECTION_PATHS = (
    "//*[@id='comments']",
    "//*[@id='disqus_thread']",
    "//*[@id='comment-holder']",
    "//*[@id='respond']",
    "//dl[@id='comments-block']",
    f"//*[{has_class('comments-area')}]",
    f"//*[{has_class('comments-content')}]",
    f"//ol[{has_class('commentlist')}]",
    f"//ol[{has_class('comment-list')}]",
    f"//*[{has_class('comment-thread')}]",
    f"//*[{has_class('comment-respond')}]",
    # "recent comments" sidebar widgets list other posts' commenters; they are neither post nor comment
    "//*[@id='recentcomments']",
    f"//*[{has_class('widget_recent_comments')}]",
    f"//*[{has_class('recentcomments')}]",
)
# where the article's own markup usually is, to give the post record a line span and its raw HTML
ARTICLE_PATHS = (
    "//*[@itemprop='articleBody']",
    f"//*[{has_class('entry-content')}]",
    f"//*[{has_class('post-body')}]",
    f"//*[{has_class('entry')}]",
    "//article",
    f"//*[{has_class('texte')}]",
    f"//*[{has_class('post')}]",
    "//main",
    "//body",
)
# the post's author and date as the page states them (trafilatura's metadata is the fallback)
POST_AUTHOR_PATHS = (
    "//meta[@name='author']/@content",
    "//meta[@property='article:author']/@content",
    f"//*[{has_class('byline')}]//*[{has_class('fn')}]",
    f"//*[{has_class('entry-meta')}]//*[{has_class('author')}]",
    f"//*[{has_class('entry-footer')}]//*[{has_class('author')}]",
    "//a[@rel='author']",
    f"//*[{has_class('post-author')}]//*[{has_class('fn')}]",
    "//*[@itemprop='author']//*[@itemprop='name']",
)
POST_DATE_PATHS = (
    "//meta[@property='article:published_time']/@content",
    f"//time[{has_class('published')}]/@datetime",
    f"//time[{has_class('entry-date')}]/@datetime",
    f"//abbr[{has_class('published')}]/@title",
    "//*[@itemprop='datePublished']/@content",
    "//*[@itemprop='datePublished']/@datetime",
)
CANONICAL_URL_PATHS = ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content")


# Opening or closing tags of common elements; a text with this many is a page (prose has none).
_ELEMENT_TAG = re.compile(
    r"</?(?:div|p|span|a|li|ul|ol|article|section|br|img|table|tr|td|h[1-6])\b[^<>]{0,500}>", re.IGNORECASE
)
MIN_TAGS_IN_FRAGMENT = 20


def looks_like_markup(sample: str) -> bool:
    """Whether a dump's first characters are an HTML page or a Disqus XML export.

    Pages may open with a BOM, whitespace, comments, an XML declaration or a doctype before the first tag.
    """
    head = _LEADING_NOISE.sub("", sample.lstrip(BOM)[:DETECTION_WINDOW], count=1)
    if not head.startswith("<"):
        # a saved fragment or a page behind some text: markup all the same when element tags abound
        return len(_ELEMENT_TAG.findall(sample)) >= MIN_TAGS_IN_FRAGMENT
    return bool(_DISQUS_ROOT.match(head) or _HTML_TAG.search(head))


def _is_disqus_export(html: str) -> bool:
    head = _LEADING_NOISE.sub("", html.lstrip(BOM)[:DETECTION_WINDOW], count=1)
    return bool(_DISQUS_ROOT.match(head))


def _parse_xml(text: str, file: str) -> etree._Element:
    parser = etree.XMLParser(recover=True, huge_tree=True, resolve_entities=False, no_network=True)
    root = etree.fromstring(text.lstrip(BOM).encode("utf-8"), parser=parser)
    if root is None:
        raise DumpParseError(file, "line 1", "Disqus export is not readable XML")
    return root


def _parse_html(html: str, file: str) -> lxml_html.HtmlElement:
    parser = lxml_html.HTMLParser(encoding="utf-8", huge_tree=True)
    try:
        return lxml_html.document_fromstring(html.lstrip(BOM).encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise DumpParseError(file, "line 1", f"no HTML could be parsed from this page ({exc})") from exc


def count_records(html: str) -> int:
    """How many records a page holds, counted from its structure alone (the accounting's yardstick).

    1 for an article with text, plus every distinct comment: elements whose id is a comment id
    (`comment-N`, `div-comment-N`, `li-comment-N`, Blogger `cN`) or that carry `data-comment-id`,
    deduplicated by the number; else schema.org Comment items/objects; else bare `class="comment"` blocks.
    A Disqus export: its `<post>` elements.
    """
    if _is_disqus_export(html):
        root = _parse_xml(html, "<page>")
        return sum(1 for element in root.iter(f"{DISQUS_NS}post"))
    root = _parse_html(html, "<page>")
    if forum_posts(root):
        return count_forum_posts(root)
    numbers: set[str] = set()
    microdata = 0
    bare_blocks = 0
    for element in root.iter():
        if not isinstance(element.tag, str) or element.tag.lower() in COMMENT_WALK_SKIPPED:
            continue
        element_id = element.get("id") or ""
        match = WORDPRESS_COMMENT_ID.match(element_id) or BLOGGER_COMMENT_ID.match(element_id)
        if match:
            numbers.add(match.group(1))
        elif element.get(COMMENT_NUMBER_ATTRIBUTE):
            numbers.add(element.get(COMMENT_NUMBER_ATTRIBUTE).strip())
        elif (element.get("itemtype") or "").rstrip("/").endswith("schema.org/Comment"):
            microdata += 1
        elif "comment" in (element.get("class") or "").split() and element.text_content().strip():
            bare_blocks += 1
    json_ld = sum(1 for _ in json_ld_comment_objects(root))
    comments = len(numbers) or microdata or json_ld or bare_blocks
    return int(_article_has_text(root)) + comments


def _article_has_text(root: lxml_html.HtmlElement) -> bool:
    return bool(_extract_article(root)[0])


def _without_comments(root: lxml_html.HtmlElement, comment_elements: list[etree._Element]) -> lxml_html.HtmlElement:
    """A copy of the page with every comment and comment section cut out."""
    marker = "data-trustpulse-comment"
    for element in comment_elements:
        element.set(marker, "1")
    copy = deepcopy(root)  # a deep copy keeps each element's source line
    for element in comment_elements:
        del element.attrib[marker]
    doomed = copy.xpath(f"//*[@{marker}]")
    for path in COMMENT_SECTION_PATHS:
        doomed.extend(copy.xpath(path))
    for element in doomed:
        if element.getparent() is not None:
            element.getparent().remove(element)
    return copy


def _extract_article(page_without_comments: lxml_html.HtmlElement) -> tuple[str, trafilatura.settings.Document | None]:
    document = trafilatura.bare_extraction(
        lxml_html.tostring(page_without_comments, encoding="unicode"),
        include_comments=False,
        with_metadata=True,
    )
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if _looks_like_stylesheet(text):
        return "", document
    return text, document


def _looks_like_stylesheet(text: str) -> bool:
    """CSS left as bare text (a saved fragment whose `<style>` tag was lost) is not an article."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    rule_lines = sum(1 for line in lines if line.endswith(CSS_LINE_ENDINGS) or line.startswith("/*"))
    return bool(lines) and rule_lines / len(lines) > STYLESHEET_LINE_SHARE


def _first_value(root: etree._Element, paths: tuple[str, ...]) -> str | None:
    for path in paths:
        for found in root.xpath(path):
            value = found if isinstance(found, str) else " ".join(found.text_content().split())
            value = value.strip()
            if value:
                return value
    return None


def _article_element(root: lxml_html.HtmlElement) -> etree._Element | None:
    for path in ARTICLE_PATHS:
        found = root.xpath(path)
        if found:
            return found[0]
    return None


def _post_record(root: lxml_html.HtmlElement, without_comments: lxml_html.HtmlElement) -> dict | None:
    text, document = _extract_article(without_comments)
    if not text:
        return None
    author = _first_value(without_comments, POST_AUTHOR_PATHS)
    if author is None and document is not None:
        author = document.author
    created = _first_value(root, POST_DATE_PATHS) or (document.date if document is not None else None)
    url = _first_value(root, CANONICAL_URL_PATHS) or (document.url if document is not None else None)
    article = _article_element(without_comments)
    line_start = article.sourceline if article is not None else None
    line_end = max((e.sourceline or 0) for e in article.iter()) if article is not None else None
    raw = lxml_html.tostring(article, encoding="unicode")[:MAX_RAW_CHARS] if article is not None else text
    return {
        "line_start": line_start,
        "line_end": line_end or line_start,
        "raw": raw,
        "kind": "post",
        "native_id": POST_ID,
        "thread_native_id": POST_ID,
        "parent_native_id": None,
        "author_name": author,
        "created_at_raw": created,
        "text": text,
        "platform": PLATFORM_BLOG,
        "url": url,
        "owner_hint": True,
    }


def _comment_record(comment: FoundComment, thread_native_id: str | None, page_url: str | None) -> dict:
    return {
        "line_start": comment.line_start,
        "line_end": comment.line_end,
        "raw": comment.raw,
        "kind": "comment",
        "native_id": comment.native_id,
        "thread_native_id": thread_native_id,
        "parent_native_id": comment.parent_id,
        "author_handle": comment.author_handle,
        "author_name": comment.author_name,
        "created_at_raw": comment.created_at_raw,
        "text": comment.text or None,
        "platform": PLATFORM_BLOG,
        "url": comment.url or page_url,
        "owner_hint": comment.owner_hint,
        "skip_reason": comment.skip_reason,
        "reader_note": comment.reader_note,
    }


def _read_disqus(html: str, file: str) -> Iterator[dict]:
    root = _parse_xml(html, file)
    for comment in read_disqus_export(root):
        yield _comment_record(comment, comment.extra.get("thread_native_id"), None)


FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(?P<yaml>.*?)\r?\n---[ \t]*\r?\n", re.DOTALL)
FRONT_MATTER_MAX_CHARS = 8192


def split_front_matter(page: str) -> tuple[dict, str]:
    """A static-site page's YAML front matter (Jekyll, Hugo: `---\ntitle: ...\ndate: ...\n---`) and the page
    without it; its lines become blank lines, so source line numbers stay right."""
    match = FRONT_MATTER.match(page[:FRONT_MATTER_MAX_CHARS])
    if not match:
        return {}, page
    import yaml

    try:
        meta = yaml.safe_load(match.group("yaml"))
    except yaml.YAMLError:
        return {}, page
    if not isinstance(meta, dict):
        return {}, page
    return meta, "\n" * match.group(0).count("\n") + page[match.end() :]


def read_html(html: str, thread_key: str) -> Iterator[dict]:
    """Records of one page: the article (`native_id` "post") and every comment, replies linked to parents.

    `thread_key` names the dump in errors; all records of a page form one thread ("post").
    """
    if _is_disqus_export(html):
        yield from _read_disqus(html, thread_key)
        return
    front, html = split_front_matter(html)
    root = _parse_html(html, thread_key)
    posts = forum_posts(root)
    if posts:  # a forum thread: every post is a record, none of them the page's one article
        yield from read_forum_posts(root, posts, _first_value(root, CANONICAL_URL_PATHS))
        return
    # the strongest signal the page gives: comment ids or microdata, then JSON-LD, then bare .comment blocks
    comment_elements = find_comment_elements(root)
    has_json_ld_comments = not comment_elements and bool(json_ld_comment_objects(root))
    if not comment_elements and not has_json_ld_comments:
        comment_elements = find_bare_comment_blocks(root)
    post = _post_record(root, _without_comments(root, comment_elements))
    top_parent = POST_ID if post is not None else None
    if has_json_ld_comments:
        comments = read_json_ld_comments(root, top_parent)
    else:
        comments = read_html_comments(comment_elements, top_parent, signature_author)
    page_url = post["url"] if post is not None else _first_value(root, CANONICAL_URL_PATHS)
    if post is not None:
        if not comments:
            post["reader_note"] = NO_COMMENT_STRUCTURE_NOTE
        # the front matter says it exactly (time and zone); the page's own date is often only a day
        if front.get("date") is not None:
            date = front["date"]
            post["created_at_raw"] = date.isoformat() if hasattr(date, "isoformat") else str(date)
        if front.get("author") and isinstance(front["author"], str):
            post["author_name"] = front["author"]
        yield post
    for comment in comments:
        record = _comment_record(comment, POST_ID, page_url)
        if post is None and record["reader_note"] is None:
            record["reader_note"] = NO_ARTICLE_NOTE
        yield record


__all__ = ["count_records", "html_to_text", "looks_like_markup", "read_html"]
