"""The contract every chat platform implements. The core knows nothing of platforms; a
platform knows the core only through `Coach.handle` (its turns) and `Coach.conversations`
(what it keeps about its conversations).

    inbound    the platform's requests -> `Turn`s -> `coach.handle(turn)`: the platform serves
               its own `routes()` on the web app, or connects out in `start()` (Slack's Socket
               Mode); the console reads lines
    outbound   `deliver(turn, reply)`: a reply to a turn, to the turn's conversation, its
               thread, the conversation `reply.where` names, or one person only (`reply.to`);
               a reply with a key updates the message already showing that key; a private
               reply's file goes to that person only (`delivers_files`: whether files can go)
               `send(address, replies, receipt)`: what the worker sends (check-ins), from any
               process, marked with a receipt so a re-run does not post it twice where the
               platform lets the coach look
    people     `person(address, user_id)`: the display name and organization hints of a person

Each platform module has `build(coach, settings, session) -> Platform`; the table of
platforms is `bot.adapters.PLATFORMS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from bot.model import Address, Receipt, Reply, Turn, User

if TYPE_CHECKING:
    from aiohttp import ClientSession

    from bot.coach import Coach
    from bot.config import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Route = tuple[str, str, Handler]  # (method, path, handler) on the web app


class Platform(Protocol):
    name: str

    @property
    def delivers_files(self) -> bool:
        """Whether a reply's binary file (a Word document, the archive) reaches people: as a
        file, or by a download link the platform serves. The core refuses an archive where it
        would not."""
        ...

    def routes(self) -> Sequence[Route]:
        """The web app's routes for this platform's requests (none for the console)."""
        ...

    async def start(self) -> None:
        """Connect, when the platform is reached by connecting out; raise if it refuses."""
        ...

    async def close(self) -> None:
        """Finish the turns still running, then disconnect."""
        ...

    async def deliver(self, turn: Turn, reply: Reply) -> bool:
        """Deliver one reply to `turn`; False (and a log line) when the platform refused it."""
        ...

    async def send(self, address: Address, replies: list[Reply], receipt: Receipt) -> bool:
        """The worker's courier: post `replies` into the conversation at `address`; True once
        the platform has them all."""
        ...

    async def person(self, address: Address, user_id: str) -> User:
        """The person as the platform knows them: display name, home organization hint."""
        ...


class Builder(Protocol):
    def __call__(self, coach: Coach, settings: Settings, session: ClientSession) -> Platform: ...
