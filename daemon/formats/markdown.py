"""Markdown and MDX documents, with optional YAML front matter.

What parses what:

- The body is segmented by markdown-it-py (CommonMark plus GFM tables): the ``.map`` line
  ranges of its tokens say which lines hold a paragraph, a heading or a table row. Values
  are cut from the file's own lines, never re-rendered from the token tree, so every byte
  outside a changed value is written back as read.
- The front matter (``---`` lines at the very top) is read by ruamel.yaml's composer, whose
  node marks give the exact character span of the ``title`` and ``description`` scalars
  (``front_matter_keys``). A changed value replaces that span only, in the scalar's own
  quoting style when it can hold the value (``yaml_scalar``); the rest of the front matter
  stays byte-identical. Anchored, aliased or tagged values and non-strings are not entries.
  That part lives in ``daemon.formats._markdown_front``.
- Hand-written, because markdown-it cannot see them: locating the content inside each line
  (container prefixes such as ``> - `` or ``## `` stay outside the value), splitting table
  rows into cells (on unescaped pipes, as markdown-it does), MDX syntax (``import``/``export``
  blocks, lines holding only JSX tags even across several lines, ``{…}`` expressions, and
  HTML comments, which Docusaurus accepts in MDX) and Docusaurus admonition markers
  (``:::note Title``). Those lines are hidden from markdown-it (blanked) and are not entries;
  an admonition's title is. MDX has no indented code and no HTML blocks, so both rules are
  off for ``.mdx`` files (``<Link>…</Link> text`` is a paragraph there, not an HTML block).

Entries: ``front/title``, ``front/description`` and ``body/<anchor>/<n>``, one per
paragraph (in lists and blockquotes too), heading, table cell and admonition title. The
value is the block's text without container prefixes, line breaks kept; inline code, links,
URLs, inline HTML and JSX stay in the value verbatim (translators keep them, the placeholder
check verifies). Code, HTML blocks, MDX lines, thematic breaks, link reference definitions
and blocks without a letter outside markup (a lone JSX tag, a badge) are not entries.

Keys, and the trade-off behind them. A key must name the same block in the source and in
its translations, and ``parse`` sees one file at a time. A key derived from the block's text
(a hash of the source sentence) is stable when blocks are inserted, but it cannot be
recomputed from a translated file: the daemon would never find a target's translations
under the source's keys, and a target would not parse back to the keys it was written with.
Keys are therefore derived from what translation leaves unchanged, the skeleton:
``<anchor>`` names the last run of non-translatable lines before the block (code, HTML, MDX,
table delimiter rows: 8 hex digits of their SHA-256, with ``-2``, ``-3``… for repeats;
``top`` before the first) and ``<n>`` counts the blocks since that anchor. Inserting a
paragraph renames only the blocks after it up to the next anchor (they are translated
again), not every later block as a plain ``body/<n>`` would; editing an anchor renames the
blocks after it. A hand-made translation whose skeleton differs from the source (code
comments translated, paragraphs merged) gets different keys after the first difference.

Rendering: a target is always the *source's* body with each block replaced by its value
(blocks without a value, or with a blank one, keep the source text), so a target has the
source's skeleton and keys. Front matter comes from the target when it has some (keeping
its other keys; a configured key it lacks is appended, one missing from the values is left
as it is), else from the source. A target that already holds exactly the values is returned
as its raw bytes. A value on fewer lines than its block drops the spare lines; one on more
lines continues with the block's container prefix (list indentation, ``> ``); blank lines
in a value are dropped so that a paragraph stays one paragraph. Headings, cells and
admonition titles are written on one line, and a bare ``|`` in a cell is escaped.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from daemon import keypaths
from daemon.formats._markdown_front import FrontMatter, front_matter_end, read_front_matter, render_front
from daemon.formats._text import LINE_BREAK, decode_utf8
from daemon.formats.base import Format, Leaf, ParsedFile

Kind = Literal["text", "line", "cell"]
"""``text``: may span lines (paragraphs); ``line``: one line (headings, titles); ``cell``: a table cell."""

_BOM = "\ufeff"
_FENCE = re.compile(r"^[ \t]*(`{3,}(?=[^`]*$)|~{3,})")  # a ``` fence's info has no backtick
_ADMONITION = re.compile(r"^[ \t]*:{3,}")
_ADMONITION_TITLE = re.compile(r"^[ \t]*:{3,}[A-Za-z][\w-]*[ \t]+(\S(?:.*\S)?)[ \t]*$")
_ESM = re.compile(r"^(?:import|export)\b")
_JSX_START = re.compile(r"[ \t]*<(?=[A-Za-z/>])")
_LIST_MARKER = re.compile(r"[-+*]|[0-9]{1,9}[.)]")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
# Markup that carries no words: tags, {expressions}, `code` and link or image targets.
_NOT_WORDS = re.compile(r"<[^<>]*>|\{[^{}]*\}|`[^`]*`|\]\([^()]*\)")


@dataclass(frozen=True)
class Span:
    """Characters ``start:end`` of line ``line`` (an index into the file's lines)."""

    line: int
    start: int
    end: int


@dataclass(frozen=True)
class Block:
    """One translatable block: where its text is, and how to write a new text in its place."""

    key: str
    kind: Kind
    spans: tuple[Span, ...]
    value: str
    continuation: str = ""
    """What starts a line added to a ``text`` block: its container prefix, markers as spaces."""


@dataclass(frozen=True)
class MarkdownLayout:
    """The file as lines (breaks kept apart, so CRLF, lone CR and a missing last break survive)."""

    lines: tuple[str, ...]
    endings: tuple[str, ...]
    bom: bool
    body_start: int
    front: FrontMatter | None
    blocks: tuple[Block, ...]

    @property
    def newline(self) -> str:
        return next((e for e in self.endings if e), "\n")


# --- reading ------------------------------------------------------------------------------


def _split_lines(text: str) -> tuple[list[str], list[str]]:
    """Lines without their breaks, and the breaks (the last one may be empty)."""
    lines: list[str] = []
    endings: list[str] = []
    pos = 0
    for m in LINE_BREAK.finditer(text):
        lines.append(text[pos : m.start()])
        endings.append(m.group())
        pos = m.end()
    if pos < len(text) or not lines:
        lines.append(text[pos:])
        endings.append("")
    return lines, endings


# --- what markdown-it cannot see ----------------------------------------------------------


@dataclass
class _Hidden:
    """Body lines hidden from markdown-it, and admonition titles found on some of them."""

    lines: set[int]
    titles: list[Span]


def _scan_hidden(lines: Sequence[str], start: int, *, mdx: bool) -> _Hidden:
    """Find admonition markers (and, in MDX, ESM, JSX and expression lines) outside code fences."""
    hidden = _Hidden(set(), [])
    fence: str | None = None
    i = start
    while i < len(lines):
        line = lines[i]
        if fence is not None:
            m = _FENCE.match(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line[m.end() :].strip():
                fence = None
            i += 1
            continue
        if m := _FENCE.match(line):
            fence = m.group(1)
            i += 1
            continue
        end = _hidden_end(lines, i, start, mdx=mdx)
        if end is None:
            i += 1
            continue
        hidden.lines.update(range(i, end + 1))
        if title := _ADMONITION_TITLE.match(line):
            hidden.titles.append(Span(i, title.start(1), title.end(1)))
        i = end + 1
    return hidden


def _hidden_end(lines: Sequence[str], i: int, start: int, *, mdx: bool) -> int | None:
    """The last line of the hidden construct starting at line ``i``, or None if none starts there."""
    line = lines[i]
    if _ADMONITION.match(line):
        return i
    if not mdx:
        return None
    if _ESM.match(line) and (i == start or not lines[i - 1].strip()):
        end = i
        while end + 1 < len(lines) and lines[end + 1].strip():
            end += 1
        return end
    stripped = line.lstrip(" \t")
    if stripped.startswith("<!--"):
        return _comment_end(lines, i, len(line) - len(stripped))
    if stripped.startswith("{"):
        return _expression_end(lines, i, len(line) - len(stripped))
    if m := _JSX_START.match(line):
        return _jsx_end(lines, i, m.end() - 1)
    return None


def _comment_end(lines: Sequence[str], i: int, column: int) -> int:
    """Last line of an HTML comment (Docusaurus reads them in MDX); an unclosed one runs to the end."""
    for j in range(i, len(lines)):
        if "-->" in lines[j][column + 4 if j == i else 0 :]:
            return j
    return len(lines) - 1


class _Cursor:
    """Reads characters across lines, stopping at a blank line (MDX constructs never span one)."""

    def __init__(self, lines: Sequence[str], line: int, column: int) -> None:
        self.lines = lines
        self.line = line
        self.column = column

    def chars(self) -> Iterator[str]:
        while self.line < len(self.lines):
            text = self.lines[self.line]
            while self.column < len(text):
                yield text[self.column]
                self.column += 1
            self.line += 1
            self.column = 0
            if self.line < len(self.lines) and not self.lines[self.line].strip():
                return
            yield "\n"

    def rest_of_line(self) -> str:
        return self.lines[self.line][self.column + 1 :] if self.line < len(self.lines) else ""


def _skip_braced(chars: Iterator[str]) -> bool:
    """Consume a ``{…}`` expression whose ``{`` was just read; False if it never closes.

    Knows JavaScript strings and ``/* */`` comments, enough for MDX props and comments.
    """
    depth, quote, comment, previous = 1, "", False, ""
    for c in chars:
        if comment:
            comment = not (previous == "*" and c == "/")
        elif quote:
            quote = "" if c == quote and previous != "\\" else quote
        elif c in "\"'`":
            quote = c
        elif previous == "/" and c == "*":
            comment = True
            c = ""  # so that "/*/" does not also close the comment
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if not depth:
                return True
        previous = c
    return False


def _expression_end(lines: Sequence[str], i: int, column: int) -> int | None:
    """Last line of a ``{…}`` expression alone on its line(s), else None."""
    cursor = _Cursor(lines, i, column + 1)
    if not _skip_braced(cursor.chars()) or cursor.rest_of_line().strip():
        return None
    return cursor.line


def _jsx_end(lines: Sequence[str], i: int, column: int) -> int | None:
    """Last line of a run of JSX tags (``<Tabs …>``, ``</Tabs>``) with no text beside them, else None."""
    cursor = _Cursor(lines, i, column + 1)
    chars = cursor.chars()
    while True:
        if not _skip_tag(chars):
            return None
        rest = cursor.rest_of_line()
        if not rest.strip():
            return cursor.line
        m = _JSX_START.match(rest)
        if m is None:
            return None
        for _ in range(m.end()):  # the white space and the "<" of the next tag
            next(chars, None)


def _skip_tag(chars: Iterator[str]) -> bool:
    """Consume a tag whose ``<`` was just read, through its ``>``; False if it never closes."""
    quote = ""
    for c in chars:
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "{":
            if not _skip_braced(chars):
                return False
        elif c == ">":
            return True
    return False


# --- blocks -------------------------------------------------------------------------------


@functools.cache
def _markdown(mdx: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table")
    return md.disable(["code", "html_block"]) if mdx else md


def _continuation(prefix: str) -> str:
    """The prefix of an added line: the first line's, with list markers turned into spaces."""
    return _LIST_MARKER.sub(lambda m: " " * len(m.group()), prefix)


def _text_spans(lines: Sequence[str], first: int, content: str) -> list[Span] | None:
    """Where each line of a paragraph's content is; None if the lines do not end with it.

    markdown-it strips container prefixes and indentation from the start of each line, and
    white space from the end of the last one; what it kept must end each source line.
    """
    parts = content.split("\n")
    if first + len(parts) > len(lines):
        return None
    spans = []
    for k, part in enumerate(parts):
        line = lines[first + k]
        end = len(line.rstrip()) if k == len(parts) - 1 else len(line)
        text = part.lstrip()
        if not text or not line[:end].endswith(text):
            return None
        spans.append(Span(first + k, end - len(text), end))
    return spans


def _heading_span(line: str, index: int, content: str) -> Span | None:
    """The content of an ATX heading line, between the ``#`` run and the optional closing ``#``s."""
    hashes = line.find("#")
    start = line.find(content, hashes + 1) if content and hashes >= 0 else -1
    return Span(index, start, start + len(content)) if start >= 0 else None


def _cell_spans(line: str, index: int, cells: int) -> list[Span]:
    """The non-empty cells of a table row, split on unescaped pipes as markdown-it splits them."""
    offset = len(line) - len(line.lstrip(" \t>"))
    bounds: list[tuple[int, int]] = []
    start = offset
    escaped = False
    for pos in range(offset, len(line)):
        c = line[pos]
        if c == "|" and not escaped:
            bounds.append((start, pos))
            start = pos + 1
        escaped = c == "\\"
    bounds.append((start, len(line)))
    if bounds and not line[bounds[0][0] : bounds[0][1]].strip():
        bounds.pop(0)
    if bounds and not line[bounds[-1][0] : bounds[-1][1]].strip():
        bounds.pop()
    spans = []
    for lo, hi in bounds[:cells]:
        text = line[lo:hi]
        if text.strip():
            lead = len(text) - len(text.lstrip())
            spans.append(Span(index, lo + lead, lo + len(text.rstrip())))
    return spans


@dataclass(frozen=True)
class _Found:
    """A block before it has a key."""

    kind: Kind
    spans: tuple[Span, ...]
    continuation: str = ""


def _blocks_from_tokens(tokens: list[Token], lines: Sequence[str], offset: int) -> Iterator[_Found]:
    """Paragraphs, headings and table cells, from markdown-it's tokens (maps are body-relative)."""
    for n, token in enumerate(tokens):
        if token.map is None:
            continue
        first = token.map[0] + offset
        if token.type == "tr_open":
            row = itertools.takewhile(lambda t: t.type != "tr_close", itertools.islice(tokens, n + 1, None))
            cells = sum(t.type in ("th_open", "td_open") for t in row)
            for span in _cell_spans(lines[first], first, cells):
                yield _Found("cell", (span,))
            continue
        if token.type != "inline" or n == 0 or tokens[n - 1].type not in ("paragraph_open", "heading_open"):
            continue
        opener = tokens[n - 1]
        if opener.type == "heading_open" and opener.markup.startswith("#"):
            heading = _heading_span(lines[first], first, token.content)
            if heading is not None:
                yield _Found("line", (heading,))
            continue
        spans = _text_spans(lines, first, token.content)
        if spans:
            prefix = lines[first][: spans[0].start]
            yield _Found("text", tuple(spans), _continuation(prefix))


def _anchor_keys(found: list[_Found], lines: Sequence[str], start: int) -> list[str]:
    """``body/<anchor>/<n>`` for each block, ``found`` being in document order (see the module docstring)."""
    by_line: dict[int, list[int]] = {}
    for n, f in enumerate(found):
        by_line.setdefault(f.spans[0].line, []).append(n)
    block_lines = {s.line for f in found for s in f.spans}
    keys = [""] * len(found)
    repeats: dict[str, int] = {}
    anchor, count = "top", 0
    chunk: list[str] = []
    for i in range(start, len(lines)):
        if i in by_line:
            if chunk:
                digest = hashlib.sha256("\n".join(chunk).encode()).hexdigest()[:8]
                repeats[digest] = repeats.get(digest, 0) + 1
                anchor = digest if repeats[digest] == 1 else f"{digest}-{repeats[digest]}"
                count, chunk = 0, []
            for n in by_line[i]:
                count += 1
                keys[n] = keypaths.join(["body", anchor, str(count)])
        elif i not in block_lines and lines[i].strip():
            chunk.append(lines[i].rstrip())
    return keys


def _body_blocks(lines: list[str], start: int, *, mdx: bool) -> list[Block]:
    hidden = _scan_hidden(lines, start, mdx=mdx)
    visible = "\n".join("" if i in hidden.lines else lines[i] for i in range(start, len(lines)))
    found = list(_blocks_from_tokens(_markdown(mdx).parse(visible), lines, start))
    found += [_Found("line", (span,)) for span in hidden.titles]
    found = [f for f in found if _has_words(_text(lines, f.spans))]
    found.sort(key=lambda f: (f.spans[0].line, f.spans[0].start))
    keys = _anchor_keys(found, lines, start)
    return [
        Block(key, f.kind, f.spans, _text(lines, f.spans), f.continuation) for key, f in zip(keys, found, strict=True)
    ]


def _text(lines: Sequence[str], spans: Sequence[Span]) -> str:
    return "\n".join(lines[s.line][s.start : s.end] for s in spans)


def _has_words(text: str) -> bool:
    """False for a block of markup only (a lone JSX tag, a badge), which is not worth translating."""
    return any(c.isalpha() for c in _NOT_WORDS.sub("", text))


# --- writing ------------------------------------------------------------------------------


class _Edits:
    """Replacements per line, and lines to drop, applied to the source body in one pass."""

    def __init__(self) -> None:
        self.replace: dict[int, list[tuple[int, int, str]]] = {}
        self.drop: set[int] = set()

    def put(self, span: Span, text: str) -> None:
        self.replace.setdefault(span.line, []).append((span.start, span.end, text))

    def apply(self, index: int, line: str) -> str:
        for start, end, text in sorted(self.replace.get(index, ()), reverse=True):
            line = line[:start] + text + line[end:]
        return line


def _edit_block(block: Block, value: str, edits: _Edits, layout: MarkdownLayout) -> None:
    new_lines = [part.strip() if block.kind != "text" else part.lstrip() for part in LINE_BREAK.split(value)]
    new_lines = [part for part in new_lines if part.strip()]
    if block.kind != "text":
        text = " ".join(new_lines)
        edits.put(block.spans[0], _UNESCAPED_PIPE.sub(r"\\|", text) if block.kind == "cell" else text)
        return
    keep = min(len(new_lines), len(block.spans))
    for span, text in zip(block.spans[: keep - 1], new_lines, strict=False):
        edits.put(span, text)
    last = block.spans[keep - 1]
    newline = layout.endings[last.line] or layout.newline
    extra = "".join(newline + block.continuation + text for text in new_lines[keep:])
    edits.put(last, new_lines[keep - 1] + extra)
    edits.drop.update(span.line for span in block.spans[keep:])


def _render_body(layout: MarkdownLayout, values: Mapping[str, Leaf]) -> str:
    edits = _Edits()
    for block in layout.blocks:
        value = values.get(block.key)
        if isinstance(value, str) and value.strip() and value != block.value:
            _edit_block(block, value, edits, layout)
    return "".join(
        edits.apply(i, layout.lines[i]) + layout.endings[i]
        for i in range(layout.body_start, len(layout.lines))
        if i not in edits.drop
    )


def _layout(parsed: ParsedFile) -> MarkdownLayout:
    if not isinstance(parsed.layout, MarkdownLayout):
        raise ValueError("the markdown format renders only files it parsed")
    return parsed.layout


class MarkdownFormat(Format):
    """Markdown and MDX: paragraphs, headings, table cells and front matter titles."""

    name: ClassVar[str] = "markdown"
    extensions: ClassVar[tuple[str, ...]] = (".md", ".mdx")
    front_matter_keys: ClassVar[tuple[str, ...]] = ("title", "description")

    def parse(self, data: bytes, *, path: str, locale: str | None = None) -> ParsedFile:
        text, bom = decode_utf8(data, path)
        lines, endings = _split_lines(text)
        close = front_matter_end(lines)
        front = None if close is None else read_front_matter(lines, endings, close, self.front_matter_keys, path)
        body_start = 0 if close is None else close + 1
        blocks = _body_blocks(lines, body_start, mdx=path.lower().endswith(".mdx"))
        entries: dict[str, Leaf] = {}
        if front is not None:
            entries.update((keypaths.join(["front", name]), s.value) for name, s in front.fields.items())
        entries.update((block.key, block.value) for block in blocks)
        layout = MarkdownLayout(tuple(lines), tuple(endings), bom, body_start, front, tuple(blocks))
        return ParsedFile(entries=entries, raw=data, layout=layout)

    def render(
        self,
        values: Mapping[str, Leaf],
        *,
        source: ParsedFile,
        target: ParsedFile | None,
        locale: str | None = None,
    ) -> bytes:
        if target is not None and dict(values) == target.entries:
            return target.raw
        src = _layout(source)
        tgt = _layout(target) if target is not None else None
        head = tgt if tgt is not None and tgt.front is not None else src
        out = _BOM if (tgt or src).bom else ""
        if head.front is not None:
            close = head.front.close
            out += head.lines[0] + head.endings[0]
            out += render_front(head.front, values, head.newline)
            out += head.lines[close] + head.endings[close]
        out += _render_body(src, values)
        return out.encode("utf-8")
