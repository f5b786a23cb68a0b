"""CMS entry fields as flat keys, and flat keys back into the payload written to a locale."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from daemon.cms.config import CmsField
from daemon.cms.fields import EntryContent, field_key, payload, read_fields
from daemon.errors import FormatError
from daemon.formats.base import Leaf

SHOWN = "blog/abc123 (en)"
TEXT = [CmsField(path="title"), CmsField(path="seo.description")]
BODY = CmsField(path="body", kind="markdown")
MARKDOWN_BODY = "# Intro\n\nFirst paragraph.\n\nSecond *paragraph* with `code`.\n\n- one\n- two\n"


def read(entry: dict[str, Any], specs: list[CmsField]) -> tuple[dict[str, Leaf], EntryContent]:
    return read_fields(entry, specs, SHOWN)


# --- read_fields --------------------------------------------------------------------------


def test_text_fields_and_nested_paths_become_flat_keys() -> None:
    entry = {"id": 7, "title": "Hello", "seo": {"id": 3, "description": "About us", "keywords": "x"}, "other": "no"}
    entries, content = read(entry, TEXT)
    assert entries == {"title": "Hello", "seo/description": "About us"}
    assert content.entry is entry
    assert content.markdown == {}


def test_field_key_joins_path_parts_with_slashes() -> None:
    assert field_key(CmsField(path="seo.description")) == "seo/description"
    assert field_key(CmsField(path="a.b.c")) == "a/b/c"
    assert field_key(CmsField(path="title")) == "title"


def test_null_and_absent_fields_give_no_key() -> None:
    assert read({"title": None, "seo": None}, TEXT)[0] == {}
    assert read({"seo": {"description": None}}, TEXT)[0] == {}
    assert read({}, [*TEXT, BODY])[0] == {}
    assert read({"title": ""}, TEXT)[0] == {"title": ""}  # empty text is text, not absent


@pytest.mark.parametrize("value", [42, ["a", "b"], {"nested": "x"}, True])
def test_non_text_field_raises_format_error_naming_document_and_field(value: object) -> None:
    with pytest.raises(FormatError) as info:
        read({"title": "ok", "seo": {"description": value}}, TEXT)
    assert info.value.path == SHOWN
    message = str(info.value)
    assert SHOWN in message
    assert "'seo.description'" in message
    assert type(value).__name__ in message


def test_markdown_field_gives_one_key_per_block_under_the_field() -> None:
    entries, content = read({"title": "T", "body": MARKDOWN_BODY}, [CmsField(path="title"), BODY])
    assert entries.pop("title") == "T"
    assert all(key.startswith("body/") for key in entries)
    assert sorted(str(v) for v in entries.values()) == sorted(
        ["Intro", "First paragraph.", "Second *paragraph* with `code`.", "one", "two"]
    )
    assert set(content.markdown) == {"body"}


def test_markdown_payload_with_unchanged_values_is_the_identical_text() -> None:
    specs = [BODY]
    entries, content = read({"body": MARKDOWN_BODY}, specs)
    assert payload(entries, specs, source=content, target=None) == {"body": MARKDOWN_BODY}


def test_markdown_payload_changes_only_the_changed_block() -> None:
    specs = [BODY]
    entries, content = read({"body": MARKDOWN_BODY}, specs)
    (key,) = [k for k, v in entries.items() if v == "First paragraph."]
    values = {**entries, key: "Erster Absatz."}
    text = payload(values, specs, source=content, target=None)["body"]
    assert text == MARKDOWN_BODY.replace("First paragraph.", "Erster Absatz.")
    # and the rendered text reads back as exactly those values
    assert read({"body": text}, specs)[0] == values


def test_markdown_payload_against_an_existing_target_reads_back_as_the_values() -> None:
    specs = [BODY]
    entries, source = read({"body": MARKDOWN_BODY}, specs)
    german: dict[str, Leaf] = {k: f"DE {v}" for k, v in entries.items()}
    first = payload(german, specs, source=source, target=None)["body"]
    target_entries, target = read({"body": first}, specs)
    assert target_entries == german
    (key,) = [k for k, v in entries.items() if v == "two"]
    second = payload({**german, key: "zwei"}, specs, source=source, target=target)["body"]
    assert second == first.replace("DE two", "zwei")


def test_markdown_field_absent_in_the_source_is_not_written() -> None:
    specs = [CmsField(path="title"), BODY]
    entries, content = read({"title": "T"}, specs)
    assert payload(entries, specs, source=content, target=None) == {"title": "T"}


# --- payload: text and components ---------------------------------------------------------


def test_text_payload_writes_only_fields_with_values() -> None:
    _, content = read({"title": "Hello", "seo": {"description": "D"}}, TEXT)
    assert payload({"title": "Hallo"}, [CmsField(path="title")], source=content, target=None) == {"title": "Hallo"}
    assert payload({}, TEXT, source=content, target=None) == {}


def test_nested_path_into_a_new_locale_copies_the_source_component_without_ids() -> None:
    source_entry = {
        "id": 1,
        "title": "Hello",
        "seo": {
            "id": 3,
            "description": "About",
            "keywords": "k1, k2",
            "image": {"id": 9, "url": "/a.png", "alt": None},
        },
    }
    snapshot = copy.deepcopy(source_entry)
    _, content = read(source_entry, TEXT)
    out = payload({"title": "Hallo", "seo/description": "Über"}, TEXT, source=content, target=None)
    assert out == {
        "title": "Hallo",
        "seo": {"description": "Über", "keywords": "k1, k2", "image": {"url": "/a.png", "alt": None}},
    }
    out["seo"]["image"]["url"] = "changed"
    assert source_entry == snapshot  # a copy, never the source's own objects


def test_two_paths_in_one_component_share_it() -> None:
    specs = [CmsField(path="seo.title"), CmsField(path="seo.description")]
    _, content = read({"seo": {"id": 2, "title": "T", "description": "D", "slug": "s"}}, specs)
    out = payload({"seo/title": "TT", "seo/description": "DD"}, specs, source=content, target=None)
    assert out == {"seo": {"title": "TT", "description": "DD", "slug": "s"}}


def test_deeper_path_creates_missing_intermediate_objects() -> None:
    specs = [CmsField(path="seo.meta.title")]
    _, content = read({"seo": {"id": 2, "meta": {"title": "T"}}}, specs)
    _, empty_target = read({"seo": {"id": 5}}, specs)
    out = payload({"seo/meta/title": "TT"}, specs, source=content, target=empty_target)
    assert out == {"seo": {"id": 5, "meta": {"title": "TT"}}}


def test_nested_path_into_an_existing_target_starts_from_the_targets_component() -> None:
    _, source = read({"seo": {"id": 3, "description": "About", "keywords": "en words"}}, TEXT)
    target_entry = {"title": "Alt", "seo": {"id": 44, "description": "Alt", "keywords": "deutsche Wörter"}}
    snapshot = copy.deepcopy(target_entry)
    _, target = read(target_entry, TEXT)
    out = payload({"title": "Alt", "seo/description": "Über uns"}, TEXT, source=source, target=target)
    # the target's own component id and its untranslated sibling stay; nothing of the source leaks in
    assert out["seo"] == {"id": 44, "description": "Über uns", "keywords": "deutsche Wörter"}
    assert target_entry == snapshot


def test_target_without_the_component_starts_from_the_source_without_ids() -> None:
    _, source = read({"seo": {"id": 3, "description": "About", "keywords": "k"}}, TEXT)
    _, target = read({"title": "Alt", "seo": None}, TEXT)
    out = payload({"title": "Alt", "seo/description": "Über"}, TEXT, source=source, target=target)
    assert out["seo"] == {"description": "Über", "keywords": "k"}


def test_new_locale_copy_drops_ids_inside_repeatable_components() -> None:
    source_entry = {
        "seo": {"id": 3, "description": "About", "metaSocial": [{"id": 11, "network": "X", "title": "t"}]},
    }
    _, content = read(source_entry, TEXT)
    out = payload({"seo/description": "Über"}, TEXT, source=content, target=None)
    assert out == {"seo": {"description": "Über", "metaSocial": [{"network": "X", "title": "t"}]}}


def test_a_field_emptied_in_the_source_is_cleared_in_the_target() -> None:
    """Otherwise the old translation stays, and is adopted as current when the source has text again."""
    specs = [CmsField(path="title"), CmsField(path="body", kind="markdown"), CmsField(path="seo.description")]
    _, source = read({"title": None, "body": None, "seo": {"description": None}}, specs)
    _, target = read({"title": "Hallo", "body": "Text.\n", "seo": {"id": 4, "description": "Alt"}}, specs)
    out = payload({}, specs, source=source, target=target)
    assert out == {"title": None, "body": None, "seo": {"id": 4, "description": None}}
    _, fresh = read({"title": None}, specs)
    assert payload({}, specs, source=source, target=fresh) == {}  # nothing to clear where nothing was


def test_mirror_names_never_leave_their_folder_or_collide(tmp_path: Path) -> None:
    from daemon.cms.source import CmsSource
    from daemon.config import SourceConfig

    config = SourceConfig.model_validate({
        "name": "docs", "sourceLocale": "en", "targetLocales": ["de"],
        "cms": {"kind": "http", "baseUrl": "http://127.0.0.1:9", "fields": ["title"], "mirror": "cms/{id}/[locale].json",
                "http": {"listUrl": "/l", "readUrl": "/r/{id}", "writeUrl": "/w/{id}"}},
    })
    source = CmsSource(config, feed=None, root=tmp_path)  # type: ignore[arg-type]
    names = {entry_id: source.document(source.prefix + entry_id).commit_path("de")
             for entry_id in ("..", ".", "news/a", "news_a", "news:a", "a%2Fb", "ü")}
    assert all(name is not None and name.startswith("cms/") and name.endswith("/de.json") for name in names.values())
    assert len(set(names.values())) == len(names)  # distinct ids, distinct files
    assert names[".."] == "cms/%2E%2E/de.json"
