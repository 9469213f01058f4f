"""The platform-neutral core: route one Turn to its dialog, commit the outcome, return replies.

handle(turn)
  1 check the text            too long, control characters: a clear reply, nothing changes
  2 find the command           its words, the grammar's synonyms; unknown: the closest commands
  3 load the snapshot          the partnership of the turn's conversation; for words written
                               to the coach privately, the partnership the person last acted in;
                               a `practice` command acts in its practice space instead, with the
                               real partnership beside it, read only (bot/dialogs/practice.py)
  4 run the handler            pure: it changes a copy and collects replies and log entries
  5 commit                     atomically, only if nobody else committed since step 3;
                               otherwise back to 3 (the handler runs again on fresh state)
"""

from __future__ import annotations

import asyncio
import logging
import random
import unicodedata
import weakref
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot import records
from bot.content import Content, normal_word
from bot.conversations import Conversations
from bot.dialogs import (
    Args,
    Command,
    Commands,
    Context,
    Found,
    default_commands,
    going_on,
    tokenize,
)
from bot.dialogs.help import QUESTION_WORDS, explains
from bot.dialogs.practice import SPACES
from bot.errors import FormError, UserFacingError
from bot.model import Address, Attachment, Reply, Turn
from bot.partnership import Partnership, home_id, practice_id
from bot.report import waits_on
from bot.store import CommitResult, Store

if TYPE_CHECKING:
    from bot.adapters.base import Platform

logger = logging.getLogger(__name__)

TEXT_LIMIT = 4000  # longer than any command needs; Slack's own message limit is 40,000
COMMIT_ATTEMPTS = 20  # a conflict means another turn on the same partnership committed first
CONFLICT_BACKOFF_S = 0.002  # times the attempt number, at most; random, so retries spread out
# journal entries after which the user is a member (App Home lists the partnership)
MEMBERSHIP_ENTRIES = {"setup", "joined", "join-requested"}


def utc_now() -> datetime:
    return datetime.now(UTC)


