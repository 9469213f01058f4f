"""The aiohttp application: `/healthz`, `/files/<token>` (documents offered by link), and the
routes of every platform the settings enable (Slack's `/slack/events`, Teams' `/api/messages`),
read from the table in `bot.adapters`.

Every POST body is checked before anything parses it, whoever sent it: at most
`MAX_BODY_BYTES` (413), UTF-8 (a Content-Type naming another charset is a 415, bytes that are
not UTF-8 a 400: Slack and Teams send nothing else, and the SDKs' decoders fail on either with
a 500), and JSON (a JSON body, or the `payload` field of a form, as Slack sends clicks and
forms) nested at most `MAX_JSON_DEPTH` deep (400). A refusal is one log line that never quotes
the body.
"""

from __future__ import annotations

import codecs
import logging
import re
from itertools import accumulate
from urllib.parse import parse_qsl

from aiohttp import ClientSession, web
from redis.exceptions import RedisError

from bot.adapters import enabled
from bot.adapters.base import Handler, Platform
from bot.coach import Coach
from bot.config import Settings

logger = logging.getLogger(__name__)

COACH_KEY = web.AppKey("coach", Coach)
PLATFORMS_KEY = web.AppKey("platforms", dict[str, Platform])
MAX_BODY_BYTES = 1024**2  # Slack's and Teams' largest payloads (a modal's state) are far smaller
MAX_JSON_DEPTH = 64  # Slack's deepest payloads (a modal's blocks) nest about 12 deep
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')  # a string, escapes included
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nested_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text `body` nests arrays and objects deeper than `limit`, told without
    parsing it, in linear time (text that is not JSON may be answered True: it is refused
    anyway)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the usual case: two scans in C
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    steps = (1 if b in b"[{" else -1 for b in brackets)
    return max(accumulate(steps, initial=0)) > limit


def _not_utf8(request: web.Request, body: bytes) -> str | None:
    """Why the body is not UTF-8 text, or None."""
    charset = request.charset
    if charset is not None:
        try:
            name = codecs.lookup(charset).name
        except LookupError:
            name = None
        if name not in ("utf-8", "ascii"):
            return "charset"
    if body.isascii():
        return None  # the usual case: one scan in C
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "bytes"
    return None


def _too_deep(request: web.Request, body: bytes) -> bool:
    if request.content_type == "application/x-www-form-urlencoded":
        if body.count(b"[") + body.count(b"{") + body.count(b"%") <= MAX_JSON_DEPTH:
            return False
        fields = parse_qsl(body.decode("utf-8", "replace"))
        return any(nested_too_deep(v.encode()) for k, v in fields if k == "payload")
    return nested_too_deep(body)


@web.middleware
async def refuse_hostile_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a POST body that is too large, not UTF-8 or nested too deep, before any parser
    sees it."""
    if request.method != "POST" or request.path == "/healthz":
        return await handler(request)
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        logger.warning("refused a %d-byte body to %.100s: too large", length, request.path)
        raise web.HTTPRequestEntityTooLarge(MAX_BODY_BYTES, length)
    try:
        body = await request.read()  # read at most client_max_size, then cached for the handler
    except web.HTTPRequestEntityTooLarge:
        logger.warning("refused a body to %.100s: over %d bytes", request.path, MAX_BODY_BYTES)
        raise
    not_utf8 = _not_utf8(request, body)
    if not_utf8 is not None:
        logger.warning(
            "refused a %d-byte body to %.100s: not UTF-8 (%s)", len(body), request.path, not_utf8
        )
        if not_utf8 == "charset":
            raise web.HTTPUnsupportedMediaType(text="expected UTF-8")
        raise web.HTTPBadRequest(text="malformed request body")
    if _too_deep(request, body):
        logger.warning(
            "refused a %d-byte body to %.100s: JSON nested over %d deep",
            len(body),
            request.path,
            MAX_JSON_DEPTH,
        )
        raise web.HTTPBadRequest(text="malformed request body")
    return await handler(request)


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
    try:
        found = await coach.store.file(token) if _FILE_TOKEN.match(token) else None
    except RedisError as error:  # an outage, not the link's fault: ask to come back
        logger.warning("download: Redis is unreachable (%s)", type(error).__name__)
        unavailable = coach.prompt("report.link_unavailable")
        return web.Response(status=503, text=unavailable, headers={"Retry-After": "60"})
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
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[refuse_hostile_bodies])
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
