"""The aiohttp application: `/healthz` now; Slack and Teams endpoints join it later."""

from __future__ import annotations

from aiohttp import web

from bot.coach import Coach

COACH_KEY = web.AppKey("coach", Coach)


async def healthz(request: web.Request) -> web.Response:
    coach = request.app[COACH_KEY]
    try:
        await coach.store.ping()
    except Exception:  # any Redis failure means "not healthy"; the reason goes to the log
        request.app.logger.exception("health check: Redis is unreachable")
        return web.json_response({"status": "unavailable", "redis": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "redis": "ok"})


def build_web_app(coach: Coach) -> web.Application:
    """The web process's application, serving `coach`.

    Example:
        web.run_app(build_web_app(coach), host="0.0.0.0", port=3978)
    """
    app = web.Application(client_max_size=1024**2)
    app[COACH_KEY] = coach
    app.router.add_get("/healthz", healthz)
    return app
