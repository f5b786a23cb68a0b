"""The pseudo translator, its tokenizer, and the data walker with locked keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.engine.translators.data import is_locked, iter_strings
from daemon.engine.translators.pseudo import (
    depseudo,
    placeholders,
    pseudo_translate,
    tokenize,
    translate_data,
)

KEPT = [
    "{name}",
    "{0}",
    "{ name }",
    "{{count}}",
    "{{{raw_html}}}",
    "%s",
    "%d",
    "%1$s",
    "%2$d",
    "%.2f",
    "%5.1f",
    "%lld",
    "%@",
    "%%",
    "%(name)s",
    "%(count)d",
    "%{name}",
    "%<name>s",
    "<b>",
    "</b>",
    "<br/>",
    "<br />",
    '<a href="https://example.com/a?b=c&d=e">',
    "<span class='x' data-y=\"1 > 0\">",
    "<!-- note -->",
    "&amp;",
    "&#39;",
    "&#x2014;",
    "\\n",
    "\\u00e9",
    "{n, number, percent}",
    "{d, date, short}",
]


@pytest.mark.parametrize("token", KEPT)
def test_every_placeholder_kind_is_kept(token: str) -> None:
    source = f"Hello {token} world"
    out = pseudo_translate(source, "de")
    assert token in out
    assert out == f"⟦de⟧ Ĥéĺĺó {token} ŵóŕĺđ"
    assert placeholders(source) == placeholders(out) == ["".join(token.split()) if ", " in token else token]


def test_icu_plural_keeps_structure_and_translates_branches() -> None:
    source = "{count, plural, =0 {No items} one {# item for {name}} other {# items}}"
    out = pseudo_translate(source, "fr")
    assert out == "⟦fr⟧ {count, plural, =0 {Ñó íţéɱš} one {# íţéɱ ƒóŕ {name}} other {# íţéɱš}}"
    assert placeholders(out) == placeholders(source)


def test_icu_nested_select_and_plural() -> None:
    source = (
        "{gender, select, female {{n, plural, offset:1 one {She has # cat} other {She has # cats}}} "
        "male {He has {n, selectordinal, one {#st} two {#nd} other {#th}} dog} other {They}}"
    )
    out = pseudo_translate(source, "de")
    assert placeholders(out) == placeholders(source)
    for kept in ("{gender, select, female {", "{n, plural, offset:1 one {", "} other {", "{n, selectordinal, one {#"):
        assert kept in out
    assert "Šĥé ĥáš # çáţ" in out and "Ţĥéý" in out
    assert depseudo(out) == source


def test_text_that_only_looks_special_is_translated() -> None:
    assert pseudo_translate("a < b", "de") == "⟦de⟧ á < ƀ"
    assert pseudo_translate("50% off", "de") == "⟦de⟧ 50% óƒƒ"
    assert pseudo_translate("Tom & Jerry", "de") == "⟦de⟧ Ţóɱ & Ĵéŕŕý"
    assert pseudo_translate("open { brace", "de") == "⟦de⟧ óþéñ { ƀŕáçé"


def test_deterministic_and_locale_specific() -> None:
    text = "Save {count} files"
    assert pseudo_translate(text, "de") == pseudo_translate(text, "de")
    assert pseudo_translate(text, "de") != pseudo_translate(text, "fr")
    assert pseudo_translate(text, "fr").startswith("⟦fr⟧ ")
    assert depseudo(pseudo_translate(text, "pt-BR")) == text
    assert pseudo_translate("", "de") == ""
    assert pseudo_translate("   ", "de") == "   "


ICU_MESSAGES = ("{count, plural, one {# item} other {# items}}", "{g, select, a {x {name}} other {y}}")
PLACEHOLDERS = st.sampled_from(
    [
        "{name}",
        "{{count}}",
        "%s",
        "%d",
        "%1$s",
        "%(name)s",
        "%{name}",
        "<b>",
        "</b>",
        "<br/>",
        '<a href="https://x.y/z">',
        "&amp;",
        *ICU_MESSAGES,
    ]
)
# Free text that cannot itself start a placeholder (no braces, %, <, &, backslash).
PLAIN = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?:;-'\"()"))


@given(st.lists(st.tuples(PLAIN, PLACEHOLDERS), max_size=6), PLAIN)
def test_placeholders_in_random_text_survive(pieces: list[tuple[str, str]], tail: str) -> None:
    source = "".join(text + token for text, token in pieces) + tail
    out = pseudo_translate(source, "de")
    position = 0
    for _, token in pieces:  # each verbatim placeholder is there, in order
        if token in ICU_MESSAGES:
            continue  # their branch text is translated; the placeholders() check covers them
        found = out.find(token, position)
        assert found >= 0, (token, out)
        position = found + len(token)
    assert placeholders(out) == placeholders(source)
    if source.strip():
        assert depseudo(out) == source


@given(st.text())
def test_tokens_concatenate_back_to_the_input(text: str) -> None:
    assert "".join(t.value for t in tokenize(text)) == text
    pseudo_translate(text, "de")  # never raises


def test_translate_data_walks_objects_and_arrays() -> None:
    data = {
        "title": "Hello",
        "nested": {"list": ["One", 2, None, True, {"deep": "Two"}], "empty": ""},
        "n": 1.5,
        "flag": False,
        "nothing": None,
    }
    out = translate_data(data, "de", pseudo_translate)
    assert out == {
        "title": "⟦de⟧ Ĥéĺĺó",
        "nested": {"list": ["⟦de⟧ Óñé", 2, None, True, {"deep": "⟦de⟧ Ţŵó"}], "empty": ""},
        "n": 1.5,
        "flag": False,
        "nothing": None,
    }
    assert data["title"] == "Hello"  # the input is not modified


def test_locked_keys_patterns() -> None:
    data = {
        "id": "x1",
        "author": {"id": "a1", "name": "Ann", "ids": ["n1"]},
        "items": [{"sku": "S-1", "label": "Cup"}, {"sku": "S-2", "label": "Mug"}],
        "meta": {"og_url": "https://x", "slug": "hello-world", "page": {"slug": "deep"}},
        "tags": ["alpha"],
    }
    locked = ["id", "*_url", "items.*.sku", "meta.slug"]
    out = translate_data(data, "de", pseudo_translate, locked)
    assert out["id"] == "x1" and out["author"]["id"] == "a1"  # a bare name matches at any depth
    assert out["author"]["ids"] == ["⟦de⟧ ñ1"]  # …but only a complete segment
    assert [i["sku"] for i in out["items"]] == ["S-1", "S-2"]
    assert [depseudo(i["label"]) for i in out["items"]] == ["Cup", "Mug"] != [i["label"] for i in out["items"]]
    assert out["meta"]["og_url"] == "https://x"
    assert out["meta"]["slug"] == "hello-world"  # dotted patterns are anchored at the root
    assert out["meta"]["page"]["slug"] == "⟦de⟧ đééþ"
    assert out["tags"] == ["⟦de⟧ áĺþĥá"]  # an array holding no locked path is translated
    assert [".".join(p) for p, _ in iter_strings(data, locked)] == [
        "author.name",
        "author.ids.0",
        "items.0.label",
        "items.1.label",
        "meta.page.slug",
        "tags.0",
    ]
    assert is_locked(("a", "b", "sku"), ["**.sku"])
    assert is_locked(("sku",), ["**.sku"])
    assert not is_locked(("sku", "x"), ["**.sku"])
    assert is_locked(("whole",), ["whole"]) and not is_locked((), ["whole"])
