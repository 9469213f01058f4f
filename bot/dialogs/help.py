"""Help: every area of the coach, each topic with its commands' usage lines, and one command.

A topic's help is its prompt (`help.<topic>`) followed by the usage line of every command in it,
so a command cannot ship without showing up in help.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.content import normal_word
from bot.dialogs.base import Args, Context, command
from bot.dialogs.tactics import tactic, tactic_named

ARTICLES = ("the", "a", "an")
MOVE_FILLER = {"this", "that", "it", "the", "a", "one", "question", "questions", "item", "to",
               "next", "previous", "last", "round", "discussion"}  # fmt: skip
# how a question starts: one that help has nothing for may be an answer to a discussion's
QUESTION_WORDS = ("what", "what's", "whats", "how", "why", "who", "where", "when", "which",
                  "explain", "tell")  # fmt: skip
TOPICS = (
    "setup",
    "scorecard",
    "decisions",
    "tactics",
    "checkins",
    "measures",
    "meetings",
    "workshop",
    "records",
)


@command("help", topic="setup", max_words=None, needs_partnership=False)
def help_(ctx: Context, args: Args) -> None:
    words = _without_articles(args.words)
    if not words:
        start = "help.start_status" if ctx.partnership.is_set_up else "help.start_setup"
        ctx.say("help.main", start=ctx.text(start))
        return
    explain = _explainer(ctx, words)
    if explain is None:
        wanted = " ".join(normal_word(w) for w in words)
        ctx.fail("help.unknown_topic", topic=wanted[:40], topics=" ".join(TOPICS))
    explain()


def explains(ctx: Context, words: Sequence[str]) -> bool:
    """Whether help has something for `words` ("the scorecard", "endorse", "fact base")."""
    return _explainer(ctx, _without_articles(words)) is not None


def _without_articles(words: Sequence[str]) -> tuple[str, ...]:
    kept = list(words)
    while kept and normal_word(kept[0]) in ARTICLES:  # "what is the scorecard"
        kept.pop(0)
    return tuple(kept)


def _explainer(ctx: Context, words: tuple[str, ...]) -> Callable[[], None] | None:
    """What explains `words`: a topic's help, a command's usage line, a tactic, or how to move
    through a set of questions ("how do I skip this question?")."""
    wanted = " ".join(normal_word(w) for w in words)
    if wanted == "help":  # "how can I help"
        return lambda: help_(ctx, Args.of(()))
    topic = ctx.content.grammar.topics.get(wanted, wanted)
    if topic in TOPICS:
        return lambda: ctx.say(
            "help.topic", about=ctx.text(f"help.{topic}"), commands=usage_lines(ctx, topic)
        )
    found_line = ctx.commands.find(words, ctx.content.grammar)
    found = found_line.command
    # "how do I endorse", "how do I propose a decision"; not "how do we report progress to …"
    after = [w for w in found_line.words if normal_word(w) not in ARTICLES]
    if found is not None and found.name != "help" and len(after) <= 1:
        return lambda: ctx.say("help.command", usage=ctx.text(found.usage), topic=found.topic)
    named = tactic_named(ctx, " ".join(words))  # "what is build a common fact base"
    if named is not None:
        return lambda: tactic(ctx, Args.of((named.id,)))
    said = [normal_word(w) for w in words]
    moves = ctx.content.grammar.values.get("move", {})
    bare = list(said)
    while bare and bare[0] in ("go", "get", "move", "on", "to", "the"):  # "go to the next one"
        bare.pop(0)
    for words_said in (said, bare):
        for n in (2, 1):  # "skip this question", "move on": a move, then nothing but filler
            if "-".join(words_said[:n]) in moves and set(words_said[n:]) <= MOVE_FILLER:
                return lambda: ctx.say("help.moves")
    return None


def usage_lines(ctx: Context, topic: str) -> str:
    return "\n".join(ctx.text(c.usage) for c in ctx.commands.in_topic(topic))
