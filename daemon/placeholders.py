"""Placeholder and markup checks on translated values.

A translation must carry the same placeholders as its source, or the app breaks at run
time (a missing ``{name}``, a ``%1$s`` turned into ``%s``, an unclosed ``<b>``). The kinds
recognised, each written out because they are one regular expression each:

- printf: ``%s``, ``%d``, ``%1$s``, ``%.2f``, ``%@`` (iOS), ``%(name)s`` (Python), ``%{name}`` (Ruby);
- brace: ``{name}``, ``{0}``; double-brace: ``{{count}}`` (i18next, Handlebars);
- ICU MessageFormat: ``{count, plural, one {# item} other {# items}}``: the argument and its type
  must survive; ``select`` keeps its selectors; ``plural`` selectors may differ (a target locale
  has its own CLDR categories) but ``other`` must stay; placeholders inside branches count once;
- HTML/XML tags: ``<b>``, ``</b>``, ``<br/>``, ``<a href="...">`` by name and kind.

Text is compared as multisets of tokens, so order may change (languages reorder) but nothing
may be lost, added or altered.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

_PRINTF = re.compile(r"%(?:\d+\$)?[-+ 0#]*(?:\d+|\*)?(?:\.\d+)?(?:hh|h|ll|l|L|q|j|z|t)?[sdifuxXoeEgGcp@]"
                     r"|%\([A-Za-z_]\w*\)[sdifr]|%\{[A-Za-z_]\w*\}")
_DOUBLE_BRACE = re.compile(r"\{\{-?\s*[^{}\s][^{}]*?\s*\}\}")
_TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)(?:\s[^<>]*?)?(/?)>")
_ICU_TYPES = ("plural", "selectordinal", "select")


_BRACE_OR_QUOTE = re.compile(r"[{}']")


def _brace_tokens(text: str) -> tuple[list[str], bool]:
    """Tokens of ``{...}`` expressions (ICU aware); second value False if braces are unbalanced."""
    tokens: list[str] = []
    i = 0
    while (found := _BRACE_OR_QUOTE.search(text, i)) is not None:  # skip plain text in C
        i = found.start()
        char = text[i]
        if char == "'":
            if i + 1 < len(text) and text[i + 1] in "{}'":
                end = text.find("'", i + 1)  # ICU quoting: '{' is a literal brace
                if end < 0:
                    break
                i = end + 1
            else:
                i += 1
            continue
        if char == "}":
            return tokens, False
        end = _matching(text, i)
        if end < 0:
            return tokens, False
        tokens.extend(_expression(text[i + 1 : end]))
        i = end + 1
    return tokens, True


def _matching(text: str, start: int) -> int:
    depth = 0
    for j in range(start, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _expression(inner: str) -> list[str]:
    if inner.startswith("{") and inner.endswith("}"):
        return []  # {{x}} is handled as double-brace
    parts = [p.strip() for p in inner.split(",", 2)]
    if len(parts) == 1:
        return [f"{{{parts[0]}}}"]
    name, kind = parts[0], parts[1]
    if kind not in _ICU_TYPES or len(parts) < 3:
        return [f"{{{name},{kind}}}"]
    selectors, inner_tokens = _branches(parts[2])
    if kind == "select":
        head = f"{{{name},select:{'|'.join(sorted(selectors))}}}"
    else:
        head = f"{{{name},{kind}{':other' if 'other' in selectors else ':no-other'}}}"
    return [head, *sorted(set(inner_tokens))]


def _branches(body: str) -> tuple[list[str], list[str]]:
    selectors: list[str] = []
    tokens: list[str] = []
    i = 0
    body = re.sub(r"^offset:\s*\d+\s*", "", body.strip())
    while i < len(body):
        if body[i].isspace():
            i += 1
            continue
        start = body.find("{", i)
        if start < 0:
            break
        selectors.append(body[i:start].strip())
        end = _matching(body, start)
        if end < 0:
            break
        message = body[start + 1 : end]
        tokens.extend(tokens_of(message, icu_hash=True))
        i = end + 1
    return selectors, tokens


_ANY_TOKEN = re.compile(r"[%{}<>]")


def tokens_of(text: str, *, icu_hash: bool = False) -> list[str]:
    """All placeholder and markup tokens of ``text`` (see the module docstring)."""
    if _ANY_TOKEN.search(text) is None:  # most strings: plain words (every token needs one of these)
        return []
    if len(text) > CACHED_TEXT_MAX:
        return list(_scan(text))
    return list(_cached(text))


CACHED_TEXT_MAX = 200
"""Only short strings are cached: a source string is checked against every locale's result,
and 256 entries this short keep the idle daemon's memory within ~100 KB."""


def _scan(text: str) -> tuple[str, ...]:
    tokens = [m.group(0) for m in _PRINTF.finditer(text.replace("%%", ""))]
    tokens += ["{{" + re.sub(r"\s+", "", m.group(0)[2:-2]) + "}}" for m in _DOUBLE_BRACE.finditer(text)]
    without_double = _DOUBLE_BRACE.sub("", text)
    brace, balanced = _brace_tokens(without_double)
    tokens += brace if balanced else ["<unbalanced braces>"]
    for m in _TAG.finditer(text):
        closing, name, selfclosing = m.groups()
        tokens.append(f"<{'/' if closing else ''}{name.lower()}{'/' if selfclosing else ''}>")
    return tuple(tokens)


_cached = functools.lru_cache(maxsize=256)(_scan)


def problems(source: str, translation: str) -> list[str]:
    """What the translation lost, added or broke; an empty list means it is safe to write."""
    source_tokens, translation_tokens = tokens_of(source), tokens_of(translation)
    # the usual answers without building two Counters (called for every key of every result)
    if source_tokens == translation_tokens or sorted(source_tokens) == sorted(translation_tokens):
        return []
    expected = Counter(source_tokens)
    found = Counter(translation_tokens)
    out = []
    missing = expected - found
    extra = found - expected
    if missing:
        out.append("missing " + ", ".join(sorted(missing.elements())))
    if extra:
        out.append("unexpected " + ", ".join(sorted(extra.elements())))
    return out
