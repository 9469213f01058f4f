"""Help: the command grammar, overall and by topic."""

from __future__ import annotations

from bot.dialogs.base import Args, Context, command

TOPICS = ("setup", "scorecard", "decisions", "tactics", "records")


@command("help", "?")
def help_(ctx: Context, args: Args) -> None:
    topic = (args.word(0) or "").lower()
    if not topic:
        ctx.say("help.main")
    elif topic in TOPICS:
        ctx.say(f"help.{topic}")
    else:
        ctx.fail("help.unknown_topic", topic=topic, topics=" ".join(TOPICS))
