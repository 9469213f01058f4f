"""Every Redis key and operation. The only module that knows key names.

Keys of one partnership carry its id as a Redis Cluster hash tag, so every multi-key operation
on it stays in one slot:

    {prefix}:{<pid>}:rev            a counter, bumped by every commit that changes something
    {prefix}:{<pid>}:<section>      one hash per section of `Partnership` (meta, orgs, members, …;
                                    `records`: linked conversations, link code, retention, hold)
    {prefix}:{<pid>}:decision-log   stream: every propose / endorse / object / revise, append-only
    {prefix}:{<pid>}:journal        stream: ratings, discussion answers and other things that moved
    {prefix}:{<pid>}:seen:<event>   marks a platform event id as handled (expires)
    {prefix}:{<pid>#practice}:…     a practice run's space: the same keys as a partnership's,
                                    under a hash tag of its own (bot/dialogs/practice.py)
    {prefix}:conversation:<conv>    the partnership a conversation belongs to, where it is not
                                    the conversation's own (so one partnership can span several:
                                    `link CODE`; a partnership's id is its home conversation's)
    {prefix}:user:<platform>:<workspace>:<user>
                                    set: the partnerships a user has joined (App Home lists
                                    them; each is checked against its members when shown)
    {prefix}:person:<platform>:<workspace>:<user>
                                    a person's display name and home organization on a
                                    platform, as JSON (expires after a day)
    {prefix}:acting:<platform>:<workspace>:<user>
                                    the partnership a person last acted in: their direct
                                    messages to the coach are turns of it
    {prefix}:direct:<platform>:<workspace>:<user>
                                    the platform's id of the coach's direct conversation with
                                    a person (a Slack IM channel, a Teams 1:1 chat)
    {prefix}:record:<kind>:<name>   small named records: Slack installations (per workspace and
                                    per installing user), one-time OAuth states (expire), who
                                    opened Slack's setup form where (expire after a day)
    {prefix}:{<conv>}:reference     how to reach the conversation proactively (Teams)
    {prefix}:file:<token>           a document offered by a download link (Teams), as JSON with
                                    its bytes in base64 (expires after FILE_TTL_S)
    {prefix}:{<pid>}:files          set: the tokens of the partnership's documents, so they
                                    go when it is deleted (expires with the newest)
    {prefix}:checkins-due           sorted set: partnership -> when its next check-in is due
    {prefix}:{<pid>}:sending:<token>
                                    hash: when the worker first and last began sending a
                                    check-in (or its reminders), so a re-run knows to look for
                                    it before sending; "delivered:<conv>" for each of the
                                    partnership's conversations that has it already
    {prefix}:{<conv>}:transcript    stream: what the worker posted into a console conversation
                                    (the console's stand-in for a platform's message history)
    {prefix}:turns:<platform>       stream: turns a platform acknowledged and no process has
                                    finished yet (the durable turn queue, `bot/turnqueue.py`);
                                    consumer group "coach": an entry is deleted once its turn is
                                    done, so the stream holds only the backlog
    {prefix}:turns:<platform>:notes hash: entry id -> what its work noted on the way (a turn's
                                    replies while they are posted), for a process taking the
                                    entry over; deleted with the entry
    {prefix}:undelivered            sorted set: replies a platform would not take after its
                                    retries (JSON: platform, turn, reply, first failure) -> when
                                    the worker tries them next
    {prefix}:{<conv>}:messages      a platform's ids for the coach's messages in a conversation:
                                    "key:<reply key>" -> message id and "id:<message id>" -> key
                                    (a decision's card, a dialog's thread), so a later reply can
                                    update the card or join the thread
    {prefix}:link-code:<code>       the partnership a one-time link code joins (expires; deleted
                                    when used; the partnership's `records` section holds its
                                    hash and expiry, which decide whether it is still good)
    {prefix}:retained               set: partnerships with a retention period, which the
                                    worker trims (`records keep 7 years`)

Queued check-in jobs are arq's: `arq:job:<id>`, `arq:result:<id>`, `arq:retry:<id>` and
`arq:in-progress:<id>`, with ids `{prefix}:checkin_job:<pid>:<due>` (and `reminder_job`), in
the queue `{prefix}:arq:queue` (a sorted set of job ids). `Store.purge` removes them with the
partnership.

Concurrency: a turn loads a snapshot (with its `rev`), the core computes the new state, and
`commit` applies the difference in one Lua script only if `rev` is unchanged. Two members
endorsing at the same instant: one commit wins, the other gets CONFLICT, reloads, and applies its
endorsement on top. The event-id check runs in the same script, so a retried event is handled
once even when both deliveries race.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from bot.model import Address, Reply, Turn, User
from bot.partnership import SECTIONS, Partnership

USER_NAME_TTL_S = 24 * 3600  # people rarely rename; a day-old display name is fine
# `# type: ignore[misc]` below: redis-py 5 (arq needs < 6) types each asyncio command's reply
# as "awaitable or value", which mypy refuses to await.
SEEN_EVENT_TTL_S = 24 * 3600  # Slack retries for up to ~1 hour, Teams for less; a day is ample
SENDING_TTL_S = 3 * 24 * 3600  # longer than the worker retries a check-in
TRANSCRIPT_LENGTH = 1000  # a console conversation keeps about this many posts
FILE_TTL_S = 24 * 3600  # a report's download link works for a day

Entry = dict[str, str]

_COMMIT = """
-- KEYS[1] = rev, KEYS[2] = seen marker (or rev again), KEYS[3..] = keys the ops touch
-- ARGV[1] = expected rev, ARGV[2] = '1' when there is an event id, ARGV[3] = its ttl,
-- ARGV[4] = JSON list of ops: {command, key index, args...}
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  return -2
end
local ops = cjson.decode(ARGV[4])
if #ops > 0 then
  if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then
    return -1
  end
  for _, op in ipairs(ops) do
    redis.call(op[1], KEYS[op[2]], unpack(op, 3))
  end
  redis.call('INCR', KEYS[1])
