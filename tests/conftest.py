"""Fixtures: a real Redis server (embedded, or REDIS_URL), and the coach on top of it.

Every test gets its own key prefix, so tests never see each other's data and nothing is
flushed on a server that may be shared.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.adapters.console import ConsoleChannel
from bot.coach import Coach
from bot.config import PROJECT_DIR, Settings
from bot.content import Content, load_content
from bot.redis_server import start_embedded
from bot.store import Store

CONTENT_DIR = PROJECT_DIR / "content"


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(CONTENT_DIR)


@pytest.fixture(scope="session")
def redis_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """The embedded server's socket, or None when REDIS_URL names a server to use."""
    if os.environ.get("REDIS_URL"):
        yield None
        return
    server = start_embedded(Settings(data_dir=tmp_path_factory.mktemp("redis")))
    yield server.socket_file


@pytest.fixture(scope="session")
async def redis(redis_socket: str | None) -> AsyncIterator[Redis]:
    if redis_socket is None:
        client = Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    else:
        client = Redis(unix_socket_path=redis_socket, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def store(redis: Redis, prefix: str) -> Store:
    return Store(redis, prefix)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 4, 14, 15, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def coach(store: Store, content: Content, clock: Clock) -> Coach:
    return Coach(store, content, clock=clock)


class Convo:
    """A console channel driven line by line, reading like a chat transcript.

    `await convo("city_lead: /coach endorse D1")` returns the text the coach printed.
    """

    def __init__(self, coach: Coach, channel: str = "partnership") -> None:
        self.out = io.StringIO()
        self.channel = ConsoleChannel(coach, self.out, channel=channel)

    async def __call__(self, line: str) -> str:
        start = self.out.tell()
        await self.channel.line(line)
        return self.out.getvalue()[start:]

    async def script(self, text: str) -> str:
        start = self.out.tell()
        for line in text.strip().splitlines():
            await self.channel.line(line)
        return self.out.getvalue()[start:]


@pytest.fixture
def convo(coach: Coach) -> Convo:
    return Convo(coach)


SETUP_SCRIPT = """
city_lead: /coach setup "Sacramento Transportation & Air Quality Collaborative"
city_lead: /coach partner add "City of Sacramento" government
city_lead: /coach partner add "Metro Chamber" business
city_lead: /coach partner add "Clean Air Coalition" nonprofit
city_lead: /coach join "City of Sacramento"
chamber_rep: /coach join "Metro Chamber"
ngo_rep: /coach join "Clean Air Coalition"
city_lead: /coach member confirm @chamber_rep
city_lead: /coach member confirm @ngo_rep
"""


@pytest.fixture
async def three_partners(convo: Convo) -> Convo:
    """A partnership with three organizations and one member in each."""
    await convo.script(SETUP_SCRIPT)
    return convo


def project_path(*parts: str) -> Path:
    return PROJECT_DIR.joinpath(*parts)


def said(content: Content, key: str, **variables: object) -> str:
    """What the coach says for a prompt key: tests assert on keys, not copied sentences."""
    return content.prompts.render(key, **variables)
