"""Crash anywhere: 20+ SIGKILLs of ``locsync run`` under a stream of edits lose, duplicate and corrupt nothing."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.chaos import run_chaos


def test_sigkill_at_random_points_loses_duplicates_and_corrupts_nothing(tmp_path: Path) -> None:
    kills = int(os.environ.get("LOCSYNC_CHAOS_KILLS", "20"))
    report = run_chaos(tmp_path, kills=kills, seed=int(os.environ.get("LOCSYNC_CHAOS_SEED", "1")))
    print(report.line(), report.kill_points)
    assert report.problems == []
    assert report.kills >= 20
    assert (report.lost, report.duplicated, report.corrupt, report.mixed_commits) == (0, 0, 0, 0)
