"""Benchmark intake -> `assignment.offered` on a crew tablet's websocket (see docs/performance.md).

Per run: a fresh database, 1 or 2 service instances, a call handler, a supervisor and one triage
car with its crew account per tablet. The tablets' websockets live in a second process, which
timestamps each offer and then, off the measured path, accepts and clears it over HTTP so the car
is free again. Intake is sent open-loop at a fixed rate (latency), then closed-loop (max rate).
Prints a markdown table row per run; stops and drops everything it started, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
INCIDENT = {
    "source": "police_999",
    "category": "mental_health_crisis",
    "location": {"description": "bench", "lat": 52.94, "lon": -1.14, "kind": "public_place"},
    "person": {"description": "bench", "age": 34},
    "risk": {"immediate_risk_to_life": True, "suicidal": True},
}
CLIENTS_PER_INSTANCE = 32  # httpx's pool gets slow with hundreds of requests in one client
HEADER = (
    "| tablets | inst | rate/s | sent | offered | no car | lost | p50 ms | p95 ms | p99 ms "
    "| max ms | POST p50/p99 ms | max intake/s (offered) | recycled | CPU % srv/pg/gen/other |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


@dataclass(frozen=True)
class Sent:
    incident_id: int | None  # None: the POST failed
    t0: float  # time.monotonic() just before the POST (CLOCK_MONOTONIC: shared by processes)
    t1: float
    scheduled: float
    offered_to: str | None  # callsign, or None when no car was free
    instance: int


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q / 100 * len(ordered)) - 1)] if ordered else float("nan")


def raise_nofile() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def callsign(i: int) -> str:
    return f"BT{i:04d}"


def _ticks(pid: int) -> int:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    return 0


def cpu_snapshot(servers: list[int], generator: list[int], db_name: str) -> dict[str, int]:
    """CPU ticks of the instances, of the PostgreSQL backends on the bench database, of this
    load generator, and of everything else on the machine (other people's work lands there)."""
    postgres = 0
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and db_name in (entry / "cmdline").read_text():
                postgres += _ticks(int(entry.name))
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    ours = {"srv": sum(map(_ticks, servers)), "pg": postgres, "gen": sum(map(_ticks, generator))}
    return {**ours, "other": sum(cpu) - cpu[3] - cpu[4] - sum(ours.values())}


def cpu_percent(before: dict[str, int], after: dict[str, int], seconds: float) -> str:
    hz = os.sysconf("SC_CLK_TCK")
    return "/".join(f"{100 * (after[k] - before[k]) / hz / seconds:.0f}" for k in before)


# --- The tablets (a separate process) ----------------------------------------------------------


def tablet_process(tablets: list[tuple[str, str]], pipe: Connection, workers: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    raise_nofile()
    asyncio.run(_tablets(tablets, pipe, workers))


async def _tablets(tablets: list[tuple[str, str]], pipe: Connection, workers: int) -> None:
    arrivals: dict[int, float] = {}
    todo: asyncio.Queue[tuple[str, str, int]] = asyncio.Queue()
    stats: Counter[str] = Counter()
    gate = asyncio.Semaphore(50)  # connect a few at a time, as tablets coming online would
    settled, arrived = asyncio.Event(), asyncio.Event()

    def count(outcome: str) -> None:
        stats[outcome] += 1
        if stats["connected"] + stats["disconnects"] >= len(tablets):
            settled.set()

    async def hold(base: str, token: str) -> None:
        try:
            async with gate:
                ws = await connect(f"ws://{base}/ws?token={token}", open_timeout=60)
        except Exception:
            count("disconnects")
            raise
        count("connected")
        try:
            async for raw in ws:
                now = time.monotonic()
                if "assignment.offered" in raw:
                    message = json.loads(raw)
                    if message.get("type") == "assignment.offered":
                        arrivals.setdefault(message["data"]["incident_id"], now)
                        arrived.set()
                        todo.put_nowait((base, token, message["data"]["assignment_id"]))
        finally:
            count("disconnects")
            await ws.close()

    async def recycle(clients: dict[str, httpx.AsyncClient]) -> None:
        # What a crew does with an offer: accept, then clear, so the car is available again.
        while True:
            base, token, assignment_id = await todo.get()
            auth = {"Authorization": f"Bearer {token}"}
            path = f"/api/v1/assignments/{assignment_id}"
            try:
                for step, body in (("accept", None), ("status", {"status": "cleared"})):
                    r = await clients[base].post(f"{path}/{step}", headers=auth, json=body)
                    r.raise_for_status()
                stats["recycled"] += 1
            except httpx.HTTPStatusError as exc:
                stats[f"recycle error {exc.response.status_code}"] += 1
            except httpx.HTTPError as exc:
                stats[f"recycle error {type(exc).__name__}"] += 1

    limits = httpx.Limits(max_connections=workers)
    clients = {
        b: httpx.AsyncClient(base_url=f"http://{b}", limits=limits, timeout=120)
        for b in {base for base, _ in tablets}
    }
    holders = [asyncio.create_task(hold(base, token)) for base, token in tablets]
    recyclers = [asyncio.create_task(recycle(clients)) for _ in range(workers)]
    await settled.wait()
    pipe.send(({}, Counter(stats)))
    while (request := await asyncio.to_thread(pipe.recv)) is not None:
        ids, seconds = request  # wait up to `seconds` for these offers, then report
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0 and any(i not in arrivals for i in ids):
            arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), left)
        pipe.send(({i: arrivals[i] for i in ids if i in arrivals}, Counter(stats)))
    for task in (*holders, *recyclers):
        task.cancel()
    await asyncio.gather(*holders, *recyclers, return_exceptions=True)
    for client in clients.values():
        await client.aclose()


