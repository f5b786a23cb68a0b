"""The ``cms`` block of a source: valid blocks load; every problem names file:line and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.cms.config import CmsField
from daemon.config import load_config
from daemon.errors import ConfigError
from tests.helpers import config_problems, write_config

VALID = """\
sources:
  - name: blog
    cms:
      kind: strapi
      baseUrl: http://127.0.0.1:1337/
      collection: articles
      fields:
        - title
        - path: body
          kind: markdown
        - seo.description
      apiTokenEnv: STRAPI_TOKEN
      webhookSecretEnv: STRAPI_HOOK
      overlapSeconds: 2
    sourceLocale: en
    targetLocales: [de, fr]
git:
  enabled: false
"""

HTTP = """\
sources:
  - name: docs
    cms:
      kind: http
      baseUrl: https://cms.example.com
      fields: [title]
      http:
        listUrl: /items?since={cursor}&page={page}
        readUrl: /items/{id}?locale={locale}
        writeUrl: /items/{id}?locale={locale}
        writeMethod: PATCH
    sourceLocale: en
    targetLocales: [de]
"""


def where(tmp_path: Path, line: int) -> str:
    return f"{tmp_path / 'locsync.yaml'}:{line}: "


def test_strapi_source_loads_with_defaults(tmp_path: Path) -> None:
    loaded = load_config(write_config(tmp_path, VALID))
    (source,) = loaded.config.sources
    cms = source.cms
    assert cms is not None
    assert source.label == "blog"
    assert cms.base_url == "http://127.0.0.1:1337"  # trailing slash dropped
    assert cms.collection == "articles"
    assert cms.field_specs == [
        CmsField(path="title"),
        CmsField(path="body", kind="markdown"),
        CmsField(path="seo.description"),
    ]
    assert cms.overlap_seconds == 2
    assert cms.poll_seconds == 30 and cms.read_status == "published" and cms.write_status == "draft"
    assert cms.webhook_header == "X-Hook-Secret"
    assert source.include == []


def test_http_source_loads_with_its_templates(tmp_path: Path) -> None:
    (source,) = load_config(write_config(tmp_path, HTTP)).config.sources
    assert source.cms is not None and source.cms.http is not None
    assert source.cms.http.write_method == "PATCH"
    assert source.cms.http.items == "data" and source.cms.http.page_size == 100
    assert source.label == "docs"


def test_unnamed_cms_source_is_labelled_by_its_collection(tmp_path: Path) -> None:
    (source,) = load_config(write_config(tmp_path, VALID.replace("  - name: blog\n    cms:", "  - cms:"))).config.sources
    assert source.label == "articles"


def test_strapi_without_collection(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("      collection: articles\n", ""))
    assert line.startswith(where(tmp_path, 4) + "sources.0.cms: ")
    assert "kind 'strapi' needs 'collection'" in line


def test_http_without_http_block(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("kind: strapi", "kind: http"))
    assert line.startswith(where(tmp_path, 4) + "sources.0.cms: ")
    assert "kind 'http' needs an 'http' block" in line


def test_http_block_missing_a_template(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, HTTP.replace("        readUrl: /items/{id}?locale={locale}\n", ""))
    assert line.startswith(where(tmp_path, 8) + "sources.0.cms.http.readUrl: ")
    assert "required" in line.lower()


def test_include_together_with_cms(tmp_path: Path) -> None:
    text = VALID.replace("  - name: blog\n", "  - name: blog\n    include: ['locales/[locale].json']\n")
    (line,) = config_problems(tmp_path, text)
    assert line.startswith(where(tmp_path, 2) + "sources.0: ")
    assert "either files ('include') or a CMS ('cms'), not both" in line


@pytest.mark.parametrize("name", ["my blog", "blog/posts", "blög", "a:b"])
def test_bad_name_of_a_cms_source(tmp_path: Path, name: str) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("name: blog", f"name: '{name}'"))
    assert line.startswith(where(tmp_path, 2) + "sources.0: ")
    assert f"name '{name}' of a CMS source" in line


def test_repeated_fields(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("        - seo.description\n", "        - seo.description\n        - title\n"))
    assert line.startswith(where(tmp_path, 8) + "sources.0.cms.fields: ")
    assert "fields must not repeat" in line


def test_repeated_field_given_once_as_text_and_once_as_object(tmp_path: Path) -> None:
    text = VALID.replace("        - seo.description\n", "        - seo.description\n        - path: body\n")
    (line,) = config_problems(tmp_path, text)
    assert "sources.0.cms.fields: " in line and "must not repeat" in line


def test_bad_field_path(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("        - seo.description\n", "        - seo..description\n"))
    assert line.startswith(where(tmp_path, 11) + "sources.0.cms.fields.2.path: ")
    assert "'seo..description' is not a field path" in line


def test_misspelled_key_inside_cms_suggests_the_right_one(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("overlapSeconds: 2", "overlapSecond: 2"))
    assert line.startswith(where(tmp_path, 14) + "sources.0.cms.overlapSecond: unknown key")
    assert "did you mean 'overlapSeconds'?" in line


def test_misspelled_key_inside_the_http_block_suggests_the_right_one(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, HTTP.replace("writeMethod: PATCH", "writeMetod: PATCH"))
    assert line.startswith(where(tmp_path, 11) + "sources.0.cms.http.writeMetod: unknown key")
    assert "did you mean 'writeMethod'?" in line


def test_misspelled_key_inside_a_field_object(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("          kind: markdown", "          kinds: markdown"))
    assert line.startswith(where(tmp_path, 10) + "sources.0.cms.fields.1.kinds: unknown key")
    assert "did you mean 'kind'?" in line


@pytest.mark.parametrize("url", ["ftp://cms.local", "cms.local", "127.0.0.1:1337"])
def test_non_http_base_url(tmp_path: Path, url: str) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("http://127.0.0.1:1337/", url))
    assert line.startswith(where(tmp_path, 5) + "sources.0.cms.baseUrl: ")
    assert f"'{url}' is not an http(s) URL" in line


def test_unknown_kind(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("kind: strapi", "kind: contentful"))
    assert line.startswith(where(tmp_path, 4) + "sources.0.cms.kind: ")


def test_several_cms_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("overlapSeconds: 2", "overlapSecond: 2").replace("http://127.0.0.1:1337/", "cms.local")
    lines = config_problems(tmp_path, text)
    assert len(lines) == 2
    assert any(line.startswith(where(tmp_path, 5) + "sources.0.cms.baseUrl:") for line in lines)
    assert any(line.startswith(where(tmp_path, 14) + "sources.0.cms.overlapSecond:") for line in lines)


@pytest.mark.parametrize("unnamed", [False, True])
def test_two_cms_sources_with_the_same_label_are_rejected(tmp_path: Path, unnamed: bool) -> None:
    source = HTTP.split("sources:\n", 1)[1]
    if unnamed:
        source = source.replace("  - name: docs\n    cms:", "  - cms:")
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, "sources:\n" + source + source))
    assert "sources.1" in str(info.value)
