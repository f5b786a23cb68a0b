"""XcstringsFormat: the contract, per-locale entries, flat keys for variations, and Xcode-style writing."""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest

from daemon.errors import FormatError
from daemon.formats import get_format
from daemon.formats.base import Leaf, ParsedFile
from daemon.formats.xcstrings import Style, XcstringsFormat, dump, sort_key
from tests.formats import contract
from tests.formats.contract import FormatContract
from tests.formats.pairs import read_corpus

FMT = XcstringsFormat()


def catalog(strings: dict[str, Any], source_language: str = "en") -> bytes:
    """A catalog written the way Xcode writes it (no final newline)."""
    tree = {"sourceLanguage": source_language, "strings": strings, "version": "1.0"}
    return dump(tree, 0, Style()).encode()


def unit(value: str, state: str = "translated") -> dict[str, Any]:
    return {"stringUnit": {"state": state, "value": value}}


SAMPLE = catalog(
    {
        "Cancel": {"localizations": {"de": unit("Abbrechen"), "en": unit("Cancel")}},
        "Go Back": {},
        "Internal": {"shouldTranslate": False},
        "items %lld": {
            "comment": "Item count",
            "localizations": {
                "de": {"variations": {"plural": {"one": unit("%lld Ding"), "other": unit("%lld Dinge")}}},
                "en": {"variations": {"plural": {"one": unit("%lld item"), "other": unit("%lld items")}}},
            },
        },
        "followers %lld %@": {
            "localizations": {
                "en": {
                    "stringUnit": {"state": "translated", "value": "%#@followers@"},
                    "substitutions": {
                        "followers": {
                            "argNum": 1,
                            "formatSpecifier": "lld",
                            "variations": {"plural": {"one": unit("%2$@ follower"), "other": unit("%2$@ followers")}},
                        }
                    },
                }
            }
        },
        "platform": {
            "localizations": {
                "en": {"variations": {"device": {"iphone": unit("iPhone"), "mac": unit("Mac")}}},
                "de": {"variations": {"device": {"iphone": unit("iPhone", "needs_review")}}},
            }
        },
    }
)


def _trim(a: list[str], b: list[str]) -> tuple[list[str], list[str]]:
    """``a`` and ``b`` without the lines they share at the start and at the end.

    difflib needs about 6 s for the 86,000 lines of the IceCubes catalog; without the identical
    head and tail it finds the same differences in milliseconds.
    """
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    return a[head : len(a) - tail], b[head : len(b) - tail]


def _trimmed_changed_lines(before: bytes, after: bytes) -> int:
    """``contract.changed_lines``, on the lines between the common head and tail only."""
    a, b = _trim(before.decode().split("\n"), after.decode().split("\n"))
    return _changed_lines("\n".join(a).encode(), "\n".join(b).encode())


_changed_lines = contract.changed_lines


