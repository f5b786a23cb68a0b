"""Webhook ingest rate: ``python bench/ingest.py [--seconds S] [--concurrency C]``.

Sends signed Standard Webhooks deliveries (unique ``webhook-id``, ``translation.completed`` with
25 translated keys, signed with ``daemon.webhooks.signatures.signed_headers``) as fast as
``--concurrency`` keep-alive connections allow, for ``--seconds`` each, with each client in turn
(``--client``: one ``httpx.AsyncClient``, as a real sender uses, and a minimal hand-written one
that costs less than the servers it measures), to:

- bare: a uvicorn + Starlette app in a subprocess that reads the body and answers 200 (the
  same uvicorn as the daemon, same socket options);
- bare + journal: the same app, which also appends each body to a file and answers only after
  the ``fdatasync`` that covers it (group commit, one in flight, in a helper thread). Nothing
  else: no signature, no log, no SQLite. It is the floor for any receiver that keeps every
  accepted delivery on disk, measured in the same run;
- locsync: a real ``locsync run`` (lingo provider mode, ``LOCSYNC_WEBHOOK_SECRET`` set so the
  secret is known, provider base URL on a dead port, state DB on the same disk as the project).
  The jobs are unknown to it, so every delivery is verified, stored and then set aside by the
  daemon's inbox loop, as a real unknown-job delivery would be.

Prints deliveries/s of each and the ratios to bare, and proves durability: after the daemon
stops, the inbox rows carrying this run's webhook ids must equal the deliveries it answered 200,
and the journal must hold a line for each delivery the journal app answered 200. The client's
own CPU use is printed too: near one full core means the client, not the server, was the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench._common import WEBHOOK_SECRET, child_env, make_project, proc_cpu_seconds, warm_up
from daemon.webhooks.signatures import signed_headers
from tests.e2e.harness import LocsyncProcess
from tests.helpers import free_port, wait_until

BARE_APP = """
import socket, sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def hook(request):
    await request.body()
    return JSONResponse({"ok": True})

app = Starlette(routes=[Route("/webhooks/lingo", hook, methods=["POST"])])
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", int(sys.argv[1])))
uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)).run(sockets=[sock])
"""

JOURNAL_APP = BARE_APP.replace("""async def hook(request):
    await request.body()
    return JSONResponse({"ok": True})
""", """import asyncio, os

class Journal:
    \"\"\"Appends bodies to one file; a request is answered once an fdatasync covers its body.\"\"\"

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.pending, self.busy = [], False

    async def append(self, body):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.append((body, future))
        if not self.busy:
            self.busy = True
            loop.call_soon(self.flush)
        await future

    def flush(self):
        batch, self.pending = self.pending, []
        if not batch:
            self.busy = False
            return
        data = b"".join(body for body, _future in batch)
        done = asyncio.get_running_loop().run_in_executor(None, self.write, data)
        done.add_done_callback(lambda _done: self.settle(batch))

    def write(self, data):
        os.write(self.fd, data)
        os.fdatasync(self.fd)

    def settle(self, batch):
        for _body, future in batch:
            if not future.done():  # a request whose client went away
                future.set_result(None)
        self.flush()

journal = Journal(sys.argv[2])

async def hook(request):
    await journal.append(await request.body() + b"\\n")  # one line per delivery (the bodies are compact JSON)
    return JSONResponse({"ok": True})
""")
assert JOURNAL_APP != BARE_APP


WARM_UP_ROUNDS = 2
"""Rounds of one delivery per connection sent before the clock starts (they open the connections)."""


@dataclass
class Outcome:
    rate: float
    statuses: Counter[int]
    client_cpu: float
    server_cpu_ms: float
    """Server CPU time per delivery answered, from ``/proc/<pid>/stat``."""


def delivery(run: str, n: int) -> tuple[bytes, dict[str, str]]:
    job = f"ljb_bench{run}{n:08d}"
    body = json.dumps({
        "type": "translation.completed", "jobId": job, "groupId": f"ljg_bench{run}{n:08d}", "sourceLocale": "en",
        "targetLocale": "de", "data": {f"section/group/key_{k}": f"⟦de⟧ Ŵéĺçóɱé {{count}} ţó ŝéçţîóñ {k}" for k in range(25)},
    }, ensure_ascii=False, separators=(",", ":")).encode()
    headers = signed_headers(WEBHOOK_SECRET, f"msg_{job}", int(time.time()), body)
    return body, {**headers, "content-type": "application/json"}


Send = Callable[[bytes, dict[str, str]], Awaitable[int]]


@asynccontextmanager
async def httpx_senders(url: str, concurrency: int) -> AsyncIterator[list[Send]]:
    """One ``httpx.AsyncClient`` with ``concurrency`` keep-alive connections (one sender per worker)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    # TCP_NODELAY: without it each request's body can wait on Nagle behind its headers
    transport = httpx.AsyncHTTPTransport(limits=limits, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30) as client:

        async def send(body: bytes, headers: dict[str, str]) -> int:
            return (await client.post("/webhooks/lingo", content=body, headers=headers)).status_code

        yield [send] * concurrency


