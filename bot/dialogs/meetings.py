"""Meetings: an agenda when a meeting starts, a summary of what it settled when it ends.

Teams sends meeting start and end as events; in any channel they can be typed too
(`meeting start`, `meeting end`). State, in `partnership.dialogs["meeting"]`:
    started_at  when the meeting started (decisions agreed since then are its outcome)
"""

from __future__ import annotations

from bot import report
from bot.dialogs.base import Args, Context, command
from bot.dialogs.scorecard import open_items
from bot.partnership import Decision

DIALOG = "meeting"
AGENDA_ITEMS_SHOWN = 8  # a longer agenda is not read in a meeting


@command("meeting start", topic="meetings")
def meeting_start(ctx: Context, args: Args) -> None:
    start(ctx)


@command("meeting end", topic="meetings")
def meeting_end(ctx: Context, args: Args) -> None:
    end(ctx)


def start(ctx: Context) -> None:
    p = ctx.partnership
    p.dialogs[DIALOG] = {"started_at": ctx.stamp}
    waiting = [d for d in p.decisions_in_order() if d.is_open]
    items = open_items(ctx)
    ctx.say(
        "meetings.agenda",
        partnership=p.name,
        decisions=_lines(ctx, waiting) or ctx.text("meetings.no_decisions_waiting"),
        items="\n".join(
            ctx.text(
                "meetings.item_line", item=item.id, question=item.question(ctx.partnership.mode)
            )
            for item in items[:AGENDA_ITEMS_SHOWN]
        )
        or ctx.text("meetings.no_open_items"),
        count=len(items),
    )


def end(ctx: Context) -> None:
    p = ctx.partnership
    started = p.dialogs.pop(DIALOG, {}).get("started_at")
    if started is None:
        ctx.fail("meetings.not_started")
    decisions = p.decisions_in_order()
    agreed = [d for d in decisions if d.agreed_at and d.agreed_at >= started]
    waiting = [d for d in decisions if d.is_open]
    ctx.say(
        "meetings.summary",
        partnership=p.name,
        agreed=_lines(ctx, agreed) or ctx.text("meetings.nothing_agreed"),
        decisions=_lines(ctx, waiting) or ctx.text("meetings.no_decisions_waiting"),
    )


def _lines(ctx: Context, decisions: list[Decision]) -> str:
    p = ctx.partnership
    return "\n".join(
        ctx.text(
            "meetings.agreed_line" if d.status == "agreed" else "meetings.decision_line",
            decision=d.id,
            text=d.text,
            status=ctx.text(f"decisions.status_{d.status}"),
            waiting_on=report.waits_on(p, ctx.content, d),
        )
        for d in decisions
    )