end
if ARGV[2] == '1' then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
end
return 1
"""


_BEGIN_SENDING = """
-- KEYS[1] = the sending marker (a hash: first, last), ARGV[1] = its ttl
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
local first = redis.call('HGET', KEYS[1], 'first') or ''
local last = redis.call('HGET', KEYS[1], 'last') or ''
if first == '' then
  redis.call('HSET', KEYS[1], 'first', now)
end
redis.call('HSET', KEYS[1], 'last', now)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return {first, last, now}
"""


_TAKE_DUE = """
-- KEYS[1] = a sorted set of things to try at a time; ARGV[1] = now, ARGV[2] = how many,
-- ARGV[3] = when the taken ones come due again unless they are dealt with first (a lease)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[3], member)
end
return due
"""


@dataclass(frozen=True)
class Attempt:
    """One attempt at sending something the worker sends, on Redis's clock."""

    now: datetime
    first: datetime | None  # when the first attempt began; None: this is the first
    previous: datetime | None  # when the attempt before this one began


def _at(epoch: str) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC)


class CommitResult(enum.Enum):
    DONE = "done"
    CONFLICT = "conflict"  # someone else committed first: reload and try again
    DUPLICATE = "duplicate"  # this event id was handled already


@dataclass
class Snapshot:
    """A partnership as loaded, plus what is needed to write back only its changes."""

    partnership: Partnership
    rev: str
    sections: dict[str, dict[str, str]]
    decision_log: list[Entry]
    journal: list[Entry]
    acting_in: str | None = None  # where the person asked about last acted (`acting_of`)