@asynccontextmanager
async def raw_senders(url: str, concurrency: int) -> AsyncIterator[list[Send]]:
    """Hand-written HTTP/1.1 keep-alive connections: a client too cheap to be the bottleneck."""
    host, port = httpx.URL(url).host, httpx.URL(url).port or 80
    connections = [await asyncio.open_connection(host, port) for _ in range(concurrency)]

    def sender(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Send:
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        async def send(body: bytes, headers: dict[str, str]) -> int:
            lines = ["POST /webhooks/lingo HTTP/1.1", f"host: {host}:{port}", f"content-length: {len(body)}",
                     *(f"{k}: {v}" for k, v in headers.items())]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            return status

        return send

    try:
        yield [sender(reader, writer) for reader, writer in connections]
    finally:
        for _reader, writer in connections:
            writer.close()


async def blast(url: str, run: str, args: argparse.Namespace, server_pid: int, client: str) -> Outcome:
    statuses: Counter[int] = Counter()
    counter = iter(range(10**9))
    senders = httpx_senders if client == "httpx" else raw_senders
    async with senders(url, args.concurrency) as sends:
        for _ in range(WARM_UP_ROUNDS):  # open every connection before the clock starts
            await asyncio.gather(*(send(*delivery(run + "w", next(counter))) for send in sends))
        deadline = time.monotonic() + args.seconds

        async def worker(send: Send) -> None:
            while time.monotonic() < deadline:
                statuses[await send(*delivery(run, next(counter)))] += 1

        cpu, server, started = time.process_time(), proc_cpu_seconds(server_pid), time.monotonic()
        await asyncio.gather(*(worker(send) for send in sends))
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
        server = proc_cpu_seconds(server_pid) - server
    return Outcome(statuses[200] / elapsed, statuses, cpu / elapsed, server / max(statuses[200], 1) * 1000)


def reachable(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.TransportError:
        return False


def run_app(args: argparse.Namespace, script: str, *argv: str) -> dict[str, Outcome]:
    """Serve ``script`` (``BARE_APP`` or ``JOURNAL_APP``) in a subprocess and send to it with each client."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", script, str(port), *argv], env=child_env())
    try:
        wait_until(lambda: reachable(f"http://127.0.0.1:{port}/"), timeout=30)
        return {client: asyncio.run(blast(f"http://127.0.0.1:{port}", f"bare{client}", args, proc.pid, client))
                for client in args.clients}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def run_daemon(args: argparse.Namespace, folder: Path) -> tuple[dict[str, Outcome], int, int]:
    """Returns the outcomes, inbox rows with the timed deliveries' ids, and the daemon's exit code."""
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    provider = {"kind": "lingo", "baseUrl": f"http://127.0.0.1:{dead.getsockname()[1]}"}
    project = make_project(folder / "project", files=1, keys=25, targets=True,
                           config={"provider": provider, "server": {"port": 0, "publicUrl": "https://bench.invalid"}})
    proc = LocsyncProcess(["run", "-c", str(project.config_path)], project.root / "run.log", project.env(), project.root)
    try:
        url = proc.wait_event("server_listening", timeout=60)["url"]
        proc.wait_event("daemon_ready", timeout=60)
        outcomes = {client: asyncio.run(blast(url, f"daemon{client}", args, proc.proc.pid, client))
                    for client in args.clients}
    finally:
        code = proc.stop()
        dead.close()
    with sqlite3.connect(project.root / ".locsync" / "state.db") as db:
        ids = [row[0] for row in db.execute("SELECT webhook_id FROM inbox")]
    timed = sum(1 for i in ids if any(i.startswith(f"msg_ljb_benchdaemon{c}0") for c in args.clients))
    return outcomes, timed, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="sending time per server and client")
    parser.add_argument("--concurrency", type=int, default=8, help="client connections")
    parser.add_argument("--client", choices=("httpx", "raw", "both"), default="both",
                        help="httpx.AsyncClient, a minimal hand-written HTTP/1.1 client, or both in turn")
    args = parser.parse_args()
    args.clients = ("httpx", "raw") if args.client == "both" else (args.client,)
    warm_up()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; "
          f"{args.concurrency} connections, {args.seconds:.0f} s per server and client")
    bare = run_app(args, BARE_APP)
    with tempfile.TemporaryDirectory(prefix="locsync-ingest-") as tmp:
        journal_file = Path(tmp) / "journal"
        journal = run_app(args, JOURNAL_APP, str(journal_file))
        journal_lines = journal_file.read_bytes().count(b"\n")
        daemon, rows, code = run_daemon(args, Path(tmp))
    for client in args.clients:
        for name, outcome in (("bare uvicorn+Starlette", bare[client]), ("bare + journal", journal[client]),
                              ("locsync run", daemon[client])):
            print(f"[{client:<5}] {name:<24} {outcome.rate:7.0f} deliveries/s  statuses {dict(outcome.statuses)}  "
                  f"server cpu {outcome.server_cpu_ms:.2f} ms/delivery  client cpu {outcome.client_cpu * 100:.0f}% of a core")
        print(f"[{client:<5}] ratio locsync/bare: {daemon[client].rate / bare[client].rate:.2f} (target >= 0.50); "
              f"server cpu per delivery {daemon[client].server_cpu_ms / bare[client].server_cpu_ms:.1f}x bare")
        print(f"[{client:<5}] floor for storing before answering, journal/bare: {journal[client].rate / bare[client].rate:.2f}; "
              f"locsync/journal: {daemon[client].rate / journal[client].rate:.2f}")
    accepted = sum(daemon[c].statuses[200] for c in args.clients)
    print(f"durable: {rows} inbox rows for {accepted} deliveries answered 200 "
          f"({'all stored' if rows == accepted else 'MISMATCH'}); daemon exit code {code}")
    # each client's warm-up deliveries are stored but not counted
    journaled = sum(journal[c].statuses[200] + WARM_UP_ROUNDS * args.concurrency for c in args.clients)
    print(f"journal: {journal_lines} lines for {journaled} deliveries answered 200 "
          f"({'all stored' if journal_lines == journaled else 'MISMATCH'})")
    return 0 if rows == accepted and code == 0 and journal_lines == journaled else 1


if __name__ == "__main__":
    sys.exit(main())
