"""Long crash-anywhere run: ``python bench/chaos.py [--kills N] [--seed S]``.

Kills ``locsync run`` with SIGKILL N times (default 200) at random points under a stream of
source edits, with the reference engine delaying, reordering and duplicating deliveries,
then lets one daemon converge and prints ``kills, lost, duplicated, corrupt``. The baseline
is the same harness's convergence with no kills at all, measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.chaos import run_chaos


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None,
                        help="run in this folder and keep it: every daemon's log, the state and the engine's database")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="locsync-chaos-")))
        folder.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        baseline = run_chaos(Path(folder) / "baseline", kills=0, seed=args.seed)
        baseline_s = time.monotonic() - started
        started = time.monotonic()
        report = run_chaos(Path(folder) / "chaos", kills=args.kills, seed=args.seed)
        chaos_s = time.monotonic() - started
    print(f"kills, lost, duplicated, corrupt: {report.kills}, {report.lost}, {report.duplicated}, {report.corrupt}")
    print(f"edits={report.edits} mixed_commits={report.mixed_commits} problems={report.problems}")
    print(f"kill points: {dict(sorted(report.kill_points.items()))}")
    print(f"time: {chaos_s:.1f}s for {report.kills} kill cycles ({chaos_s / max(report.kills, 1):.2f}s each); "
          f"baseline without kills {baseline_s:.1f}s; final convergence {report.converge_seconds:.1f}s "
          f"(baseline {baseline.converge_seconds:.1f}s)")
    bad = report.lost or report.duplicated or report.corrupt or report.mixed_commits or report.problems
    if bad and args.keep:
        print(f"kept for inspection: {args.keep / 'chaos'} (locsync-*.log per daemon run, .locsync/state.db)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
