"""The `coach` command line: run, console, serve, worker, content check, teams package,
partnership list / export / delete."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.adapters.console import ConsoleChannel, is_speaker_name, login_name
from bot.coach import Coach
from bot.config import ConfigError, Settings
from bot.content import Content, load_content
from bot.dialogs import default_commands
from bot.errors import ContentError
from bot.redis_server import open_redis
from bot.store import Store

logger = logging.getLogger("bot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coach", description="Partnering Coach")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="serve when Slack credentials are set, else the console")
    console = commands.add_parser("console", help="chat with the coach in this terminal")
    console.add_argument(
        "--channel", default="partnership", help="the conversation to stand in for"
    )
    console.add_argument(
        "--as", dest="speaker", type=speaker_name, help="who speaks first (default: login name)"
    )
    commands.add_parser("worker", help="run the scheduled check-ins (the Procfile's worker)")
    serve = commands.add_parser("serve", help="run the web process")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    content = commands.add_parser("content", help="work with the content folder")
    content.add_argument("action", choices=["check"])
    teams = commands.add_parser("teams", help="Microsoft Teams tooling")
    teams_commands = teams.add_subparsers(dest="teams_command", required=True)
    package = teams_commands.add_parser("package", help="build the Teams app package (zip)")
    package.add_argument("--app-id", required=True, help="the bot's Microsoft App ID")
    package.add_argument("--website", required=True, help="an https URL about your deployment")
    package.add_argument("--out", default="partnering-coach-teams.zip", help="the zip to write")
    partnership = commands.add_parser("partnership", help="list, export or delete partnerships")
    partnership_commands = partnership.add_subparsers(dest="partnership_command", required=True)
    partnership_commands.add_parser("list", help="one line per partnership, its id first")
    export = partnership_commands.add_parser("export", help="write a partnership's archive (zip)")
    export.add_argument("id", help="the partnership's id, as `coach partnership list` shows it")
    export.add_argument(
        "--out", help="the zip to write (default: the partnership's name and the day, as in chat)"
    )
    delete = partnership_commands.add_parser("delete", help="delete a partnership entirely")
    delete.add_argument("id", help="the partnership's id, as `coach partnership list` shows it")
    delete.add_argument("--yes", action="store_true", help="do not ask first")
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"coach: {error}", file=sys.stderr)
        return 2
    level = settings.log_level
    in_console = args.command == "console" or (
        args.command in (None, "run") and not settings.has_platform_credentials
    )
    if in_console and "LOG_LEVEL" not in os.environ:
        level = "WARNING"  # the console's own lines matter there; set LOG_LEVEL to see more
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        loaded = load_content(settings.content_dir)
    except ContentError as error:
        print(f"coach: the content in {settings.content_dir} has problems:", file=sys.stderr)
        print(error, file=sys.stderr)
        return 1

    if args.command == "content":
        return content_check(loaded)
    if args.command == "teams":
        return teams_package(args.app_id, args.website, args.out)
    if args.command == "partnership":
        return asyncio.run(partnership_command(settings, loaded, args))
    if args.command == "serve":
        return serve_web(settings, loaded, args.host, args.port)
    if args.command == "worker":
        return asyncio.run(run_worker(settings, loaded))
    if args.command in (None, "run") and settings.has_platform_credentials:
        return serve_web(settings, loaded, None, None)
    channel = getattr(args, "channel", "partnership")
    return asyncio.run(run_console(settings, loaded, channel, getattr(args, "speaker", None)))


def speaker_name(text: str) -> str:
    if not is_speaker_name(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a name to speak as: use a letter, then letters, digits, . _ or -"
        )
    return text


def teams_package(app_id: str, website: str, out: str) -> int:
    from bot.adapters.teams_package import PackageError, build_package

    try:
        written = build_package(app_id, website, Path(out))
    except PackageError as error:
        print(f"coach: {error}", file=sys.stderr)
        return 2
    print(f"wrote {written}: upload it in Teams (Apps > Manage your apps > Upload an app)")
    return 0


def content_check(content: Content) -> int:
    """Loading already validated every file and rendered every prompt; check the grammar and
    the usage lines against the commands, then report what is there."""
    problems = default_commands().problems(content)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    counts = (
        (len(content.stages), "stage"),
        (len(content.tactics), "tactic"),
        (len(content.families), "scorecard family|scorecard families"),
        (len(content.items), "scorecard item"),
        (len(content.exercises), "exercise"),
        (len(content.cases), "case"),
        (len(content.prompts.templates), "prompt"),
        (len(content.grammar.synonyms), "synonym"),
    )
    said = [f"{n} {_plural(n, noun)}" for n, noun in counts]
    print("content is valid: " + ", ".join(said))
    return 0


def _plural(n: int, noun: str) -> str:
    """`noun` for one, its plural otherwise: `one|many`, or an added "s"."""
    one, _, many = noun.partition("|")
    return one if n == 1 else many or one + "s"


async def partnership_command(
    settings: Settings, content: Content, args: argparse.Namespace
) -> int:
    """`coach partnership list | export ID | delete ID [--yes]`: what an operator does for a
    public-records request or a deletion, with no chat platform involved."""
    from datetime import UTC, datetime

    from bot import records, report

    say = content.prompts.render
    async with coach_for(settings, content) as coach:
        store = coach.store
        if args.partnership_command == "list":
            found = await records.summaries(store)
            for pid, name, count in found:
                print(say("records.cli_list_line", id=pid, name=name, count=count))
            if not found:
                print(say("records.cli_none"))
            return 0
        p = (await store.load_partnership(args.id)).partnership
        if not p.is_set_up:
            print(say("records.cli_unknown", id=args.id), file=sys.stderr)
            return 1
        operator = f"operator:{os.environ.get('USER', 'cli')}"
        now = datetime.now(UTC)
        if args.partnership_command == "export":
            await records.record_act(store, args.id, "archive", operator, now)
            name, data = await records.archive(store, content, args.id, now)
            path = Path(args.out) if args.out else report.unused_path(Path(name))
            await asyncio.to_thread(path.write_bytes, data)
            print(say("records.cli_wrote", path=str(path), size=len(data)))
            return 0
        if records.hold_on(p):
            print(say("records.cli_on_hold", id=args.id, name=p.name), file=sys.stderr)
            return 1
        if not args.yes:
            answer = await asyncio.to_thread(
                input, say("records.cli_confirm", id=args.id, name=p.name)
            )
            if answer.strip().lower() not in ("y", "yes"):
                print(say("records.cli_kept"))
                return 1
        count = await records.delete(store, args.id)
        print(say("records.cli_deleted", id=args.id, name=p.name, count=count))
        return 0


@asynccontextmanager
async def coach_for(settings: Settings, content: Content) -> AsyncIterator[Coach]:
    async with open_redis(settings) as redis:
        yield Coach(Store(redis, settings.key_prefix), content)


async def run_worker(settings: Settings, content: Content) -> int:
    from bot.scheduler import running_worker

    async with (
        coach_for(settings, content) as coach,
        running_worker(coach, settings, handle_signals=True) as worker,
    ):
        with contextlib.suppress(asyncio.CancelledError):
            await worker  # until SIGINT or SIGTERM
    return 0


@asynccontextmanager
async def embedded_worker(coach: Coach, settings: Settings) -> AsyncIterator[None]:
    """With the embedded Redis, this one process also runs the worker (check-ins)."""
    if settings.redis_url:
        yield
        return
    from bot.scheduler import running_worker

    async with running_worker(coach, settings):
        yield


async def run_console(
    settings: Settings, content: Content, channel: str, speaker: str | None = None
) -> int:
    async with coach_for(settings, content) as coach:
        console = ConsoleChannel(
            coach,
            sys.stdout,
            channel=channel,
            speaker=speaker or login_name(),
            files=settings.data_dir / "files",
        )
        coach.platforms["console"] = console
        # posts from now on: taken before the worker starts
        start = await coach.conversations.transcript_end(console.address)
        async with embedded_worker(coach, settings):
            interactive = sys.stdin.isatty()
            if interactive:
                console.welcome()
            posts = asyncio.ensure_future(console.follow(start))  # check-ins, as they are posted
            try:
                await read_lines(console, interactive)
            finally:
                posts.cancel()
                await asyncio.gather(posts, return_exceptions=True)
    return 0


async def read_lines(console: ConsoleChannel, interactive: bool) -> None:
    """Each line typed (or piped in) is a turn, until end of input or Ctrl-C."""
    while True:
        try:
            if interactive:
                line = await asyncio.to_thread(input, f"{console.speaker}> ")
            else:
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    break
        except (EOFError, KeyboardInterrupt):
            break
        await console.line(line)


def serve_web(settings: Settings, content: Content, host: str | None, port: int | None) -> int:
    from aiohttp import web

    try:
        asyncio.run(serve(settings, content, host or settings.host, port or settings.port))
    except (web.GracefulExit, KeyboardInterrupt):
        pass  # SIGTERM or Ctrl-C: everything was closed on the way out
    except Exception as error:  # a platform refusing at start-up, a port in use
        logger.debug("start-up failed", exc_info=True)
        print(f"coach: could not start: {error}", file=sys.stderr)
        return 1
    return 0


async def serve(settings: Settings, content: Content, host: str, port: int) -> None:
    """The web process. Its resources are entered here, not in aiohttp's start-up hooks, so
    they are closed on every way out, a failed start included (aiohttp runs no cleanup then)."""
    from aiohttp import web

    from bot.web import build_web_app

    async with coach_for(settings, content) as coach, embedded_worker(coach, settings):
        runner = web.AppRunner(await build_web_app(coach, settings), handle_signals=True)
        try:
            await runner.setup()
            await web.TCPSite(runner, host, port).start()
            logger.info("serving on http://%s:%s", host, port)
            await asyncio.Event().wait()  # until SIGTERM or SIGINT
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
