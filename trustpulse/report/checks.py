"""Static checks of a rendered report: its charts, and anything it would load from the network."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements and the attribute through which they fetch a resource when the page loads.
LOADING_ATTRS = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}
_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_REMOTE = re.compile(r"url\(\s*['\"]?\s*(?:https?:)?//|@import\s+(?:url\()?\s*['\"]?\s*(?:https?:)?//", re.I)


@dataclass
class HtmlCheck:
    charts: int = 0
    external_loads: list[str] = field(default_factory=list)
    code_inputs: int = 0
    scripts: int = 0


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.result = HtmlCheck()
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): v or "" for k, v in attrs}
        classes = values.get("class", "").split()
        if tag == "div" and "plotly-graph-div" in classes:
            self.result.charts += 1
        if {"jp-CodeCell", "jp-Cell"} <= set(classes) and "jp-mod-noInput" not in classes:
            self.result.code_inputs += 1  # nbconvert marks code cells exported without input "jp-mod-noInput"
        if {"jp-InputArea-editor", "jp-CodeMirrorEditor", "highlight"} & set(classes):
            self.result.code_inputs += 1
        if tag == "script":
            self.result.scripts += 1
        for attr in LOADING_ATTRS.get(tag, ()):
            value = values.get(attr, "")
            if value and _REMOTE.match(value):
                self.result.external_loads.append(f"<{tag} {attr}={value!r}>")
        if _CSS_REMOTE.search(values.get("style", "")):
            self.result.external_loads.append(f"<{tag} style={values['style'][:80]!r}>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and (m := _CSS_REMOTE.search(data)):
            self.result.external_loads.append(f"<style> {data[m.start() : m.start() + 80]!r}")


def inspect_html(html: str) -> HtmlCheck:
    """Count charts, code inputs and scripts; list every resource the page would fetch from elsewhere."""
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.result
