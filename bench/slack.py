"""Ack latency and throughput of a signed slash command through the coach, beside a bare Bolt app.

    .venv/bin/python -m bench.slack [--seconds S] [--channels N] [--json]

Three processes (plus the embedded redis-server):

- the servers (this process): the coach's own aiohttp app (`build_web_app`, a real `Coach` on
  the embedded Redis, the real `content/`), and a bare Bolt `AsyncApp` whose `/coach` listener
  only acks; both serve POST /slack/events on 127.0.0.1, with `process_before_response=True`;
- the load generator: signs every request afresh and times each one until its HTTP response
  (the ack) has been read;
- a stand-in for the Slack Web API (`tests.fake_slack.FakeSlack`) that the coach's background
  turns post their replies to, so Slack's side of the work is not charged to the coach.

Requests alternate `rate <item> partial "bench note n"` and `decisions`, by three members in
turn, in one channel's partnership (or spread over `--channels`). Phases, each `--seconds` long
after a 1-second warm-up that is not timed:

1. throughput, closed loop, 16 connections: the bare app for half the time, the coach, then the
   bare app again; target: coach requests/s >= 0.5 x the bare app's;
2. paced, open loop at 100 requests/s against the coach; target: p99 ack latency < 1 s (well
   under Slack's 3-second limit). Latency counts from each request's scheduled send time, so a
   stalled server cannot hide queued requests.

After each coach phase the benchmark waits for the queued turns (`SlackChannel.drain`) and
reports how far behind they were: replies not yet posted when the load stopped (and how many
of them waited in Redis's turn queue rather than in this process), the time to post them, turns
completed per second, and turns that failed. It also reports the servers' CPU time per request,
and the servers' process memory (RSS, sampled every 20 ms) before the phase and at its peak,
with the most turns held in the process at once. The exit status is 0 whether or not the
targets are met; 2 if the set-up fails or the coach refuses the benchmark's commands.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.turns import _percentile, _stop_embedded
from bot.coach import Coach
from bot.config import PROJECT_DIR, Secret, Settings
from bot.content import load_content
from bot.model import Address
from bot.redis_server import start_embedded
from bot.store import Store
from bot.web import PLATFORMS_KEY, build_web_app
from tests.fake_slack import TEAM, FakeSlack, signed_headers

DEFAULT_SECONDS = 5.0
WARMUP_SECONDS = 1.0
CONCURRENCY = 16  # closed-loop connections
PACED_RATE = 100.0  # requests per second in the paced phase
PACED_CONNECTIONS = 64  # the most the paced client opens (Slack opens as many as it needs)
REQUEST_TIMEOUT_S = 10.0  # a request slower than this counts as an error
DRAIN_TIMEOUT_S = 60.0  # give up waiting for the background turns after this long
SLACK_LIMIT_MS = 3000.0
P99_TARGET_MS = 1000.0  # "well under" Slack's 3 s
RATIO_TARGET = 0.5

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
DEFAULT_CHANNELS = 1  # one partnership takes every command: the worst case for conflicts
LEAD, CHAMBER, NGO = "ULEAD", "UCHAMBER", "UNGO"
USERS = (LEAD, CHAMBER, NGO)
SET_UP = (
    (LEAD, 'setup "Benchmark Transportation Collaborative"'),
    (LEAD, 'partner add "City of Sacramento" government'),
    (LEAD, 'partner add "Metro Chamber" business'),
    (LEAD, 'partner add "Clean Air Coalition" nonprofit'),
    (LEAD, 'join "City of Sacramento"'),
    (CHAMBER, 'join "Metro Chamber"'),
    (NGO, 'join "Clean Air Coalition"'),
    (LEAD, f"member confirm <@{CHAMBER}>"),  # a join counts once someone confirms it
    (LEAD, f"member confirm <@{NGO}>"),
    (CHAMBER, 'decide "Meet on the first Tuesday of every month"'),
    (NGO, 'decide "Share one air-quality dashboard"'),
)
TURN_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")  # one per turn


class BenchError(RuntimeError):
    """The benchmark would measure the wrong thing (set-up failed, replies are refusals)."""


# --- requests, as Slack sends them -------------------------------------------------------------


def channel_id(index: int) -> str:
    return f"CBENCH{index}"


def address(index: int) -> Address:
    return Address("slack", TEAM, channel_id(index))


def command_body(user: str, text: str, channel: str) -> str:
    return urlencode({
        "token": "legacy", "team_id": TEAM, "team_domain": "bench", "channel_id": channel,
        "channel_name": "partnership", "user_id": user, "user_name": user.lower(),
        "command": "/coach", "text": text, "api_app_id": "A1", "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.com/commands/T1/1/x",
        "trigger_id": f"{time.time_ns()}.1.{uuid.uuid4().hex[:16]}",
    })  # fmt: skip


def nth_command(n: int, items: Sequence[str], channels: int) -> tuple[str, str, str, str]:
    """The n-th request of a run: (kind, user, text, channel); ratings and `decisions`
    alternate, the three members take turns, and pairs of requests go round the channels."""
    user = USERS[n % len(USERS)]
    channel = channel_id((n // 2) % channels)
    if n % 2 == 0:
        item = items[(n // 2) % len(items)]
        return "rate", user, f'rate {item} partial "bench note {n}"', channel
    return "decisions", user, "decisions", channel


def signed(body: str) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(SECRET, body)}


# --- the load generator (its own process) ------------------------------------------------------


def client_main(conn: Connection) -> None:
    """Run load jobs sent over `conn` until it sends None; answer each with its result."""
    while (job := conn.recv()) is not None:
        conn.send(asyncio.run(run_job(job)))
    conn.close()


async def run_job(job: dict[str, Any]) -> dict[str, Any]:
    load = Load(job["url"], job["items"], job["channels"], job["first_n"])
    limit = job.get("concurrency") or PACED_CONNECTIONS
    connector = aiohttp.TCPConnector(limit=limit)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        load.session = session
        if job["mode"] == "closed":
            await load.closed(job["concurrency"], WARMUP_SECONDS)  # warm-up: connections, caches
            load.reset()
            await load.closed(job["concurrency"], job["seconds"])
        else:
            await load.paced(job["rate"], job["seconds"])
    return load.result()


class Load:
    """Signed slash commands sent to one URL, each timed until its response has been read."""

    def __init__(self, url: str, items: Sequence[str], channels: int, first_n: int) -> None:
        self.url = url
        self.items = items
        self.channels = channels
        self.n = first_n
        self.session: aiohttp.ClientSession | None = None
        self.reset()
        self.acked: Counter[str] = Counter()  # 200s by kind, warm-up included

    def reset(self) -> None:
        self.latencies: list[int] = []
        self.statuses: Counter[str] = Counter()
        self.errors: list[str] = []
        self.elapsed = 0.0
        self.max_lag_ms = 0.0

    async def one(self, scheduled_ns: int | None = None) -> None:
        assert self.session is not None
        kind, user, text, channel = nth_command(self.n, self.items, self.channels)
        self.n += 1
        body = command_body(user, text, channel)
        headers = signed(body)  # signed now: the timestamp is always fresh
        start = time.perf_counter_ns()
        try:
            async with self.session.post(self.url, data=body.encode(), headers=headers) as r:
                await r.read()
                status = str(r.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            status = type(error).__name__
        end = time.perf_counter_ns()
        self.latencies.append(end - (scheduled_ns if scheduled_ns is not None else start))
        self.statuses[status] += 1
        if status == "200":
            self.acked[kind] += 1
        elif len(self.errors) < 5:
            self.errors.append(f"{kind} by {user}: {status}")

    async def closed(self, concurrency: int, seconds: float) -> None:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await self.one()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        self.elapsed = time.perf_counter() - started

    async def paced(self, rate: float, seconds: float) -> None:
        """Open loop: request i is due at start + i / rate, whether or not earlier ones are done."""
        total = max(1, round(rate * seconds))
        interval_ns = round(1e9 / rate)
        warm = asyncio.create_task(self.one())  # open one connection first (not counted)
        await warm
        self.reset()
        start_ns = time.perf_counter_ns() + 1_000_000
        tasks = []
        for i in range(total):
            due = start_ns + i * interval_ns
            delay = (due - time.perf_counter_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            self.max_lag_ms = max(self.max_lag_ms, (time.perf_counter_ns() - due) / 1e6)
            tasks.append(asyncio.create_task(self.one(due)))
        await asyncio.gather(*tasks)
        self.elapsed = (time.perf_counter_ns() - start_ns) / 1e9

    def result(self) -> dict[str, Any]:
        return {
            "latencies_ns": self.latencies,
            "statuses": dict(self.statuses),
            "errors": self.errors,
            "elapsed_s": self.elapsed,
            "max_lag_ms": self.max_lag_ms,
            "acked": dict(self.acked),
            "next_n": self.n,
        }


# --- the stand-in for the Slack Web API (its own process) --------------------------------------


def fake_slack_main(conn: Connection) -> None:
    asyncio.run(_serve_fake_slack(conn))
    conn.close()


async def _serve_fake_slack(conn: Connection) -> None:
    fake = FakeSlack()
    await fake.start()
    conn.send(fake.api_url)
    loop = asyncio.get_running_loop()
    try:
        while await loop.run_in_executor(None, conn.recv) == "stats":
            methods = Counter(c.method for c in fake.calls)
            private = Counter(
                c.params.get("text", "") for c in fake.calls if c.method == "chat.postEphemeral"
            )
            conn.send({"methods": dict(methods), "private_texts": dict(private)})
    finally:
        await fake.close()


class Child:
    """A worker process spoken to over a pipe (spawned: the servers' event loop is not copied)."""

    def __init__(self, target: Any, name: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child_end = ctx.Pipe()
        self.process = ctx.Process(target=target, args=(child_end,), name=name, daemon=True)
        self.process.start()
        child_end.close()

    async def ask(self, message: Any) -> Any:
        self.conn.send(message)
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    async def receive(self) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    def stop(self, message: Any) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(message)
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# --- the servers (this process) ----------------------------------------------------------------


async def serve(app: web.Application, path: str = "/slack/events") -> tuple[web.AppRunner, str]:
    """Serve `app` on 127.0.0.1 at a free port; access logging off (for both apps alike).
    Returns the runner and the URL of `path`."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}{path}"


def bare_app(api_url: str) -> web.Application:
    """A Bolt app as bare as it gets: verify the signature, ack `/coach`, nothing else."""
    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @bolt.command("/coach")
    async def _ack(ack: Any) -> None:
        await ack()

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


class LogCounter(logging.Handler):
    """Counts the coach's log records by level and message (a failing turn logs a traceback;
    under overload that would bury the report)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}  # the first record of each kind, formatted in full
        self.causes: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        # the message's gist: "turn failed", "gave up after %d conflicting commits", …
        message = str(record.msg).splitlines()[0].split(":", 1)[0]
        key = f"{record.levelname} {message}"
        self.counts[key] += 1
        if key not in self.first:
            self.first[key] = logging.Formatter().format(record)
            if record.exc_info:
                self.causes[key] = self.first[key].rstrip().splitlines()[-1]  # the exception

    def take(self) -> dict[str, str]:
        """What was logged since the last call: `count` x, and the exception of the first one."""
        taken = {}
        for key, count in self.counts.items():
            cause = self.causes.get(key)
            taken[key] = f"x{count}" + (f" ({cause})" if cause else "")
        self.counts = Counter()
        return taken

    @contextlib.contextmanager
    def installed(self, *names: str) -> Iterator[LogCounter]:
        targets = [(logging.getLogger(name), logging.getLogger(name).propagate) for name in names]
        for target, _ in targets:
            target.addHandler(self)
            target.propagate = False
        try:
            yield self
        finally:
            for target, propagate in targets:
                target.removeHandler(self)
                target.propagate = propagate


