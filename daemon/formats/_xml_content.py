"""Element content of the XML formats: reading it raw, and writing values back as XML text.

The inner bytes of an element are read as tokens (``content_tokens``), because inline markup
(``<b>``, ``<xliff:g id="x">%s</xliff:g>``, XLIFF's ``<x/>``) must stay in the value verbatim
as markup text, while character references are decoded and CDATA is text. On write,
``split_markup`` decides which parts of a value are written as markup (only when they form
well-formed XML) and ``escape_text`` escapes the rest in the file's own style
(``StyleCounts``: ``&gt;``/``&quot;``/``&apos;`` when the file mostly uses them).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple
from xml.parsers import expat

from daemon.formats._entries import leaf_text
from daemon.formats.base import Leaf

INVALID_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
"""Characters XML 1.0 cannot carry, not even as character references."""


_CONTENT = re.compile(
    r"<!\[CDATA\[(?P<cdata>.*?)\]\]>"
    r"|<!--.*?-->"
    r"|<\?.*?\?>"
    r"|(?P<tag><[^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*>)"
    r"|&(?P<ref>[^;&<]*);",
    re.S,
)
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_XML_NEWLINE = re.compile(r"\r\n?")

TokenKind = Literal["text", "cdata", "tag", "entity"]


class Token(NamedTuple):
    """A piece of element content: decoded text, CDATA text, a raw tag or a raw entity reference."""

    kind: TokenKind
    text: str


class StyleCounts:
    """How a file writes ``>``, ``"`` and ``'`` in text: raw or as references (majority wins)."""

    def __init__(self) -> None:
        self.raw: Counter[str] = Counter()
        self.escaped: Counter[str] = Counter()

    def style(self) -> EscapeStyle:
        def wins(char: str) -> bool:
            return self.escaped[char] > self.raw[char]

        return EscapeStyle(gt=wins(">"), quot=wins('"'), apos=wins("'"))


@dataclass(frozen=True, slots=True)
class EscapeStyle:
    """Which optional references text is written with (``&``, ``<`` are always escaped)."""

    gt: bool = False
    quot: bool = False
    apos: bool = False


def content_tokens(raw: str, counts: StyleCounts | None = None) -> list[Token]:
    """Split the raw content of a well-formed element into tokens (comments and PIs dropped)."""
    tokens: list[Token] = []
    pos = 0
    for match in _CONTENT.finditer(raw):
        if match.start() > pos:
            tokens.append(_text_token(raw[pos : match.start()], counts))
        pos = match.end()
        if match.group("cdata") is not None:
            tokens.append(Token("cdata", _XML_NEWLINE.sub("\n", match.group("cdata"))))
        elif match.group("tag") is not None:
            tokens.append(Token("tag", match.group("tag")))
        elif match.group("ref") is not None:
            tokens.append(_ref_token(match.group("ref"), counts))
    if pos < len(raw):
        tokens.append(_text_token(raw[pos:], counts))
    return tokens


def _text_token(raw: str, counts: StyleCounts | None) -> Token:
    if counts is not None:
        for char in ">\"'":
            counts.raw[char] += raw.count(char)
    return Token("text", _XML_NEWLINE.sub("\n", raw))


def _ref_token(name: str, counts: StyleCounts | None) -> Token:
    if name in _PREDEFINED:
        if counts is not None:
            counts.escaped[_PREDEFINED[name]] += 1
        return Token("text", _PREDEFINED[name])
    if name.startswith("#"):
        try:
            code = int(name[2:], 16) if name[1:2] in ("x", "X") else int(name[1:])
            return Token("text", chr(code))
        except ValueError:  # expat validated character references; defensive only
            pass
    return Token("entity", f"&{name};")


_MARKUP = re.compile(
    r"<(?P<close>/?)(?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)"
    r"(?:\s+[^\s=<>/\"']+\s*=\s*(?:\"[^\"<]*\"|'[^'<]*'))*\s*(?P<empty>/?)>"
    r"|&(?P<entity>[A-Za-z_][\w.\-]*);"
)


def split_markup(
    value: str, *, tags: bool, entities: frozenset[str], allowed: Callable[[str], bool] | None = None
) -> list[tuple[bool, str]]:
    """Split a value into ``(is_markup, text)`` pieces for writing.

    Markup is a tag (when ``tags`` and ``allowed(local_name)``) or a reference to a declared
    entity. If the tags would not form well-formed XML (unbalanced, bad attributes), they
    are all written as text instead, so the output is always well-formed and reads back as
    the same value.
    """
    pieces = _split(value, tags=tags, entities=entities, allowed=allowed)
    if tags and any(markup and text.startswith("<") for markup, text in pieces) and not _well_formed(pieces):
        pieces = _split(value, tags=False, entities=entities, allowed=allowed)
    return pieces


def _split(
    value: str, *, tags: bool, entities: frozenset[str], allowed: Callable[[str], bool] | None
) -> list[tuple[bool, str]]:
    pieces: list[tuple[bool, str]] = []
    pos = 0
    for match in _MARKUP.finditer(value):
        if match.group("entity") is not None:
            ok = match.group("entity") in entities
        else:
            name = match.group("name").rpartition(":")[2]
            ok = tags and not (match.group("close") and match.group("empty"))
            ok = ok and (allowed is None or allowed(name))
        if ok:
            if match.start() > pos:
                pieces.append((False, value[pos : match.start()]))
            pieces.append((True, match.group()))
            pos = match.end()
    if pos < len(value) or not pieces:
        pieces.append((False, value[pos:]))
    return pieces


def _well_formed(pieces: list[tuple[bool, str]]) -> bool:
    """Whether the markup pieces, with the text left out, parse as one XML fragment."""
    names = sorted({text[1:-1] for markup, text in pieces if markup and text.startswith("&")})
    doctype = "".join(f'<!ENTITY {n} "">' for n in names)
    fragment = "".join(text for markup, text in pieces if markup)
    parser = expat.ParserCreate()
    try:
        parser.Parse(f"<!DOCTYPE r [{doctype}]><r>{fragment}</r>", True)
    except expat.ExpatError:
        return False
    return True


def escape_text(text: str, style: EscapeStyle, newline: bytes = b"\n") -> str:
    """Escape character data; drops the characters XML 1.0 cannot carry at all."""
    text = INVALID_XML_CHAR.sub("", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = text.replace(">", "&gt;") if style.gt else text.replace("]]>", "]]&gt;")
    if style.quot:
        text = text.replace('"', "&quot;")
    if style.apos:
        text = text.replace("'", "&apos;")
    text = text.replace("\r", "&#13;")
    return text.replace("\n", newline.decode("ascii")) if newline != b"\n" else text


def cdata_only(tokens: list[Token]) -> bool:
    """Whether content is exactly one CDATA section (give or take surrounding whitespace)."""
    cdata = [t for t in tokens if t.kind == "cdata"]
    return len(cdata) == 1 and all(t.kind == "cdata" or (t.kind == "text" and not t.text.strip()) for t in tokens)


def cdata_section(text: str) -> str:
    """``text`` as CDATA; a ``]]>`` inside is split across two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def coerce_values(values: Mapping[str, Leaf]) -> dict[str, str]:
    """Entries of XML formats are strings: ``None`` means absent, other leaves are spelled out."""
    return {key: leaf_text(value) for key, value in values.items() if value is not None}
