"""What every dialog works with: the parsed command, the turn's context, and the command table.

A dialog is a set of handlers, each a plain function `(ctx, args) -> None` that reads and
changes `ctx.partnership` and adds replies and log entries to `ctx`. Handlers do no I/O: the core
loads the snapshot before and commits the result after, so they can be re-run on a conflict.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from bot.content import Content, kebab
from bot.errors import UserFacingError
from bot.model import Attachment, Choice, Reply, Turn
from bot.partnership import Partnership
from bot.store import Entry

_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class Args:
    """A command's words after the command name, split into positionals and `--options`."""

    words: tuple[str, ...]
    options: dict[str, str]
    body: str | None = None  # verbatim free text from a form or a message (Turn.body)

    @classmethod
    def of(cls, tokens: tuple[str, ...], options: frozenset[str] = frozenset()) -> Args:
        """Arguments from a command's tokens; `--name value` is an option only for the names
        the command takes, so free text such as "Meet weekly --starting in May" stays text."""
        words: list[str] = []
        found: dict[str, str] = {}
        rest = iter(tokens)
        for token in rest:
            name, _, value = token[2:].partition("=")
            if token.startswith("--") and name.lower() in options:
                found[name.lower()] = value or next(rest, "")
            else:
                words.append(token)
        return cls(tuple(words), found)

    def word(self, index: int) -> str | None:
        return self.words[index] if index < len(self.words) else None

    def rest(self, start: int) -> str:
        """The command's free text: the words from `start` on, or the turn's body when given."""
        if self.body is not None:
            return self.body.strip()
        return " ".join(self.words[start:]).strip()


def parse(text: str) -> tuple[str, tuple[str, ...]]:
    """Split a command line into its command word and the tokens after it.

    Double quotes group words; an apostrophe is an ordinary letter ("don't" needs no quoting);
    any Unicode space (a no-break space from Teams, say) separates words like a plain one.
    A leading `/coach` or `coach` is optional.
    """
    text = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text)
    lexer = shlex.shlex(text.translate(_SMART_QUOTES), posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        raise UserFacingError("errors.unbalanced_quotes") from None
    if tokens and tokens[0].lower() in {"/coach", "coach"}:
        tokens = tokens[1:]
    if not tokens:
        return "help", ()
    return tokens[0].lower(), tuple(tokens[1:])


def user_ref(word: str) -> str:
    """A user named in a command: `@name`, a Slack mention `<@U123|name>`, or a bare id."""
    mention = _MENTION.match(word)
    return mention.group(1) if mention else word.lstrip("@")


@dataclass
class Context:
    """One turn as a handler sees it: inputs, plus what it decides (replies and log entries)."""

    turn: Turn
    partnership: Partnership
    content: Content
    now: datetime
    decision_log: list[Entry] = field(default_factory=list)  # read: the history, if loaded
    journal_log: list[Entry] = field(default_factory=list)  # read: the journal, if loaded
    replies: list[Reply] = field(default_factory=list)
    log: list[Entry] = field(default_factory=list)
    journal: list[Entry] = field(default_factory=list)
    # `link CODE`: the partnership the joining conversation holds now (an empty one when it
    # holds none); None when the code names no partnership
    other: Partnership | None = None
    # what the core does after the commit, outside the partnership's hash slot: each has a
    # "type" (link-code, link, unlink, retention, archive, delete; see Coach._apply_effects)
    effects: list[Entry] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return self.turn.user.id

    @property
    def user_name(self) -> str:
        return self.turn.user.name

    @property
    def stamp(self) -> str:
        return self.now.isoformat(timespec="seconds")

    def text(self, key: str, **variables: Any) -> str:
        return self.content.prompts.render(key, **variables)

    def say(
        self,
        key: str,
        *,
        choices: Iterable[Choice] = (),
        private: bool = False,
        to: str | None = None,
        preformatted: str | None = None,
        attachment: Attachment | None = None,
        message_key: str | None = None,
        thread: str | None = None,
        **variables: Any,
    ) -> None:
        self.replies.append(
            Reply(
                text=self.text(key, **variables),
                choices=tuple(choices),
                to=to or (self.user_id if private else None),
                preformatted=preformatted,
                attachment=attachment,
                key=message_key,
                thread=thread,
            )
        )

    def choice(self, key: str, command: str, step: str | None = None, **variables: Any) -> Choice:
        return Choice(label=self.text(key, **variables), command=command, step=step)

    def fail(self, key: str, **variables: Any) -> NoReturn:
        raise UserFacingError(key, **variables)

    def check_step(self, current: str) -> None:
        """Refuse a choice picked from an older message than the dialog's current step."""
        if self.turn.step is not None and self.turn.step != current:
            self.fail("errors.stale")

    def require_setup(self) -> Partnership:
        if not self.partnership.is_set_up:
            self.fail("errors.not_set_up")
        return self.partnership

    def require_facilitator(self) -> Partnership:
        partnership = self.require_setup()
        if self.user_id not in partnership.facilitators:
            names = ", ".join(sorted(partnership.facilitators.values()))
            self.fail("errors.facilitators_only", facilitators=names)
        return partnership

    def require_org(self) -> str:
        partnership = self.require_setup()
        org = partnership.org_of(self.user_id)
        if org is None:
            suggested = self.suggested_org()
            if suggested is not None:
                self.fail("errors.no_org_suggest", org=partnership.orgs[suggested].name)
            self.fail("errors.no_org", orgs=self.org_names() or self.text("setup.no_partners_yet"))
        return org

    def suggested_org(self) -> str | None:
        """The partner organization the user's own workspace or tenant matches, if any."""
        home = self.turn.user.home
        if not home:
            return None
        wanted = kebab(home).replace("-", "")  # "metrochamber.org" and "Metro Chamber" match
        return next((key for key in self.partnership.orgs if key.replace("-", "") == wanted), None)

    def org_names(self) -> str:
        return ", ".join(f'"{o.name}"' for o in self.partnership.orgs.values())

    def remember(self, section: str, **entry: str) -> None:
        """Add an entry to the journal: what moved, for check-ins and exports."""
        self.journal.append({"type": section, "by": self.user_id, "at": self.stamp, **entry})


Handler = Callable[[Context, Args], None]


@dataclass(frozen=True)
class Command:
    handler: Handler
    needs_history: bool = False
    options: frozenset[str] = frozenset()


COMMANDS: dict[str, Command] = {}


def command(
    *names: str, needs_history: bool = False, options: frozenset[str] = frozenset()
) -> Callable[[Handler], Handler]:
    """Register a handler under one or more command words, with the `--options` it takes."""

    def register(handler: Handler) -> Handler:
        for name in names:
            COMMANDS[name] = Command(handler, needs_history, options)
        return handler

    return register


def checked_text(ctx: Context, value: str | None, *, limit: int, usage: str) -> str:
    """Free text from a command (a name, a decision, a note): present and within `limit`."""
    value = (value or "").strip()
    if not value:
        ctx.fail(usage)
    if len(value) > limit:
        ctx.fail("errors.text_too_long_for_field", limit=limit, length=len(value))
    return value
