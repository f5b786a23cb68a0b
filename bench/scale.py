"""How ``locsync sync --once`` scales with the repository: ``python bench/scale.py [--files N] [--scaling]``.

Generates two projects in git repositories (two target locales, seeded random sentences, ~20%
with ``{count}``, two levels of nesting): N JSON files x 25 keys (default 200) and one file of
5,000 keys. Each is synced by a real ``locsync sync --once`` subprocess with the embedded
reference engine (pseudo translator, zero model latency) and git enabled, three phases in a row:

- cold: no target files yet, every key goes to the provider (median of ``--cold-runs`` runs, each
  on a project of its own generated with another seed: one cold run's CPU time varies by ~15% here);
- one-key: one key of one source file edited (median of ``--repeat`` runs, a new edit each);
- no-op: nothing changed, once the files are older than the racy window: the first run takes the
  full path (``no-op``), the next ``--repeat`` runs are answered from its snapshot (``no-op*``).

Per phase it prints wall time, CPU time and peak RSS of the locsync process (``wait4``), the
provider requests it made (by endpoint, counted by wrapping ``httpx.AsyncClient.send`` in the
locsync process), webhooks received, job groups and keys x locales sent (from its JSON log) and
commits. Baselines measured in the same run over the same files: ``sha256sum`` (a subprocess),
a ``json.loads`` + ``json.dumps`` pass (in process), and the start-up floor
``python -m daemon --version``. ``--scaling`` also runs the N-file project at 1x, 2x and 4x N
and prints the no-op and one-key times per size: they must follow the changed content
(constant), not the repository size. ``--engine standalone`` runs the reference engine as its
own process (lingo provider), so the locsync process's CPU time is locsync's own work.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import Finished, Project, locsync_argv, make_project, run_to_completion, timed, warm_up
from daemon.fastpath import RACY_SECONDS
from tests.e2e.harness import EngineProcess
from tests.helpers import free_port

KEYS_PER_FILE = 25
BIG_FILE_KEYS = 5000


@dataclass
class Phase:
    name: str
    runs: list[Finished]

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def typical(self) -> Finished:
        """The run with the median wall time (its counters are shown)."""
        return sorted(self.runs, key=lambda r: r.wall)[len(self.runs) // 2]

    def line(self) -> str:
        run = self.typical
        http = run.http
        keys = sum(e["keys"] * len(e["locales"]) for e in run.events("submission_queued"))
        provider = sum(n for k, n in http.items() if "/jobs/localization" in k)
        ok = "" if all(r.code == 0 for r in self.runs) else f"  EXIT {[r.code for r in self.runs]}"
        runs = (f"  [{len(self.runs)} runs, wall s / cpu s: {', '.join(f'{r.wall:.3f}/{r.cpu:.2f}' for r in self.runs)}]"
                if len(self.runs) > 1 else "")
        cpu = statistics.median(r.cpu for r in self.runs)
        return (f"{self.name:<8} {self.wall:7.3f} s  cpu {cpu:6.2f} s  rss {run.maxrss_mb:6.1f} MB  "
                f"provider req {provider:4d} (submit {http['POST /jobs/localization']}, "
                f"group {http['GET /jobs/localization/groups/{id}']}, job {http['GET /jobs/localization/{id}']}, "
                f"list {http['GET /jobs/localization']})  webhooks in {len(run.events('webhook_received'))}  "
                f"groups {len(run.events('job_group_submitted'))}  keys sent {keys}  "
                f"commits {len(run.events('git_committed'))}{ok}{runs}")


def sync_once(project: Project, label: str) -> Finished:
    log = project.root / f"{label}-{time.monotonic_ns()}.log"
    return run_to_completion(locsync_argv("sync", "--once", "-c", str(project.config_path)), cwd=project.root,
                             env=project.env(), log=log, count_http=True)


def phases(project: Project, repeat: int, rng: random.Random, first: str = "cold",
           more_first: tuple[Project, ...] = ()) -> dict[str, Phase]:
    """``more_first``: other never-synced projects, each synced once more for the first phase."""
    cold = Phase(first, [sync_once(p, first) for p in (*more_first, project)])
    edits = []
    for n in range(repeat):
        project.edit(n, rng)
        edits.append(sync_once(project, "one-key"))
    # a real no-op run comes long after the last write; the bench waits out the 1 s window in which
    # a file's stat cannot vouch for its content (daemon.fastpath.RACY_SECONDS), then runs twice:
    # the first takes the full path (scan fingerprints) and leaves the snapshot, the rest use it
    time.sleep(RACY_SECONDS + 0.1)
    noop = Phase("no-op", [sync_once(project, "noop")])
    fast = Phase("no-op*", [sync_once(project, "noop-fast") for _ in range(repeat)])
    return {first: cold, "one-key": Phase("one-key", edits), "no-op": noop, "no-op*": fast}


def json_pass(files: list[Path], repeat: int = 3) -> float:
    blobs = [p.read_bytes() for p in files]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for blob in blobs:
            json.dumps(json.loads(blob), indent=2, ensure_ascii=False).encode()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(name: str, project: Project, repeat: int, rng: random.Random,
            more_cold: tuple[Project, ...] = ()) -> dict[str, Phase]:
    found = phases(project, repeat, rng, more_first=more_cold)
    files = project.files()
    sha = timed(["sha256sum", *map(str, files)])
    js = json_pass(files)
    size = sum(p.stat().st_size for p in files) / 1e6
    print(f"\n== {name}: {len(project.sources)} source files, {len(files)} files on disk, {size:.1f} MB")
    for phase in found.values():
        print("  " + phase.line())
    print(f"  baselines: sha256sum {sha * 1000:.1f} ms, json.loads+dumps {js * 1000:.1f} ms (same {len(files)} files)")
    for label in ("no-op*", "no-op", "one-key"):
        wall = found[label].wall
        print(f"  {label:<8} = {wall / sha:6.1f}x sha256sum, {wall / js:6.1f}x json pass")
    print("  (no-op: the first run after a change, full path; no-op*: the runs after it, answered from the "
          "snapshot by daemon.fastpath)")
    return found


def scaling(args: argparse.Namespace, folder: Path, rng: random.Random, engine: EngineProcess | None) -> None:
    """1x, 2x, 4x the files. The targets exist from the start (adopted by the first sync, nothing
    sent), so the sizes are set up quickly; the one-key and no-op runs after it are the same as
    after a cold sync."""
    print(f"\n== scaling: {args.files}, {2 * args.files}, {4 * args.files} files x {KEYS_PER_FILE} keys "
          f"(first sync adopts existing targets; one key changed per one-key run: cost should stay flat)")
    base: dict[str, float] = {}
    for factor in (1, 2, 4):
        files = factor * args.files
        project = make_project(folder / f"scale-{files}", files=files, keys=KEYS_PER_FILE, seed=args.seed,
                               targets=True, config=provider_config(engine))
        found = phases(project, args.repeat, rng, first="adopt")
        base = base or {k: p.wall for k, p in found.items()}
        print("  " + f"{files:5d} files: " + "  ".join(
            f"{k} {p.wall:6.3f} s ({p.wall / base[k]:.2f}x, cpu {statistics.median(r.cpu for r in p.runs):.2f} s)" for k, p in found.items()))


def provider_config(engine: EngineProcess | None) -> dict[str, Any] | None:
    """None for the embedded engine; else the lingo provider pointed at the standalone engine."""
    if engine is None:
        return None
    port = free_port()
    return {"provider": engine.lingo_provider(), "server": {"port": port, "publicUrl": f"http://127.0.0.1:{port}"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200, help="source files of the many-files project")
    parser.add_argument("--repeat", type=int, default=2, help="runs of the one-key and no-op phases (median)")
    parser.add_argument("--cold-runs", type=int, default=3,
                        help="cold runs of the N-file project, each on its own project (median; the 5,000-key file: 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scaling", action="store_true", help="also run 1x, 2x, 4x --files")
    parser.add_argument("--skip-big", action="store_true", help=f"skip the single {BIG_FILE_KEYS}-key file")
    parser.add_argument("--engine", choices=("embedded", "standalone"), default="embedded",
                        help="standalone: the engine in its own process (lingo provider), so the locsync "
                             "process's CPU time is locsync's own work")
    parser.add_argument("--keep", type=Path, default=None, help="generate the projects here and keep them")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="locsync-scale-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        warm_up()
        engine = EngineProcess(folder / "engine") if args.engine == "standalone" else None
        try:
            print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; "
                  f"{args.engine} engine")
            floor = timed(locsync_argv("--version"), cwd=folder)
            print(f"start-up floor (python -m daemon --version): {floor * 1000:.0f} ms")
            many = make_project(folder / "many", files=args.files, keys=KEYS_PER_FILE, seed=args.seed,
                                config=provider_config(engine))
            # other seeds: the same content would reuse the first run's idempotency keys, and a
            # standalone engine would answer with its finished groups instead of doing the work again
            more_cold = tuple(make_project(folder / f"many-cold{n}", files=args.files, keys=KEYS_PER_FILE,
                                           seed=args.seed + n, config=provider_config(engine))
                              for n in range(1, args.cold_runs))
            results = {"many": measure(f"{args.files} files x {KEYS_PER_FILE} keys", many, args.repeat, rng,
                                       more_cold)}
            if not args.skip_big:
                big = make_project(folder / "big", files=1, keys=BIG_FILE_KEYS, seed=args.seed,
                                   config=provider_config(engine))
                results["big"] = measure(f"1 file x {BIG_FILE_KEYS} keys", big, args.repeat, rng)
            if args.scaling:
                scaling(args, folder, rng, engine)
        finally:
            if engine is not None:
                engine.stop()
    found = results["many"]
    print(f"\ntargets ({args.files} files): no-op {found['no-op*'].wall:.3f} s repeated / {found['no-op'].wall:.3f} s "
          f"first after a change (<= 0.5 s, and <= 5x sha256sum), "
          f"one-key {found['one-key'].wall:.3f} s (<= 1 s), cold {found['cold'].wall:.3f} s wall / "
          f"{statistics.median(r.cpu for r in found['cold'].runs):.2f} s cpu, median of {len(found['cold'].runs)} "
          f"(locsync's own work <= 2 s; with the embedded engine the cpu includes the engine's)")
    return 1 if any(r.code for phases_ in results.values() for p in phases_.values() for r in p.runs) else 0


if __name__ == "__main__":
    sys.exit(main())
