"""What is waiting on me: `status` (also `next`, `what's next`), and a newcomer's catch-up.

For the person who asks: the decisions their organization has not endorsed, the measures it
owns that are due a report, and the scorecard item or tactic question under way. For the
partnership as a whole: the organizations nobody represents yet, the decisions waiting on other
organizations, and the next check-in.
"""

from __future__ import annotations

from bot import report
from bot.content import Item, series
from bot.dialogs.base import Args, Context, command
from bot.dialogs.checkins import due_words, upcoming
from bot.dialogs.decisions import open_to, pick_choices
from bot.dialogs.scorecard import current_item
from bot.dialogs.tactics import current_question
from bot.schedule import Schedule

STATUS_CHOICES = 3  # decisions offered as buttons under `status`, newest first


@command("status", topic="setup")
def status(ctx: Context, args: Args) -> None:
    """What waits on the asker, with a button for what they can do at once: rate the item a
    round is on, endorse the newest decisions waiting on their organization."""
    p = ctx.require_setup()
    org = p.org_of(ctx.user_id)
    choices = []
    if org is not None:
        item = current_item(ctx)
        if item is not None:
            choices.append(ctx.choice("status.rate_choice", f"rate {item.id}", item=item.id))
        waiting = open_to(p, org, "endorse")[:STATUS_CHOICES]
        choices += pick_choices(ctx, waiting, "endorse", "status.endorse_choice")
    ctx.say(
        "status.summary",
        partnership=p.name,
        catch_up=catch_up(ctx),
        private=True,
        choices=choices,
    )


def catch_up(ctx: Context, user_id: str | None = None) -> str:
    """What waits on the user (or the person `user_id`) and their organization, then on the
    partnership as a whole."""
    user_id = user_id or ctx.user_id
    item = current_item(ctx)
    said = "\n\n".join(
        ctx.text(key, lines="\n".join(lines))
        for key, lines in (
            ("status.on_you", _on_you(ctx, user_id, item)),
            ("status.on_everyone", _on_everyone(ctx, user_id)),
        )
        if lines
    ) or ctx.text("status.all_clear")
    explained = report.legend(ctx.content, [item.id] if item else [])
    return f"{said}\n{explained}" if explained else said


def _on_you(ctx: Context, user_id: str, item: Item | None) -> list[str]:
    p = ctx.partnership
    lines = []
    org = p.org_of(user_id)
    member = p.members.get(user_id)
    if org is None and member is not None and member.pending in p.orgs:
        lines.append(ctx.text("status.join_pending", org=p.orgs[member.pending].name))
    elif org is None:
        if p.orgs:  # with none yet, the partnership's own list says so
            lines.append(ctx.text("status.join_first", orgs=ctx.org_names()))
    else:
        name = p.orgs[org].name
        for d in p.decisions_in_order():
            if not d.is_open or org in d.endorsed_by():
                continue
            stance = d.stances.get(org)
            key = "status.your_objection" if stance else "status.to_endorse"
            lines.append(ctx.text(key, decision=d.id, text=d.text, org=name))
        since = (p.last_checkin or {}).get("sent_at", "")
        for m in p.measures_in_order():
            if m.owner == org and (not m.reports or m.reports[-1].at <= since):
                lines.append(ctx.text("status.to_report", measure=m.name, org=name))
    lines += [  # joins this person may confirm
        ctx.text("status.to_confirm", user=m.name, org=p.orgs[m.pending or ""].name, id=uid)
        for uid, m in p.pending_joins()
        if uid != user_id and p.can_confirm(user_id, m.pending or "")
    ]
    if item is not None:
        lines.append(
            ctx.text(
                "status.current_item",
                item=item.id,
                marked=item.marked,
                question=item.question(p.mode),
            )
        )
    question = current_question(ctx)
    if question is not None:
        tactic, number = question
        lines.append(ctx.text("status.current_question", name=tactic.name, position=number))
    return lines


def _on_everyone(ctx: Context, user_id: str) -> list[str]:
    p = ctx.partnership
    mine = p.org_of(user_id)
    lines = []
    if not p.orgs:
        lines.append(ctx.text("status.no_partners"))
    represented = {m.org for m in p.members.values()}
    asked: dict[str, list[str]] = {}  # organization -> who else asked to represent it
    mine_asked = set()  # the asker's own request is on them
    for uid, m in p.pending_joins():
        if uid == user_id:
            mine_asked.add(m.pending)
        else:
            asked.setdefault(m.pending or "", []).append(m.name)
    lines += [
        ctx.text("status.join_waits", org=o.name, user=series(asked[key]), count=len(asked[key]))
        if key in asked
        else ctx.text("status.nobody_represents", org=o.name)
        for key, o in p.orgs.items()
        if key not in represented and (key in asked or key not in mine_asked)
    ]
    for d in p.decisions_in_order():
        others = [o.name for key, o in p.orgs.items() if key != mine and key not in d.endorsed_by()]
        if d.is_open and others:
            lines.append(
                ctx.text(
                    "status.waiting_on", decision=d.id, text=d.text, waiting_on=series(others)
                )
            )
    due = upcoming(p, ctx.now)
    if due is not None and p.schedule is not None:
        when = due_words(due, Schedule.from_dict(p.schedule))
        lines.append(ctx.text("status.next_checkin", when=when))
    return lines


@command("cancel", topic="setup", max_words=None, needs_partnership=False)
def cancel(ctx: Context, args: Args) -> None:
    """The choice that declines a confirmation: nothing changes."""
    ctx.say("confirm.canceled", private=True)
