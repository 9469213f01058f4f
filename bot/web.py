"""The aiohttp application: `/healthz`, `/files/<token>` (documents offered by link),
`/slack/events` and `/api/messages` (Teams), each platform's routes when it is configured."""

from __future__ import annotations

import logging
import re

from aiohttp import ClientSession, web

from bot.coach import Coach
from bot.config import Settings

logger = logging.getLogger(__name__)

COACH_KEY = web.AppKey("coach", Coach)
SLACK_KEY = web.AppKey("slack", object)
TEAMS_KEY = web.AppKey("teams", object)


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
        return web.Response(status=404, text=coach.content.prompts.render("report.link_expired"))
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

    Call it from inside the running event loop (Slack's HTTP session is created here).

    Example:
        web.run_app(build_web_app(coach, settings), host="0.0.0.0", port=3978)
    """
    app = web.Application(client_max_size=1024**2)
    app[COACH_KEY] = coach
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/files/{token}", download)
    if settings.slack_enabled:
        await _add_slack(app, coach, settings)
    if settings.teams_enabled:
        _add_teams(app, coach, settings)
    return app


def _add_teams(app: web.Application, coach: Coach, settings: Settings) -> None:
    from bot.adapters.teams import TeamsChannel

    teams = TeamsChannel(coach, settings)
    app[TEAMS_KEY] = teams
    app.router.add_post("/api/messages", teams.handle)
    if settings.teams_app_id:
        logger.info("Teams: serving POST /api/messages for app %s", settings.teams_app_id)
    else:
        logger.warning(
            "Teams: serving POST /api/messages WITHOUT authentication (TEAMS_EMULATOR): "
            "for the Bot Framework Emulator and local tests only"
        )


async def _add_slack(app: web.Application, coach: Coach, settings: Settings) -> None:
    from bot.adapters.slack import SlackChannel

    session = ClientSession()
    slack = SlackChannel(coach, settings, session)
    app[SLACK_KEY] = slack
    if settings.slack_app_token:

        async def connect(_: web.Application) -> None:
            try:
                await slack.start_socket_mode(settings.slack_app_token)
            except BaseException:
                await slack.close()  # start-up fails: no cleanup will run, so tidy up here
                await session.close()
                raise
            logger.info("Slack: connected over Socket Mode")

        app.on_startup.append(connect)
    else:
        app.router.add_post("/slack/events", slack.handle)
        logger.info("Slack: serving POST /slack/events")
    if settings.slack_oauth_enabled:
        from bot.adapters.slack import INSTALL_PATH, OAUTH_REDIRECT_PATH

        app.router.add_get(INSTALL_PATH, slack.handle_oauth)
        app.router.add_get(OAUTH_REDIRECT_PATH, slack.handle_oauth)
        logger.info("Slack: installable into other workspaces at %s", INSTALL_PATH)

    async def close(_: web.Application) -> None:
        await slack.close()
        await session.close()

    app.on_cleanup.append(close)