class Store:
    """The coach's state in Redis.

    Args:
        redis: a client created with `decode_responses=True`.
        prefix: the first part of every key (`COACH_KEY_PREFIX`).
    """

    def __init__(self, redis: Redis, prefix: str = "coach") -> None:
        self.redis = redis
        self.prefix = prefix
        self._commit = redis.register_script(_COMMIT)
        self._begin_sending = redis.register_script(_BEGIN_SENDING)
        self._take_due = redis.register_script(_TAKE_DUE)

    def _key(self, pid: str, name: str) -> str:
        return f"{self.prefix}:{{{pid}}}:{name}"

    async def load(self, address: Address, *, with_history: bool = False) -> Snapshot:
        """The partnership of the conversation at `address`, in one round trip when possible.

        `with_history` also reads both streams (the decision log and the journal).
        """
        pid = address.conversation
        conversation_key = f"{self.prefix}:conversation:{address.conversation}"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(conversation_key)
            self._queue_load(pipe, pid, with_history)
            linked, *loaded = await pipe.execute()
        if linked and linked != pid:
            return await self.load_partnership(linked, with_history=with_history)
        return self._snapshot(pid, loaded, with_history)

    async def load_partnership(
        self, pid: str, *, with_history: bool = False, acting_of: tuple[str, str, str] | None = None
    ) -> Snapshot:
        """A partnership by its id (App Home, check-ins). `acting_of` (platform, workspace,
        user id) also reads, in the same round trip, the partnership that person last acted
        in (`Snapshot.acting_in`, as `acting_in()` answers)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            self._queue_load(pipe, pid, with_history)
            if acting_of is not None:
                pipe.get(self._acting_key(*acting_of))
            loaded = await pipe.execute()
        acting_in = loaded.pop() if acting_of is not None else None
        return replace(self._snapshot(pid, loaded, with_history), acting_in=acting_in)

    async def history_since(
        self, pid: str, decision_log_after: str | None, journal_after: str | None
    ) -> tuple[list[Entry], list[Entry]]:
        """Both streams' entries after the given ids (all of them for an empty id): what a
        check-in reports, without reading a history that only ever grows."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for name, after in (("decision-log", decision_log_after), ("journal", journal_after)):
                pipe.xrange(self._key(pid, name), min=f"({after}" if after else "-")
            decision_log, journal = await pipe.execute()
        return _entries(decision_log), _entries(journal)

    def _queue_load(self, pipe: Any, pid: str, with_history: bool) -> None:
        # rev is read first: if a commit lands between these reads, the snapshot's rev is stale
        # and our own commit fails with CONFLICT instead of writing over a torn view.
        pipe.get(self._key(pid, "rev"))
        for section in SECTIONS:
            pipe.hgetall(self._key(pid, section))
        if with_history:
            pipe.xrange(self._key(pid, "decision-log"))
            pipe.xrange(self._key(pid, "journal"))

    def _snapshot(self, pid: str, loaded: list[Any], with_history: bool) -> Snapshot:
        rev = loaded[0] or "0"
        sections = dict(zip(SECTIONS, loaded[1 : 1 + len(SECTIONS)], strict=True))
        decision_log, journal = [_entries(x) for x in loaded[-2:]] if with_history else ([], [])
        partnership = Partnership.from_sections(pid, sections)
        return Snapshot(partnership, rev, sections, decision_log, journal)

    async def commit(
        self,
        snapshot: Snapshot,
        changed: Partnership | None,
        *,
        decision_log: Sequence[Entry] = (),
        journal: Sequence[Entry] = (),
        event_id: str | None = None,
        reset: bool = False,
    ) -> CommitResult:
        """Write what changed since `snapshot`, atomically, unless someone else wrote first.

        `changed` None writes nothing but still marks `event_id` as handled. `reset` starts the
        partnership afresh: every section and both streams are deleted first, in the same
        script, and `changed` is written whole (a practice run's space, replaced or cleared;
        its `rev` stays, so a turn racing the reset still sees a conflict).
        """
        pid = snapshot.partnership.id
        keys = [self._key(pid, "rev"), self._key(pid, f"seen:{event_id}" if event_id else "rev")]
        ops: list[list[Any]] = []

        def key_index(name: str) -> int:
            keys.append(self._key(pid, name))
            return len(keys)  # Lua indexes from 1

        if reset:
            ops += [["DEL", key_index(name)] for name in (*SECTIONS, "decision-log", "journal")]
        changes = changed.changes({} if reset else snapshot.sections) if changed else {}
        for section, (updates, removed) in changes.items():
            if updates:
                ops.append(["HSET", key_index(section), *(x for kv in updates.items() for x in kv)])
            if removed:
                ops.append(["HDEL", key_index(section), *removed])
        for stream, entries in (("decision-log", decision_log), ("journal", journal)):
            for entry in entries:
                ops.append(
                    ["XADD", key_index(stream), "*", *(x for kv in entry.items() for x in kv)]
                )
        if not ops and not event_id:
            return CommitResult.DONE
        result = await self._commit(
            keys=keys,
            args=[snapshot.rev, "1" if event_id else "0", SEEN_EVENT_TTL_S, json.dumps(ops)],
        )
        if result == -2:
            return CommitResult.DUPLICATE
        if result == -1:
            return CommitResult.CONFLICT
        return CommitResult.DONE

    async def link(self, address: Address, pid: str) -> None:
        """Make the conversation at `address` a channel of partnership `pid` (which may be
        another conversation's), so one partnership can span a Slack and a Teams channel."""
        await self.redis.set(f"{self.prefix}:conversation:{address.conversation}", pid)

    async def message_id(self, address: Address, key: str) -> str | None:
        """The platform's id of the message shown as `key` in the conversation at `address`."""
        found = await self.redis.hget(self._key(address.conversation, "messages"), f"key:{key}")  # type: ignore[misc]
        return str(found) if found is not None else None

    async def message_key(self, address: Address, message_id: str) -> str | None:
        """The key (`decision:D1`, …) of the coach's message `message_id`, if it is one."""
        found = await self.redis.hget(  # type: ignore[misc]
            self._key(address.conversation, "messages"), f"id:{message_id}"
        )
        return str(found) if found is not None else None

    async def remember_message(self, address: Address, key: str, message_id: str) -> None:
        await self.redis.hset(  # type: ignore[misc]
            self._key(address.conversation, "messages"),
            mapping={f"key:{key}": message_id, f"id:{message_id}": key},
        )

    async def index_membership(self, address: Address, user_id: str, pid: str) -> None:
        await self.redis.sadd(self._user_key(address.platform, address.workspace, user_id), pid)  # type: ignore[misc]

    async def memberships(self, platform: str, workspace: str, user_id: str) -> list[str]:
        """The partnerships a user has joined on one platform's workspace, sorted."""
        found = await self.redis.smembers(self._user_key(platform, workspace, user_id))  # type: ignore[misc]
        return sorted(str(pid) for pid in found)

    def _user_key(self, platform: str, workspace: str, user_id: str) -> str:
        return f"{self.prefix}:user:{platform}:{workspace}:{user_id}"

    async def cached_person(self, platform: str, workspace: str, user_id: str) -> User | None:
        """A person's name and home organization as a platform last reported them."""
        found = await self.redis.get(self._person_key(platform, workspace, user_id))
        return _person(user_id, found)

    async def person_and_reference(
        self, address: Address, user_id: str | None
    ) -> tuple[User | None, str | None]:
        """`cached_person` (of `user_id`, if any) and `reference` in one round trip: what an
        inbound activity needs."""
        async with self.redis.pipeline(transaction=False) as pipe:  # two hash slots
            pipe.get(self._key(address.conversation, "reference"))
            if user_id is not None:
                pipe.get(self._person_key(address.platform, address.workspace, user_id))
            reference, *person = await pipe.execute()
        return (_person(user_id, person[0]) if user_id is not None else None), reference

    async def cache_person(self, platform: str, workspace: str, person: User) -> None:
        key = self._person_key(platform, workspace, person.id)
        value = json.dumps(
            {
                "name": person.name,
                "home": person.home,
                "verified": list(person.verified),
                "tz": person.tz,
            }
        )
        await self.redis.set(key, value, ex=USER_NAME_TTL_S)

    def _person_key(self, platform: str, workspace: str, user_id: str) -> str:
        return f"{self.prefix}:person:{platform}:{workspace}:{user_id}"

    async def set_acting_in(self, platform: str, workspace: str, user_id: str, pid: str) -> None:
        await self.redis.set(self._acting_key(platform, workspace, user_id), pid)

    async def acting_in(self, platform: str, workspace: str, user_id: str) -> str | None:
        """The partnership the person last acted in on this platform's workspace."""
        found = await self.redis.get(self._acting_key(platform, workspace, user_id))
        return str(found) if found is not None else None

    def _acting_key(self, platform: str, workspace: str, user_id: str) -> str:
        return f"{self.prefix}:acting:{platform}:{workspace}:{user_id}"

    async def remember_direct(
        self, platform: str, workspace: str, user_id: str, conversation: str
    ) -> None:
        await self.redis.set(f"{self.prefix}:direct:{platform}:{workspace}:{user_id}", conversation)

    async def direct(self, platform: str, workspace: str, user_id: str) -> str | None:
        """The coach's direct conversation with a person, when one was opened before."""
        found = await self.redis.get(f"{self.prefix}:direct:{platform}:{workspace}:{user_id}")
        return str(found) if found is not None else None

    async def put_record(
        self, kind: str, name: str, value: str, *, ttl_s: int | None = None
    ) -> None:
        """Keep a small named record (a Slack installation, an OAuth state) as text."""
        await self.redis.set(self._record_key(kind, name), value, ex=ttl_s)

    async def get_record(self, kind: str, name: str) -> str | None:
        found = await self.redis.get(self._record_key(kind, name))
        return str(found) if found is not None else None

    async def take_record(self, kind: str, name: str) -> str | None:
        """Read and delete a record in one step, so it can be used only once."""
        found = await self.redis.getdel(self._record_key(kind, name))
        return str(found) if found is not None else None

    async def delete_record(self, kind: str, name: str) -> None:
        await self.redis.delete(self._record_key(kind, name))

    def _record_key(self, kind: str, name: str) -> str:
        return f"{self.prefix}:record:{kind}:{name}"

    def _records_of(self, conversation: str) -> str:
        """A SCAN pattern for the records named after a conversation's messages (the Teams
        cards kept for refreshing: `record:teams-card:<conversation>:<message id>`)."""
        return f"{_glob(self.prefix)}:record:*:{_glob(conversation)}:*"

    async def put_file(
        self,
        address: Address,
        filename: str,
        media_type: str,
        data: bytes,
        *,
        partnership: str | None = None,
    ) -> str:
        """Keep a document of `partnership` (else of the partnership at `address`) for a
        download link; returns the link's token (random, unguessable). It expires after
        FILE_TTL_S, or when the partnership is deleted (its `files` set names it)."""
        token = secrets.token_urlsafe(24)
        files = self._key(partnership or await self.partnership_of(address), "files")
        value = json.dumps(
            {
                "filename": filename,
                "media_type": media_type,
                "data": base64.b64encode(data).decode("ascii"),
            }
        )
        async with self.redis.pipeline(transaction=False) as pipe:  # two hash slots
            pipe.set(self._file_key(token), value, ex=FILE_TTL_S)
            pipe.sadd(files, token)
            pipe.expire(files, FILE_TTL_S)
            await pipe.execute()
        return token

    def _file_key(self, token: str) -> str:
        return f"{self.prefix}:file:{token}"

    async def file(self, token: str) -> tuple[str, str, bytes] | None:
        """The document behind a download link: (filename, media type, bytes); None when the
        token is unknown or expired."""
        found = await self.redis.get(self._file_key(token))
        if found is None:
            return None
        stored = json.loads(found)
        return stored["filename"], stored["media_type"], base64.b64decode(stored["data"])

    async def remember_reference(self, address: Address, reference: str) -> None:
        """Where and how to reach a conversation later (Teams' ConversationReference, JSON):
        Teams lets a bot post only where it has been, so every inbound activity keeps it
        (written when it is not what is stored: `Conversations.arrived`)."""
        await self.redis.set(self._key(address.conversation, "reference"), reference)

    async def reference(self, address: Address) -> str | None:
        found = await self.redis.get(self._key(address.conversation, "reference"))
        return str(found) if found is not None else None

    async def begin_sending(self, pid: str, token: str) -> Attempt:
        """Note that the worker begins sending `token` to the partnership (on Redis's clock,
        one clock for every worker), and when the attempts before this one began: they may
        have posted before they were cut short."""
        first, previous, now = await self._begin_sending(
            keys=[self._key(pid, f"sending:{token}")], args=[SENDING_TTL_S]
        )
        return Attempt(_at(now), _at(first) if first else None, _at(previous) if previous else None)

    async def post(self, address: Address, reply: str, token: str, part: int) -> str:
        """Post a reply (JSON) into a console conversation; returns its id in the transcript."""
        return str(
            await self.redis.xadd(
                self._key(address.conversation, "transcript"),
                {"reply": reply, "token": token, "part": str(part)},
                maxlen=TRANSCRIPT_LENGTH,
            )
        )

    async def posted_parts(self, address: Address, token: str) -> set[int]:
        """Which parts sent under `token` a console conversation's transcript holds."""
        found = await self.redis.xrevrange(
            self._key(address.conversation, "transcript"), count=TRANSCRIPT_LENGTH
        )
        return {int(fields["part"]) for _, fields in found if fields.get("token") == token}

    async def transcript_end(self, address: Address) -> str:
        """The id of the latest post in a console conversation ("0-0" when there is none)."""
        found = await self.redis.xrevrange(self._key(address.conversation, "transcript"), count=1)
        return str(found[0][0]) if found else "0-0"

    async def transcript(
        self, address: Address, after: str, block_ms: int | None = 1000
    ) -> list[tuple[str, str]]:
        """Posts into a console conversation after the id `after`, as (id, reply JSON); waits
        up to `block_ms` for one (None: not at all)."""
        found = await self.redis.xread(
            {self._key(address.conversation, "transcript"): after}, block=block_ms
        )
        return [
            (entry_id, fields.get("reply", ""))
            for _, entries in found
            for entry_id, fields in entries
        ]

    async def set_due(self, pid: str, due: datetime | None) -> None:
        """When the partnership's next check-in is due; None takes it off the schedule."""
        if due is None:
            await self.redis.zrem(self._due_key, pid)
        else:
            await self.redis.zadd(self._due_key, {pid: due.timestamp()})

    async def due(self, now: datetime) -> list[tuple[str, datetime]]:
        """Every partnership whose check-in is due at `now`, earliest first."""
        found = await self.redis.zrangebyscore(
            self._due_key, "-inf", now.timestamp(), withscores=True
        )
        return [(str(pid), datetime.fromtimestamp(score, UTC)) for pid, score in found]

    @property
    def _due_key(self) -> str:
        return f"{self.prefix}:checkins-due"

    # --- the durable turn queue (one stream per platform, one consumer group) ------------------

    def _queue_key(self, queue: str) -> str:
        return f"{self.prefix}:turns:{queue}"

    async def queue_create(self, queue: str, group: str) -> None:
        """Make the queue's stream and consumer group, unless they exist."""
        try:
            await self.redis.xgroup_create(self._queue_key(queue), group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def queue_add(self, queue: str, entries: Sequence[dict[str, str]]) -> list[str]:
        """Append entries to the queue, in one round trip; returns their ids. Durable once
        this returns (with the server's append-only file on)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for fields in entries:
                pipe.xadd(self._queue_key(queue), fields)  # type: ignore[arg-type]
            return [str(entry_id) for entry_id in await pipe.execute()]

    async def queue_read(
        self, queue: str, group: str, consumer: str, count: int, block_ms: int | None
    ) -> list[tuple[str, dict[str, str]]]:
        """Up to `count` entries no consumer of `group` has taken yet, now taken by
        `consumer`; waits up to `block_ms` for one (None: not at all)."""
        found = await self.redis.xreadgroup(
            group, consumer, {self._queue_key(queue): ">"}, count=count, block=block_ms
        )
        return [(str(i), dict(f)) for _, entries in found or [] for i, f in entries]

    async def queue_claim(
        self, queue: str, group: str, consumer: str, min_idle_ms: int, count: int, start: str
    ) -> tuple[str, list[tuple[str, dict[str, str]]]]:
        """Take over up to `count` entries another consumer took and has not finished for
        `min_idle_ms` (it died): XAUTOCLAIM from `start`; returns where to go on from ("0-0":
        the scan went round) and the entries."""
        found = await self.redis.xautoclaim(
            self._queue_key(queue), group, consumer, min_idle_ms, start_id=start, count=count
        )
        after, entries = str(found[0]), found[1]
        return after, [(str(i), dict(f)) for i, f in entries if f is not None]

    async def queue_done(self, queue: str, group: str, entry_ids: Sequence[str]) -> None:
        """The entries' work is finished: acknowledge and delete them and their notes, in one
        round trip (an entry acknowledged and not deleted is only a little garbage: never run
        again)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xack(self._queue_key(queue), group, *entry_ids)
            pipe.xdel(self._queue_key(queue), *entry_ids)
            pipe.hdel(self._queue_key(queue) + ":notes", *entry_ids)
            await pipe.execute()

    async def queue_note(self, queue: str, notes: Sequence[tuple[str, str]]) -> None:
        """Note how far the work of entries got: (entry id, note), in one round trip."""
        key = self._queue_key(queue) + ":notes"
        await self.redis.hset(key, mapping=dict(notes))  # type: ignore[misc]

    async def queue_notes(self, queue: str, entry_ids: Sequence[str]) -> list[str | None]:
        """The notes of entries (None where there is none)."""
        if not entry_ids:
            return []
        key = self._queue_key(queue) + ":notes"
        found = await self.redis.hmget(key, list(entry_ids))  # type: ignore[misc]
        return [str(note) if note is not None else None for note in found]

    async def queue_length(self, queue: str) -> int:
        """Entries not finished yet: waiting, or taken and still running."""
        return int(await self.redis.xlen(self._queue_key(queue)))

    # --- replies a platform would not take, for the worker to try again -------------------------

    async def keep_reply(self, entry: str, at: datetime) -> None:
        """Keep an undelivered reply (`entry`, JSON) to be tried again at `at`."""
        await self.redis.zadd(self._undelivered_key, {entry: at.timestamp()})

    async def replies_due(self, now: datetime, lease_s: int, limit: int) -> list[str]:
        """Kept replies due at `now`, earliest first; each comes due again `lease_s` later
        unless it is forgotten or kept anew first (a worker that dies with it loses nothing)."""
        found = await self._take_due(
            keys=[self._undelivered_key], args=[now.timestamp(), limit, now.timestamp() + lease_s]
        )
        return [str(entry) for entry in found]

    async def replace_reply(self, entry: str, retry: str | None, at: datetime) -> None:
        """Forget the kept `entry`; with `retry`, keep that instead, due at `at`."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._undelivered_key, entry)
            if retry is not None:
                pipe.zadd(self._undelivered_key, {retry: at.timestamp()})
            await pipe.execute()

    async def replies_kept(self) -> int:
        return int(await self.redis.zcard(self._undelivered_key))

    @property
    def _undelivered_key(self) -> str:
        return f"{self.prefix}:undelivered"

    async def revision(self, pid: str) -> int:
        """How many commits have changed the partnership `pid`."""
        return int(await self.redis.get(self._key(pid, "rev")) or 0)

    async def journal(self, pid: str) -> list[Entry]:
        return _entries(await self.redis.xrange(self._key(pid, "journal")))

    async def decision_log(self, pid: str) -> list[Entry]:
        return _entries(await self.redis.xrange(self._key(pid, "decision-log")))

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    # --- linked conversations and records (bot.records) ----------------------------------------

    def _conversation_key(self, conversation: str) -> str:
        return f"{self.prefix}:conversation:{conversation}"

    async def partnership_of(self, address: Address) -> str:
        """The id of the partnership the conversation at `address` belongs to: the one it is
        linked to, else its own (a partnership's id is its home conversation's key)."""
        found = await self.redis.get(self._conversation_key(address.conversation))
        return str(found) if found else address.conversation

    async def unlink(self, conversation: str) -> None:
        """Detach a linked conversation: it holds no partnership afterwards."""
        await self.redis.delete(self._conversation_key(conversation))

    def _link_code_key(self, code: str) -> str:
        return f"{self.prefix}:link-code:{code}"

    async def put_link_code(self, code: str, pid: str, ttl_s: int) -> None:
        await self.redis.set(self._link_code_key(code), pid, ex=ttl_s)

    async def link_code(self, code: str) -> str | None:
        """The partnership a link code joins, while it lasts."""
        found = await self.redis.get(self._link_code_key(code))
        return str(found) if found is not None else None

    async def take_link_code(self, code: str) -> str | None:
        """Read and delete a link code in one step (it is used once)."""
        found = await self.redis.getdel(self._link_code_key(code))
        return str(found) if found is not None else None

    async def set_retained(self, pid: str, retained: bool) -> None:
        """Whether the worker trims the partnership's history (it has a retention period)."""
        if retained:
            await self.redis.sadd(self._retained_key, pid)  # type: ignore[misc]
        else:
            await self.redis.srem(self._retained_key, pid)  # type: ignore[misc]

    async def retained(self) -> list[str]:
        return sorted(str(pid) for pid in await self.redis.smembers(self._retained_key))  # type: ignore[misc]

    @property
    def _retained_key(self) -> str:
        return f"{self.prefix}:retained"

    async def trim_history(self, pid: str, before: datetime) -> int:
        """Remove both streams' entries older than `before` (XTRIM MINID); returns how many."""
        minid = f"{int(before.timestamp() * 1000)}-0"
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in ("decision-log", "journal"):
                pipe.xtrim(self._key(pid, name), minid=minid, approximate=False)
            removed = await pipe.execute()
        return sum(int(n) for n in removed)

    async def mark_delivered(self, pid: str, token: str, conversation: str) -> None:
        """Note that what the worker sends under `token` reached one of the partnership's
        conversations, so a re-run sends it only where it is still missing."""
        key = self._key(pid, f"sending:{token}")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, f"delivered:{conversation}", "1")
            pipe.expire(key, SENDING_TTL_S)
            await pipe.execute()

    async def delivered(self, pid: str, token: str) -> set[str]:
        """The conversations that have what the worker sends under `token`."""
        found = await self.redis.hkeys(self._key(pid, f"sending:{token}"))  # type: ignore[misc]
        return {str(k).removeprefix("delivered:") for k in found if str(k).startswith("delivered:")}

    async def partnership_ids(self) -> list[str]:
        """Every partnership that has ever been committed, sorted."""
        head, tail = f"{self.prefix}:{{", "}:rev"
        found = {
            str(key)[len(head) : -len(tail)]
            async for key in self.redis.scan_iter(match=f"{_glob(head)}*{_glob(tail)}", count=1000)
        }
        return sorted(found)

    async def scan(self, pattern: str) -> list[str]:
        return sorted({str(k) async for k in self.redis.scan_iter(match=pattern, count=1000)})

    async def keys_of(self, pid: str, conversations: Sequence[str]) -> list[str]:
        """Every key that belongs to the partnership `pid` and its conversations: its state,
        streams and markers, each conversation's link, reference, message map, transcript and
        records named after its messages (Teams cards), its documents kept for download links,
        and its link codes. (Index entries that name it are in `indexes_of`.)"""
        keys = set(await self.scan(f"{_glob(self._key(pid, ''))}*"))
        for conversation in conversations:
            if conversation != pid:
                keys |= set(await self.scan(f"{_glob(self._key(conversation, ''))}*"))
            keys |= set(await self.scan(_glob(self._conversation_key(conversation))))
            keys |= set(await self.scan(self._records_of(conversation)))
        tokens = await self.redis.smembers(self._key(pid, "files"))  # type: ignore[misc]
        files = [self._file_key(str(token)) for token in tokens]
        keys.update(await self._where(files, bool, "exists"))
        codes = await self.scan(f"{_glob(self._link_code_key(''))}*")
        keys.update(await self._where(codes, lambda owner: owner == pid, "get"))
        return sorted(keys)

    async def indexes_of(self, pid: str) -> dict[str, list[str]]:
        """The index entries that name the partnership: membership sets (`user:`), where people
        last acted (`acting:`), the check-in schedule and the retention set."""
        found: dict[str, list[str]] = {}
        users = await self.scan(f"{_glob(self.prefix)}:user:*")
        if named := await self._where(users, bool, "sismember", pid):
            found["user"] = named
        acting = await self.scan(f"{_glob(self.prefix)}:acting:*")
        if named := await self._where(acting, lambda at: at == pid, "get"):
            found["acting"] = named
        if await self.redis.zscore(self._due_key, pid) is not None:
            found["checkins-due"] = [self._due_key]
        if await self.redis.sismember(self._retained_key, pid):  # type: ignore[misc]
            found["retained"] = [self._retained_key]
        return found

    async def _where(
        self, keys: Sequence[str], test: Callable[[Any], bool], command: str, *args: Any
    ) -> list[str]:
        """The keys for which `command` (with `args`) answers what `test` accepts, pipelined a
        thousand at a time: a round trip per thousand keys rather than one per key."""
        chosen: list[str] = []
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in batch:
                    getattr(pipe, command)(key, *args)
                answers = await pipe.execute()
            chosen.extend(key for key, answer in zip(batch, answers, strict=True) if test(answer))
        return chosen

    async def dump(
        self, keys: Sequence[str], *, digested: Collection[str] = ()
    ) -> dict[str, dict[str, Any]]:
        """Each key's type, value and time to live, as plain JSON-able data (the archive).

        A document kept for a download link whose media type is in `digested` (an earlier
        archive) is dumped with its size and SHA-256 in place of its bytes, so archives do not
        nest inside one another."""
        dumped: dict[str, dict[str, Any]] = {}
        for key in keys:
            kind = str(await self.redis.type(key))
            value: Any
            if kind == "string":
                value = await self.redis.get(key)
                if value is not None and digested and key.startswith(self._file_key("")):
                    value = _digest_file(value, digested)
            elif kind == "hash":
                value = await self.redis.hgetall(key)  # type: ignore[misc]
            elif kind == "stream":
                value = [[i, f] for i, f in await self.redis.xrange(key)]
            elif kind == "set":
                value = sorted(await self.redis.smembers(key))  # type: ignore[misc]
            elif kind == "zset":
                value = await self.redis.zrange(key, 0, -1, withscores=True)
            elif kind == "list":
                value = await self.redis.lrange(key, 0, -1)  # type: ignore[misc]
            else:
                continue  # gone since it was listed
            dumped[key] = {"type": kind, "value": value, "ttl": await self.redis.ttl(key)}
        return dumped

    async def purge(
        self, pid: str, conversations: Sequence[str], *, keep_conversations: bool = False
    ) -> int:
        """Remove every key of the partnership `pid` and of its `conversations`, its entries in
        every index, its queued check-in jobs (arq's keys and queue entries) and the replies to
        its conversations kept to be tried again (`bot.redelivery`). With
        `keep_conversations`, each conversation's own keys (its Teams reference, message map
        and transcript) stay: the conversation lives on in another partnership."""
        keys = await self.keys_of(pid, conversations)
        if keep_conversations:
            own = {self._key(c, n) for c in conversations for n in _CONVERSATION_KEYS}
            own |= {k for c in conversations for k in await self.scan(self._records_of(c))}
            links = {self._conversation_key(c) for c in conversations}
            keys = [k for k in keys if k not in own and k not in links]
        indexes = await self.indexes_of(pid)
        jobs = [
            key
            for job in _JOBS
            for key in await self.scan(f"arq:*{_glob(f'{self.prefix}:{job}:{pid}:')}*")
        ]
        gone = set(conversations)
        undelivered = [
            entry
            for entry in await self.redis.zrange(self._undelivered_key, 0, -1)
            if _kept_for(entry) & ({pid} | gone)
        ]
        queue = f"{self.prefix}:arq:queue"
        queued = [
            str(member)
            for member in await self.redis.zrange(queue, 0, -1)
            if any(str(member).startswith(f"{self.prefix}:{job}:{pid}:") for job in _JOBS)
        ]
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys + jobs:
                pipe.delete(key)
            for key in indexes.get("user", []):
                pipe.srem(key, pid)
            for key in indexes.get("acting", []):
                pipe.delete(key)
            pipe.zrem(self._due_key, pid)
            pipe.srem(self._retained_key, pid)
            if queued:
                pipe.zrem(queue, *queued)
            if undelivered:  # replies waiting to be tried again, an archive's bytes among them
                pipe.zrem(self._undelivered_key, *undelivered)
            await pipe.execute()
        return len(keys) + len(jobs)


