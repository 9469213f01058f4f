"""The decision log: propose, endorse, object, revise; list, show and export.

A decision is agreed when every partner organization's current stance on its current text is
an endorsement (one per organization). Revising the text clears every stance. Each act is also
appended to the partnership's decision-log stream, which keeps the history.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Literal

from bot import report
from bot.content import clip
from bot.dialogs.base import Args, Context, checked_text, command
from bot.model import Attachment, Choice
from bot.partnership import Decision, Partnership, Stance, readable_time

# what the decision log records (`decisions.history_<act>` words each one)
Act = Literal["propose", "endorse", "object", "revise", "withdraw", "agreed"]
# the stances `endorse` or `object` alone offer a button per decision for
# (`decisions.which_to_<stance>`, `decisions.nothing_to_<stance>`)
Offered = Literal["endorse", "object"]
OFFERED = 10  # buttons at most, newest decisions first
CHOICE_TEXT = 60  # a decision's text on its button, cut to this many characters


TEXT_LIMIT = 1000
REASON_LIMIT = 1000
_DECISION_ID = re.compile(r"^[dD](\d{1,6})$")


@command("decide", topic="decisions", text_from=0, options=frozenset({"item"}))
def decide(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    item_id = args.options.get("item")
    if item_id is not None:
        item_id = item_id.lower()
        if item_id not in ctx.content.items:
            ctx.fail("scorecard.unknown_item", item=item_id or "?")
    if not args.rest(0):
        if item_id:
            item = ctx.content.items[item_id]
            ctx.say(
                "decisions.how_to_propose",
                item=item_id,
                question=item.question(ctx.partnership.mode),
                private=True,
            )
            return
        ctx.fail("usage.decide")
    org = ctx.require_org()
    text = checked_text(ctx, args.rest(0), limit=TEXT_LIMIT, usage="usage.decide")
    number = max((int(key[1:]) for key in p.decisions), default=0) + 1  # ids are D<n>
    decision = Decision(
        id=f"D{number}",
        text=text,
        proposed_by=ctx.user_id,
        proposed_by_name=ctx.user_name,
        proposer_org=org,
        created_at=ctx.stamp,
        item=item_id,
    )
    p.decisions[decision.id] = decision
    _log(ctx, decision, "propose", text=text, item=item_id or "")
    ctx.say(
        "decisions.proposed",
        message_key=_card(decision),
        decision=decision.id,
        text=text,
        user=ctx.user_name,
        org=p.orgs[org].name,
        waiting_on=_waiting_on(ctx, decision),
        choices=_stance_choices(ctx, decision),
    )


@command("endorse", topic="decisions", max_words=1)
def endorse(ctx: Context, args: Args) -> None:
    p = ctx.partnership
    if not args.words:
        _offer_decisions(ctx, "endorse")
        return
    decision = _open_decision(ctx, args)
    org = ctx.require_org()
    ctx.check_step(_step(decision))
    current = decision.stances.get(org)
    if current is not None and current.stance == "endorse":
        ctx.fail(
            "decisions.already_endorsed",
            decision=decision.id,
            org=p.orgs[org].name,
            user=current.name,
        )
    decision.stances[org] = Stance("endorse", ctx.user_id, ctx.user_name, ctx.stamp)
    _log(ctx, decision, "endorse", org=org)
    if _agree_if_complete(ctx, decision):
        return
    ctx.say(
        "decisions.endorsed",
        message_key=_card(decision),
        decision=decision.id,
        text=decision.text,
        org=p.orgs[org].name,
        user=ctx.user_name,
        endorsed=len(decision.endorsed_by()),
        total=len(p.orgs),
        waiting_on=_waiting_on(ctx, decision),
        choices=_stance_choices(ctx, decision),
    )


@command("object", topic="decisions", text_from=1)
def object_(ctx: Context, args: Args) -> None:
    p = ctx.partnership
    if not args.words:
        _offer_decisions(ctx, "object")
        return
    decision = _open_decision(ctx, args)
    org = ctx.require_org()
    ctx.check_step(_step(decision))
    if not args.rest(1):
        ctx.say("decisions.object_needs_reason", decision=decision.id, private=True)
        return
    reason = checked_text(ctx, args.rest(1), limit=REASON_LIMIT, usage="usage.object")
    was_agreed = decision.agreed_at is not None
    decision.stances[org] = Stance("object", ctx.user_id, ctx.user_name, ctx.stamp, reason)
    decision.agreed_at = None
    _log(ctx, decision, "object", org=org, reason=reason)
    ctx.say(
        "decisions.objected_after_agreement" if was_agreed else "decisions.objected",
        message_key=_card(decision),
        decision=decision.id,
        text=decision.text,
        waiting_on=_waiting_on(ctx, decision),
        choices=_stance_choices(ctx, decision),
        org=p.orgs[org].name,
        user=ctx.user_name,
        reason=reason,
    )


@command("revise", topic="decisions", min_words=1, text_from=1)
def revise(ctx: Context, args: Args) -> None:
    p = ctx.partnership
    decision = _open_decision(ctx, args)
    if ctx.user_id != decision.proposed_by and ctx.user_id not in p.facilitators:
        ctx.fail(
            "decisions.revise_not_allowed", decision=decision.id, user=decision.proposed_by_name
        )
    text = checked_text(ctx, args.rest(1), limit=TEXT_LIMIT, usage="usage.revise")
    if text == decision.text:
        ctx.fail("decisions.revise_same_text", decision=decision.id)
    decision.text = text
    decision.revision += 1
    decision.stances.clear()
    decision.agreed_at = None
    _log(ctx, decision, "revise", text=text)
    ctx.say(
        "decisions.revised",
        message_key=_card(decision),
        decision=decision.id,
        text=text,
        user=ctx.user_name,
        revision=decision.revision,
        choices=_stance_choices(ctx, decision),
    )


@command("withdraw", topic="decisions", min_words=1, max_words=1)
def withdraw(ctx: Context, args: Args) -> None:
    """Its proposer or a facilitator withdraws an open decision; the log keeps it."""
    p = ctx.partnership
    decision = _open_decision(ctx, args)
    if ctx.user_id != decision.proposed_by and ctx.user_id not in p.facilitators:
        ctx.fail(
            "decisions.withdraw_not_allowed", decision=decision.id, user=decision.proposed_by_name
        )
    decision.withdrawn_at = ctx.stamp
    _log(ctx, decision, "withdraw")
    ctx.say(
        "decisions.withdrawn",
        message_key=_card(decision),
        decision=decision.id,
        text=decision.text,
        user=ctx.user_name,
    )


@command("decisions", topic="decisions")
def decisions(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    listed = p.decisions_in_order()
    if not listed:
        ctx.say("decisions.none_yet")
        return
    lines = [_summary_line(ctx, d) for d in listed]
    agreed = sum(1 for d in listed if d.agreed_at)
    ctx.say(
        "decisions.list",
        partnership=p.name,
        count=len(listed),
        agreed=agreed,
        decisions="\n".join(lines),
    )


@command("decision", topic="decisions", min_words=1, max_words=1, needs_history=True)
def show(ctx: Context, args: Args) -> None:
    decision = _decision(ctx, args)
    ctx.say(
        "decisions.detail",
        summary=_summary_line(ctx, decision),
        item_line=ctx.text("decisions.detail_item", item=decision.item) if decision.item else "",
        history="\n".join(_history(ctx, decision)),
        choices=_stance_choices(ctx, decision) if decision.is_open else (),
    )


@command("export decisions", topic="records", max_words=1, needs_history=True)
def export(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    form = (args.word(0) or "md").lower().lstrip(".")
    if form not in {"md", "csv"}:
        ctx.fail("usage.export_decisions")
    listed = p.decisions_in_order()
    name = report.filename(p, ctx.now, form, "decision-log")
    if form == "csv":
        attachment = Attachment(name, _csv(ctx, listed), "text/csv")
    else:
        attachment = Attachment(name, _markdown(ctx, listed), "text/markdown")
    ctx.say("decisions.exported", count=len(listed), form=form, attachment=attachment)


def settle_after_partner_change(ctx: Context, removed: str) -> None:
    """After an organization leaves: its stances stop counting, and a decision that only
    waited on it is agreed (the log keeps the stances it gave)."""
    p = ctx.partnership
    for decision in p.decisions_in_order():
        decision.stances.pop(removed, None)
        if decision.withdrawn_at is None:
            _agree_if_complete(ctx, decision)


def _agree_if_complete(ctx: Context, decision: Decision) -> bool:
    """Mark `decision` agreed, once, when every partner organization now endorses it."""
    if decision.agreed_at is not None or not ctx.partnership.is_fully_endorsed(decision):
        return False
    decision.agreed_at = ctx.stamp
    _log(ctx, decision, "agreed")
    ctx.say(
        "decisions.agreed", message_key=_card(decision), decision=decision.id, text=decision.text
    )
    return True


def _decision(ctx: Context, args: Args) -> Decision:
    p = ctx.require_setup()
    word = args.word(0) or ""
    match = _DECISION_ID.match(word)
    decision = p.decisions.get(f"D{int(match.group(1))}") if match else None
    if decision is None:
        last = p.decisions_in_order()[-1].id if p.decisions else None
        ctx.fail(
            "decisions.unknown" if last else "decisions.unknown_none_yet",
            decision=word or "?",
            last=last or "",
        )
    return decision


def _open_decision(ctx: Context, args: Args) -> Decision:
    """The decision a command acts on, refused when it was withdrawn."""
    decision = _decision(ctx, args)
    if decision.withdrawn_at is not None:
        ctx.fail("decisions.is_withdrawn", decision=decision.id)
    return decision


def _offer_decisions(ctx: Context, act: Offered) -> None:
    """`endorse` or `object` without a decision ("I agree"): a button for each open decision
    the asker's organization has not yet taken that stance on, newest first."""
    p = ctx.require_setup()
    org = ctx.require_org()
    offered = open_to(p, org, act)
    if not offered:
        ctx.fail(f"decisions.nothing_to_{act}", org=p.orgs[org].name)
    ctx.say(
        f"decisions.which_to_{act}",
        private=True,
        org=p.orgs[org].name,
        more=ctx.text("decisions.which_more", count=len(offered) - OFFERED)
        if len(offered) > OFFERED
        else "",
        choices=pick_choices(ctx, offered[:OFFERED], act),
    )


