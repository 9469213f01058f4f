"""What every dialog works with: a command's words, the turn's context, and the commands.

A dialog is a set of handlers, each a plain function `(ctx, args) -> None` that reads and
changes `ctx.partnership` and adds replies and log entries to `ctx`. Handlers do no I/O: the core
loads the snapshot before and commits the result after, so they can be re-run on a conflict.

Each handler declares the command it answers with `@command("checkins pause", topic=…)`: its
words, help topic, usage line, how many words it takes, and whether it needs a partnership or its
history. `Commands.collect` gathers the declarations into the instance a `Coach` is built with,
and `Commands.find` reads a line: openers and synonyms from content/grammar.yaml, then the
longest run of leading words that names a command (errbot's rule), else the closest commands.
"""

from __future__ import annotations

import difflib
import re
import shlex
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType, ModuleType
from typing import Any, NoReturn

from bot.content import Content, Grammar, Phrase, kebab, normal_word
from bot.errors import UserFacingError
from bot.model import Attachment, Choice, Reply, Turn
from bot.partnership import Partnership
from bot.store import Entry

_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})
_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")
CONFIRMED = "yes"  # the option that confirms a command which asks first
SUGGESTIONS = 3  # at most this many "did you mean" commands
_DECLARED = "__commands__"  # the attribute `@command` keeps a handler's declarations in
CLOSE_ENOUGH = 0.75  # difflib's similarity ratio for a typo of a command word


@dataclass(frozen=True)
class Args:
    """A command's words after the command's own, split into positionals and `--options`.

    Read-only, like everything a handler may run on again after a conflicting commit."""

    words: tuple[str, ...]
    options: Mapping[str, str]
    body: str | None = None  # verbatim free text from a form or a message (Turn.body)

    @classmethod
    def of(cls, tokens: tuple[str, ...], options: frozenset[str] = frozenset()) -> Args:
        """Arguments from a command's tokens; `--name value` is an option only for the names
        the command takes, so free text such as "Meet weekly --starting in May" stays text.
        `--yes` takes no value: it confirms a command that would otherwise ask first."""
        words: list[str] = []
        found: dict[str, str] = {}
        rest = iter(tokens)
        for token in rest:
            name, _, value = token[2:].partition("=")
            if token.startswith("--") and name.lower() in options:
                flag = name.lower() == CONFIRMED
                found[name.lower()] = value or ("yes" if flag else next(rest, ""))
            else:
                words.append(token)
        return cls(tuple(words), MappingProxyType(found))

    def word(self, index: int) -> str | None:
        return self.words[index] if index < len(self.words) else None

    def rest(self, start: int) -> str:
        """The command's free text: the words from `start` on, or the turn's body when given."""
        if self.body is not None:
            return self.body.strip()
        return " ".join(self.words[start:]).strip()

    def with_words(self, *words: str) -> Args:
        return replace(self, words=words)

    @property
    def confirmed(self) -> bool:
        return CONFIRMED in self.options


