"""The terminal channel: one conversation where each line is a turn.

A line `name: text` speaks as `name`; a line without a prefix speaks as the last speaker. The
`/coach` prefix is optional. A number picks one of the choices offered by the latest reply that
had any, as a click on its button would. A line whose words start with `dm` is written to the
coach privately, as a direct message on a platform would be (`alice: dm answer "..."`); a reply
only one person sees is marked "only NAME sees this".
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from aiohttp import ClientSession

from bot import report
from bot.adapters.base import Route
from bot.coach import Coach
from bot.config import Settings
from bot.model import Address, Choice, Receipt, Reply, Turn, User

logger = logging.getLogger(__name__)

_SPEAKER = re.compile(r"^\s*([A-Za-z][\w.\-]{0,39}):\s+(.*)$")
_NUMBER = re.compile(r"^\s*(\d{1,3})\s*$")
_DIRECT = re.compile(r"^\s*dm\s+(.*)$", re.IGNORECASE | re.DOTALL)


def build(coach: Coach, settings: Settings, session: ClientSession) -> ConsoleChannel:
    return ConsoleChannel(
        coach, sys.stdout, speaker=login_name(), files=settings.data_dir / "files"
    )


def login_name() -> str:
    """Who types at this terminal, as the console first speaks: the login name when it is one
    the console's "name:" lines could give, else "guest". ("you" made sentences such as
    "you is its facilitator".)"""
    try:
        name = getpass.getuser()
    except Exception:  # no login name in this environment (a container without one)
        return "guest"
    return name if is_speaker_name(name) else "guest"


def is_speaker_name(name: str) -> bool:
    """Whether `name` is one a console line can speak as ("name: ...")."""
    return _SPEAKER.fullmatch(f"{name}: x") is not None


@dataclass
class ConsoleChannel:
    """Turns console lines into turns for `coach`, and prints its replies to `out`."""

    coach: Coach
    out: TextIO
    channel: str = "partnership"
    speaker: str = "guest"
    choices: tuple[Choice, ...] = field(default=())
    files: Path = Path(".coach-data") / "files"  # where binary attachments (Word) are saved
    name: str = "console"
    delivers_files: bool = True  # saved under `files`, the path printed

    # --- the contract (bot.adapters.base.Platform) ---------------------------------------------

    def routes(self) -> Sequence[Route]:
        return ()

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def deliver(self, turn: Turn, reply: Reply) -> bool:
        """Print a reply; one for another console conversation (a card in a linked one) goes
        to that conversation's transcript, where its own console shows it."""
        where = reply.where
        if (
            where is not None
            and not reply.private
            and where.platform == self.name
            and where.conversation != self.address.conversation
        ):
            await self.coach.conversations.post(where, reply, "reply", 0)
            return True
        self.render(reply)
        return True

    async def send(self, address: Address, replies: list[Reply], receipt: Receipt) -> bool:
        """The worker's courier: each reply into the conversation's transcript, as one part of
        `receipt`. On a re-run, parts the transcript already holds are not posted again."""
        conversations = self.coach.conversations
        done = await conversations.posted_parts(address, receipt.token) if receipt.since else set()
        for part, reply in enumerate(replies):
            if part not in done:
                await conversations.post(address, reply, receipt.token, part)
        return True

    async def person(self, address: Address, user_id: str) -> User:
        return User(user_id, user_id)

    @property
    def address(self) -> Address:
        return Address(platform="console", workspace="local", channel=self.channel)

    def prompt(self, key: str, **variables: object) -> str:
        return self.coach.prompt(key, **variables)

    def welcome(self) -> None:
        self.out.write(self.prompt("console.welcome", channel=self.address.conversation) + "\n\n")

    async def line(self, line: str) -> list[Reply]:
        """Act on one line of input; returns the replies it printed."""
        line = line.rstrip("\r\n")
        speaker = _SPEAKER.match(line)
        if speaker:
            self.speaker, line = speaker.group(1), speaker.group(2)
        if not line.strip():
            return []
        step = None
        number = _NUMBER.match(line)
        if number:
            index = int(number.group(1)) - 1
            if not 0 <= index < len(self.choices):
                self.out.write(
                    self.prompt("console.no_such_choice", number=number.group(1)) + "\n\n"
                )
                return []
            line, step = self.choices[index].command, self.choices[index].step
        direct = _DIRECT.match(line)
        address = self.address
        if direct:  # the console's stand-in for a person's direct conversation with the coach
            line, address = direct.group(1), replace(address, channel=f"direct-{self.speaker}")
        user = User(self.speaker, self.speaker)
        turn = Turn(address, user, line, step=step, private=bool(direct))
        replies = await self.coach.handle(turn)
        for reply in replies:
            await self.deliver(turn, reply)
        return replies

    async def follow(self, after: str) -> None:
        """Show what the worker posts into this conversation after the post `after`
        (`Store.transcript_end` for "from now on"), as it arrives, until canceled."""
        conversations = self.coach.conversations
        while True:
            try:
                posts = await conversations.transcript(self.address, after)
            except Exception:  # Redis restarting: the posts wait in the stream meanwhile
                logger.warning("could not read this conversation's posts", exc_info=True)
                await asyncio.sleep(1)
                continue
            for post_id, reply in posts:
                after = post_id  # one post that cannot be shown does not hold up the rest
                try:
                    self.render(Reply.from_json(reply))
                except Exception:
                    logger.warning("could not show post %s", post_id, exc_info=True)

    async def run(self, lines: Iterable[str]) -> None:
        for line in lines:
            await self.line(line)

    def render(self, reply: Reply) -> None:
        out = []
        if reply.to is not None:
            out.append(self.prompt("console.private", user=reply.to))
        out.append(reply.text)
        if reply.preformatted:
            out.append(reply.preformatted)
        if reply.attachment and reply.attachment.data is not None:
            self.files.mkdir(parents=True, exist_ok=True)
            path = report.unused_path(self.files / Path(reply.attachment.filename).name)
            path.write_bytes(reply.attachment.data)
            out.append(self.prompt("console.attachment_saved", filename=path.name, path=str(path)))
        elif reply.attachment:
            out.append(self.prompt("console.attachment", filename=reply.attachment.filename))
            out.append(reply.attachment.content.rstrip("\n"))
        if reply.choices:
            self.choices = reply.choices
            out.extend(
                self.prompt("console.choice", number=n, label=c.label)
                for n, c in enumerate(reply.choices, 1)
            )
        self.out.write("\n".join(out) + "\n\n")
        self.out.flush()
