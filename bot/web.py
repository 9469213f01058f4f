"""The aiohttp application: `/healthz`, `/files/<token>` (documents offered by link), and the
routes of every platform the settings enable (Slack's `/slack/events`, Teams' `/api/messages`),
read from the table in `bot.adapters`."""

from __future__ import annotations

import logging
import re

from aiohttp import ClientSession, web

from bot.adapters import enabled
from bot.adapters.base import Platform
from bot.coach import Coach
from bot.config import Settings

logger = logging.getLogger(__name__)

COACH_KEY = web.AppKey("coach", Coach)
PLATFORMS_KEY = web.AppKey("platforms", dict[str, Platform])


async def healthz(request: web.Request) -> web.Response:
    coach = request.app[COACH_KEY]
    try:
        await coach.store.ping()
    except Exception:  # any Redis failure means "not healthy"; the reason goes to the log
        logger.exception("health check: Redis is unreachable")
        return web.json_response({"status": "unavailable", "redis": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


_FILE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


async def download(request: web.Request) -> web.Response:
    """GET /files/<token>: a document the coach offered by link (a Word report in Teams)."""
    token = request.match_info["token"]
    coach = request.app[COACH_KEY]
    found = await coach.store.file(token) if _FILE_TOKEN.match(token) else None
    if found is None:
        return web.Response(status=404, text=coach.prompt("report.link_expired"))
    filename, media_type, data = found
    return web.Response(
        body=data,
        content_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{_safe_filename(filename)}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120] or "download"


async def build_web_app(coach: Coach, settings: Settings) -> web.Application:
    """The web process's application, serving `coach` on every platform `settings` enables.

    Call it from inside the running event loop (the platforms' HTTP session is created here).
    `app[PLATFORMS_KEY]` holds each platform by name.

    Example:
        web.run_app(build_web_app(coach, settings), host="0.0.0.0", port=3978)
    """
    app = web.Application(client_max_size=1024**2)
    app[COACH_KEY] = coach
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/files/{token}", download)
    session = ClientSession()
    platforms = {e.name: e.build(coach, settings, session) for e in enabled(settings)}
    app[PLATFORMS_KEY] = platforms
    coach.platforms.update(platforms)  # a card for a linked conversation on another platform
    for platform in platforms.values():
        for method, path, handler in platform.routes():
            app.router.add_route(method, path, handler)

    async def start(_: web.Application) -> None:
        try:
            for platform in platforms.values():
                await platform.start()
        except BaseException:
            await close(app)  # start-up fails: no cleanup will run, so tidy up here
            raise

    async def close(_: web.Application) -> None:
        for platform in platforms.values():
            await platform.close()
        await session.close()

    app.on_startup.append(start)
    app.on_cleanup.append(close)
    return app
