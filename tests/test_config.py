"""Config loading: valid files load; every problem names the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import load_config
from daemon.errors import ConfigError
from tests.helpers import config_problems, write_config

REPO = Path(__file__).resolve().parents[1]

VALID = """\
sources:
  - include: ["locales/[locale].json"]
    sourceLocale: en
    targetLocales: [de, fr]
    lockedKeys: ["meta/build"]
provider:
  kind: embedded
"""


def test_valid_config_loads_with_defaults(tmp_path: Path) -> None:
    loaded = load_config(write_config(tmp_path, VALID))
    source = loaded.config.sources[0]
    assert source.target_locales == ["de", "fr"]
    assert source.locked_keys == ["meta/build"]
    assert loaded.config.git.enabled is True
    assert loaded.state_path == (tmp_path / ".locsync/state.db").resolve()


def test_example_config_and_quickstart_config_load() -> None:
    load_config(REPO / "config.example.yaml")
    load_config(REPO / "daemon/examples/quickstart/locsync.yaml")


def test_unknown_key_names_line_and_suggests(tmp_path: Path) -> None:
    text = VALID.replace("    lockedKeys:", "    lockdKeys:")
    (line,) = config_problems(tmp_path, text)
    assert line.startswith(f"{tmp_path / 'locsync.yaml'}:5: sources.0.lockdKeys: unknown key")
    assert "did you mean 'lockedKeys'" in line


def test_unknown_format_lists_known_formats(tmp_path: Path) -> None:
    text = VALID.replace("  - include:", "  - format: jsn\n    include:")
    (line,) = config_problems(tmp_path, text)
    assert ":2: sources.0.format:" in line
    assert "unknown format 'jsn'" in line and "json" in line


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("[de, fr]", "[de, 'not a locale']").replace("kind: embedded", "kind: lingoo")
    lines = config_problems(tmp_path, text)
    assert len(lines) == 2
    assert any(":4: sources.0.targetLocales:" in line and "not a locale" in line for line in lines)
    assert any(":7: provider.kind:" in line for line in lines)


def test_source_locale_as_target_is_rejected(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("[de, fr]", "[de, en]"))
    assert "source locale 'en' cannot also be a target" in line


def test_include_without_placeholder_is_rejected(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID.replace("locales/[locale].json", "locales/en.json"))
    assert ":2: sources.0:" in line and "no '[locale]' placeholder" in line


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    (line,) = config_problems(tmp_path, VALID + "  bad: [unclosed\n")
    assert "invalid YAML" in line
    assert line.startswith(f"{tmp_path / 'locsync.yaml'}:9:")


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "file not found" in str(info.value)