def rss_mib() -> float:
    """This process's resident memory (Linux), in MiB; NaN where /proc is not there."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class MemorySampler:
    """The servers' process memory, and the turns it holds (running or waiting in memory),
    sampled every `SAMPLE_S` while a phase runs."""

    SAMPLE_S = 0.02

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.before = rss_mib()
        self.peak = self.before
        self.held = 0
        self._task = asyncio.ensure_future(self._sample())

    def _holding(self) -> int:
        queue = getattr(self.channel, "queue", None)  # before the turn queue: tasks in memory
        return queue.running if queue is not None else len(self.channel._tasks)

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mib())
            self.held = max(self.held, self._holding())
            await asyncio.sleep(self.SAMPLE_S)

    async def stop(self) -> dict[str, float]:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return {"rss_before_mib": self.before, "rss_peak_mib": self.peak, "held_max": self.held}


class Servers:
    def __init__(
        self,
        store: Store,
        coach_app: web.Application,
        fake: Child,
        log: LogCounter,
        channels: int,
    ) -> None:
        self.channels = channels
        self.store = store
        self.coach_app = coach_app
        self.channel: Any = coach_app[PLATFORMS_KEY]["slack"]
        self.fake = fake
        self.log = log

    async def turns_posted(self) -> tuple[int, Counter[str]]:
        """Replies the coach has posted so far (one per turn), and its private texts."""
        stats = await self.fake.ask("stats")
        methods = stats["methods"]
        return sum(methods.get(m, 0) for m in TURN_METHODS), Counter(stats["private_texts"])

    async def set_up(self, url: str) -> None:
        """A partnership in each channel, set up with signed slash commands, one at a time."""
        async with aiohttp.ClientSession() as http:
            for index in range(self.channels):
                for user, text in SET_UP:
                    body = command_body(user, text, channel_id(index))
                    async with http.post(url, data=body.encode(), headers=signed(body)) as r:
                        if r.status != 200:
                            raise BenchError(f"set-up command {text!r} answered {r.status}")
                    await self.channel.drain()
        posted, private = await self.turns_posted()
        for index in range(self.channels):
            partnership = (await self.store.load(address(index))).partnership
            joined = {uid for uid in partnership.members if partnership.org_of(uid)}
            if len(partnership.orgs) != 3 or len(joined) != 3:
                private[f"{len(partnership.orgs)} organizations, {len(joined)} members"] += 1
        # one reply a command, and a confirmation also tells the member it confirms
        replies = len(SET_UP) + sum(text.startswith("member confirm") for _, text in SET_UP)
        if private or posted != replies * self.channels:
            raise BenchError(
                f"set-up went wrong: {posted} replies, problems {dict(private)}, "
                f"log {self.log.first}"
            )

    async def revision(self) -> int:
        """The sum of the partnerships' revisions: it goes up by one per committed change."""
        return sum(
            [await self.store.revision(address(i).conversation) for i in range(self.channels)]
        )

    async def drain(self, started: float) -> dict[str, Any]:
        """Wait for the background turns; how far behind they were when the load stopped."""
        ended = time.perf_counter()
        posted_at_end, _ = await self.turns_posted()
        length = getattr(self.store, "queue_length", None)
        queued_at_end = await length("slack") if length is not None else 0
        drain = asyncio.ensure_future(self.channel.drain())
        done, _ = await asyncio.wait({drain}, timeout=DRAIN_TIMEOUT_S)
        drained = time.perf_counter()
        posted, private = await self.turns_posted()
        if not done:  # bounded: report it, then let the turns finish before going on
            await drain
        return {
            "posted_at_end": posted_at_end,
            "queued_at_end": queued_at_end,
            "posted": posted,
            "private": private,
            "drain_s": drained - ended,
            "drained": bool(done),
            "window_s": drained - started,
        }


