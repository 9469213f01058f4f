"""Replies a platform would not take, kept in Redis and tried again by the worker.

    an adapter     a reply still refused after its client's own retries (Slack: 5xx, 429,
                   a dropped connection) -> `keep(...)`: platform, turn, reply, first failure
    the worker     every minute (`redeliver`): each kept reply that is due goes to the
                   platform's `deliver` again; refused again -> tried later, with backoff;
                   older than `MAX_AGE` -> dropped with a log line (an answer that late would
                   confuse more than help)

A reply the platform refuses for good (a channel that is gone, a missing scope) is not kept:
trying again cannot help.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.model import Reply, Turn
from bot.store import Store

logger = logging.getLogger(__name__)

MAX_AGE = timedelta(hours=1)
FIRST_RETRY = timedelta(minutes=1)  # doubled after each refusal, up to MAX_RETRY_GAP
MAX_RETRY_GAP = timedelta(minutes=15)
LEASE_S = 300  # a worker that dies holding a reply leaves it due again after this long
BATCH = 100

Deliver = Callable[[Turn, Reply], Awaitable[bool]]  # a platform's `deliver`


async def keep(store: Store, platform: str, turn: Turn, reply: Reply, now: datetime) -> None:
    """Keep a reply the platform would not take, for the worker to try again."""
    entry = _entry(platform, turn, reply, first=now, attempts=1)
    await store.keep_reply(entry, now + FIRST_RETRY)


def _entry(platform: str, turn: Turn, reply: Reply, *, first: datetime, attempts: int) -> str:
    return json.dumps(
        {
            "id": uuid.uuid4().hex,
            "platform": platform,
            "turn": turn.to_json(),
            "reply": reply.to_json(),
            "first": first.isoformat(),
            "attempts": attempts,
        }
    )


async def redeliver(store: Store, deliverers: dict[str, Deliver], now: datetime) -> int:
    """Try each kept reply that is due once more; returns how many were delivered."""
    delivered = 0
    for entry in await store.replies_due(now, LEASE_S, BATCH):
        try:
            kept = json.loads(entry)
            platform, attempts = str(kept["platform"]), int(kept["attempts"])
            first = datetime.fromisoformat(kept["first"])
            turn, reply = Turn.from_json(kept["turn"]), Reply.from_json(kept["reply"])
        except (ValueError, TypeError, KeyError):
            logger.error("dropped a kept reply that cannot be read (%d characters)", len(entry))
            await store.replace_reply(entry, None, now)
            continue
        if now - first > MAX_AGE:
            logger.error(
                "dropped a reply to %s after %d attempts since %s: too late to post",
                turn.address.conversation,
                attempts,
                first.isoformat(),
            )
            await store.replace_reply(entry, None, now)
            continue
        deliver = deliverers.get(platform)
        try:
            done = deliver is not None and await deliver(turn, reply)
        except Exception:  # a platform outage, a bug: tried again later, like a refusal
            logger.exception("redelivery to %s failed", turn.address.conversation)
            done = False
        if done:
            delivered += 1
            await store.replace_reply(entry, None, now)
            logger.info("delivered a kept reply to %s", turn.address.conversation)
            continue
        gap = min(FIRST_RETRY * 2**attempts, MAX_RETRY_GAP)
        retry = _entry(platform, turn, reply, first=first, attempts=attempts + 1)
        await store.replace_reply(entry, retry, now + gap)
    return delivered