def tokenize(text: str) -> tuple[str, ...]:
    """Split a command line into words.

    Double quotes group words; an apostrophe is an ordinary letter ("don't" needs no quoting);
    any Unicode space (a no-break space from Teams, say) separates words like a plain one.
    """
    text = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text)
    lexer = shlex.shlex(text.translate(_SMART_QUOTES), posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return tuple(lexer)
    except ValueError:
        raise UserFacingError("errors.unbalanced_quotes") from None


def parse(text: str) -> tuple[str, tuple[str, ...]]:
    """A command line's first word (lower case) and the words after it; a leading `/coach` or
    `coach` is dropped. Commands are found with `Commands.find`; this serves simple readers."""
    tokens = tokenize(text)
    if tokens and tokens[0].lower() in {"/coach", "coach"}:
        tokens = tokens[1:]
    if not tokens:
        return "help", ()
    return tokens[0].lower(), tokens[1:]


def quoted(word: str) -> str:
    """A word as it would be typed: quoted when it holds a space."""
    return f'"{word}"' if not word or any(c.isspace() for c in word) else word


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
    commands: Commands = field(default_factory=lambda: Commands())  # read: every command
    command: str = ""  # the name of the command this turn runs, for refusals worded for it
    # the workshop's other space, read only: the real partnership while `partnership` is a
    # practice run's space, or the practice run's space while it is the real one (only for the
    # commands `bot.dialogs.practice.SPACES` names; None for every other command)
    other: Partnership | None = None
    # `link CODE`: the partnership the joining conversation holds now (an empty one when it
    # holds none); None when the code names no partnership
    joining: Partnership | None = None
    # whether a binary file (a Word document, the archive) reaches people on the turn's
    # platform: Teams offers files by download link only, so not without a public URL
    delivers_files: bool = True
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
                # a part left empty (advice that does not apply) leaves no trailing space
                text="\n".join(line.rstrip() for line in self.text(key, **variables).split("\n")),
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
            self.fail("errors.facilitators_only", command=self.command, facilitators=names)
        return partnership

    def require_org(self) -> str:
        partnership = self.require_setup()
        org = partnership.org_of(self.user_id)
        member = partnership.members.get(self.user_id)
        if org is None and member is not None and member.pending in partnership.orgs:
            self.fail(
                "errors.join_pending",
                org=partnership.orgs[member.pending].name,
                facilitators=", ".join(sorted(partnership.facilitators.values())),
            )
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

    def org_key(self, name: str | None) -> str:
        """The key of the partner organization `name` names, in any case and with or without a
        leading "the" ("the metro chamber" is "Metro Chamber"); a clear refusal otherwise."""
        orgs = self.partnership.orgs
        key = kebab(name or "")
        if key not in orgs and key.startswith("the-"):
            key = key.removeprefix("the-")
        if not key or key not in orgs:
            self.fail(
                "setup.unknown_org",
                org=(name or "").strip()[:80] or "?",
                orgs=self.org_names() or self.text("setup.no_partners_yet"),
            )
        return key

    def confirm(self, key: str, yes_key: str, args: Args, **variables: Any) -> bool:
        """True when the command was confirmed (`--yes`); otherwise ask, with a choice to go
        ahead (the same command, confirmed) and one to leave things as they are."""
        if args.confirmed:
            return True
        again = " ".join([self.command, *(quoted(w) for w in args.words)])
        for option, value in args.options.items():
            again += f" --{option} {quoted(value)}"
        self.say(
            key,
            private=True,
            choices=[
                self.choice(yes_key, f"{again} --{CONFIRMED}", **variables),
                self.choice("confirm.keep", "cancel"),
            ],
            **variables,
        )
        return False

    def remember(self, section: str, **entry: str) -> None:
        """Add an entry to the journal: what moved, for check-ins and exports."""
        self.journal.append({"type": section, "by": self.user_id, "at": self.stamp, **entry})


Handler = Callable[[Context, Args], None]


@dataclass(frozen=True)
class Command:
    """One command: the words that call it (`checkins pause`), its handler, and what it takes.

    topic         the help topic that lists it
    usage         the prompt key of its usage line, the reply when it is typed without its words
    min_words     the fewest words it needs after its own
    max_words     the most it takes (None: any); more are pointed out, never dropped silently
    text_from     where its free text starts (`object D1 <reason>`: 1); any words from there on
    needs_partnership  refused, with how to set one up, in a channel without a partnership
    needs_history      it reads the decision log and journal (loaded only for such commands)
    options       the `--options` it takes
    confirm       it asks first; `--yes` (the confirming choice) goes ahead
    builds_file   it builds a document (Word, charts): its handler runs in a thread, so the
                  process goes on answering (and acking Slack) meanwhile
    """

    name: str
    handler: Handler
    topic: str
    usage: str
    min_words: int = 0
    max_words: int | None = 0
    text_from: int | None = None
    needs_partnership: bool = True
    needs_history: bool = False
    options: frozenset[str] = frozenset()
    confirm: bool = False
    builds_file: bool = False

    @property
    def words(self) -> Phrase:
        return tuple(self.name.split())


def command(
    name: str,
    *,
    topic: str,
    usage: str | None = None,
    min_words: int = 0,
    max_words: int | None = 0,
    text_from: int | None = None,
    needs_partnership: bool = True,
    needs_history: bool = False,
    options: frozenset[str] = frozenset(),
    confirm: bool = False,
    builds_file: bool = False,
) -> Callable[[Handler], Handler]:
    """Declare `handler` as the command `name`; `Commands.collect` gathers the declarations.

    The usage line's prompt key defaults to `usage.<name>` (`usage.checkins_pause`). A handler
    may carry several declarations (stack the decorator)."""

    def declare(handler: Handler) -> Handler:
        spec = Command(
            name=name,
            handler=handler,
            topic=topic,
            usage=usage or "usage." + name.replace(" ", "_").replace("-", "_"),
            min_words=min_words,
            max_words=None if text_from is not None else max_words,
            text_from=text_from,
            needs_partnership=needs_partnership,
            needs_history=needs_history,
            options=(options | {CONFIRMED}) if confirm else options,
            confirm=confirm,
            builds_file=builds_file,
        )
        setattr(handler, _DECLARED, (*getattr(handler, _DECLARED, ()), spec))
        return handler

    return declare


@dataclass(frozen=True)
class Found:
    """What a command line means: its command and the words after it, or, when it names no
    command, what was typed and the commands it most likely meant."""

    command: Command | None
    words: tuple[str, ...] = ()
    typed: str = ""
    suggestions: tuple[Command, ...] = ()
    group: bool = False  # `typed` starts commands (`measure`) but says none of them
    line: tuple[str, ...] = ()  # every word as typed, after the openers


class Commands:
    """Every command the coach answers, looked up by the longest run of leading words.

    Example:
        commands = Commands.collect(setup, decisions)
        found = commands.find(("I", "agree", "with", "D1"), content.grammar)
        found.command.name, found.words  # ("endorse", ("D1",))
    """

    def __init__(self, commands: Iterable[Command] = ()) -> None:
        self._by_words: dict[Phrase, Command] = {}
        self._subs: dict[Phrase, list[Command]] = {}  # each group's commands, worked out once
        for spec in commands:
            self.add(spec)

    @classmethod
    def collect(cls, *modules: ModuleType) -> Commands:
        """The commands declared with `@command` in `modules`, in the order they appear (a
        handler one module imports from another counts only in its own)."""
        found = cls()
        for module in modules:
            for value in vars(module).values():
                for spec in getattr(value, _DECLARED, ()):
                    if spec.handler is value and value.__module__ == module.__name__:
                        found.add(spec)
        return found

    def add(self, spec: Command) -> None:
        if spec.words in self._by_words:
            raise ValueError(f"two commands are called {spec.name!r}")
        self._by_words[spec.words] = spec
        self._subs.clear()

    def __iter__(self) -> Iterator[Command]:
        return iter(self._by_words.values())

    def __len__(self) -> int:
        return len(self._by_words)

    def get(self, name: str) -> Command | None:
        return self._by_words.get(tuple(name.split()))

    def in_topic(self, topic: str) -> list[Command]:
        return [c for c in self if c.topic == topic]

    def find(self, tokens: tuple[str, ...], grammar: Grammar) -> Found:
        """The command `tokens` call, after the grammar's openers and synonyms."""
        said = [normal_word(t) for t in tokens]
        start = 0
        while n := _longest(grammar.openers, said[start:]):
            start += n
        tokens, said = tokens[start:], said[start:]
        if not tokens:
            return Found(self.get("help"))
        return replace(self._find(tokens, said, grammar), line=tokens)

    def _find(self, tokens: tuple[str, ...], said: list[str], grammar: Grammar) -> Found:
        own = self._longest_command(said)
        if own < 2 and len(said) > 1:  # `partner ad`, `checkins pasue`
            typo = self._sub_command_typo(tuple(said[:1]), said[1])
            if typo:
                return Found(None, tokens[2:], " ".join(tokens[:2]), typo)
        meant = _longest(grammar.synonyms, said)
        if meant > own:  # "partner add" is a command; "partner" alone means "partners"
            target = grammar.synonyms[tuple(said[:meant])]
            tokens, said = (*target, *tokens[meant:]), [*target, *said[meant:]]
            own = self._longest_command(said)
        if not own:
            subs = self._subs_of(tuple(said[:1]))
            if subs and (len(said) == 1 or not self._sub_command_typo(tuple(said[:1]), said[1])):
                return Found(None, (), tokens[0], tuple(subs), group=True)
            return Found(None, (), tokens[0], self._suggest(said, grammar))
        spec = self._by_words[tuple(said[:own])]
        words = tokens[own:]
        if words:
            typo = self._sub_command_typo(spec.words, said[own])
            if typo:
                return Found(None, words, " ".join(tokens[: own + 1]), typo)
        return Found(spec, words)

    def problems(self, content: Content) -> list[str]:
        """What in the content does not fit these commands: a synonym that leads nowhere, a
        missing usage line or help topic."""
        problems = []
        grammar, prompts = content.grammar, content.prompts
        for written, meant in grammar.synonyms.items():
            if not any(c.words[: len(meant)] == meant for c in self):
                problems.append(
                    f"content/grammar.yaml: synonyms.{' '.join(meant)}: "
                    f"{' '.join(written)!r} leads to no command"
                )
        topics = {c.topic for c in self}
        for alias, topic in grammar.topics.items():
            if topic not in topics:
                problems.append(f"content/grammar.yaml: topics.{alias}: {topic!r} is no topic")
        for name in grammar.text_openers:
            spec = self.get(name)
            if spec is None or spec.text_from is None:
                problems.append(f"content/grammar.yaml: text_openers.{name}: takes no free text")
        for spec in self:
            for key in (spec.usage, f"help.{spec.topic}"):
                if key not in prompts:
                    problems.append(f"content/prompts: {key}: is missing (for {spec.name!r})")
        return problems

    def _longest_command(self, said: list[str]) -> int:
        most = max((len(w) for w in self._by_words), default=0)
        for n in range(min(most, len(said)), 0, -1):
            if tuple(said[:n]) in self._by_words:
                return n
        return 0

    def _sub_command_typo(self, group: Phrase, word: str) -> tuple[Command, ...]:
        """The sub-commands of `group` that `word` looks like a typo of (`checkins pasue`)."""
        subs = {c.words[len(group)]: c for c in self._subs_of(group)}
        if word in subs or not subs:
            return ()
        close = difflib.get_close_matches(word, list(subs), SUGGESTIONS, CLOSE_ENOUGH)
        return tuple(subs[w] for w in close)

    def _subs_of(self, group: Phrase) -> list[Command]:
        """The commands under `group` (`measure add` under `measure`), in order; worked out
        once per group, as every turn with words after its command asks."""
        subs = self._subs.get(group)
        if subs is None:
            subs = self._subs[group] = [c for c in self if _under(c.words, group)]
        return subs

    def starts_like_one(self, word: str, grammar: Grammar) -> bool:
        """Whether `word` is, or looks like a typo of, a command's first word or a one-word way
        to say one (`endrose`: endorse; `aprove`: approve): a line starting with it was meant
        as a command. Longer phrases start with everyday words ("we", "what"), and so do the
        ways to ask for help ("what's", "explain"): they count only when said whole."""
        firsts = {c.words[0] for c in self} | {
            w[0] for w, meant in grammar.synonyms.items() if len(w) == 1 and meant != ("help",)
        }
        said = normal_word(word)
        return said in firsts or bool(difflib.get_close_matches(said, firsts, 1, CLOSE_ENOUGH))

    def _suggest(self, said: list[str], grammar: Grammar) -> tuple[Command, ...]:
        """The commands `said` most likely meant: a group's sub-command it looks like a typo
        of (`measure ad`), or the commands whose words or synonyms its first words are
        closest to (`endrose` and `aprove`: endorse)."""
        if len(said) > 1:
            closest = self._sub_command_typo(tuple(said[:1]), said[1])
            if closest:
                return closest
        by_text = {" ".join(c.words): c for c in self}
        for written, meant in grammar.synonyms.items():
            spec = self._by_words.get(meant)
            if spec is not None:
                by_text.setdefault(" ".join(written), spec)
        scored: dict[str, float] = {}
        for n in range(1, min(3, len(said)) + 1):
            typed = " ".join(said[:n])
            for text in difflib.get_close_matches(typed, list(by_text), SUGGESTIONS, CLOSE_ENOUGH):
                ratio = difflib.SequenceMatcher(None, typed, text).ratio()
                scored[text] = max(scored.get(text, 0.0), ratio)
        best = sorted(scored, key=lambda text: -scored[text])
        return tuple(dict.fromkeys(by_text[text] for text in best))[:SUGGESTIONS]


def _under(words: Phrase, group: Phrase) -> bool:
    return len(words) > len(group) and words[: len(group)] == group


def _longest(phrases: Mapping[Phrase, object] | frozenset[Phrase], said: list[str]) -> int:
    """The length of the longest phrase in `phrases` that `said` starts with (0: none)."""
    most = max((len(p) for p in phrases), default=0)
    for n in range(min(most, len(said)), 0, -1):
        if tuple(said[:n]) in phrases:
            return n
    return 0


def checked_text(ctx: Context, value: str | None, *, limit: int, usage: str) -> str:
    """Free text from a command (a name, a decision, a note): present and within `limit`."""
    value = (value or "").strip()
    if not value:
        ctx.fail(usage)
    if len(value) > limit:
        ctx.fail("errors.text_too_long_for_field", limit=limit, length=len(value))
    return value
