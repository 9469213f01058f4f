"""The worker: sends each due check-in once per due time, however many workers run.

    every minute (arq cron, unique=True: one worker runs it)
      tick: partnerships due now -> one arq job each, id "checkin_job:<pid>:<due>"
            (arq refuses a second job with the same id, so a due time is queued once);
            due within a day -> a "reminder_job" asking owners of measures for their values
    any worker
      send_checkin(pid, due):
        already recorded for this due time?     -> only move the schedule on (a re-run)
        skipped by a facilitator?               -> record, send nothing
        more than a day late (downtime)?        -> send a note instead, move on
        otherwise compose, send, then record the check-in and move the schedule on

    every minute (arq cron, unique=True: one worker runs it)
      redeliver: replies a platform refused after its retries, kept in Redis
                 (bot.redelivery), go to the platform again, until they are an hour old

A worker killed mid-job leaves the job in arq's queue; after its timeout another worker runs it
again and finds what was recorded. Killed after the platform accepted the message but before
the record, the re-run must not send it again: before sending, the worker notes in Redis that
it begins (`Store.begin_sending`), and each message carries a receipt (its due time). A re-run
that finds the note asks the platform whether the message is there (`Receipt.since`): Slack's
history holds each message's metadata, the console's transcript its token. Teams gives bots no
way to read a conversation, so there a re-run sends again: at least once, never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from bot import nudges, records, redelivery
from bot.coach import Coach
from bot.config import Settings
from bot.dialogs.checkins import due_words, upcoming
from bot.model import Address, Receipt, Reply
from bot.partnership import Partnership
from bot.schedule import Schedule, next_due
from bot.store import CommitResult, Snapshot

if TYPE_CHECKING:
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from bot.adapters.base import Platform

logger = logging.getLogger(__name__)

MAX_LATENESS = timedelta(days=1)  # a check-in later than this is replaced by the next one
REMINDER_AHEAD = timedelta(days=1)  # owners of measures are asked for their values this early
RECORD_ATTEMPTS = 20
ENQUEUE_BATCH = 100  # jobs queued at once by the tick
RETRY_UNDELIVERED_S = 120  # a check-in that could not be delivered is tried again this often
STOP_GRACE_S = 10  # on shutdown, running jobs get this long to finish before they are canceled
SETTLE_S = 5  # a re-run right after a canceled attempt waits this long before it looks
TRIM_MINUTE = 17  # the worker trims history to each retention period hourly, at this minute
MAX_TRIES = int(MAX_LATENESS.total_seconds() // RETRY_UNDELIVERED_S) + 2  # until it is late

# Posts replies into a conversation; True once the platform has them all. With a receipt whose
# `since` is set, parts the platform already holds under its token are not posted again. It is
# the `send` of a platform (bot.adapters.base.Platform).
T = TypeVar("T")
Courier = Callable[[Address, list[Reply], Receipt], Awaitable[bool]]


async def send_checkin(
    coach: Coach, couriers: dict[str, Courier], pid: str, due: datetime, now: datetime
) -> str:
    """Handle one due check-in; returns what happened: sent, missed, skipped, already, off,
    moved (the schedule changed since this due time was queued) or undelivered (nothing is
    recorded; the job is tried again until the check-in is late)."""
    store = coach.store
    snapshot = await store.load_partnership(pid)
    p = snapshot.partnership
    if p.schedule is None or p.checkins_paused:
        await store.set_due(pid, None)
        return "off"
    schedule = Schedule.from_dict(p.schedule)
    last = p.last_checkin or {}
    if last.get("due") and datetime.fromisoformat(last["due"]) >= due:
        await store.set_due(pid, upcoming(p, due))  # an earlier run sent it and died after
        return "already"
    if next_due(schedule, due - timedelta(seconds=1)) != due:
        await store.set_due(pid, upcoming(p, now))  # a facilitator changed the cadence since
        return "moved"
    say = coach.content.prompts.render
    token = f"checkin:{due.isoformat()}"
    if due.isoformat() in (p.skipped or ()):
        outcome, replies, record = "skipped", [], last | {"due": due.isoformat()}
    elif now - due > MAX_LATENESS and not await store.delivered(pid, token):
        after = upcoming(p, now)
        when = due_words(after, schedule) if after else "-"
        replies = [Reply(say("checkins.missed", skipped=due_words(due, schedule), when=when))]
        outcome, record = "missed", last | {"due": due.isoformat()}
    else:
        decision_log, journal = await store.history_since(
            pid, last.get("decision_log"), last.get("journal")
        )
        checkin = nudges.compose(p, coach.content, decision_log, journal, now, due)
        outcome, replies, record = "sent", checkin.replies, checkin.record
    delivered, reached = await _deliver(coach, couriers, p, token, replies)
    if replies and not delivered and outcome == "sent":
        if not (reached and now - due > MAX_LATENESS):
            logger.error("check-in for %s due %s not delivered; will retry", pid, due.isoformat())
            return "undelivered"
        # late, and some conversations have it: recorded, rather than a missed note to all
        logger.error("check-in for %s due %s reached only some conversations", pid, due.isoformat())
    if len(records.conversations(p)) > 1 and outcome == "sent":
        record = record | {"conversations": ",".join(sorted(await store.delivered(pid, token)))}
    committed = await _record(coach, snapshot, record)
    await store.set_due(pid, upcoming(committed, max(due, now) if outcome == "missed" else due))
    logger.info("check-in %s for %s due %s", outcome, pid, due.isoformat())
    return outcome


async def _deliver(
    coach: Coach, couriers: dict[str, Courier], p: Partnership, token: str, replies: list[Reply]
) -> tuple[bool, bool]:
    """Send `replies` under the receipt `token` to every conversation the partnership lives
    in, unless an earlier attempt got them there. Returns whether every conversation has them
    now, and whether any has. Each conversation's delivery is noted as it succeeds
    (`Store.mark_delivered`), so a re-run sends only where they are missing, and the
    conversations are served at once: one that fails or hangs holds up no other."""
    if not replies:
        return True, True
    pid = p.id
    try:
        done = await coach.store.delivered(pid, token)
        targets = [c for c in records.conversations(p) if c not in done]
        if not targets:
            return True, True
        attempt = await coach.store.begin_sending(pid, token)
        if attempt.previous is not None:
            # a post the previous attempt made as it was cancelled may still be landing
            settle = (attempt.previous - attempt.now).total_seconds() + SETTLE_S  # same clock
            await asyncio.sleep(max(0.0, settle))
    except Exception:  # Redis restarting: tried again later
        logger.exception("could not begin sending %s to %s", token, pid)
        return False, False

    async def one(conversation: str) -> bool:
        address = Address.of_conversation(conversation)
        courier = couriers.get(address.platform)
        if courier is None:
            logger.error("this worker cannot reach %s: set its credentials", address.platform)
            return False
        try:
            if not await courier(address, replies, Receipt(token, attempt.first)):
                return False
            await coach.store.mark_delivered(pid, token, conversation)
            return True
        except Exception:  # a network failure, a platform outage: tried again later
            logger.exception("delivery to %s failed", address.conversation)
            return False

    results = await asyncio.gather(*(one(c) for c in targets))
    return all(results), bool(done) or any(results)


async def _record(coach: Coach, snapshot: Snapshot, record: dict[str, str]) -> Partnership:
    """Keep `record` as the last check-in, on top of whatever partners did meanwhile: on the
    snapshot already loaded, and on a fresh one if someone committed in between. Returns the
    partnership as committed (its schedule may have changed meanwhile)."""
    pid = snapshot.partnership.id
    for attempt in range(RECORD_ATTEMPTS):
        if attempt:
            snapshot = await coach.store.load_partnership(pid)
        p: Partnership = snapshot.partnership
        if not p.is_set_up:  # deleted meanwhile: nothing to record, nothing to bring back
            return p
        p.last_checkin = record
        p.skipped = [s for s in (p.skipped or []) if s > record["due"]] or None
        if await coach.store.commit(snapshot, p) is CommitResult.DONE:
            return p
    logger.error("could not record the check-in for %s due %s", pid, record["due"])
    return snapshot.partnership


async def send_reminders(
    coach: Coach, couriers: dict[str, Courier], pid: str, due: datetime, now: datetime
) -> int | None:
    """Ask each measure's owner for its latest value ahead of the check-in due at `due`, in one
    message; returns how many measures it asks for, None when it could not be delivered. A
    measure reported since the last check-in is not asked for again."""
    p = (await coach.store.load_partnership(pid)).partnership
    if p.schedule is None or p.checkins_paused or due.isoformat() in (p.skipped or ()):
        return 0
    since = (p.last_checkin or {}).get("sent_at", "")
    schedule = Schedule.from_dict(p.schedule)
    say = coach.content.prompts.render
    asks = [
        say(
            "checkins.reminder",
            org=p.orgs[m.owner].name,
            when=due_words(due, schedule),
            measure=m.name,
        )
        for m in p.measures_in_order()
        if m.owner in p.orgs and (not m.reports or m.reports[-1].at <= since)
    ]
    replies = [Reply("\n\n".join(asks))] if asks else []
    delivered, _ = await _deliver(coach, couriers, p, f"reminder:{due.isoformat()}", replies)
    if not delivered:
        logger.error("reminders for %s due %s could not be delivered", pid, due.isoformat())
        return None
    return len(asks)


# --- arq: the jobs and the worker's settings ---------------------------------------------------


async def tick(ctx: dict[str, Any]) -> int:
    """Queue a job for each check-in due now; returns how many were queued."""
    coach: Coach = ctx["coach"]
    now = datetime.now(UTC)
    due = await coach.store.due(now + REMINDER_AHEAD)

    async def enqueue(pid: str, at: datetime) -> bool:
        job = "checkin_job" if at <= now else "reminder_job"
        queued = await ctx["redis"].enqueue_job(
            job,
            pid,
            at.isoformat(),
            # one job per partnership and due time, whichever worker's tick queues it
            _job_id=f"{coach.store.prefix}:{job}:{pid}:{at.isoformat()}",
            _queue_name=ctx["queue_name"],
        )
        return queued is not None

    queued = 0
    for start in range(0, len(due), ENQUEUE_BATCH):  # 10,000 due at 09:00 are queued in seconds
        batch = due[start : start + ENQUEUE_BATCH]
        queued += sum(await asyncio.gather(*(enqueue(pid, at) for pid, at in batch)))
    return queued


async def trim_job(ctx: dict[str, Any]) -> int:
    """Trim each partnership's history to its retention period (`records keep`); returns how
    many entries were removed. Partnerships under a legal hold are left alone."""
    coach: Coach = ctx["coach"]
    trimmed = await records.trim(coach.store, datetime.now(UTC))
    for pid, count in trimmed.items():
        if count:
            logger.info("trimmed %d history entries of %s", count, pid)
    return sum(trimmed.values())


async def redeliver(ctx: dict[str, Any]) -> int:
    """Try the kept replies that are due once more; returns how many got through."""
    coach: Coach = ctx["coach"]
    return await redelivery.redeliver(coach.store, ctx["deliverers"], datetime.now(UTC))


async def reminder_job(ctx: dict[str, Any], pid: str, due: str) -> int | None:
    from arq.worker import Retry

    asked = await _run(ctx, send_reminders, pid, due)
    if asked is None and datetime.now(UTC) < datetime.fromisoformat(due):
        raise Retry(defer=RETRY_UNDELIVERED_S)  # worth asking until the check-in itself
    return asked


async def checkin_job(ctx: dict[str, Any], pid: str, due: str) -> str | None:
    from arq.worker import Retry

    outcome = await _run(ctx, send_checkin, pid, due)
    if outcome in (None, "undelivered"):  # the same job, later; once late, the missed note
        raise Retry(defer=RETRY_UNDELIVERED_S)
    return outcome


async def _run(
    ctx: dict[str, Any],
    send: Callable[[Coach, dict[str, Courier], str, datetime, datetime], Awaitable[T]],
    pid: str,
    due: str,
) -> T | None:
    """`send` for the partnership's due time, or None when it fails or outlasts the job's
    timeout. arq would mark such a job failed and never run it again, and its id would stay
    taken for days: the partnership's schedule would stall."""
    try:
        async with asyncio.timeout(ctx["send_timeout_s"]):
            return await send(
                ctx["coach"], ctx["couriers"], pid, datetime.fromisoformat(due), datetime.now(UTC)
            )
    except Exception:  # a platform that hangs, Redis restarting
        logger.exception("a job for %s due %s failed; it will be run again", pid, due)
        return None


