"""Help: every area of the coach, each topic with its commands' usage lines, and one command.

A topic's help is its prompt (`help.<topic>`) followed by the usage line of every command in it,
so a command cannot ship without showing up in help.
"""

from __future__ import annotations

from bot.content import normal_word
from bot.dialogs.base import Args, Context, command
from bot.dialogs.tactics import tactic, tactic_named

ARTICLES = ("the", "a", "an")
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
    words = list(args.words)
    while words and normal_word(words[0]) in ARTICLES:  # "what is the scorecard"
        words.pop(0)
    args = args.with_words(*words)
    wanted = " ".join(normal_word(w) for w in args.words)
    if not wanted:
        start = "help.start_status" if ctx.partnership.is_set_up else "help.start_setup"
        ctx.say("help.main", start=ctx.text(start))
        return
    topic = ctx.content.grammar.topics.get(wanted, wanted)
    if topic in TOPICS:
        ctx.say("help.topic", about=ctx.text(f"help.{topic}"), commands=usage_lines(ctx, topic))
        return
    found = ctx.commands.find(args.words, ctx.content.grammar)
    if found.command is not None and found.command.name != "help":
        ctx.say(
            "help.command",
            usage=ctx.text(found.command.usage),
            topic=found.command.topic,
        )
        return
    named = tactic_named(ctx, " ".join(args.words))  # "what is build a common fact base"
    if named is not None:
        tactic(ctx, Args.of((named.id,)))
        return
    ctx.fail("help.unknown_topic", topic=wanted[:40], topics=" ".join(TOPICS))


def usage_lines(ctx: Context, topic: str) -> str:
    return "\n".join(ctx.text(c.usage) for c in ctx.commands.in_topic(topic))