class TestXcstringsContract(FormatContract):
    format_name = "xcstrings"
    corpus_dirs = ("apple-xcstrings",)
    corpus_suffixes = (".xcstrings",)
    sample = SAMPLE
    layout_exceptions = {  # noqa: RUF012
        "apple-xcstrings/icecubesapp/Localizable.xcstrings": (
            "the first key ('  ⸱  ') has no English localization yet (the key stands for itself): "
            "giving it a value adds its 6-line 'en' stringUnit"
        ),
    }

    def test_corpus_one_changed_value_changes_only_its_lines(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The contract's check, with a line count that is fast on a 2 MB catalog."""
        monkeypatch.setattr(contract, "changed_lines", _trimmed_changed_lines)
        super().test_corpus_one_changed_value_changes_only_its_lines()


def parse(data: bytes, locale: str | None = None) -> ParsedFile:
    return FMT.parse(data, path="Localizable.xcstrings", locale=locale)


def render(values: dict[str, Leaf], source: ParsedFile, target: ParsedFile | None, locale: str | None) -> bytes:
    return FMT.render(values, source=source, target=target, locale=locale)


def diff(before: bytes, after: bytes) -> list[str]:
    """Removed and added lines; the common head and tail are set aside first (see below)."""
    a, b = _trim(before.decode().split("\n"), after.decode().split("\n"))
    lines = difflib.unified_diff(a, b, lineterm="", n=0)
    return [line for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def corpus(name: str) -> bytes:
    return read_corpus(f"apple-xcstrings/{name}")


def other_locales(data: bytes, locale: str) -> dict[str, Any]:
    """Every localization of every key except ``locale``'s, for checking they are untouched."""
    tree = json.loads(data)
    return {
        key: {loc: node for loc, node in entry.get("localizations", {}).items() if loc != locale}
        for key, entry in tree["strings"].items()
    }


# --- parsing --------------------------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert isinstance(get_format("xcstrings"), XcstringsFormat)


def test_source_language_entries_use_the_key_for_keys_without_a_localization() -> None:
    assert parse(SAMPLE).entries == {
        "Cancel": "Cancel",
        "Go Back": "Go Back",
        "items %lld/#one": "%lld item",
        "items %lld/#other": "%lld items",
        "followers %lld %@": "%#@followers@",
        "followers %lld %@/%#@followers@/#one": "%2$@ follower",
        "followers %lld %@/%#@followers@/#other": "%2$@ followers",
        "platform/@iphone": "iPhone",
        "platform/@mac": "Mac",
    }


def test_target_locale_entries() -> None:
    assert parse(SAMPLE, "de").entries == {
        "Cancel": "Abbrechen",
        "items %lld/#one": "%lld Ding",
        "items %lld/#other": "%lld Dinge",
        "platform/@iphone": "iPhone",
    }
    assert parse(SAMPLE, "fr").entries == {}


def test_locale_spelling_is_matched() -> None:
    data = catalog({"k": {"localizations": {"pt-BR": unit("v")}}})
    assert parse(data, "pt_BR").entries == {"k": "v"}
    assert parse(data, "PT-br").entries == {"k": "v"}


def test_slash_in_a_key_is_escaped() -> None:
    data = catalog({"Window/Name": {"localizations": {"de": {"variations": {"plural": {"one": unit("x")}}}}}})
    assert parse(data, "de").entries == {"Window~1Name/#one": "x"}


def test_nested_device_and_plural_variations() -> None:
    data = catalog(
        {
            "k": {
                "localizations": {
                    "en": {"variations": {"device": {"mac": {"variations": {"plural": {"one": unit("1")}}}}}}
                }
            }
        }
    )
    assert parse(data).entries == {"k/@mac/#one": "1"}


@pytest.mark.parametrize(
    ("text", "line", "column", "detail"),
    [
        ('{\n  "sourceLanguage" : "en",\n  "strings" : {\n    "a" : {},\n    "a" : {}\n  }\n}', 5, 5, "duplicate"),
        ('{\n  "sourceLanguage" : "en",\n  "strings" : [\n  ]\n}', 3, 15, "strings"),
        ('{\n  "strings" : {}\n}', 1, 1, "sourceLanguage"),
        ('{\n  "sourceLanguage" : 3\n}', 2, 22, "sourceLanguage"),
        (
            '{\n  "sourceLanguage" : "en",\n  "strings" : {\n    "a" : {\n      "localizations" : {\n'
            '        "de" : { "stringUnit" : { "value" : 3 } }\n      }\n    }\n  }\n}',
            6,
            33,
            "stringUnit",
        ),
        ('{\n  "sourceLanguage" : "en",\n  "strings" : {\n    "a" : 1\n  }\n}', 4, 11, "object"),
        ('{\n  "sourceLanguage" : "en",\n  "strings" : {\n  }', 4, 4, "delimiter"),
        ("[]", 1, 1, "object"),
    ],
)
def test_errors_have_positions(text: str, line: int, column: int, detail: str) -> None:
    with pytest.raises(FormatError) as info:
        parse(text.encode())
    assert (info.value.line, info.value.column, info.value.path) == (line, column, "Localizable.xcstrings")
    assert detail in info.value.detail


def test_sort_key_is_xcode_order() -> None:
    keys = ["Radial Menu", "Locked icon message 10", "Radial menu", "Locked icon message 9", "%@", "px", "Quarters"]
    assert sorted(keys, key=sort_key) == [
        "%@",
        "Locked icon message 9",
        "Locked icon message 10",
        "px",
        "Quarters",
        "Radial menu",
        "Radial Menu",
    ]


# --- rendering ------------------------------------------------------------------------------


def test_changed_value_sets_state_translated_and_changes_only_those_lines() -> None:
    source, target = parse(SAMPLE), parse(SAMPLE, "de")
    values = dict(target.entries)
    values["platform/@iphone"] = "iPhone (DE)"
    values["Cancel"] = "Abbruch"
    out = render(values, source, target, "de")
    assert diff(SAMPLE, out) == [
        '-            "value" : "Abbrechen"',
        '+            "value" : "Abbruch"',
        '-                  "state" : "needs_review",',
        '-                  "value" : "iPhone"',
        '+                  "state" : "translated",',
        '+                  "value" : "iPhone (DE)"',
    ]
    assert parse(out, "de").entries == values
    assert other_locales(out, "de") == other_locales(SAMPLE, "de")


def test_new_locale_copies_the_source_structure() -> None:
    source = parse(SAMPLE)
    values: dict[str, Leaf] = {
        "followers %lld %@": "%#@followers@",
        "followers %lld %@/%#@followers@/#one": "%2$@ abonné",
        "followers %lld %@/%#@followers@/#other": "%2$@ abonnés",
    }
    out = render(values, source, parse(SAMPLE, "fr"), "fr")
    assert parse(out, "fr").entries == values
    fr = json.loads(out)["strings"]["followers %lld %@"]["localizations"]["fr"]
    assert fr["substitutions"]["followers"]["argNum"] == 1
    assert fr["substitutions"]["followers"]["formatSpecifier"] == "lld"
    assert list(json.loads(out)["strings"]["followers %lld %@"]["localizations"]) == ["en", "fr"]
    assert other_locales(out, "fr") == other_locales(SAMPLE, "fr")


def test_locales_are_inserted_in_sorted_order() -> None:
    source = parse(SAMPLE)
    out = render({"Cancel": "Annuler"}, source, parse(SAMPLE, "fr"), "fr")
    assert list(json.loads(out)["strings"]["Cancel"]["localizations"]) == ["de", "en", "fr"]
    out = render({"Cancel": "Anular"}, source, parse(SAMPLE, "ca"), "ca")
    assert list(json.loads(out)["strings"]["Cancel"]["localizations"]) == ["ca", "de", "en"]


def test_more_plural_categories_rewrite_only_that_entry() -> None:
    source, target = parse(SAMPLE), parse(SAMPLE, "de")
    values = dict(target.entries)
    values["items %lld/#zero"] = "keine Dinge"
    out = render(values, source, target, "de")
    assert parse(out, "de").entries == values
    assert all(line.startswith("+") for line in diff(SAMPLE, out))  # lines added, none changed
    assert list(json.loads(out)["strings"]["items %lld"]["localizations"]["de"]["variations"]["plural"]) == [
        "one",
        "other",
        "zero",
    ]


def test_removed_translation_drops_the_locale() -> None:
    source, target = parse(SAMPLE), parse(SAMPLE, "de")
    values = {k: v for k, v in target.entries.items() if k != "Cancel"}
    out = render(values, source, target, "de")
    assert parse(out, "de").entries == values
    assert list(json.loads(out)["strings"]["Cancel"]["localizations"]) == ["en"]
    assert other_locales(out, "de") == other_locales(SAMPLE, "de")


def test_removing_the_only_localization_leaves_an_xcode_empty_entry() -> None:
    data = catalog({"a": {"localizations": {"de": unit("x")}}})
    out = render({}, parse(data), parse(data, "de"), "de")
    assert out == catalog({"a": {}})
    assert b'"a" : {\n\n    }' in out


def test_key_the_file_lacks_is_added_in_sorted_place() -> None:
    source, target = parse(SAMPLE), parse(SAMPLE, "de")
    values = dict(target.entries)
    values["Delete"] = "Löschen"
    values["zzz/#one"] = "eins"
    out = render(values, source, target, "de")
    tree = json.loads(out)
    assert list(tree["strings"])[:3] == ["Cancel", "Delete", "Go Back"]
    assert list(tree["strings"])[-1] == "zzz"
    assert tree["strings"]["Delete"] == {"localizations": {"de": unit("Löschen")}}
    assert parse(out, "de").entries == values


def test_keys_added_to_an_empty_catalog() -> None:
    empty = catalog({})
    out = render({"b": "B", "a": "A"}, parse(empty), parse(empty, "de"), "de")
    assert out == catalog({"a": {"localizations": {"de": unit("A")}}, "b": {"localizations": {"de": unit("B")}}})


def test_implicit_source_values_are_not_written() -> None:
    source = parse(SAMPLE)
    assert render(dict(source.entries), source, None, None) == SAMPLE
    values = dict(source.entries)
    values["Go Back"] = "Back"
    out = render(values, source, source, None)
    assert json.loads(out)["strings"]["Go Back"] == {"localizations": {"en": unit("Back")}}


def test_unchanged_units_keep_their_state_when_an_entry_is_rewritten() -> None:
    source, target = parse(SAMPLE), parse(SAMPLE, "de")
    values = dict(target.entries)
    values["platform/@mac"] = "Mac"
    out = render(values, source, target, "de")
    device = json.loads(out)["strings"]["platform"]["localizations"]["de"]["variations"]["device"]
    assert device == {"iphone": unit("iPhone", "needs_review"), "mac": unit("Mac")}


def test_unknown_flat_key_segment_is_refused() -> None:
    source, target = parse(SAMPLE), parse(SAMPLE, "de")
    values = dict(target.entries)
    values["Cancel/oops"] = "x"
    with pytest.raises(ValueError, match="plural"):
        render(values, source, target, "de")


def test_non_xcode_style_is_followed() -> None:
    data = b'{"sourceLanguage": "en", "strings": {"a": {"localizations": {"en": {"stringUnit": {"state": "new", "value": "A"}}}}}}'
    parsed = parse(data)
    assert parsed.entries == {"a": "A"}
    out = render({"a": "B"}, parsed, parsed, None)
    assert out == data.replace(b'"new", "value": "A"', b'"translated", "value": "B"')


def test_rewritten_entry_follows_a_non_xcode_style() -> None:
    data = (
        b'{\n  "sourceLanguage": "en",\n  "strings": {\n    "a": {},\n    "b": {\n      "localizations": {\n'
        b'        "de": {\n          "stringUnit": {\n            "state": "translated",\n'
        b'            "value": "B"\n          }\n        }\n      }\n    }\n  }\n}\n'
    )
    out = render({}, parse(data), parse(data, "de"), "de")
    assert out == b'{\n  "sourceLanguage": "en",\n  "strings": {\n    "a": {},\n    "b": {}\n  }\n}\n'


# --- the corpus -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["loop/Localizable.xcstrings", "icecubesapp/Localizable.xcstrings"])
def test_corpus_is_xcode_style(name: str) -> None:
    data = corpus(name)
    assert dump(json.loads(data), 0, Style()).encode() == data


def test_corpus_every_locale_round_trips() -> None:
    data = corpus("loop/Localizable.xcstrings")
    source = parse(data)
    for locale in ["ar", "de", "en", "es", "it", "ko", "nl-BE", "pt-BR", "ru", "zh-Hans", "zh-Hant"]:
        target = parse(data, locale)
        assert target.entries
        assert render(dict(target.entries), source, target, locale) == data


def test_corpus_translation_of_one_locale_leaves_the_others_alone() -> None:
    data = corpus("loop/Localizable.xcstrings")
    source, target = parse(data), parse(data, "de")
    values = dict(target.entries)
    missing = [k for k in source.entries if k not in values]
    assert missing
    for key in missing:
        values[key] = f"DE {source.entries[key]}"
    first = next(iter(target.entries))
    values[first] = "Geändert"
    out = render(values, source, target, "de")
    assert parse(out, "de").entries == values
    assert other_locales(out, "de") == other_locales(data, "de")
    assert all(parse(out, loc).entries == parse(data, loc).entries for loc in ["en", "fr", "ko"])


def test_corpus_plural_and_substitution_leaves_in_a_large_catalog() -> None:
    data = corpus("icecubesapp/Localizable.xcstrings")
    source, target = parse(data), parse(data, "de")
    key = "account.label.followers %lld %@/%#@followers@/#other"
    assert key in source.entries and key in target.entries
    values = dict(target.entries)
    values[key] = "%2$@ Abonnenten"
    out = render(values, source, target, "de")
    assert len(diff(data, out)) == 2
    assert parse(out, "de").entries == values
