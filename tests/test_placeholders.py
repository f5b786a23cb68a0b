"""Placeholder checks: every kind is caught when lost, added or altered; reordering is fine."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.engine.translators.pseudo import pseudo_translate
from daemon.placeholders import problems


@pytest.mark.parametrize(
    ("source", "translation"),
    [
        ("Hello {name}", "Hallo {name}"),
        ("{count} of {total}", "{total} sur {count}"),
        ("Hi {{name}}", "Salut {{ name }}"),
        ("%s files in %d folders", "%s Dateien in %d Ordnern"),
        ("%1$s and %2$s", "%2$s und %1$s"),
        ("100%% sure %(user)s", "100%% sicher %(user)s"),
        ("Hello %{name}", "Hallo %{name}"),
        ("Go to <b>checkout</b><br/>", "Zur <b>Kasse</b><br/>"),
        ('<a href="/x">link</a>', '<a href="/y" class="z">Link</a>'),
        ("{count, plural, one {# item} other {# items}}", "{count, plural, one {# Ding} few {# Dinge} many {# Dinger} other {# Dinge}}"),
        ("{g, select, male {He} female {She} other {They}}", "{g, select, male {Er} female {Sie} other {Sie}}"),
        ("It's '{'literal'}'", "C'est '{'littéral'}'"),
    ],
)
def test_faithful_translations_pass(source: str, translation: str) -> None:
    assert problems(source, translation) == []


@pytest.mark.parametrize(
    ("source", "translation", "expected"),
    [
        ("Hello {name}", "Hallo", "missing {name}"),
        ("Hello {name}", "Hallo {nom}", "missing {name}"),
        ("Hi {{name}}", "Salut {name}", "missing {{name}}"),
        ("%1$s and %2$s", "%s und %s", "missing %1$s, %2$s"),
        ("%d items", "%s Dinge", "missing %d"),
        ("<b>bold</b>", "<b>fett", "missing </b>"),
        ("plain", "plain <script>", "unexpected <script>"),
        ("{count, plural, one {# item} other {# items}}", "{count, plural, one {# Ding}}", "missing {count,plural:other}"),
        ("{g, select, male {He} other {They}}", "{g, select, masc {Er} other {Sie}}", "missing {g,select:male|other}"),
        ("{count, plural, one {# item} other {# items}}", "{n, plural, one {# Ding} other {# Dinge}}", "missing {count,plural:other}"),
        ("Hello {name}", "Hallo {name", "missing {name}"),
        ("{n} of {n}", "{n} von", "missing {n}"),  # a repeated placeholder counts each time
        ("{n}", "{n} {n}", "unexpected {n}"),
    ],
)
def test_broken_translations_are_named(source: str, translation: str, expected: str) -> None:
    assert any(expected in p for p in problems(source, translation)), problems(source, translation)


_PIECES = st.sampled_from(["{name}", "{{count}}", "%s", "%1$s", "%d", "<b>", "</b>", "<br/>", "word", " ", "text."])


@given(st.lists(_PIECES, max_size=12).map("".join), st.sampled_from(["de", "fr", "ja"]))
def test_the_reference_engine_pseudo_translation_always_passes(text: str, locale: str) -> None:
    assert problems(text, pseudo_translate(text, locale)) == []