def build_worker(
    coach: Coach,
    couriers: dict[str, Courier],
    redis_settings: RedisSettings,
    *,
    job_timeout_s: int,
    handle_signals: bool,
    deliverers: dict[str, redelivery.Deliver] | None = None,
) -> Worker:
    """An arq Worker running the tick every minute (and at start-up, to catch up after
    downtime) and the check-in jobs, on a queue named after the coach's key prefix; with
    `deliverers` (each platform's `deliver`), also the kept replies' redelivery."""
    from arq.cron import cron
    from arq.worker import Worker, func

    queue = f"{coach.store.prefix}:arq:queue"

    async def startup(ctx: dict[str, Any]) -> None:
        ctx.update(
            coach=coach,
            couriers=couriers,
            deliverers=deliverers or {},
            queue_name=queue,
            send_timeout_s=job_timeout_s,
        )

    return Worker(
        functions=[
            # arq's own timeout only as a backstop: checkin_job retries a send that hangs
            func(checkin_job, name="checkin_job", timeout=job_timeout_s + 5, max_tries=MAX_TRIES),
            func(reminder_job, name="reminder_job", timeout=job_timeout_s + 5, max_tries=MAX_TRIES),
        ],
        cron_jobs=[
            cron(tick, name=f"{queue}:tick", unique=True, run_at_startup=True),
            # hourly, and at start-up: retention is counted in days at the finest
            cron(
                trim_job, name=f"{queue}:trim", minute=TRIM_MINUTE, unique=True, run_at_startup=True
            ),
            cron(redeliver, name=f"{queue}:redeliver", unique=True),
        ],
        redis_settings=redis_settings,
        queue_name=queue,
        on_startup=startup,
        handle_signals=handle_signals,
        job_completion_wait=STOP_GRACE_S,  # on SIGTERM, running jobs finish before the exit
        job_timeout=job_timeout_s,
        keep_result=int(MAX_LATENESS.total_seconds()) * 2,  # a job id stays taken this long
        poll_delay=0.2,
    )