async def coach_phase(
    servers: Servers, client: Child, job: dict[str, Any], label: str
) -> dict[str, Any]:
    posted_before, private_before = await servers.turns_posted()
    rev_before = await servers.revision()
    started, cpu = time.perf_counter(), time.process_time()
    memory = MemorySampler(servers.channel)
    result = await client.ask(job)
    drained = await servers.drain(started)
    cpu = time.process_time() - cpu
    sampled = await memory.stop()
    rev = await servers.revision()
    acks = sum(result["acked"].values())  # warm-up included: those turns run too
    turns = drained["posted"] - posted_before
    private = drained["private"] - private_before
    prompts = servers.channel.coach.content.prompts
    busy = private.pop(prompts.render("errors.busy"), 0)
    sorry = private.pop(prompts.render("errors.sorry"), 0)
    if private:  # a refusal means the benchmark's commands are wrong, not that the coach is slow
        raise BenchError(f"{label}: the coach refused commands: {dict(private)}")
    return {
        **summarize(result, label),
        "server_cpu_ms": cpu * 1000 / acks if acks else float("nan"),
        "memory": sampled,
        "next_n": result["next_n"],
        "turns": {
            "acked": acks,
            "ratings_acked": result["acked"].get("rate", 0),
            "ratings_committed": rev - rev_before,
            "busy": busy,
            "sorry": sorry,
            "log": servers.log.take(),
            "behind_at_end": acks - (drained["posted_at_end"] - posted_before),
            "queued_at_end": drained["queued_at_end"],
            "drain_s": drained["drain_s"],
            "drained": drained["drained"],
            "completed": turns,
            "lost": acks - turns,  # acked, but no reply ever posted (the task raised)
            "per_s": turns / drained["window_s"],
        },
    }