def open_to(p: Partnership, org: str, act: Offered) -> list[Decision]:
    """The open decisions `org` has not taken the stance `act` on, newest first."""
    return [
        d
        for d in reversed(p.decisions_in_order())
        if d.is_open and getattr(d.stances.get(org), "stance", None) != act
    ]


def pick_choices(
    ctx: Context, offered: list[Decision], act: Offered, label: str = "decisions.which_choice"
) -> list[Choice]:
    """A button for each decision, that takes the stance `act` on it (`label`, a prompt with
    the decision and its text cut short: `D1: "Meet monthly"`)."""
    return [
        ctx.choice(label, f"{act} {d.id}", _step(d), decision=d.id, text=text)
        for d in offered
        for text in [clip(d.text, CHOICE_TEXT)]
    ]


def _card(decision: Decision) -> str:
    """The key of the message that shows `decision`, kept current as partners act on it."""
    return f"decision:{decision.id}"


def _step(decision: Decision) -> str:
    return f"{decision.id}:r{decision.revision}"


def _stance_choices(ctx: Context, decision: Decision) -> list[Choice]:
    step = _step(decision)
    return [
        ctx.choice("decisions.endorse_choice", f"endorse {decision.id}", step),
        ctx.choice("decisions.object_choice", f"object {decision.id}", step),
    ]