@asynccontextmanager
async def platforms_for(coach: Coach, settings: Settings) -> AsyncIterator[dict[str, Platform]]:
    """Each platform this process can reach (bot.adapters), to deliver through: their `send`
    (check-ins) and `deliver` (kept replies)."""
    from aiohttp import ClientSession

    from bot.adapters import enabled

    async with ClientSession() as session:
        platforms = [entry.build(coach, settings, session) for entry in enabled(settings)]
        try:
            yield {platform.name: platform for platform in platforms}
        finally:
            for platform in platforms:
                await platform.close()


@asynccontextmanager
async def running_worker(
    coach: Coach, settings: Settings, *, handle_signals: bool = False
) -> AsyncIterator[asyncio.Future[None]]:
    """The worker running in this process until the block ends (the embedded one-process
    default, and `coach worker`)."""
    from bot.redis_server import arq_redis_settings

    async with platforms_for(coach, settings) as platforms:
        worker = build_worker(
            coach,
            {name: platform.send for name, platform in platforms.items()},
            arq_redis_settings(settings, coach.store.redis),
            job_timeout_s=settings.job_timeout_s,
            handle_signals=handle_signals,
            deliverers={name: platform.deliver for name, platform in platforms.items()},
        )
        task = asyncio.ensure_future(worker.async_run())
        try:
            yield task
        finally:
            # arq's burst mode with nothing left to take is its own clean way out: the jobs
            # running finish (a check-in half sent is better finished than re-run), then its
            # loop returns. Only what outlasts the grace is canceled.
            worker.burst, worker.max_burst_jobs = True, 0
            await asyncio.wait({task}, timeout=STOP_GRACE_S)  # raises nothing, however it ends
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await _close(worker)


async def _close(worker: Worker) -> None:
    """arq's `Worker.close` cancels the running jobs, then gathers them: a job canceled before
    its own error handling began re-raises its cancelation there, and the process would end
    with a traceback. That job stays in the queue and runs again; only a cancellation of this
    task itself is passed on."""
    try:
        await worker.close()
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        logger.info("a job cut short by the shutdown stays queued")
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
        await worker.pool.aclose(close_connection_pool=True)
