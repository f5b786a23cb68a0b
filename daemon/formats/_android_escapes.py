"""Android string escapes, as aapt2's ``StringBuilder`` applies them (used by ``android_xml``).

Reading (``android_unescape``): outside double quotes, whitespace runs collapse to one space and
leading or trailing collapsed whitespace is dropped; ``"`` toggles quoting (and is removed);
``\\'``, ``\\"``, ``\\@``, ``\\?``, ``\\\\``, ``\\n``, ``\\t`` and ``\\uXXXX`` are decoded. Tags and entity
references stay verbatim. Writing (``android_escape``) escapes a value back canonically, so that
reading it gives the value again.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from daemon.formats._text import utf16_escape
from daemon.formats._xml_content import INVALID_XML_CHAR, Token

_ANDROID_SPECIAL = re.compile(r"\\(?:u[0-9a-fA-F]{1,4}|.)?|\"|[ \t\n\r\x0b\x0c]+", re.S)
_ANDROID_DECODE = {"t": "\t", "n": "\n"}
_ANDROID_ENCODE = {"\\": "\\\\", '"': '\\"', "'": "\\'", "\n": "\\n", "\t": "\\t"}


def android_unescape(tokens: list[Token]) -> str:
    """The string aapt2 builds from element content; tags and entity references stay verbatim."""
    out: list[str | None] = []  # None is a collapsed whitespace run
    quoted = False
    last_space = False
    for kind, text in _merge_text(tokens):
        if kind in ("tag", "entity"):
            out.append(text)
            # an entity expands to text, which ends a whitespace run; a tag does not (as in aapt2)
            last_space = last_space and kind == "tag"
            continue
        pos = 0
        for match in _ANDROID_SPECIAL.finditer(text):
            if match.start() > pos:
                out.append(text[pos : match.start()])
                last_space = False
            pos = match.end()
            token = match.group()
            if token[0] == "\\":
                last_space = False
                if len(token) > 2:
                    out.append(chr(int(token[2:], 16)))
                elif len(token) == 2:
                    out.append(_ANDROID_DECODE.get(token[1], token[1]))
            elif token == '"':
                quoted = not quoted
                last_space = False
            elif quoted:
                out.append(token)
                last_space = False
            elif not last_space:
                out.append(None)
                last_space = True
        if pos < len(text):
            out.append(text[pos:])
            last_space = False
    if out and out[0] is None:
        del out[0]
    if out and out[-1] is None:
        del out[-1]
    return _join_surrogates("".join(" " if piece is None else piece for piece in out))


def _merge_text(tokens: list[Token]) -> list[Token]:
    """Join adjacent text and CDATA: an escape may straddle them (``\\&quot;`` is ``\\"``)."""
    merged: list[Token] = []
    for token in tokens:
        if token.kind in ("text", "cdata") and merged and merged[-1].kind == "text":
            merged[-1] = Token("text", merged[-1].text + token.text)
        else:
            merged.append(Token("text", token.text) if token.kind == "cdata" else token)
    return merged


def _join_surrogates(text: str) -> str:
    """Pair ``\\uD83E\\uDDD8``-style surrogates into one character; a lone one becomes U+FFFD.

    Unlike ``_text.join_surrogates``, which keeps lone halves: XML cannot carry them.
    """
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def android_escape(pieces: list[tuple[bool, str]], encodable: Callable[[str], bool]) -> list[tuple[bool, str]]:
    """Escape the text pieces so that ``android_unescape`` gives the value back exactly."""
    out: list[tuple[bool, str]] = []
    first = True  # nothing written yet: a space here would be trimmed, a '@' read as a reference
    after_space = False  # the last character written was a raw space, so another would collapse
    last = len(pieces) - 1
    for index, (markup, text) in enumerate(pieces):
        if markup:
            out.append((True, text))
            first = False
            after_space = after_space and text.startswith("<")
            continue
        buf: list[str] = []
        for pos, char in enumerate(text):
            at_end = index == last and pos == len(text) - 1
            if char == " " and not (first or after_space or at_end):
                buf.append(" ")
                after_space = True
            else:
                buf.append(_android_char(char, first, encodable))
                after_space = False
            first = False
        out.append((False, "".join(buf)))
    return out


def _android_char(char: str, first: bool, encodable: Callable[[str], bool]) -> str:
    if char in _ANDROID_ENCODE:
        return _ANDROID_ENCODE[char]
    if first and char in "@?":
        return "\\" + char
    if char in " \r\x0b\x0c" or INVALID_XML_CHAR.match(char) or not encodable(char):
        return utf16_escape(char)
    return char