# --- The service under test --------------------------------------------------------------------


class Cluster:
    """A fresh database and `instances` service processes on it; all removed on exit."""

    def __init__(self, instances: int, keep_logs: Path | None) -> None:
        url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
        base = make_url(url.replace("postgres://", "postgresql://", 1))
        self.db_name = f"bench_{secrets.token_hex(4)}"
        url = base.set(drivername="postgresql+asyncpg", database=self.db_name)
        self.url = url.render_as_string(hide_password=False)
        admin = base.set(drivername="postgresql", database="postgres")
        self.admin_dsn = admin.render_as_string(hide_password=False)
        self.instances, self.keep_logs = instances, keep_logs
        self.secret = secrets.token_urlsafe(48)
        self.tmp = Path(tempfile.mkdtemp(prefix="bench_dispatch_"))
        self.procs: list[asyncio.subprocess.Process] = []
        self.bases: list[str] = []
        self.created = False

    async def admin(self, sql: str) -> None:
        connection = await asyncpg.connect(self.admin_dsn)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def __aenter__(self) -> Cluster:
        try:
            await self.admin(f'CREATE DATABASE "{self.db_name}"')
            self.created = True
            for name in "ab"[: self.instances]:  # one after the other: the first one migrates
                await self._start(name)
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def _start(self, name: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "SECRET_KEY": self.secret,
            "DATA_DIR": str(self.tmp / name),
            "INSTANCE_NAME": name,
        }
        with (self.tmp / f"{name}.log").open("wb") as log:
            self.procs.append(
                await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", "app", "serve", "--port", str(port)),
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a Ctrl-C reaches us only; we stop them in order
                )
            )
        self.bases.append(f"127.0.0.1:{port}")
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.procs[-1].returncode is not None:
                    raise RuntimeError(f"instance {name} exited; see {self.tmp / name}.log")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"instance {name} not ready after 60 s")

    async def __aexit__(self, *_: object) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.terminate()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
        if self.created:
            await self.admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        if self.keep_logs is not None:
            self.keep_logs.mkdir(parents=True, exist_ok=True)
            for log in self.tmp.glob("*.log"):
                shutil.copy(log, self.keep_logs / f"{self.db_name}-{log.name}")
        shutil.rmtree(self.tmp, ignore_errors=True)


