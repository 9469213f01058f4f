"""Latency and throughput of a Teams message through the coach, beside a bare Agents SDK echo bot.

    .venv/bin/python -m bench.teams [--seconds S] [--json]

Three processes (plus the embedded redis-server):

- the servers (this process): the coach's own aiohttp app (`build_web_app` with
  `Settings(teams_emulator=True)`, a real `Coach` on the embedded Redis, the real `content/`),
  and a bare Microsoft 365 Agents SDK echo bot: the SDK's aiohttp `CloudAdapter` (no app id,
  anonymous, as the emulator mode) whose agent answers every message with
  `context.send_activity("echo: " + text)`; both serve
  POST /api/messages on 127.0.0.1;
- the load generator: posts full Bot Framework activities (fresh id, `serviceUrl` = the
  stand-in, the bot @mentioned) and times each one until its HTTP response has been read. For
  Teams the whole turn, the reply's round trip to the connector included, runs before the 202;
- a stand-in for the Bot Framework connector (`tests.fake_teams.FakeConnector`) that both bots'
  replies are sent to by the SDK's own connector client, and that records them.

Requests alternate `rate <item> partial "bench note n"` and `decisions`, by three members in
turn, in one channel's partnership. Phases, each `--seconds` long:

1. throughput, closed loop, 8 connections, after a 1-second warm-up that is not timed: the bare
   bot for half the time, the coach, then the bare bot again; target: coach requests/s >= 0.5 x
   the bare bot's;
2. paced, open loop at 20 requests/s against each (latency from each request's scheduled send
   time, so a stalled server cannot hide queued requests).

Every request answered 202 is checked afterwards, untimed: its reply reached the connector
exactly once with the text expected (the rating's confirmation, the decision list, the echo),
and the coach's ratings were committed (the partnership's `rev`). The exit status is 0 whether
or not the targets are met; 2 if the set-up fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from microsoft_agents.activity import ActivityTypes
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import AgentAuthConfiguration, TurnContext
from redis.asyncio import Redis

from bench import slack as slack_bench
from bench.slack import HEADER, Child, LogCounter, _table, _verdict, merge_runs, serve
from bench.turns import _stop_embedded
from bot.coach import Coach
from bot.config import PROJECT_DIR, Settings
from bot.content import Content, load_content
from bot.model import Address
from bot.redis_server import start_embedded
from bot.store import Store
from bot.web import build_web_app
from tests.fake_teams import FakeConnector

DEFAULT_SECONDS = 5.0
WARMUP_SECONDS = 1.0
CONCURRENCY = 8  # closed-loop connections
PACED_RATE = 20.0  # requests per second in the paced phase: both bots sustain it
PACED_CONNECTIONS = 32  # the most the paced client opens
REQUEST_TIMEOUT_S = 10.0  # a request slower than this counts as an error
RATIO_TARGET = 0.5

TENANT = "72f988bf-bench-tenant"
TEAM_ID = "19:bench-team@thread.tacv2"
CHANNEL = "19:bench-partnership@thread.tacv2"
HERE = Address("teams", TENANT, CHANNEL)
BOT = {"id": "28:coach-bot", "name": "Coach"}
MESSAGES_PATH = "/api/messages"
MEMBERS = (  # (Teams user id, display name, email): all three in the channel's own tenant
    ("29:1city-lead", "Dana Whitfield", "dana.whitfield@cityofsacramento.example"),
    ("29:1chamber-rep", "Luis Ortega", "lortega@metrochamber.example"),
    ("29:1ngo-rep", "Priya Raman", "priya@cleanaircoalition.example"),
)
LEAD, CHAMBER, NGO = range(3)
ORG_NAMES = ("City of Sacramento", "Metro Chamber", "Clean Air Coalition")  # each member's
STANDING = "\x00"  # stands in for how a rated item stands, which depends on the others
SET_UP = (  # (member, text), each answered by one public reply
    (LEAD, 'setup "Benchmark Transportation Collaborative"'),
    (LEAD, 'partner add "City of Sacramento" government'),
    (LEAD, 'partner add "Metro Chamber" business'),
    (LEAD, 'partner add "Clean Air Coalition" nonprofit'),
    (LEAD, 'join "City of Sacramento"'),
    (CHAMBER, 'join "Metro Chamber"'),
    (NGO, 'join "Clean Air Coalition"'),
    (LEAD, f"member confirm @{MEMBERS[CHAMBER][0]}"),  # a join counts once it is confirmed
    (LEAD, f"member confirm @{MEMBERS[NGO][0]}"),
    (CHAMBER, 'decide "Meet on the first Tuesday of every month"'),
    (NGO, 'decide "Share one air-quality dashboard"'),
)
RATING = "partial"


class BenchError(RuntimeError):
    """The benchmark would measure the wrong thing (the set-up failed)."""


# --- activities, as Teams sends them -----------------------------------------------------------


def activity(activity_id: str, member: int, text: str, service_url: str) -> dict[str, Any]:
    """A channel message that @mentions the coach, with the fields Teams sends."""
    user_id, name, _ = MEMBERS[member]
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {
        "type": "message",
        "id": activity_id,
        "timestamp": now,
        "localTimestamp": now,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user_id, "name": name, "aadObjectId": str(uuid.uuid4())},
        "conversation": {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": TENANT,
            "id": CHANNEL,
        },
        "recipient": BOT,
        "textFormat": "plain",
        "text": f"<at>Coach</at> {text}",
        "attachments": [
            {"contentType": "text/html", "content": f"<p><at>Coach</at> {text}</p>"},
        ],
        "entities": [
            {"type": "mention", "mentioned": BOT, "text": "<at>Coach</at>"},
            {"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web"},
        ],
        "channelData": {
            "teamsChannelId": CHANNEL,
            "teamsTeamId": TEAM_ID,
            "channel": {"id": CHANNEL},
            "team": {"id": TEAM_ID},
            "tenant": {"id": TENANT},
        },
        "locale": "en-US",
    }


def nth_request(n: int, items: Sequence[str]) -> tuple[str, int, str]:
    """The n-th request of a run: (kind, member, text); ratings and `decisions` alternate and
    the three members take turns, so each rates every third item."""
    member = n % len(MEMBERS)
    if n % 2 == 0:
        item = items[(n // 2) % len(items)]
        return "rate", member, f'rate {item} {RATING} "bench note {n}"'
    return "decisions", member, "decisions"


def activity_id(tag: str, n: int) -> str:
    return f"{tag}-{n}"


# --- the load generator (its own process) ------------------------------------------------------


def client_main(conn: Connection) -> None:
    """Run load jobs sent over `conn` until it sends None; answer each with its result."""
    while (job := conn.recv()) is not None:
        conn.send(asyncio.run(run_job(job)))
    conn.close()


async def run_job(job: dict[str, Any]) -> dict[str, Any]:
    load = Load(job["url"], job["service_url"], job["tag"], job["items"], job["first_n"])
    connector = aiohttp.TCPConnector(limit=job.get("concurrency") or PACED_CONNECTIONS)
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


class Load(slack_bench.Load):
    """Activities posted to one URL, each timed until its response has been read."""

    def __init__(
        self, url: str, service_url: str, tag: str, items: Sequence[str], first_n: int
    ) -> None:
        self.url = url
        self.service_url = service_url
        self.tag = tag
        self.items = items
        self.n = first_n
        self.session: aiohttp.ClientSession | None = None
        self.answered: list[int] = []  # the n of every request answered 202, warm-up included
        self.acked: Counter[str] = Counter()  # unused here: Teams answers 202, counted above
        self.reset()

    async def one(self, scheduled_ns: int | None = None) -> None:
        assert self.session is not None
        n = self.n
        self.n += 1
        kind, member, text = nth_request(n, self.items)
        body = json.dumps(activity(activity_id(self.tag, n), member, text, self.service_url))
        headers = {"Content-Type": "application/json; charset=utf-8"}
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
        if status == "202":
            self.answered.append(n)
        elif len(self.errors) < 5:
            self.errors.append(f"{kind} by {MEMBERS[member][1]}: {status}")

    def result(self) -> dict[str, Any]:
        result = super().result()
        del result["acked"]
        return result | {"answered": self.answered}


# --- the stand-in for the Bot Framework connector (its own process) ----------------------------


def connector_main(conn: Connection) -> None:
    asyncio.run(_serve_connector(conn))
    conn.close()


async def _serve_connector(conn: Connection) -> None:
    connector = FakeConnector()
    # the coach looks each member up once (TeamsInfo.get_member): members of this tenant
    connector.members = {user_id: (TENANT, email) for user_id, _, email in MEMBERS}
    await connector.start()
    conn.send(connector.url)
    loop = asyncio.get_running_loop()
    try:
        while await loop.run_in_executor(None, conn.recv) == "take":
            sent, connector.sent = connector.sent, []  # hand over and forget: memory stays flat
            conn.send({
                "sent": [
                    (s.method, s.conversation, s.activity_id, s.activity.get("text", ""))
                    for s in sent
                ],
                "cpu_s": time.process_time(),
            })  # fmt: skip
    finally:
        await connector.close()


# --- the servers (this process) ----------------------------------------------------------------


class EchoBot:
    """As bare as a bot gets: every message is answered through the connector, nothing else."""

    async def on_turn(self, context: TurnContext) -> None:
        if context.activity.type == ActivityTypes.message:
            await context.send_activity("echo: " + (context.activity.text or ""))


def echo_app() -> web.Application:
    """Local mode, as the emulator uses: no app id, anonymous, no tokens."""
    anonymous = AgentAuthConfiguration(anonymous_allowed=True)
    connections = MsalConnectionManager(
        connections_configurations={"SERVICE_CONNECTION": anonymous}
    )
    adapter = CloudAdapter(connection_manager=connections)
    bot = EchoBot()

    async def handle(request: web.Request) -> web.Response:
        return await adapter.process(request, bot) or web.Response(status=202)

    app = web.Application()
    app.router.add_post("/api/messages", handle)
    return app


class Bench:
    """The coach's partnership, the connector stand-in, and the checks of what was sent."""

    def __init__(
        self, store: Store, content: Content, connector: Child, service_url: str, log: LogCounter
    ) -> None:
        self.store = store
        self.content = content
        self.items = list(content.items)
        self.connector = connector
        self.service_url = service_url
        self.log = log
        self.decisions_text = ""
        self.setup_log: dict[str, int] = {}  # record (level, first message) -> count
        self.connector_cpu_s = 0.0

    async def take(self) -> list[tuple[str, str, str | None, str]]:
        """What the stand-in received since the last call: (method, conversation, reply to,
        text)."""
        taken = await self.connector.ask("take")
        self.connector_cpu_s = taken["cpu_s"]
        return [tuple(s) for s in taken["sent"]]  # type: ignore[misc]

    async def set_up(self, url: str) -> None:
        """The partnership, set up with activities one at a time; checked through the store."""
        self.log.take()  # the app's start-up warning (emulator mode, no authentication)
        problems = []
        async with aiohttp.ClientSession() as http:

            async def say(n: int, member: int, text: str) -> str:
                body = activity(activity_id("setup", n), member, text, self.service_url)
                async with http.post(url, json=body) as r:
                    if r.status != 202:
                        raise BenchError(f"set-up activity {text!r} answered {r.status}")
                sent = await self.take()
                # one reply, and a confirmation also tells the member it confirms
                if len(sent) != 1 + text.startswith("member confirm"):
                    raise BenchError(f"set-up activity {text!r} got {len(sent)} replies")
                return sent[0][3]

            for n, (member, text) in enumerate(SET_UP):
                await say(n, member, text)
            self.decisions_text = await say(len(SET_UP), NGO, "decisions")
        partnership = (await self.store.load(HERE)).partnership
        joined = {uid for uid in partnership.members if partnership.org_of(uid)}
        if len(partnership.orgs) != 3 or joined != {uid for uid, _, _ in MEMBERS}:
            problems.append(f"{len(partnership.orgs)} organizations, members in one {joined}")
        if len(partnership.decisions) != 2:
            problems.append(f"{len(partnership.decisions)} decisions proposed")
        listed = self.content.prompts.templates["decisions.list"].split("{", 1)[0]
        if not self.decisions_text.startswith(listed):
            problems.append(f"`decisions` answered {self.decisions_text!r}")
        errors = [key for key in self.log.counts if not key.startswith(("WARNING", "INFO"))]
        if problems or errors:
            raise BenchError(f"set-up went wrong: {problems}, log {self.log.first}")
        # e.g. the SDK's warnings about the anonymous (emulator) mode
        first, counts = self.log.first, self.log.counts
        self.setup_log = {f"{key.split()[0]} {first[key]}": n for key, n in counts.items()}
        self.log.take()

    async def revision(self) -> int:
        return await self.store.revision(HERE.conversation)

    def expected(self, tag: str, n: int) -> str:
        """The reply the n-th request should get."""
        kind, member, text = nth_request(n, self.items)
        if tag == "bare":
            return f"echo: <at>Coach</at> {text}"
        if kind == "decisions":
            return self.decisions_text
        rating = self.content.rating(RATING)
        return self.content.prompts.render(  # up to how the item stands across the orgs
            "scorecard.rated_with_note",
            user=MEMBERS[member][1],
            item=self.items[(n // 2) % len(self.items)],
            rating=rating.label if rating else RATING,
            org=ORG_NAMES[member],
            note=f"bench note {n}",
            standing=STANDING,
        ).split(STANDING)[0]

    def check(
        self, tag: str, answered: Sequence[int], sent: Sequence[tuple[str, str, str | None, str]]
    ) -> dict[str, Any]:
        """Did every answered request's reply reach the connector, once, saying the right thing?"""
        expected = {activity_id(tag, n): self.expected(tag, n) for n in answered}
        replies: Counter[str] = Counter()
        wrong: set[str] = set()
        samples: list[str] = []
        other = 0
        for method, conversation, reply_to, text in sent:
            if reply_to not in expected:  # e.g. a request that timed out on the client
                other += 1
                continue
            replies[reply_to] += 1
            said = text.startswith(expected[reply_to])
            if method != "POST" or conversation != CHANNEL or not said:
                wrong.add(reply_to)
                if len(samples) < 3:
                    samples.append(f"{reply_to}: {method} {text[:120]!r}")
        return {
            "answered": len(expected),
            # exactly one reply, the one expected
            "delivered": sum(1 for i in expected if replies[i] == 1 and i not in wrong),
            "missing": sum(1 for i in expected if replies[i] == 0),
            "wrong": len(wrong),
            "duplicated": sum(1 for i in expected if replies[i] > 1),
            "other": other,
            "samples": samples,
        }


async def run_phase(
    bench: Bench, client: Child, job: dict[str, Any], label: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One load job: its summary row, and the raw result (for merging)."""
    rev = await bench.revision()
    connector_cpu = bench.connector_cpu_s
    cpu = time.process_time()
    result = await client.ask(job)
    cpu = time.process_time() - cpu
    sent = await bench.take()
    rated = sum(1 for n in result["answered"] if nth_request(n, bench.items)[0] == "rate")
    result |= {
        "cpu_s": cpu,
        "connector_cpu_s": bench.connector_cpu_s - connector_cpu,
        "check": bench.check(job["tag"], result["answered"], sent),
        "ratings": {"answered": rated, "committed": await bench.revision() - rev},
    }
    return summarize(result, label), result


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two closed-loop runs of the same bot as one."""
    checks = {k: a["check"][k] + b["check"][k] for k in a["check"]}
    checks["samples"] = checks["samples"][:3]
    return merge_runs(a, b) | {
        "answered": a["answered"] + b["answered"],
        "cpu_s": a["cpu_s"] + b["cpu_s"],
        "connector_cpu_s": a["connector_cpu_s"] + b["connector_cpu_s"],
        "check": checks,
        "ratings": {k: a["ratings"][k] + b["ratings"][k] for k in ("answered", "committed")},
    }


def summarize(result: dict[str, Any], label: str) -> dict[str, Any]:
    answered = max(1, len(result["answered"]))  # warm-up included: its CPU is counted too
    return slack_bench.summarize(result, label, ok_status="202") | {
        "server_cpu_ms": result["cpu_s"] * 1000 / answered,
        "connector_cpu_ms": result["connector_cpu_s"] * 1000 / answered,
        "replies": result["check"],
        "ratings": result["ratings"],
    }


async def measure(seconds: float) -> dict[str, Any]:
    # "asyncio": a task that raised logs "Task exception was never retrieved"
    with LogCounter().installed("bot", "asyncio", "microsoft_agents") as log:
        return await _measure(seconds, log)


async def _measure(seconds: float, log: LogCounter) -> dict[str, Any]:
    connector = Child(connector_main, "bench-teams-connector")
    client = Child(client_main, "bench-teams-load")
    runners: list[web.AppRunner] = []
    with tempfile.TemporaryDirectory(prefix="coach-bench-", ignore_cleanup_errors=True) as tmp:
        server = start_embedded(Settings(data_dir=Path(tmp)))
        redis = Redis(unix_socket_path=server.socket_file, decode_responses=True)
        try:
            service_url = await connector.receive()
            content = load_content(PROJECT_DIR / "content")
            store = Store(redis, f"bench-{uuid.uuid4().hex[:12]}")
            coach_app = await build_web_app(Coach(store, content), Settings(teams_emulator=True))
            runner, coach_url = await serve(coach_app, MESSAGES_PATH)
            runners.append(runner)
            runner, bare_url = await serve(echo_app(), MESSAGES_PATH)
            runners.append(runner)
            bench = Bench(store, content, connector, service_url, log)
            await bench.set_up(coach_url)

            common = {"items": bench.items, "service_url": service_url}
            closed = common | {"mode": "closed", "concurrency": CONCURRENCY, "seconds": seconds}
            bare_job = closed | {"url": bare_url, "tag": "bare", "seconds": seconds / 2}
            coach_job = closed | {"url": coach_url, "tag": "coach"}
            # Phase 1. The bare bot runs half its time before the coach and half after, so a
            # slow patch of a shared machine hits both alike. Request numbers run on through
            # the whole benchmark: every activity id is new.
            n = 0
            _, bare_a = await run_phase(bench, client, bare_job | {"first_n": n}, "bare")
            coach, coach_raw = await run_phase(
                bench, client, coach_job | {"first_n": bare_a["next_n"]}, "coach"
            )
            coach["log"] = log.take()
            _, bare_b = await run_phase(
                bench, client, bare_job | {"first_n": coach_raw["next_n"]}, "bare"
            )
            bare = summarize(merge(bare_a, bare_b), "bare Agents SDK echo bot")
            bare["log"] = log.take()
            # Phase 2: paced, both bots, for latency at a rate both sustain.
            paced = common | {"mode": "paced", "rate": PACED_RATE, "seconds": seconds}
            paced_rows = []
            n = bare_b["next_n"]
            for tag, url, label in (
                ("bare", bare_url, "bare Agents SDK echo bot"),
                ("coach", coach_url, "coach"),
            ):
                row, raw = await run_phase(
                    bench, client, paced | {"url": url, "tag": tag, "first_n": n}, label
                )
                row["log"] = log.take()
                paced_rows.append(row)
                n = raw["next_n"]
            redis_version = (await redis.info("server")).get("redis_version", "?")
        finally:
            client.stop(None)
            for runner in reversed(runners):
                await runner.cleanup()
            connector.stop("stop")
            await redis.aclose()
            _stop_embedded(server)
    report = summary(seconds, bare, coach, paced_rows, str(redis_version))
    return report | {"setup_log": bench.setup_log}


def summary(
    seconds: float,
    bare: dict[str, Any],
    coach: dict[str, Any],
    paced: list[dict[str, Any]],
    redis_version: str,
) -> dict[str, Any]:
    ratio = coach["per_s"] / bare["per_s"] if bare["per_s"] else 0.0
    rows = [bare, coach, *paced]
    errors = sum(r["errors"] for r in rows)
    undelivered = sum(r["replies"]["answered"] - r["replies"]["delivered"] for r in rows)
    answered = sum(r["replies"]["answered"] for r in rows)
    coach_rows = [coach, paced[1]]
    rated = sum(r["ratings"]["answered"] for r in coach_rows)
    committed = sum(r["ratings"]["committed"] for r in coach_rows)
    return {
        "seconds": seconds,
        "warmup_seconds": WARMUP_SECONDS,
        "concurrency": CONCURRENCY,
        "paced_rate": PACED_RATE,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "redis_version": redis_version,
        "throughput": {"bare": bare, "coach": coach},
        "paced": {"bare": paced[0], "coach": paced[1]},
        "targets": {
            "throughput_ratio": {
                "value": ratio,
                "target": RATIO_TARGET,
                "met": ratio >= RATIO_TARGET,
            },
            "no_errors": {"value": errors, "target": 0, "met": errors == 0},
            "replies_delivered": {
                "value": answered - undelivered,
                "target": answered,
                "met": undelivered == 0,
            },
            "ratings_committed": {
                "value": committed,
                "target": rated,
                "met": committed == rated,
            },
        },
    }


def _cells(row: dict[str, Any], label: str) -> tuple[str, ...]:
    return slack_bench._cells(row, label, rate_digits=1)  # tens of req/s: one decimal


def _checks(row: dict[str, Any], who: str) -> list[str]:
    c = row["replies"]
    line = (
        f"{who}: {c['delivered']} of {c['answered']} replies reached the connector as expected "
        f"({c['missing']} missing, {c['wrong']} wrong, {c['duplicated']} duplicated)"
    )
    if c["other"]:
        line += f"; {c['other']} replies to requests not answered 202"
    if who == "coach":
        ratings = row["ratings"]
        line += f"; ratings committed: {ratings['committed']} of {ratings['answered']}"
    lines = [line]
    lines += [f"  {who}: {sample}" for sample in c["samples"]]
    lines += [f"  {who} log: {message} {count}" for message, count in sorted(row["log"].items())]
    return lines


def render(r: dict[str, Any]) -> str:
    bare, coach = r["throughput"]["bare"], r["throughput"]["coach"]
    paced_bare, paced_coach = r["paced"]["bare"], r["paced"]["coach"]
    targets = r["targets"]
    lines = [
        f"Partnering Coach Teams benchmark: {r['seconds']:g} s per phase "
        f"(+{r['warmup_seconds']:g} s warm-up), Python {r['python']}, {r['cpus']} CPUs",
        "Bot Framework activities over loopback HTTP to POST /api/messages, one partnership; "
        f"Redis {r['redis_version']} embedded",
        "load generator and connector stand-in run in processes of their own; a request is timed "
        "to its 202, which comes after the reply's connector round trip; CPU ms/req is the "
        "servers' process",
        *[f"set-up log: {record} (x{count})" for record, count in sorted(r["setup_log"].items())],
        "",
        f"Phase 1: throughput, closed loop, {r['concurrency']} connections",
        *_table([HEADER, _cells(bare, bare["label"]), _cells(coach, "coach")]),
        *_checks(bare, "bare"),
        *_checks(coach, "coach"),
        "",
        f"Phase 2: paced, open loop at {r['paced_rate']:g} requests/s "
        "(latency from each request's scheduled send time)",
        *_table([HEADER, _cells(paced_bare, paced_bare["label"]), _cells(paced_coach, "coach")]),
        f"client send lag max {max(paced_bare['max_lag_ms'], paced_coach['max_lag_ms']):.1f} ms",
        *_checks(paced_bare, "bare"),
        *_checks(paced_coach, "coach"),
        "",
    ]
    ratio, errors = targets["throughput_ratio"], targets["no_errors"]
    replies, ratings = targets["replies_delivered"], targets["ratings_committed"]
    rows = [
        ("target", "measured", "result"),
        (
            f"coach / bare throughput >= {RATIO_TARGET:g}",
            f"{ratio['value']:.2f}",
            _verdict(ratio["met"]),
        ),
        ("every request answered 202", f"{errors['value']} errors", _verdict(errors["met"])),
        (
            "every reply reached the connector",
            f"{replies['value']} of {replies['target']}",
            _verdict(replies["met"]),
        ),
        (
            "every rating committed",
            f"{ratings['value']} of {ratings['target']}",
            _verdict(ratings["met"]),
        ),
    ]
    lines += _table(rows)
    for row in (bare, coach, paced_bare, paced_coach):
        for sample in row["error_samples"]:
            lines.append(f"  {row['label']}: {sample}")
    met = all(t["met"] for t in targets.values())
    lines.append(f"RESULT: {_verdict(met)}")
    return "\n".join(lines)


def _loopback_without_proxy() -> None:
    """MSAL's client (requests) honors HTTP(S)_PROXY: keep loopback direct."""
    for name in ("NO_PROXY", "no_proxy"):
        entries = [e for e in os.environ.get(name, "").split(",") if e]
        os.environ[name] = ",".join([*entries, "127.0.0.1", "localhost"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.teams",
        description="Latency and throughput of Teams activities: coach vs a bare SDK echo bot.",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"length of each measured phase (default {DEFAULT_SECONDS:g})",
    )
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    if not 0.5 <= args.seconds <= 60:
        parser.error("--seconds must be between 0.5 and 60")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _loopback_without_proxy()
    try:
        result = asyncio.run(measure(args.seconds))
    except BenchError as error:
        print(f"benchmark aborted: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
