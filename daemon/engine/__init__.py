"""The reference engine: a local Lingo.dev-compatible async localization server."""

from __future__ import annotations

from daemon.engine.app import Engine, serve
from daemon.engine.settings import EngineSettings, Knobs

__all__ = ["Engine", "EngineSettings", "Knobs", "serve"]
