"""The durable turn queue: what a platform was told we received is in Redis before the
acknowledgement goes out, and any process finishes it.

    listener   queue.add(entry)            XADD to {prefix}:turns:<platform>; then the ack
    consumer   (every process that serves the platform, from `start()` to `close()`)
               XREADGROUP ">"               entries nobody has taken, as many as it has room for
               XAUTOCLAIM                   entries a consumer took and did not finish within
                                            `claim_after_s`: it died (SIGKILL, a lost machine)
               run(entry)                   the platform's own work: the turn, its replies
                 note(entry, text)          how far it got (a turn's replies, once it is
                                            committed), for a process that takes it over
               XACK + XDEL                  done: the stream holds only the backlog

It is a Redis Stream with one consumer group rather than arq's queue: the ack waits for one
XADD (arq's enqueue is a WATCH/MULTI transaction), consumers wait on a blocking read instead of
polling, the web processes that already hold the platform's clients run the turns, and Redis
itself tracks which consumer holds which entry. An entry may run twice (its consumer died after
the work and before XACK, or outlived `claim_after_s`); a turn is still done once, because the
commit refuses an event id it has seen (`Store.commit`), and every queued turn carries one.

A process holds at most `concurrency` entries at a time, so its memory stays bounded under any
load: the backlog waits in Redis, where another process can take it. Adds (and marks of work
done) made while one is on its way to Redis go together in the next round trip: under load an
ack waits for one pipelined XADD among many, not for a round trip of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from redis.exceptions import RedisError, ResponseError

from bot.store import Store

logger = logging.getLogger(__name__)

GROUP = "coach"
READ_BLOCK_MS = 1000  # a blocking read returns at least this often, to look for abandoned work
CLAIM_EVERY_S = 5.0  # how often a consumer looks for entries whose consumer died
IDLE_POLL_S = 0.005
ADDS_IN_FLIGHT = 4  # pipelined XADDs on their way at once: an ack waits for fewer of them
RETRY_AFTER_ERROR_S = 1.0


@dataclass(frozen=True)
class Entry:
    """One entry of the queue: its id, its fields, and, when it is taken over from a process
    that died, what that process's work noted about it (`TurnQueue.note`)."""

    id: str
    fields: dict[str, str]
    note: str | None = None


Run = Callable[[Entry], Awaitable[None]]
T = TypeVar("T")
R = TypeVar("R")