def _waiting_on(ctx: Context, decision: Decision) -> str:
    """What it waits on: the organizations still to endorse (naming any with nobody here), or
    a revision when it is objected to; the same words as check-ins and reports."""
    if decision.status == "agreed":
        return ctx.text("decisions.nobody")
    return report.waits_on(ctx.partnership, ctx.content, decision)


def _status(ctx: Context, decision: Decision) -> str:
    return ctx.text(f"decisions.status_{decision.status}")


def _csv_names(ctx: Context, orgs: list[str]) -> str:
    """Organization names in the partnership's order, for a CSV cell."""
    return "; ".join(report.names_in_order(ctx.partnership, orgs))


def _org_name(ctx: Context, org: str) -> str:
    return ctx.partnership.org_name(org)


def _described(ctx: Context, decision: Decision) -> dict[str, str | int]:
    """The variables that describe a decision, for its summary line and its export."""
    p = ctx.partnership
    return {
        "decision": decision.id,
        "status": _status(ctx, decision),
        "text": decision.text,
        "user": decision.proposed_by_name,
        "org": _org_name(ctx, decision.proposer_org),
        "endorsed": len(decision.endorsed_by()),
        "total": len(p.orgs),
        "endorsed_by": report.names(p, decision.endorsed_by()) or ctx.text("decisions.nobody"),
        "waiting_on": _waiting_on(ctx, decision),
    }