_CONVERSATION_KEYS = ("reference", "messages", "transcript")
_JOBS = ("checkin_job", "reminder_job")


def _digest_file(stored: str, digested: Collection[str]) -> str:
    """A download link's document as stored (JSON), its bytes replaced by their size and
    SHA-256 when its media type is one of `digested`."""
    try:
        found = json.loads(stored)
        if found.get("media_type") not in digested:
            return stored
        data = base64.b64decode(found.pop("data"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return stored  # not a document as put_file writes one: kept as it is
    found |= {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return json.dumps(found)


def _kept_for(kept: str) -> set[str]:
    """What a reply kept to be tried again (`bot.redelivery`) belongs to: the conversation its
    turn was in, and the partnership its file belongs to (an archive asked for in a direct
    message, whose conversation is no partnership's)."""
    try:
        entry = json.loads(kept)
        turn, reply = Turn.from_json(entry["turn"]), Reply.from_json(entry["reply"])
    except (ValueError, KeyError, TypeError):
        return set()
    owner = reply.attachment.partnership if reply.attachment else None
    return {turn.address.conversation} | ({owner} if owner else set())


def _person(user_id: str, found: str | None) -> User | None:
    if found is None:
        return None
    fields = json.loads(found)
    verified = tuple(fields.get("verified", ()))
    return User(user_id, fields["name"], fields.get("home"), verified, fields.get("tz"))


def _glob(text: str) -> str:
    """`text` matched literally in a SCAN pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def _entries(stream: list[tuple[str, Entry]]) -> list[Entry]:
    """A stream's entries, each with its id under "_id" (ids order entries in time)."""
    return [fields | {"_id": entry_id} for entry_id, fields in stream]