class Coach:
    """The core every adapter calls.

    Args:
        store: where partnerships live.
        content: the loaded content folder.
        clock: returns the current time; tests pass a fixed one.
        commands: the commands it answers; every dialog's by default.

    Example:
        replies = await coach.handle(Turn(address, user, "endorse D1"))
    """

    def __init__(
        self,
        store: Store,
        content: Content,
        clock: Callable[[], datetime] = utc_now,
        commands: Commands | None = None,
    ) -> None:
        self.store = store
        self.content = content
        self.clock = clock
        self.conversations = Conversations(store)
        self.commands = commands if commands is not None else default_commands()
        # the platforms this process runs, by name (the web app fills it): a card for a linked
        # conversation on another platform is delivered through it
        self.platforms: dict[str, Platform] = {}
        # only while some turn holds or awaits it: entries vanish with their last user
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def prompt(self, key: str, **variables: object) -> str:
        """A prompt from the content, for what an adapter shows itself (form labels, hints)."""
        return self.content.prompts.render(key, **variables)

    async def handle(self, turn: Turn) -> list[Reply]:
        """Answer one turn. Never raises: a bug is logged and answered with `errors.sorry`.

        Words written to the coach privately (`turn.private`, a direct message) act in the
        partnership the person last acted in on that platform: where they last spoke to the
        coach in a channel, or the one the coach last wrote to them privately about. Its public
        replies carry the partnership's conversation as `Reply.where`.

        A conversation linked to a partnership elsewhere (`link CODE`) acts on that partnership.
        A decision's card goes to every conversation the partnership lives in: the returned
        replies are those for the turn's own platform (with `where` naming another of its
        conversations where needed); those for another platform are delivered here, through
        `platforms`, by that platform.
        """
        try:
            if turn.private:
                pid = await self.store.acting_in(
                    turn.address.platform, turn.address.workspace, turn.user.id
                )
                if pid is None:
                    return [self._reply("errors.no_partnership_privately", turn)]
            else:
                pid = await self.store.partnership_of(turn.address)
            joining = None
            code = None if turn.private else _link_code(turn.text)
            if code is not None:  # `link CODE`: acts on the partnership the code names
                target = await self.store.link_code(code)
                if target is not None:  # else the handler says it is unknown, expired or used
                    joining, pid = pid, target
            # Turns on one partnership take turns within this process, so they do not fight
            # over its revision; across processes the commit's revision check still decides.
            lock = self._locks.get(pid)
            if lock is None:
                lock = self._locks[pid] = asyncio.Lock()
            async with lock:
                replies = await self._handle(turn, pid, joining)
            return await self._route(turn, replies)
        except Exception:
            logger.exception(
                "turn failed: conversation=%s user=%s event=%s",
                turn.address.conversation,
                turn.user.id,
                turn.event_id,
            )
            return [self._reply("errors.sorry", turn)]

    async def _route(self, turn: Turn, replies: list[Reply]) -> list[Reply]:
        """The replies for the turn's own platform; those for another one (a card in a linked
        conversation elsewhere) are delivered by that platform now, when this process runs it,
        and a failure there is logged without holding up the rest."""
        mine = []
        for reply in replies:
            platform = (reply.where or turn.address).platform
            if reply.private or platform == turn.address.platform:
                mine.append(reply)
                continue
            other = self.platforms.get(platform)
            if other is None:
                logger.warning(
                    "this process does not run %s: %s is not updated in %s",
                    platform,
                    reply.key or "a reply",
                    reply.where.conversation if reply.where else "?",
                )
                continue
            try:
                await other.deliver(turn, reply)
            except Exception:
                logger.exception("could not deliver to %s", platform)
        return mine

    async def _handle(self, turn: Turn, pid: str, joining: str | None) -> list[Reply]:
        refusal: UserFacingError | None = None
        found = Found(None)
        try:
            for text in (turn.text, turn.body or ""):
                problem = _check_text(text)
                if problem:
                    raise UserFacingError(problem, limit=TEXT_LIMIT, length=len(text))
            if turn.step is not None and not turn.text.strip():
                raise UserFacingError("errors.stale")  # a button the coach did not make
            found = self.commands.find(tokenize(turn.text), self.content.grammar)
        except UserFacingError as error:
            refusal = error  # answered below, through the commit, so a retry is answered once
        known = found.command
        args = self._args(known, found.words)
        if turn.body is not None:
            args = replace(args, body=turn.body)
        for attempt in range(COMMIT_ATTEMPTS):
            if attempt:  # another turn on this partnership committed first: let it clear
                await asyncio.sleep(random.uniform(0, CONFLICT_BACKOFF_S * attempt))
            history = bool(known and known.needs_history)
            space = SPACES.get(known.words[0]) if known else None
            where = turn.address
            snapshot = await self.store.load_partnership(
                pid,
                with_history=history and space != "practice",
                acting_of=(where.platform, where.workspace, turn.user.id),  # see _after_commit
            )
            acting_in = snapshot.acting_in
            other = None
            if space is not None:  # a workshop command: it sees the practice run's space too
                practice = await self.store.load_partnership(
                    practice_id(snapshot.partnership.id),
                    with_history=history and space == "practice",
                )
                if space == "practice":  # it acts in the practice space; the real one, read only
                    snapshot, other = practice, snapshot.partnership
                else:
                    other = practice.partnership
            ctx = Context(
                turn=turn,
                partnership=snapshot.partnership,
                content=self.content,
                now=self.clock(),
                decision_log=snapshot.decision_log,
                journal_log=snapshot.journal,
                commands=self.commands,
                command=known.name if known else "",
                other=other,
                delivers_files=self._delivers_files(turn.address.platform),
                # `link CODE`: what the joining conversation holds now
                joining=(
                    (await self.store.load_partnership(joining)).partnership
                    if joining is not None
                    else None
                ),
            )
            try:
                if refusal is not None:
                    raise refusal
                if known is not None and known.builds_file:
                    await asyncio.to_thread(self._run, ctx, known, found, args)
                else:
                    self._run(ctx, known, found, args)
                changed: Partnership | None = ctx.partnership
                replies = ctx.replies
            except UserFacingError as error:
                # an expected refusal: nothing changes, but the event still counts as handled
                changed = None
                ctx.log.clear()
                ctx.journal.clear()
                ctx.effects.clear()
                replies = [self._reply(error.key, turn, **error.variables)]
            result = await self.store.commit(
                snapshot,
                changed,
                decision_log=ctx.log,
                journal=ctx.journal,
                event_id=turn.event_id,
                # a handler that put a new partnership in place starts it afresh (a practice run)
                reset=changed is not None and changed is not snapshot.partnership,
            )
            if result is CommitResult.DONE:
                await self._after_commit(turn, ctx, replies, acting_in)
                replies = replies + await self._apply_effects(turn, ctx)
                return self._addressed(turn, ctx, replies)
            if result is CommitResult.DUPLICATE:
                logger.info("event %s was handled already", turn.event_id)
                return []
        logger.warning(
            "gave up after %d conflicting commits: %s", COMMIT_ATTEMPTS, turn.address.conversation
        )
        return [self._reply("errors.busy", turn)]

    def _delivers_files(self, platform: str) -> bool:
        """Whether a binary file reaches people on `platform` (Teams needs a public URL for
        its download links); a platform this process does not run is taken to."""
        running = self.platforms.get(platform)
        return running is None or running.delivers_files

    def _addressed(self, turn: Turn, ctx: Context, replies: list[Reply]) -> list[Reply]:
        """Where each reply goes. Public replies to words written privately go to the
        partnership's home conversation; a decision's card (a reply with a key) also goes to
        every other conversation the partnership lives in, where it updates the card shown
        there (each platform keeps its message ids per conversation). A document names the
        partnership it belongs to, wherever it goes (a 1:1 chat belongs to none)."""
        p = ctx.partnership
        home = Address.of_conversation(home_id(p.id))  # a practice run's: its partnership's
        practice = p.id != home_id(p.id)
        everywhere = records.conversations(p) if p.is_set_up and not practice else [home_id(p.id)]
        addressed = []
        for reply in replies:
            if reply.attachment is not None:  # a download link to it is filed under it
                owned = replace(reply.attachment, partnership=home_id(p.id))
                reply = replace(reply, attachment=owned)
            if reply.private:
                addressed.append(reply)
                continue
            if turn.private:
                reply = replace(reply, where=home)
            addressed.append(reply)
            if reply.key:
                here = (reply.where or turn.address).conversation
                addressed += [
                    replace(reply, where=Address.of_conversation(c), thread=None)
                    for c in everywhere
                    if c != here
                ]
        return addressed

    async def _apply_effects(self, turn: Turn, ctx: Context) -> list[Reply]:
        """What the handler asked for outside the partnership's own keys, after its commit:
        link codes, conversation links, the retention index, the archive, a deletion. A
        failure is logged; the act itself is recorded already."""
        pid = ctx.partnership.id
        replies = []
        for effect in ctx.effects:
            kind = effect["type"]
            try:
                if kind == "link-code":
                    await self.store.put_link_code(effect["code"], pid, records.LINK_CODE_TTL_S)
                elif kind == "link":
                    conversation = Address.of_conversation(effect["conversation"])
                    if effect["replaces"]:  # an empty partnership of its own: replaced
                        await self.store.purge(
                            effect["replaces"], [effect["replaces"]], keep_conversations=True
                        )
                    await self.store.link(conversation, pid)
                    await self.store.take_link_code(effect["code"])
                elif kind == "unlink":
                    await self.store.unlink(effect["conversation"])
                elif kind == "retention":
                    await self.store.set_retained(pid, bool(effect["on"]))
                elif kind == "archive":  # it holds everyone's words: for the asker alone
                    name, data = await records.archive(self.store, self.content, pid, self.clock())
                    attachment = Attachment.of_bytes(name, data, records.ARCHIVE_MEDIA_TYPE)
                    text = self.content.prompts.render(
                        "records.archive_ready", partnership=ctx.partnership.name, file=name
                    )
                    replies.append(Reply(text, attachment=attachment, to=turn.user.id))
                elif kind == "delete":
                    await records.delete(self.store, pid)
            except Exception:
                logger.exception("could not %s for %s after a turn", kind, pid)
                replies.append(self._reply("errors.sorry", turn))
        return replies

    async def check_form(self, turn: Turn) -> dict[str, str]:
        """The problems a form turn (`turn.form`) would be refused for, by field, without
        changing anything: a platform that shows forms (Slack's modal) answers with them at
        once. A problem that belongs to no one field is shown on the form's first field."""
        assert turn.form, "check_form needs a form turn"
        found = self.commands.find(tokenize(turn.text), self.content.grammar)
        if found.command is None:
            return {}
        snapshot = await self.store.load(turn.address)
        known = found.command
        ctx = Context(
            turn,
            snapshot.partnership,
            self.content,
            self.clock(),
            commands=self.commands,
            command=known.name,
        )
        try:
            self._run(ctx, known, found, self._args(known, found.words))
        except FormError as error:
            return {f: self.prompt(e.key, **e.variables) for f, e in error.problems.items()}
        except UserFacingError as error:
            return {turn.form[0][0]: self.prompt(error.key, **error.variables)}
        return {}

    def _args(self, known: Command | None, words: tuple[str, ...]) -> Args:
        if known is None:
            return Args.of(())
        args = Args.of(words, known.options)
        at = known.text_from
        dropped = self.content.grammar.text_openers.get(known.name, frozenset())
        if at is not None and len(args.words) > at + 1 and args.words[at].lower() in dropped:
            args = args.with_words(*args.words[:at], *args.words[at + 1 :])  # "because …"
        return args

    def _run(self, ctx: Context, known: Command | None, found: Found, args: Args) -> None:
        """Refuse what does not fit the command, then run its handler."""
        render = self.content.prompts.render
        # a sentence that starts with a word-less command's word ("Partners disagree on …"),
        # typed, with no options: maybe an answer to a walk's question
        crowded = known and known.max_words == 0 and args.words and not args.options
        # or asks help, by another name ("how do we …", "hi all, …"), what it has nothing for:
        # a question may be an answer; anything else is refused with how to answer it
        helpless = (
            known
            and known.name == "help"
            and args.words
            and normal_word(found.line[0]) not in ("help", "?")
            and not explains(ctx, args.words)
        )
        asked = helpless and normal_word(found.line[0]) in QUESTION_WORDS
        meant = (
            going_on(ctx, found, answer=not helpless or bool(asked))
            if known is None or crowded or helpless
            else None
        )
        if meant is not None:  # "skip", "fully in place", an answer, while a walk asks
            found = self.commands.find(meant, self.content.grammar)
            known, args = found.command, self._args(found.command, found.words)
        if known is None:
            suggestions = "\n".join(render(c.usage) for c in found.suggestions)
            if found.group:
                ctx.fail("errors.which_command", command=found.typed[:40], suggestions=suggestions)
            ctx.fail(
                "errors.unknown_command_suggest" if suggestions else "errors.unknown_command",
                command=found.typed[:40],
                suggestions=suggestions,
            )
        if known.needs_partnership and not ctx.partnership.is_set_up:
            if ctx.turn.automatic:
                return  # a platform's own event (a meeting started) where nothing is set up
            ctx.fail("errors.not_set_up")
        if args.body is None and len(args.words) < known.min_words:
            ctx.fail(known.usage)
        if known.max_words is not None and len(args.words) > known.max_words:
            kept, extra = args.words[: known.max_words], args.words[known.max_words :]
            ctx.fail(
                "errors.extra_words",
                command=" ".join([known.name, *kept]),
                extra=" ".join(f'"{w}"' for w in extra)[:200],
                usage=render(known.usage),
            )
        known.handler(ctx, args)

    async def overview(self, platform: str, workspace: str, user_id: str) -> list[Reply]:
        """One reply per partnership the user belongs to, with its decisions still open."""
        render = self.content.prompts.render
        replies = []
        for pid in await self.store.memberships(platform, workspace, user_id):
            p = (await self.store.load_partnership(pid)).partnership
            if not p.is_set_up or user_id not in p.members:
                continue
            still_open = [d for d in p.decisions_in_order() if d.is_open]
            lines = [
                render(
                    "home.open_line",
                    decision=d.id,
                    text=d.text,
                    waiting_on=waits_on(p, self.content, d),
                )
                for d in still_open
            ]
            replies.append(
                Reply(
                    render(
                        "home.partnership",
                        partnership=p.name,
                        count=len(still_open),
                        decisions="\n".join(lines) or render("home.nothing_open"),
                    )
                )
            )
        return replies or [Reply(render("home.none"))]

    async def _after_commit(
        self, turn: Turn, ctx: Context, replies: list[Reply], acting_in: str | None
    ) -> None:
        """Keep the cross-partnership indexes current: who belongs where (App Home), where each
        person acts (their direct messages), and when check-ins are due (the worker). They live
        outside the partnership's hash slot, so they are written after its commit; a failure is
        logged, never turned into an apology for a turn that was recorded. The worker
        recomputes a missing due time from the schedule. `acting_in` is where the turn's
        author acted last, read with the partnership: a person who acts where they acted
        last is not written again (every turn in a channel would otherwise write it)."""
        pid = home_id(ctx.partnership.id)  # a practice run's people act in the real partnership
        where = turn.address
        try:
            if ctx.partnership.is_set_up:
                acting = {r.to for r in replies if r.to and r.to != turn.user.id}
                if turn.user.id in ctx.partnership.members and not turn.private:
                    acting.add(turn.user.id)
                if acting_in == pid:  # where they acted last: nothing to write
                    acting.discard(turn.user.id)
                for user_id in acting:
                    await self.store.set_acting_in(where.platform, where.workspace, user_id, pid)
            for entry in ctx.journal:
                if entry["type"] in MEMBERSHIP_ENTRIES:
                    await self.store.index_membership(turn.address, turn.user.id, pid)
                elif entry["type"] == "schedule":
                    due = entry["next_due"]
                    await self.store.set_due(pid, datetime.fromisoformat(due) if due else None)
        except Exception:
            logger.exception("could not update the indexes for %s after a turn", pid)

    def _reply(self, key: str, turn: Turn, **variables: object) -> Reply:
        """A reply only the turn's author sees."""
        return Reply(text=self.content.prompts.render(key, **variables), to=turn.user.id)


def _link_code(text: str) -> str | None:
    """The code of a `link CODE` turn, normalized; None for any other turn."""
    try:
        tokens = tokenize(text)
    except UserFacingError:
        return None
    if len(tokens) != 2 or tokens[0].lower() != "link":
        return None
    return records.normalized_code(tokens[1]) or None


def _check_text(text: str) -> str | None:
    if len(text) > TEXT_LIMIT:
        return "errors.too_long"
    if any(unicodedata.category(c) in {"Cc", "Cs"} and c not in "\t\n" for c in text):
        return "errors.control_characters"  # Cs: a lone surrogate, left by undecodable bytes
    return None