async def seed(cluster: Cluster, tablets: int) -> tuple[str, list[str]]:
    """Users straight into the database (one shared Argon2 hash: crews never sign in with a
    password), cars over the API. Returns the call handler's token and one crew token per car."""
    from app.auth.passwords import hash_password
    from app.auth.tokens import issue_token
    from app.database import create_engine, create_sessionmaker
    from app.models import User
    from app.services.users import upsert_user

    engine = create_engine(cluster.url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as s, s.begin():
            password = secrets.token_urlsafe(16)
            handler = await upsert_user("bench-handler", password, session=s, role="call_handler")
            boss = await upsert_user("bench-supervisor", password, session=s, role="supervisor")
            shared = hash_password(password)
            crew = [User(role="crew", password_hash=shared) for _ in range(tablets)]
            for i, user in enumerate(crew):
                user.username, user.unit_callsign = f"bench-crew-{i}", callsign(i)
                user.area_id = handler.area_id
            s.add_all(crew)
            await s.flush()
    finally:
        await engine.dispose()

    def token(user: Any) -> str:
        ttl = timedelta(hours=2)
        return issue_token(user_id=user.id, role=user.role, secret=cluster.secret, ttl=ttl)

    gate, auth = asyncio.Semaphore(8), {"Authorization": f"Bearer {token(boss)}"}
    async with httpx.AsyncClient(base_url=f"http://{cluster.bases[0]}", headers=auth) as client:

        async def add_car(i: int) -> None:
            crew = [{"name": "PC A", "role": "officer"}]
            car = {"callsign": callsign(i), "kind": "triage_car", "status": "available"}
            async with gate:
                r = await client.post(
                    "/api/v1/units", json=car | {"lat": 52.9, "lon": -1.1, "crew": crew}
                )
            r.raise_for_status()

        await asyncio.gather(*(add_car(i) for i in range(tablets)))
    return token(handler), [token(u) for u in crew]


# --- Intake ------------------------------------------------------------------------------------


async def post_incident(client: httpx.AsyncClient, instance: int, scheduled: float) -> Sent:
    t0 = time.monotonic()
    try:
        r = await client.post("/api/v1/incidents", json=INCIDENT)
        t1 = time.monotonic()
        r.raise_for_status()
    except httpx.HTTPError:
        return Sent(None, t0, time.monotonic(), scheduled, None, instance)
    offers = [a["unit"] for a in r.json()["assignments"] if a["status"] == "offered"]
    return Sent(r.json()["id"], t0, t1, scheduled, (offers or [None])[0], instance)


async def open_loop(
    clients: list[httpx.AsyncClient], n: int, rate: float, secs: float
) -> list[Sent]:
    """Arrivals at a fixed rate, not waiting for responses; alternating between the n instances
    (`clients` is interleaved: clients[i] talks to instance i % n)."""
    tasks = []
    start = time.monotonic()
    for i in range(round(rate * secs)):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        post = post_incident(clients[i % len(clients)], i % n, start + i / rate)
        tasks.append(asyncio.create_task(post))
    return list(await asyncio.gather(*tasks))


async def closed_loop(clients: list[httpx.AsyncClient], n: int, callers: int, secs: float) -> str:
    """Max intake rate: each caller sends the next incident as soon as the last returns."""
    done: list[Sent] = []
    start = time.monotonic()

    async def caller(k: int) -> None:
        while time.monotonic() < start + secs:
            done.append(await post_incident(clients[k % len(clients)], k % n, 0.0))

    await asyncio.gather(*(caller(k) for k in range(callers)))
    ok = [s for s in done if s.incident_id is not None]
    offered = sum(1 for s in ok if s.offered_to) / max(1, len(ok))
    return f"{len(ok) / (time.monotonic() - start):.1f} ({100 * offered:.0f}%)"


# --- One run ---------------------------------------------------------------------------------


async def reply(pipe: Connection, seconds: float) -> tuple[dict[int, float], Counter[str]]:
    if not await asyncio.to_thread(pipe.poll, seconds):
        raise RuntimeError("the tablet process did not answer")
    return pipe.recv()


async def run(args: argparse.Namespace, tablets: int, n: int, rate: float) -> str:
    for _ in range(150):  # a shared machine: wait (up to 5 min) for others' work to calm down
        quiet = cpu_snapshot([], [], "-")
        await asyncio.sleep(2)
        busy = cpu_percent(quiet, cpu_snapshot([], [], "-"), 2).rsplit("/", 1)[1]
        if int(busy) <= args.quiet:
            break
    async with Cluster(n, args.logs) as cluster:
        handler_token, crew_tokens = await seed(cluster, tablets)
        spec = [(cluster.bases[i % n], token) for i, token in enumerate(crew_tokens)]
        pipe, child_end = mp.get_context("spawn").Pipe()
        child = mp.get_context("spawn").Process(
            target=tablet_process, args=(spec, child_end, args.recyclers), daemon=True
        )
        child.start()
        auth, limits = {"Authorization": f"Bearer {handler_token}"}, httpx.Limits(max_connections=8)
        clients = [
            httpx.AsyncClient(base_url=f"http://{base}", headers=auth, limits=limits, timeout=300)
            for _ in range(CLIENTS_PER_INSTANCE)
            for base in cluster.bases
        ]
        try:
            _, stats = await reply(pipe, 300)
            if stats["connected"] < tablets:
                raise RuntimeError(f"only {stats['connected']} of {tablets} tablets connected")
            await open_loop(clients, n, rate, args.warmup)
            pids, generator = [p.pid for p in cluster.procs], [os.getpid(), child.pid or 0]
            before, t_start = cpu_snapshot(pids, generator, cluster.db_name), time.monotonic()
            sent = await open_loop(clients, n, rate, args.duration)
            after = cpu_snapshot(pids, generator, cluster.db_name)
            cpu = cpu_percent(before, after, time.monotonic() - t_start)
            hz = os.sysconf("SC_CLK_TCK")
            cost = 1000 * (after["srv"] - before["srv"]) / hz / round(rate * args.duration)
            offered = [s for s in sent if s.offered_to]
            ids = [s.incident_id for s in offered]
            pipe.send((ids, args.drain))
            arrivals, _ = await reply(pipe, args.drain + 60)
            throughput = await closed_loop(clients, n, args.concurrency, args.throughput_seconds)
            pipe.send(([], 0.0))
            _, stats = await reply(pipe, 60)
            pipe.send(None)
        finally:
            for client in clients:
                await client.aclose()
            await asyncio.to_thread(child.join, 10)
            if child.is_alive():
                child.terminate()
    home = {callsign(i): i % n for i in range(tablets)}  # the instance each tablet is on
    lat = {i: 1000 * (arrivals[i] - s.t0) for s in offered if (i := s.incident_id) in arrivals}
    cross = [
        lat[i] for s in offered if (i := s.incident_id) in lat and home[s.offered_to] != s.instance
    ]
    post = [1000 * (s.t1 - s.t0) for s in sent if s.incident_id is not None]
    errors = {k: v for k, v in stats.items() if k.startswith("recycle error")}
    print(
        f"  details: machine busy just before {busy}%, failed POSTs "
        f"{sum(1 for s in sent if s.incident_id is None)}, offers crossing instances {len(cross)} "
        f"(p50 {pct(cross, 50):.1f}, p99 {pct(cross, 99):.1f} ms), max sender lag "
        f"{max(1000 * (s.t0 - s.scheduled) for s in sent):.1f} ms, tablet disconnects "
        f"{stats['disconnects']}, recycle errors {errors or 0}, instances' CPU per incident "
        f"(with its accept and clear) {cost:.1f} ms",
        file=sys.stderr,
        flush=True,
    )
    ms, no_car = list(lat.values()), sum(1 for s in sent if s.incident_id and not s.offered_to)
    cells = [tablets, n, f"{rate:g}", len(sent), len(offered), no_car, len(offered) - len(ms)]
    cells += [f"{pct(ms, q):.1f}" for q in (50, 95, 99, 100)]
    cells += [f"{pct(post, 50):.1f} / {pct(post, 99):.1f}", throughput, stats["recycled"], cpu]
    return "| " + " | ".join(map(str, cells)) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--tablets", type=int, default=1000, help="connected crew tablets (default 1000)")
    add("--instances", type=int, default=1, choices=(1, 2), help="service instances (default 1)")
    add("--rate", type=float, help="intake/s, open-loop (default: 50, or 5 per tablet if fewer)")
    add("--duration", type=float, default=20.0, help="measured seconds (default 20)")
    add("--warmup", type=float, default=3.0, help="unmeasured seconds before (default 3)")
    add("--drain", type=float, default=5.0, help="max wait for a late offer, s (default 5)")
    add("--throughput-seconds", type=float, default=10.0, help="closed-loop phase (default 10)")
    add("--concurrency", type=int, default=8, help="closed-loop callers (default 8)")
    add("--recyclers", type=int, default=16, help="accept+clear workers (default 16)")
    add("--quiet", type=int, default=200, help="wait for machine CPU below this %% first")
    add("--logs", type=Path, help="keep the instances' logs in this directory")
    add("--matrix", action="store_true", help="run 1/100/1000 tablets x 1/2 instances")
    args = parser.parse_args()
    raise_nofile()
    runs = (
        [(t, i) for t in (1, 100, 1000) for i in (1, 2)]
        if args.matrix
        else [(args.tablets, args.instances)]
    )
    rows: list[str] = []

    async def all_runs() -> None:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        print(HEADER, flush=True)
        for tablets, instances in runs:
            rate = args.rate if args.rate is not None else min(50.0, 5.0 * tablets)
            rows.append(await run(args, tablets, instances, rate))
            print(rows[-1], flush=True)

    try:
        asyncio.run(all_runs())
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit("interrupted: instances stopped, database dropped")
    if len(rows) > 1:
        print("\n" + HEADER + "\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
