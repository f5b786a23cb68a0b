from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from daemon.config import LoadedConfig, load_config


def make_project(root: Path, source: dict[str, Any], *, provider: dict[str, Any] | None = None,
                 targets: tuple[str, ...] = ("de",), source_extra: dict[str, Any] | None = None) -> LoadedConfig:
    """A git repository with locales/en.json and a locsync.yaml; returns the loaded config."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / "locales").mkdir()
    (root / "locales/en.json").write_text(json.dumps(source, indent=2) + "\n")
    config = {
        "sources": [{"include": ["locales/[locale].json"], "sourceLocale": "en", "targetLocales": list(targets),
                     **(source_extra or {})}],
        "provider": provider or {"kind": "embedded"},
        "server": {"port": 0},
        "git": {"enabled": False},
    }
    (root / "locsync.yaml").write_text(json.dumps(config))
    return load_config(root / "locsync.yaml")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
