"""Every format through the real sync loop (embedded engine, in process): a source file in,
target files out that parse back with the engine's translations, and a second sync that
changes nothing byte for byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from daemon.config import load_config
from daemon.engine.translators.pseudo import pseudo_translate
from daemon.formats import get_format
from daemon.runtime import sync_once

pytestmark = pytest.mark.anyio

SAMPLES: dict[str, tuple[str, str]] = {
    "json": ("locales/[locale].json", '{\n  "app": {\n    "title": "Welcome {name}"\n  },\n  "n": 3\n}\n'),
    "i18next": ("locales/[locale].json", '{\n  "cart_one": "{{count}} item",\n  "cart_other": "{{count}} items"\n}\n'),
    "formatjs": ("lang/[locale].json", '{\n  "app.title": {\n    "defaultMessage": "Hello {name}",\n'
                 '    "description": "Greeting"\n  }\n}\n'),
    "yaml-rails": ("config/locales/[locale].yml", 'en:\n  # greeting shown on the home page\n  hello: "Hello %{name}"\n'
                   "  nested:\n    bye: Goodbye\n"),
    "yaml": ("i18n/[locale].yaml", "hello: Hello\nbye: 'Goodbye'\n"),
    "po": ("po/[locale].po", 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: en\\n"\n\n'
           '#: app.py:1\nmsgid "Hello %s"\nmsgstr "Hello %s"\n\nmsgctxt "menu"\nmsgid "Open"\nmsgstr "Open"\n'),
    "xliff": ("messages.[locale].xlf", '<?xml version="1.0" encoding="UTF-8"?>\n'
              '<xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2">\n'
              '  <file source-language="en" datatype="plaintext" original="ng2.template">\n    <body>\n'
              '      <trans-unit id="greeting" datatype="html">\n        <source>Hello <x id="INTERPOLATION"/></source>\n'
              "      </trans-unit>\n    </body>\n  </file>\n</xliff>\n"),
    "apple-strings": ("[locale].lproj/Localizable.strings", '/* Greeting */\n"greeting" = "Hello %@";\n"bye" = "Bye";\n'),
    "arb": ("lib/l10n/app_[locale].arb", '{\n  "@@locale": "en",\n  "hello": "Hello {name}",\n  "@hello": {\n'
            '    "placeholders": {\n      "name": {}\n    }\n  }\n}\n'),
    "properties": ("messages_[locale].properties", "# Greetings\ngreeting=Hello {0}\nbye = Bye\n"),
    "markdown": ("docs/[locale]/guide.md", "---\ntitle: Guide\nweight: 2\n---\n\n# Getting started\n\n"
                 "Install it with `pip install x` and run it.\n\n```sh\nx --help\n```\n"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_format_syncs_through_the_daemon(tmp_path: Path, name: str) -> None:
    pattern, text = SAMPLES[name]
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    source = root / pattern.replace("[locale]", "en")
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(text)
    config = {"sources": [{"format": name, "include": [pattern], "sourceLocale": "en", "targetLocales": ["de", "pl"]}],
              "provider": {"kind": "embedded"}, "server": {"port": 0}, "git": {"enabled": False}}
    (root / "locsync.yaml").write_text(json.dumps(config))
    loaded = load_config(root / "locsync.yaml")
    result = await sync_once(loaded, allow_deletions=False, timeout=60)
    assert (result.exit_code, result.errors, result.failed) == (0, [], [])

    fmt = get_format(name)
    parsed_source = fmt.parse(source.read_bytes(), path=str(source), locale="en")
    for locale in ("de", "pl"):
        target = root / pattern.replace("[locale]", locale)
        parsed = fmt.parse(target.read_bytes(), path=str(target), locale=locale)
        for key, value in parsed_source.entries.items():
            if isinstance(value, str) and value.strip() and "/#" not in key:
                assert parsed.entries.get(key) == pseudo_translate(value, locale), (locale, key, parsed.entries)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    again = await sync_once(loaded, allow_deletions=False, timeout=60)
    assert again.exit_code == 0
    after = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}
    changed = [str(p) for p in after if before.get(p) != after[p] and ".locsync" not in p.parts]
    assert changed == []


async def test_android_default_folder_and_region_spelling(tmp_path: Path) -> None:
    """``values/`` holds the source (``pathLocales: {en: ""}``); ``pt-BR`` lives in ``values-pt-rBR/``."""
    root = tmp_path / "repo"
    (root / "res/values").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / "res/values/strings.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<resources>\n    <string name="hello">Hello %1$s</string>\n'
        '    <plurals name="items">\n        <item quantity="one">%d item</item>\n'
        '        <item quantity="other">%d items</item>\n    </plurals>\n</resources>\n')
    config = {"sources": [{"format": "android", "include": ["res/values-[locale]/strings.xml"], "sourceLocale": "en",
                           "targetLocales": ["pt-BR", "pl"], "pathLocales": {"en": "", "pt-BR": "pt-rBR"}}],
              "provider": {"kind": "embedded"}, "server": {"port": 0}, "git": {"enabled": False}}
    (root / "locsync.yaml").write_text(json.dumps(config))
    result = await sync_once(load_config(root / "locsync.yaml"), allow_deletions=False, timeout=60)
    assert (result.exit_code, result.errors) == (0, [])
    android = get_format("android")
    pt = android.parse((root / "res/values-pt-rBR/strings.xml").read_bytes(), path="pt", locale="pt-BR")
    assert pt.entries["hello"] == pseudo_translate("Hello %1$s", "pt-BR")
    pl = android.parse((root / "res/values-pl/strings.xml").read_bytes(), path="pl", locale="pl")
    assert sorted(k for k in pl.entries if k.startswith("items/")) == [
        "items/#few", "items/#many", "items/#one", "items/#other"]
    assert not (root / "res/values-en").exists()
