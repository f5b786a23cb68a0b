"""CLDR plural categories and the keys a target locale needs."""

from __future__ import annotations

from daemon.plurals import categories, expand_for, plural_parts


def test_categories_follow_cldr() -> None:
    assert categories("en") == ("one", "other")
    assert categories("pl") == ("one", "few", "many", "other")
    assert categories("ru") == ("one", "few", "many", "other")
    assert categories("ja") == ("other",)
    assert categories("ar") == ("zero", "one", "two", "few", "many", "other")
    assert categories("pt-BR") == ("one", "many", "other")
    assert categories("xx-unknown") == ("one", "other")


def test_polish_target_asks_for_few_and_many_seeded_from_other() -> None:
    source = {"title": "Cart", "items/#one": "{count} item", "items/#other": "{count} items", "tail": "x"}
    assert expand_for(source, "pl") == {
        "title": "Cart",
        "items/#one": "{count} item",
        "items/#few": "{count} items",
        "items/#many": "{count} items",
        "items/#other": "{count} items",
        "tail": "x",
    }
    assert list(expand_for(source, "ja")) == ["title", "items/#other", "tail"]
    assert expand_for(source, "de") == source


def test_keys_that_only_look_like_plurals_are_left_alone() -> None:
    source = {"a/#one": "only one form", "b/#0": "gettext index", "c#few": "not a segment"}
    assert expand_for(source, "pl") == source
    assert plural_parts("items/#few") == ("items", "few")
    assert plural_parts("items/#0") is None
