"""Deterministic pseudo-localization, and the tokenizer that makes it safe.

Pseudo-localization swaps every ASCII letter for an accented look-alike and prefixes the
string with ``⟦<locale>⟧``, so a test (or a human) can see at a glance that a string went
through translation, for which locale, and that nothing was left in the source language.
Everything a program reads rather than a person (placeholders, markup, ICU MessageFormat
structure) must come out byte-for-byte identical, otherwise the pseudo output would break
the very apps it is meant to exercise.

``tokenize`` is a hand-written scanner, not a pile of regex substitutions, because ICU
messages nest (``{n, plural, one {…{name}…} other {…}}``) and only a scanner that tracks
braces can tell the translatable text inside a branch from the structure around it. Its
tokens concatenate back to the input exactly; only ``text`` tokens are meant for humans.
The lead reuses it to compare placeholders between a source string and its translation.

Recognised (kept verbatim):
    ``{name}`` ``{0}``; ``{{count}}`` ``{{{raw}}}``; ``%s`` ``%d`` ``%1$s`` ``%.2f`` ``%lld`` ``%@``
    ``%%``; ``%(name)s``; ``%{name}`` ``%<name>s``; tags ``<b>`` ``</b>`` ``<br/>`` ``<a href="…">``
    ``<!-- … -->``; entities ``&amp;`` ``&#39;``; backslash escapes ``\\n`` ``\\u00e9``; ICU
    ``{x, plural|select|selectordinal, …}`` (argument, keyword, offset, selectors, ``#`` kept;
    branch messages tokenized recursively) and ``{x, number|date|time…}`` kept whole.
A brace group that is none of these is kept whole too: not translating is the safe mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from daemon.engine.translators.data import translate_data

__all__ = [
    "Token",
    "TokenKind",
    "depseudo",
    "placeholders",
    "pseudo_translate",
    "tokenize",
    "translate_data",
]

TokenKind = Literal["text", "placeholder", "tag", "entity", "escape", "icu"]

_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ACCENTED = "áƀçđéƒĝĥíĵķĺɱñóþǫŕšţúṽŵẋýžÁɃÇĐÉƑĜĤÍĴĶĹṀÑÓÞǪŔŠŢÚṼŴẊÝŽ"
_ACCENT = str.maketrans(_PLAIN, _ACCENTED)
_UNACCENT = str.maketrans(_ACCENTED, _PLAIN)

_PRINTF = re.compile(
    r"""%(?:
        %                                                    # %% literal percent
      | \([^()\s]+\)[-+\#0]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]   # Python %(name)s
      | \{[^{}\s]+\}                                         # Ruby %{name}
      | <[^<>\s]+>[-+\#0]*\d*(?:\.\d+)?[a-zA-Z]              # Ruby %<name>s
      | (?:\d+\$)?[-+\#0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?        # C/Java/ObjC: position, flags, width, precision
        (?:hh|h|ll|l|L|q|j|z|t)?[diouxXeEfFgGaAcCsSp@]       #   length and conversion
    )""",
    re.VERBOSE,
)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|.)", re.DOTALL)
_BRANCHING = frozenset({"plural", "select", "selectordinal"})


@dataclass(frozen=True)
class Token:
    """One piece of a string: ``text`` is for humans, every other kind is kept verbatim."""

    kind: TokenKind
    value: str


class _Tokens:
    """A token list that merges adjacent text so ``tokenize`` output is canonical."""

    def __init__(self) -> None:
        self.items: list[Token] = []

    def add(self, kind: TokenKind, value: str) -> None:
        if not value:
            return
        if kind == "text" and self.items and self.items[-1].kind == "text":
            self.items[-1] = Token("text", self.items[-1].value + value)
        else:
            self.items.append(Token(kind, value))

    def extend(self, tokens: list[Token]) -> None:
        for token in tokens:
            self.add(token.kind, token.value)


class _Scanner:
    """Recursive-descent scanner over one string; every method returns ``None`` on no-match."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)

    def skip_ws(self, i: int) -> int:
        while i < self.n and self.s[i].isspace():
            i += 1
        return i

    def message(self, i: int, *, nested: bool, plural: bool) -> tuple[list[Token], int] | None:
        """Tokenize from ``i`` to the end, or (``nested``) to the unmatched ``}`` closing a branch."""
        s, out = self.s, _Tokens()
        while i < self.n:
            c = s[i]
            if c == "}" and nested:
                return out.items, i
            got: tuple[list[Token], int] | None = None
            if c == "{":
                got = self.brace(i, plural=plural)
            elif c == "%":
                got = self.regex(_PRINTF, i, "placeholder")
            elif c == "<":
                got = self.tag(i)
            elif c == "&":
                got = self.regex(_ENTITY, i, "entity")
            elif c == "\\":
                got = self.regex(_ESCAPE, i, "escape")
            elif c == "#" and plural:
                got = [Token("placeholder", "#")], i + 1
            if got is None:
                out.add("text", c)
                i += 1
            else:
                out.extend(got[0])
                i = got[1]
        if nested:
            return None
        return out.items, i

    def regex(self, pattern: re.Pattern[str], i: int, kind: TokenKind) -> tuple[list[Token], int] | None:
        m = pattern.match(self.s, i)
        return ([Token(kind, m.group())], m.end()) if m else None

    def tag(self, i: int) -> tuple[list[Token], int] | None:
        s = self.s
        if s.startswith("<!--", i):
            end = s.find("-->", i + 4)
            return ([Token("tag", s[i : end + 3])], end + 3) if end >= 0 else None
        if i + 1 >= self.n or not (s[i + 1].isalpha() or s[i + 1] in "/!?"):
            return None
        quote = ""
        for j in range(i + 1, self.n):
            c = s[j]
            if quote:
                if c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c == "<":
                return None
            elif c == ">":
                return [Token("tag", s[i : j + 1])], j + 1
        return None

    def matching_brace(self, i: int) -> int | None:
        depth = 0
        for j in range(i, self.n):
            if self.s[j] == "{":
                depth += 1
            elif self.s[j] == "}":
                depth -= 1
                if depth == 0:
                    return j
        return None

    def brace(self, i: int, *, plural: bool) -> tuple[list[Token], int] | None:
        s = self.s
        if s.startswith("{{", i):  # mustache / handlebars: {{x}}, {{{x}}}
            k = i
            while k < self.n and s[k] == "{":
                k += 1
            closer = "}" * (k - i)
            end = s.find(closer, k)
            if end >= 0:
                return [Token("placeholder", s[i : end + len(closer)])], end + len(closer)
        got = self.argument(i, plural=plural)
        if got is not None:
            return got
        match = self.matching_brace(i)
        if match is None:
            return None
        return [Token("placeholder", s[i : match + 1])], match + 1

    def argument(self, i: int, *, plural: bool) -> tuple[list[Token], int] | None:
        """An ICU argument: ``{name}``, ``{name, type[, style]}`` or a plural/select block."""
        s = self.s
        j = self.skip_ws(i + 1)
        start = j
        while j < self.n and s[j] not in "{}," and not s[j].isspace():
            j += 1
        if j == start:
            return None
        j = self.skip_ws(j)
        if j < self.n and s[j] == "}":
            return [Token("placeholder", s[i : j + 1])], j + 1
        if j >= self.n or s[j] != ",":
            return None
        j = self.skip_ws(j + 1)
        start = j
        while j < self.n and (s[j].isalnum() or s[j] == "_"):
            j += 1
        keyword = s[start:j]
        if not keyword:
            return None
        if keyword not in _BRANCHING:  # number, date, time, spellout…: all structure
            end = self.matching_brace(i)
            return ([Token("icu", s[i : end + 1])], end + 1) if end is not None else None
        j = self.skip_ws(j)
        if j >= self.n or s[j] != ",":
            return None
        return self.branches(i, j + 1, plural=plural or keyword != "select")

    def branches(self, mark: int, j: int, *, plural: bool) -> tuple[list[Token], int] | None:
        """The ``selector {message}`` pairs of a plural/select, up to the closing ``}``."""
        s, out, count = self.s, _Tokens(), 0
        while True:
            k = self.skip_ws(j)
            if k >= self.n:
                return None
            if s[k] == "}":
                if count == 0:
                    return None
                out.add("icu", s[mark : k + 1])
                return out.items, k + 1
            start = k
            if s.startswith("offset:", k):
                k = self.skip_ws(k + len("offset:"))
                digits = k
                while k < self.n and s[k].isdigit():
                    k += 1
                if k == digits:
                    return None
                j = k
                continue
            if s[k] == "=":
                k += 1
                while k < self.n and (s[k].isdigit() or s[k] in "-."):
                    k += 1
            else:
                while k < self.n and (s[k].isalnum() or s[k] in "_-"):
                    k += 1
            if k == start or (s[start] == "=" and k == start + 1):
                return None
            k = self.skip_ws(k)
            if k >= self.n or s[k] != "{":
                return None
            out.add("icu", s[mark : k + 1])
            inner = self.message(k + 1, nested=True, plural=plural)
            if inner is None:
                return None
            tokens, close = inner
            out.extend(tokens)
            mark, j = close, close + 1
            count += 1


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens whose values concatenate back to ``text`` exactly."""
    result = _Scanner(text).message(0, nested=False, plural=False)
    assert result is not None  # a top-level scan always reaches the end
    return result[0]


def placeholders(text: str) -> list[str]:
    """Every non-text token of ``text``, ICU structure with whitespace squeezed out.

    Compare ``sorted(placeholders(source)) == sorted(placeholders(translation))`` to check that a
    translation kept every placeholder, tag and ICU selector (the order may legitimately change).
    """
    return ["".join(t.value.split()) if t.kind == "icu" else t.value for t in tokenize(text) if t.kind != "text"]


def pseudo_translate(text: str, locale: str) -> str:
    """``⟦de⟧ Ĥéĺĺó {name}``: accent the human text, keep everything else, mark the locale.

    Blank strings stay as they are: an empty value in the source should stay empty.
    """
    if not text.strip():
        return text
    body = "".join(t.value.translate(_ACCENT) if t.kind == "text" else t.value for t in tokenize(text))
    return f"⟦{locale}⟧ {body}"


def depseudo(text: str) -> str:
    """Undo ``pseudo_translate`` (drop the marker, un-accent letters), for assertions in tests."""
    if text.startswith("⟦") and "⟧ " in text:
        text = text.split("⟧ ", 1)[1]
    return text.translate(_UNACCENT)
