"""Idle cost of ``locsync run``: ``python bench/idle.py [--files N] [--seconds S]``.

Generates ``--files`` source files (default 10,000; 100 per folder, 5 keys each) whose de/fr
targets already exist (adopted at start-up, so nothing is sent), starts ``locsync run``
(git enabled, default timers; the reference engine in its own process unless ``--engine
embedded``, as a remote provider would be), waits for ``daemon_ready``, then for
``--seconds`` (default 60) with nothing changing samples once a second, from
``/proc/<pid>/status`` and ``/proc/<pid>/stat``: RSS (mean and max over the window), CPU
(utime + stime over the window, as % of one core), threads, open files and inotify watches.

The baseline is an idle ``python -c 'import time; time.sleep(...)'`` sampled in the same window.
The project goes to /dev/shm when it exists: the start-up scan writes one SQLite transaction per
file and locale, and fsyncs on this disk would make start-up alone exceed the time budget;
nothing is written while idle, so the idle figures do not depend on where the files are.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import child_env, make_project, proc_cpu_seconds, proc_rss_mb, read_events, warm_up
from tests.e2e.harness import EngineProcess, LocsyncProcess
from tests.helpers import free_port


def inotify_watches(pid: int) -> int:
    count = 0
    for fd in Path(f"/proc/{pid}/fdinfo").iterdir():
        try:
            count += fd.read_text().count("inotify wd:")
        except OSError:
            continue
    return count


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread (``name/tid``), from ``/proc/<pid>/task/<tid>/stat``."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found[f"{(task / 'comm').read_text().strip()}/{task.name}"] = proc_cpu_seconds(pid, task.name)
        except OSError:
            continue
    return found


def sample(pids: dict[str, int], seconds: float) -> dict[str, dict[str, float]]:
    """RSS every second and CPU over ``seconds`` for each process."""
    cpu0 = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
    threads0 = thread_cpu(pids["locsync"])
    rss: dict[str, list[float]] = {name: [] for name in pids}
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        for name, pid in pids.items():
            rss[name].append(proc_rss_mb(pid)[0])
        time.sleep(min(1.0, max(0.0, seconds - elapsed)))
    elapsed = time.monotonic() - started
    found: dict[str, dict[str, float]] = {
        name: {"rss_mean": statistics.mean(rss[name]), "rss_max": max(rss[name]),
               "cpu_pct": (proc_cpu_seconds(pid) - cpu0[name]) / elapsed * 100}
        for name, pid in pids.items()}
    found["threads"] = {name: (cpu - threads0.get(name, 0.0)) / elapsed * 100
                        for name, cpu in thread_cpu(pids["locsync"]).items()}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0, help="idle window")
    parser.add_argument("--engine", choices=("standalone", "embedded"), default="standalone",
                        help="standalone (default): the reference engine in its own process (lingo provider), "
                             "as in production where the provider is a remote API, and as the cold-sync "
                             "target is measured (scale.py --engine standalone); embedded adds the engine's "
                             "own modules and state to locsync's process (the try-it-without-an-account setup)")
    args = parser.parse_args()
    warm_up()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; "
          f"{args.engine} engine")
    base = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="locsync-idle-", dir=base) as tmp:
        started = time.monotonic()
        engine = EngineProcess(Path(tmp) / "engine") if args.engine == "standalone" else None
        config = None
        if engine is not None:
            port = free_port()
            config = {"provider": engine.lingo_provider(),
                      "server": {"port": port, "publicUrl": f"http://127.0.0.1:{port}"}}
        project = make_project(Path(tmp) / "project", files=args.files, keys=args.keys, targets=True, config=config)
        generated = time.monotonic() - started
        log = project.root / "run.log"
        proc = LocsyncProcess(["run", "-c", str(project.config_path)], log, project.env(), project.root)
        sleeper = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({args.seconds + 600})"],
                                   env=child_env())
        try:
            started = time.monotonic()
            proc.wait_event("daemon_ready", timeout=600)
            ready = time.monotonic() - started
            pid = proc.proc.pid
            startup_hwm = proc_rss_mb(pid)[1]
            time.sleep(1.0)  # let the last start-up wake-ups settle
            lines_before = len(read_events(log))
            found = sample({"locsync": pid, "sleep": sleeper.pid}, args.seconds)
            watches = inotify_watches(pid)
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            during = read_events(log)[lines_before:]
        finally:
            sleeper.kill()
            sleeper.wait()
            code = proc.stop()
            if engine is not None:
                engine.stop()
    ours, idle, per_thread = found["locsync"], found["sleep"], found["threads"]
    print(f"{args.files} source files ({3 * args.files} files with targets) generated in {generated:.1f} s; "
          f"locsync ready after {ready:.1f} s (start-up peak RSS {startup_hwm:.1f} MB)")
    print(f"idle {args.seconds:.0f} s: locsync RSS mean {ours['rss_mean']:.1f} MB max {ours['rss_max']:.1f} MB, "
          f"CPU {ours['cpu_pct']:.2f}% of a core "
          f"({', '.join(f'{name} {pct:.2f}%' for name, pct in sorted(per_thread.items()))}); "
          f"{fds} open fds, {watches} inotify watches; "
          f"{len(during)} log events ({', '.join(sorted({e['event'] for e in during})) or 'none'})")
    print(f"baseline python sleep: RSS {idle['rss_mean']:.1f} MB, CPU {idle['cpu_pct']:.2f}%")
    print(f"ratio: RSS {ours['rss_mean'] / idle['rss_mean']:.1f}x, RSS above baseline "
          f"{ours['rss_mean'] - idle['rss_mean']:.1f} MB; targets <= 60 MB RSS, <= 1% CPU")
    return code


if __name__ == "__main__":
    sys.exit(main())
