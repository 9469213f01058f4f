"""What adapters keep and look up about the conversations they serve, behind one service.

Adapters never reach into the store: they ask `coach.conversations` for

    the coach's messages     which platform message shows a reply key (a decision's card, a
                             dialog's thread), so a later reply updates the card or joins it
    references               how to reach a conversation later (Teams' ConversationReference)
    direct conversations     the coach's 1:1 conversation with a person, once opened
    people                   a person's display name and home organization, looked up on the
                             platform at most once a day
    records                  small named records an adapter keeps (Slack installations)
    transcripts              what the worker posted into a console conversation (the
                             console's stand-in for a platform's message history)
    the turn queue           acknowledged work, durable before the ack (`bot.turnqueue`)
    undelivered replies      kept for the worker to try again (`bot.redelivery`)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot import redelivery
from bot.model import Address, Reply, Turn, User
from bot.store import Store
from bot.turnqueue import Run, TurnQueue


class Conversations:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def message_id(self, address: Address, key: str) -> str | None:
        return await self._store.message_id(address, key)

    async def message_key(self, address: Address, message_id: str) -> str | None:
        return await self._store.message_key(address, message_id)

    async def remember_message(self, address: Address, key: str, message_id: str) -> None:
        await self._store.remember_message(address, key, message_id)

    async def reference(self, address: Address) -> str | None:
        return await self._store.reference(address)

    async def remember_reference(self, address: Address, reference: str) -> None:
        await self._store.remember_reference(address, reference)

    async def direct(self, address: Address, user_id: str) -> str | None:
        """The id of the coach's direct conversation with `user_id` on `address`'s platform."""
        return await self._store.direct(address.platform, address.workspace, user_id)

    async def remember_direct(self, address: Address, user_id: str, conversation: str) -> None:
        await self._store.remember_direct(
            address.platform, address.workspace, user_id, conversation
        )

    async def person(
        self, address: Address, user_id: str, look_up: Callable[[], Awaitable[User]]
    ) -> User:
        """The person as the platform describes them: cached for a day, else `look_up()`."""
        cached = await self._store.cached_person(address.platform, address.workspace, user_id)
        return cached or await self._looked_up(address, look_up)

    async def arrived(
        self,
        address: Address,
        reference: str,
        user_id: str | None = None,
        look_up: Callable[[], Awaitable[User]] | None = None,
    ) -> User | None:
        """An activity came in from the conversation at `address`: keep its `reference` (how to
        reach it later), written only when it is not what is stored, and return the person
        `user_id` who sent it as `person` does. One round trip when both are stored."""
        person, stored = await self._store.person_and_reference(address, user_id)
        if stored != reference:
            await self._store.remember_reference(address, reference)
        if person is None and look_up is not None:
            person = await self._looked_up(address, look_up)
        return person

    async def _looked_up(self, address: Address, look_up: Callable[[], Awaitable[User]]) -> User:
        person = await look_up()
        await self._store.cache_person(address.platform, address.workspace, person)
        return person

    async def put_record(
        self, kind: str, name: str, value: str, *, ttl_s: int | None = None
    ) -> None:
        await self._store.put_record(kind, name, value, ttl_s=ttl_s)

    async def get_record(self, kind: str, name: str) -> str | None:
        return await self._store.get_record(kind, name)

    async def take_record(self, kind: str, name: str) -> str | None:
        return await self._store.take_record(kind, name)

    async def delete_record(self, kind: str, name: str) -> None:
        await self._store.delete_record(kind, name)

    async def post(self, address: Address, reply: Reply, token: str, part: int) -> str:
        return await self._store.post(address, reply.to_json(), token, part)

    async def posted_parts(self, address: Address, token: str) -> set[int]:
        return await self._store.posted_parts(address, token)

    async def transcript_end(self, address: Address) -> str:
        return await self._store.transcript_end(address)

    async def transcript(
        self, address: Address, after: str, block_ms: int | None = 1000
    ) -> list[tuple[str, str]]:
        return await self._store.transcript(address, after, block_ms)

    async def put_file(
        self,
        address: Address,
        filename: str,
        media_type: str,
        data: bytes,
        *,
        partnership: str | None = None,
    ) -> str:
        """Keep a document for download (a day, or until its partnership is deleted): filed
        under `partnership` (`Attachment.partnership`), else under the partnership of the
        conversation at `address`. Returns the token of its link."""
        return await self._store.put_file(
            address, filename, media_type, data, partnership=partnership
        )

    def queue(
        self, platform: str, run: Run, *, concurrency: int, claim_after_s: float
    ) -> TurnQueue:
        """The platform's durable queue of acknowledged work (see `bot.turnqueue`)."""
        return TurnQueue(
            self._store, platform, run, concurrency=concurrency, claim_after_s=claim_after_s
        )

    async def keep_undelivered(self, platform: str, turn: Turn, reply: Reply) -> None:
        """A reply the platform would not take after its retries: the worker tries it again."""
        await redelivery.keep(self._store, platform, turn, reply, datetime.now(UTC))
