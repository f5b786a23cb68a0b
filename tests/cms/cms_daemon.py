"""``locsync run`` on a content folder whose only source is one CMS: what the Strapi and Wagtail
end-to-end tests share. Each test module subclasses :class:`CmsDaemon` with its own ``cms`` block.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from tests.e2e.harness import ENGINE_KEY, WEBHOOK_SECRET, EngineProcess, LocsyncProcess
from tests.helpers import free_port


class CmsDaemon:
    """A locsync config with the single source ``name`` (``en`` into ``de`` and ``fr``) read from
    the CMS described by ``cms``, translated by ``engine``; :meth:`run` starts ``locsync run`` on it.

    ``env`` adds the CMS's secrets to the daemon's environment (beside the webhook secret and the
    engine's API key).
    """

    def __init__(self, root: Path, engine: EngineProcess, name: str, cms: dict[str, Any], env: dict[str, str]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.name = name
        config = {
            "sources": [{
                "name": self.name,
                "sourceLocale": "en",
                "targetLocales": ["de", "fr"],
                "cms": cms,
            }],
            "provider": engine.lingo_provider(),
            "server": {"port": self.port, "publicUrl": f"http://127.0.0.1:{self.port}"},
            "git": {"enabled": False},
            "sync": {"pollingModeSeconds": 0.5},
        }
        self.config_path = root / "locsync.yaml"
        self.config_path.write_text(json.dumps(config, indent=2))
        self.env = {**os.environ, **env, "LOCSYNC_WEBHOOK_SECRET": WEBHOOK_SECRET, "LINGO_API_KEY": ENGINE_KEY}

    def run(self) -> LocsyncProcess:
        """``locsync run`` on the config, once it logs ``daemon_ready``."""
        process = LocsyncProcess(["run", "-c", str(self.config_path)],
                                 self.root / f"locsync-{time.monotonic_ns()}.log", self.env, self.root)
        process.wait_event("daemon_ready", timeout=60)
        return process
