"""Every YAML config shown in the README loads: a documented example never rots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from daemon.config import load_config

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = [block for block in re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
          if re.search(r"^sources:", block, re.M)]


def test_the_readme_shows_a_cms_config() -> None:
    assert any("cms:" in block for block in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
def test_readme_config_loads(block: str, tmp_path: Path) -> None:
    path = tmp_path / "locsync.yaml"
    path.write_text(block, encoding="utf-8")
    loaded = load_config(path)
    assert loaded.config.sources