def _summary_line(ctx: Context, decision: Decision) -> str:
    objections = "".join(
        ctx.text("decisions.objection_line", org=_org_name(ctx, o), reason=s.reason, user=s.name)
        for o, s in decision.stances.items()
        if s.stance == "object"
    )
    return ctx.text("decisions.summary_line", objections=objections, **_described(ctx, decision))


def _history(ctx: Context, decision: Decision) -> list[str]:
    lines = []
    for entry in ctx.decision_log:
        if entry.get("decision") != decision.id:
            continue
        lines.append(
            ctx.text(
                f"decisions.history_{entry['act']}",
                at=readable_time(entry["at"], ctx.partnership.zone),
                user=entry.get("name", ""),
                org=entry.get("org_name") or _org_name(ctx, entry.get("org", "")),
                text=entry.get("text", ""),
                reason=entry.get("reason", ""),
                revision=entry.get("revision", ""),
            )
        )
    return lines


def _markdown(ctx: Context, listed: list[Decision]) -> str:
    """The decision log as Markdown; every text filled in is escaped (`report.md_text`)."""
    p = ctx.partnership
    md = report.md_text
    at = readable_time(ctx.now, p.zone)
    parts = [ctx.text("decisions.md_title", partnership=md(p.name or ""), at=at)]
    for decision in listed:
        described = {
            key: md(value) if isinstance(value, str) else value
            for key, value in _described(ctx, decision).items()
        }
        parts.append(
            ctx.text(
                "decisions.md_decision",
                item=md(decision.item or ctx.text("decisions.no_item")),
                history="\n".join(f"- {md(line)}" for line in _history(ctx, decision)),
                **described,
            )
        )
    if not listed:
        parts.append(ctx.text("decisions.md_none"))
    return "\n\n".join(parts) + "\n"


def _csv(ctx: Context, listed: list[Decision]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "id",
            "status",
            "text",
            "proposed_by",
            "proposer_org",
            "item",
            "revision",
            "endorsed_by",
            "objected_by",
            "waiting_on",
            "created_at",
            "agreed_at",
            "created_local",
            "agreed_local",
        ]
    )
    zone = ctx.partnership.zone
    for d in listed:
        writer.writerow(
            [
                _safe_cell(cell)
                for cell in (
                    d.id,
                    d.status,
                    d.text,
                    d.proposed_by_name,
                    _org_name(ctx, d.proposer_org),
                    d.item or "",
                    d.revision,
                    _csv_names(ctx, d.endorsed_by()),
                    _csv_names(ctx, d.objected_by()),
                    _waiting_on(ctx, d) if d.is_open else "",
                    d.created_at,
                    d.agreed_at or "",
                    readable_time(d.created_at, zone),
                    readable_time(d.agreed_at, zone) if d.agreed_at else "",
                )
            ]
        )
    return out.getvalue()


def _safe_cell(value: object) -> object:
    """Keep a spreadsheet from running text that starts like a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


def _log(ctx: Context, decision: Decision, act: Act, **fields: str) -> None:
    if "org" in fields:  # the name as it was then, for history after an organization leaves
        fields["org_name"] = _org_name(ctx, fields["org"])
    ctx.log.append(
        {
            "decision": decision.id,
            "act": act,
            "user": ctx.user_id,
            "name": ctx.user_name,
            "at": ctx.stamp,
            "revision": str(decision.revision),
            **fields,
        }
    )


def decisions_csv(ctx: Context) -> str:
    """Every decision as CSV (the archive's copy of `export decisions csv`)."""
    return _csv(ctx, ctx.partnership.decisions_in_order())


def decisions_markdown(ctx: Context) -> str:
    """Every decision with its history as Markdown (needs `ctx.decision_log`)."""
    return _markdown(ctx, ctx.partnership.decisions_in_order())
