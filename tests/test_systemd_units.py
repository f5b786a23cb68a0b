"""The unit files: ``systemd-analyze verify`` and ``security`` (offline; PID 1 need not be systemd).

``verify`` rejects a unit whose ExecStart binary does not exist, so each unit is checked as
a copy whose ExecStart points at this Python; an unknown key is only a warning with exit
code 0, so any output on stderr fails the test. The exposure score is printed (``-s``) and
must stay at or below ``MAX_EXPOSURE``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[1] / "systemd"
MAX_EXPOSURE = 2.0
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed (apt-get install systemd)")


def _checkable_copy(unit: str, folder: Path) -> Path:
    text = (UNITS / unit).read_text()
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={sys.executable}", text, flags=re.M)
    path = folder / unit
    path.write_text(text)
    return path


def _analyze(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


@needs_analyze
@pytest.mark.parametrize(("unit", "instance"), [("locsync.service", "locsync.service"),
                                                 ("locsync@.service", "locsync@docs.service")])
def test_unit_verifies_cleanly_and_is_well_hardened(tmp_path: Path, unit: str, instance: str) -> None:
    _checkable_copy(unit, tmp_path)
    verify = _analyze("verify", f"./{instance}", cwd=tmp_path)
    assert verify.returncode == 0 and verify.stderr == "", verify.stderr
    security = _analyze("security", "--offline=yes", f"./{instance}", cwd=tmp_path)
    assert security.returncode == 0, security.stderr
    match = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", security.stdout)
    assert match, security.stdout[-500:]
    print(f"systemd-analyze security {instance}: {match.group(1)} {match.group(2)}")
    assert float(match.group(1)) <= MAX_EXPOSURE


@needs_analyze
def test_a_misspelled_key_fails_the_check(tmp_path: Path) -> None:
    path = _checkable_copy("locsync.service", tmp_path)
    path.write_text(path.read_text().replace("WatchdogSec=", "WatchdogSecs="))
    verify = _analyze("verify", "./locsync.service", cwd=tmp_path)
    assert "Unknown key 'WatchdogSecs'" in verify.stderr


def _directives(unit: str) -> list[str]:
    return [line for line in (UNITS / unit).read_text().splitlines() if line and not line.startswith("#")]


def test_template_has_the_same_settings_with_the_instance_name_in_its_paths() -> None:
    single, template = _directives("locsync.service"), _directives("locsync@.service")
    assert len(single) == len(template)
    differing = {a: b for a, b in zip(single, template, strict=True) if a != b}
    assert all("%i" in b for b in differing.values()), differing
    assert {line.split("=", 1)[0] for line in differing} == {
        "Description", "ExecStart", "StateDirectory", "Environment", "WorkingDirectory", "LoadCredential",
        "ReadWritePaths"}
    for required in ("Type=notify", "NotifyAccess=main", "WatchdogSec=30s", "Restart=on-failure", "KillMode=mixed",
                     "User=locsync", "ProtectSystem=strict", "NoNewPrivileges=yes", "CapabilityBoundingSet=",
                     "SystemCallFilter=@system-service", "UMask=0027", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert required in single, required


def test_every_service_setting_says_why() -> None:
    """Each directive in [Service] is preceded by a comment (directly or as part of its group)."""
    lines = (UNITS / "locsync.service").read_text().splitlines()
    section = ""
    for index, line in enumerate(lines):
        if line.startswith("["):
            section = line
            continue
        if section != "[Service]" or not line or line.startswith("#"):
            continue
        above = index - 1
        while above >= 0 and lines[above] and not lines[above].startswith("#"):
            above -= 1  # consecutive directives share the comment above them
        assert above >= 0 and lines[above].startswith("#"), line