class Batched(Generic[T, R]):
    """Calls of `send` for one item each, gathered: those made while `in_flight` batches are
    on their way go together in the next one. `send` takes a list and returns one result per
    item."""

    def __init__(
        self, send: Callable[[list[T]], Awaitable[Sequence[R]]], in_flight: int = 1
    ) -> None:
        self._send = send
        self._in_flight = in_flight
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._flushes = 0  # flushes running: counted down by each as it ends, with no await
        # between its last look at `_waiting` and the count, so no call is left unsent
        self._tasks: set[asyncio.Task[None]] = set()  # the flushes, kept from the collector

    async def __call__(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._waiting.append((item, future))
        if self._flushes < self._in_flight:
            self._flushes += 1
            task = loop.create_task(self._flush())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _flush(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    results = await self._send([item for item, _ in batch])
                except Exception as error:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # its caller may have given up
                        future.set_result(result)
        finally:
            self._flushes -= 1


class TurnQueue:
    """One platform's queue of acknowledged work, and this process's consumer of it.

    Args:
        store: where the stream lives.
        name: the platform (`slack`): the stream is `{prefix}:turns:<name>`.
        run: does one entry's work; it should not raise (a failure is logged, and the entry
            is done either way: a turn's failure is answered with the apology, never retried).
        concurrency: entries this process runs at once.
        claim_after_s: an entry taken this long ago and not done is taken over.

    Example:
        queue = TurnQueue(store, "slack", run, concurrency=32, claim_after_s=30)
        await queue.start()
        await queue.add({"turn": turn.to_json()})   # before the ack
    """

    def __init__(
        self, store: Store, name: str, run: Run, *, concurrency: int, claim_after_s: float
    ) -> None:
        self.store = store
        self.name = name
        self.consumer = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._run = run
        self._concurrency = concurrency
        self._batch = max(1, concurrency // 4)  # the fewest entries a busy consumer reads
        self._claim_after_ms = int(claim_after_s * 1000)
        self._tasks: set[asyncio.Task[None]] = set()  # entries' work, and marking it done
        self._busy = 0  # entries whose work is running: what `concurrency` bounds
        self._freed = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._can_claim = True  # XAUTOCLAIM needs Redis 6.2
        self._add: Batched[dict[str, str], str] = Batched(
            lambda entries: store.queue_add(name, entries), in_flight=ADDS_IN_FLIGHT
        )
        self._done: Batched[str, None] = Batched(self._mark_done)
        self._note: Batched[tuple[str, str], None] = Batched(self._write_notes)

    async def add(self, fields: dict[str, str]) -> str:
        """Queue one entry; durable when this returns. Raises when Redis cannot take it: then
        do not acknowledge, so the platform sends it again or tells its user."""
        return await self._add(fields)

    async def note(self, entry_id: str, note: str) -> None:
        """Note how far an entry's work got: a process that takes the entry over (this one
        died) gets the note with it, and can go on from there instead of from the start."""
        await self._note((entry_id, note))

    async def _write_notes(self, notes: list[tuple[str, str]]) -> list[None]:
        await self.store.queue_note(self.name, notes)
        return [None] * len(notes)

    async def _mark_done(self, entry_ids: list[str]) -> list[None]:
        await self.store.queue_done(self.name, GROUP, entry_ids)
        return [None] * len(entry_ids)

    async def start(self) -> None:
        await self.store.queue_create(self.name, GROUP)
        self._loop = asyncio.get_running_loop().create_task(self._consume())

    async def close(self) -> None:
        """Stop taking entries, and finish the ones taken (the rest wait for another process)."""
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def idle(self) -> None:
        """Wait until every entry queued so far is done, by any process (tests, benchmarks)."""
        while self._tasks or await self.store.queue_length(self.name):  # noqa: ASYNC110
            await asyncio.sleep(IDLE_POLL_S)  # other processes' work too: nothing to wait on

    @property
    def running(self) -> int:
        return self._busy

    async def _consume(self) -> None:
        claim_at = 0.0  # at once: a process starting after a crash takes over its work
        cursor = "0-0"
        loop = asyncio.get_running_loop()
        while True:
            try:
                room = self._concurrency - self._busy
                if room < self._batch and self._busy:  # busy: read a few at a time
                    self._freed.clear()
                    await self._freed.wait()
                    continue
                if self._can_claim and loop.time() >= claim_at:
                    cursor, claimed = await self.store.queue_claim(
                        self.name, GROUP, self.consumer, self._claim_after_ms, room, cursor
                    )
                    if cursor == "0-0":  # looked at every entry taken: next round later
                        claim_at = loop.time() + CLAIM_EVERY_S
                    notes = await self.store.queue_notes(self.name, [i for i, _ in claimed])
                    entries = [
                        Entry(i, f, note) for (i, f), note in zip(claimed, notes, strict=True)
                    ]
                    for entry in entries:
                        logger.info("%s queue: taking over entry %s", self.name, entry.id)
                else:
                    read = await self.store.queue_read(
                        self.name, GROUP, self.consumer, room, READ_BLOCK_MS
                    )
                    entries = [Entry(i, f) for i, f in read]
                for entry in entries:
                    task = loop.create_task(self._work(entry))
                    self._busy += 1
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
            except ResponseError as error:
                if "NOGROUP" in str(error):  # the stream was deleted under us: make it again
                    with contextlib.suppress(RedisError, OSError):
                        await self.store.queue_create(self.name, GROUP)
                    continue
                if "xautoclaim" in str(error).lower():
                    self._can_claim = False
                    logger.error(
                        "%s queue: this Redis has no XAUTOCLAIM (before 6.2): turns a dead "
                        "process had taken are not taken over",
                        self.name,
                    )
                    continue
                await self._pause(error)
            except (RedisError, OSError) as error:
                await self._pause(error)
            except Exception:  # a bug: logged, and the consumer goes on
                logger.exception("%s queue: the consumer failed; going on", self.name)
                await asyncio.sleep(RETRY_AFTER_ERROR_S)

    async def _pause(self, error: Exception) -> None:
        logger.warning("%s queue: cannot read from Redis (%r); trying again", self.name, error)
        await asyncio.sleep(RETRY_AFTER_ERROR_S)

    async def _work(self, entry: Entry) -> None:
        entry_id = entry.id
        try:
            await self._run(entry)
        except Exception:
            logger.exception("%s queue: entry %s failed", self.name, entry_id)
        finally:  # the slot is free while the entry is marked done
            self._busy -= 1
            self._freed.set()
        try:
            await self._done(entry_id)
        except Exception as error:  # taken over later; its event id makes the re-run a no-op
            logger.warning("%s queue: could not mark %s done (%r)", self.name, entry_id, error)