def merge_runs(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """What every closed-loop client measures, of two runs as one."""
    return {
        "latencies_ns": a["latencies_ns"] + b["latencies_ns"],
        "statuses": dict(Counter(a["statuses"]) + Counter(b["statuses"])),
        "errors": (a["errors"] + b["errors"])[:5],
        "elapsed_s": a["elapsed_s"] + b["elapsed_s"],
        "max_lag_ms": max(a["max_lag_ms"], b["max_lag_ms"]),
        "next_n": b["next_n"],
    }


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two closed-loop runs as one."""
    return merge_runs(a, b) | {"acked": dict(Counter(a["acked"]) + Counter(b["acked"]))}


def summarize(result: dict[str, Any], label: str, ok_status: str = "200") -> dict[str, Any]:
    ordered = sorted(result["latencies_ns"])
    count = len(ordered)
    ok = result["statuses"].get(ok_status, 0)
    return {
        "label": label,
        "requests": count,
        "ok": ok,
        "errors": count - ok,
        "error_samples": result["errors"],
        "seconds": round(result["elapsed_s"], 3),
        "per_s": count / result["elapsed_s"] if result["elapsed_s"] else 0.0,
        "p50_ms": _percentile(ordered, 50) / 1e6 if ordered else float("nan"),
        "p99_ms": _percentile(ordered, 99) / 1e6 if ordered else float("nan"),
        "max_ms": ordered[-1] / 1e6 if ordered else float("nan"),
        "max_lag_ms": result["max_lag_ms"],
    }


async def measure(seconds: float, channels: int) -> dict[str, Any]:
    # "asyncio": a background task that raised logs "Task exception was never retrieved"
    with LogCounter().installed("bot", "asyncio") as log:
        return await _measure(seconds, channels, log)


async def _measure(seconds: float, channels: int, log: LogCounter) -> dict[str, Any]:
    fake = Child(fake_slack_main, "bench-fake-slack")
    client = Child(client_main, "bench-load")
    runners: list[web.AppRunner] = []
    with tempfile.TemporaryDirectory(prefix="coach-bench-", ignore_cleanup_errors=True) as tmp:
        server = start_embedded(Settings(data_dir=Path(tmp)))
        redis = Redis(unix_socket_path=server.socket_file, decode_responses=True)
        try:
            api_url = await fake.receive()
            content = load_content(PROJECT_DIR / "content")
            store = Store(redis, f"bench-{uuid.uuid4().hex[:12]}")
            settings = Settings(
                slack_bot_token=Secret(TOKEN),
                slack_signing_secret=Secret(SECRET),
                slack_api_url=api_url,
            )
            coach_app = await build_web_app(Coach(store, content), settings)
            runner, coach_url = await serve(coach_app)
            runners.append(runner)
            runner, bare_url = await serve(bare_app(api_url))
            runners.append(runner)
            servers = Servers(store, coach_app, fake, log, channels)
            await servers.set_up(coach_url)
            log.take()

            common = {"seconds": seconds, "items": list(content.items), "channels": channels}
            closed = common | {"mode": "closed", "concurrency": CONCURRENCY, "first_n": 0}
            # The bare app runs half its time before the coach and half after (once the coach's
            # backlog has drained), so a slow patch of a shared machine hits both alike.
            bare_job = closed | {"url": bare_url, "seconds": seconds / 2}
            cpu = time.process_time()
            bare_before = await client.ask(bare_job)
            cpu = time.process_time() - cpu
            coach_row = await coach_phase(servers, client, closed | {"url": coach_url}, "coach")
            cpu -= time.process_time()
            bare = merge(bare_before, await client.ask(bare_job))
            cpu += time.process_time()
            bare_row = summarize(bare, "bare Bolt app (ack only)")
            bare_row["server_cpu_ms"] = cpu * 1000 / max(1, sum(bare["acked"].values()))
            paced = common | {"mode": "paced", "rate": PACED_RATE, "url": coach_url}
            paced |= {"first_n": coach_row["next_n"]}
            paced_row = await coach_phase(servers, client, paced, "coach")
            redis_version = (await redis.info("server")).get("redis_version", "?")
        finally:
            client.stop(None)
            for runner in reversed(runners):
                await runner.cleanup()  # the coach app's cleanup drains and closes its session
            fake.stop("stop")
            await redis.aclose()
            _stop_embedded(server)
    report = summary(seconds, bare_row, coach_row, paced_row, str(redis_version))
    return report | {"channels": channels}


def summary(
    seconds: float,
    bare: dict[str, Any],
    coach: dict[str, Any],
    paced: dict[str, Any],
    redis_version: str,
) -> dict[str, Any]:
    ratio = coach["per_s"] / bare["per_s"] if bare["per_s"] else 0.0
    return {
        "seconds": seconds,
        "warmup_seconds": WARMUP_SECONDS,
        "concurrency": CONCURRENCY,
        "paced_rate": PACED_RATE,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "redis_version": redis_version,
        "throughput": {"bare": bare, "coach": coach},
        "paced": paced,
        "targets": {
            "throughput_ratio": {
                "value": ratio,
                "target": RATIO_TARGET,
                "met": ratio >= RATIO_TARGET,
            },
            "paced_p99_ms": {
                "value": paced["p99_ms"],
                "target": P99_TARGET_MS,
                "met": paced["p99_ms"] < P99_TARGET_MS and paced["errors"] == 0,
            },
            "no_errors": {
                "value": bare["errors"] + coach["errors"] + paced["errors"],
                "target": 0,
                "met": bare["errors"] + coach["errors"] + paced["errors"] == 0,
            },
        },
    }


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            [row[0].ljust(widths[0])]
            + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        ).rstrip()
        for row in rows
    ]


HEADER = ("", "requests", "errors", "req/s", "p50 ms", "p99 ms", "max ms", "CPU ms/req")


def _cells(row: dict[str, Any], label: str, rate_digits: int = 0) -> tuple[str, ...]:
    return (
        label,
        str(row["requests"]),
        str(row["errors"]),
        f"{row['per_s']:.{rate_digits}f}",
        f"{row['p50_ms']:.2f}",
        f"{row['p99_ms']:.2f}",
        f"{row['max_ms']:.2f}",
        f"{row['server_cpu_ms']:.2f}",
    )


def render(r: dict[str, Any]) -> str:
    bare, coach, paced = r["throughput"]["bare"], r["throughput"]["coach"], r["paced"]
    targets = r["targets"]
    lines = [
        f"Partnering Coach Slack benchmark: {r['seconds']:g} s per phase "
        f"(+{r['warmup_seconds']:g} s warm-up), Python {r['python']}, {r['cpus']} CPUs",
        f"signed /coach slash commands over loopback HTTP to {r['channels']} channel(s), one "
        f"partnership each; Redis {r['redis_version']} embedded",
        "load generator and Slack Web API stand-in run in processes of their own; CPU ms/req is "
        "the servers' process (acks + background turns)",
        "",
        f"Phase 1: throughput, closed loop, {r['concurrency']} connections",
        *_table([HEADER, _cells(bare, bare["label"]), _cells(coach, "coach")]),
        *_behind(coach["turns"]),
        _memory(coach["memory"]),
        "",
        f"Phase 2: paced, open loop at {r['paced_rate']:g} requests/s against the coach "
        "(latency from each request's scheduled send time)",
        *_table([HEADER, _cells(paced, "coach")]),
        f"client send lag max {paced['max_lag_ms']:.1f} ms",
        *_behind(paced["turns"]),
        _memory(paced["memory"]),
        "",
    ]
    ratio, p99 = targets["throughput_ratio"], targets["paced_p99_ms"]
    errors = targets["no_errors"]
    rows = [
        ("target", "measured", "result"),
        (
            f"coach / bare throughput >= {RATIO_TARGET:g}",
            f"{ratio['value']:.2f}",
            _verdict(ratio["met"]),
        ),
        (
            f"p99 ack at {r['paced_rate']:g} req/s < {P99_TARGET_MS:g} ms "
            f"(Slack: {SLACK_LIMIT_MS:g})",
            f"{p99['value']:.1f} ms",
            _verdict(p99["met"]),
        ),
        ("every request answered 200", f"{errors['value']} errors", _verdict(errors["met"])),
    ]
    lines += _table(rows)
    for row in (bare, coach, paced):
        for sample in row["error_samples"]:
            lines.append(f"  {row['label']}: {sample}")
    met = all(t["met"] for t in targets.values())
    lines.append(f"RESULT: {_verdict(met)}")
    return "\n".join(lines)


def _verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def _memory(m: dict[str, float]) -> str:
    return (
        f"servers' process memory: {m['rss_before_mib']:.0f} MiB before the phase, peak "
        f"{m['rss_peak_mib']:.0f} MiB (+{m['rss_peak_mib'] - m['rss_before_mib']:.0f}); "
        f"at most {m['held_max']:.0f} turns held in the process at once"
    )


def _behind(t: dict[str, Any]) -> list[str]:
    drained = f"drained {t['drain_s']:.2f} s after the load stopped"
    if not t["drained"]:
        drained = f"NOT drained {DRAIN_TIMEOUT_S:g} s after the load stopped"
    lines = [
        f"queued turns: {t['acked']} acked (warm-up included), {t['behind_at_end']} not yet "
        f"posted when the load stopped ({t['queued_at_end']} of them waiting in Redis), "
        f"{drained}",
        f"  {t['completed']} completed, {t['per_s']:.0f} turns/s (load start to drained); "
        f"ratings committed: {t['ratings_committed']} of {t['ratings_acked']}",
        f"  turns that failed: {t['busy']} 'busy' (gave up on conflicts), "
        f"{t['sorry']} 'sorry' (an error), {t['lost']} lost (acked, no reply ever posted)",
    ]
    if t["log"]:
        for message, count in sorted(t["log"].items()):
            lines.append(f"  coach log: {message} {count}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.slack",
        description="Ack latency and throughput of signed slash commands: coach vs bare Bolt.",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"length of each measured phase (default {DEFAULT_SECONDS:g})",
    )
    parser.add_argument(
        "--channels",
        type=int,
        default=DEFAULT_CHANNELS,
        help="spread the commands over this many channels, each with its own partnership "
        f"(default {DEFAULT_CHANNELS}: every command goes to the same partnership)",
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    if not 0.5 <= args.seconds <= 60:
        parser.error("--seconds must be between 0.5 and 60")
    if not 1 <= args.channels <= 100:
        parser.error("--channels must be between 1 and 100")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = asyncio.run(measure(args.seconds, args.channels))
    except BenchError as error:
        print(f"benchmark aborted: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
