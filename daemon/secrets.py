"""Secrets that cannot leak by accident: their repr and str are redacted.

Secrets come from an environment variable, a file, or a systemd credential
(``$CREDENTIALS_DIRECTORY/<name>``), never inline in the config file.
"""

from __future__ import annotations

import os
from pathlib import Path


class Secret:
    """A secret string; call ``reveal()`` at the one place that needs the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def load_secret(*, env: str | None, file: str | None, credential: str | None, base: Path) -> Secret | None:
    """Read a secret from the first source that is configured and present.

    Raises ``ValueError`` naming the source (never the value) when a configured
    file cannot be read or is empty.
    """
    if credential:
        cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred_dir and (Path(cred_dir) / credential).is_file():
            return _read_file(Path(cred_dir) / credential)
    if env and os.environ.get(env):
        return Secret(os.environ[env].strip())
    if file:
        return _read_file(base / file)
    return None


def _read_file(path: Path) -> Secret:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from exc
    if not value:
        raise ValueError(f"secret file {path} is empty")
    return Secret(value)
