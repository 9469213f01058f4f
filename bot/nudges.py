"""Compose a "manage expectations" check-in from a partnership's state. Pure: no I/O.

A check-in says what moved since the previous one (decisions agreed, proposed and objected to,
scorecard items rated, measures reported: each once), what is still open and whom it waits on,
and one prompt chosen from the state:

    celebrate   a decision was agreed since the last check-in
    shifted     a measure of success has stalled (its last two reports are the same), or it
                has not been reported since the previous check-in
    quiet       nothing moved at all
    patience    a proposed decision waits on organizations whose members have been asked
    progress    something moved, and nothing above fits

An organization nobody here represents is named as such, with the decisions it blocks and how to
invite someone; the patience prompt never counsels waiting on it. Then a line for each
organization waited on that has members, worded for its sector. The progress report comes with
it as Markdown (`bot.report`), and a button asks for the Word document with charts: composing a
check-in never draws a chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot import report
from bot.content import Content, series
from bot.model import Attachment, Choice, Reply
from bot.partnership import Decision, Partnership, readable_day
from bot.store import Entry


@dataclass(frozen=True)
class Checkin:
    replies: list[Reply]
    record: dict[str, str]  # what to keep as the partnership's last_checkin
    moment: str  # celebrate, patience, shifted, quiet or progress


def compose(
    p: Partnership,
    content: Content,
    decision_log: list[Entry],
    journal: list[Entry],
    now: datetime,
    due: datetime | None = None,
) -> Checkin:
    """The check-in for `p` at `now`, from the streams' entries (all of them, or only those
    since the previous check-in: the newer ones are picked by id)."""
    p = p.detached()  # reads decode into a copy: the commit that records it compares nothing
    say = content.prompts.render
    last = p.last_checkin or {}
    new_decisions = report.after(decision_log, last.get("decision_log"))
    new_journal = report.after(journal, last.get("journal"))
    zone = p.zone
    since = readable_day(last.get("sent_at") or p.created_at or now.isoformat(), zone)

    facts = report.Facts(p, content)
    agreed = [
        p.decisions[e["decision"]]
        for e in new_decisions
        if e["act"] == "agreed"
        and facts.status.get(e["decision"]) == "agreed"  # not revised and reopened since
    ]
    moved = report.moved_lines(p, content, new_decisions, new_journal, zone, last={})
    reported = {e["measure"] for e in new_journal if e["type"] == "measure-report"}
    waiting = [d for d in facts.decisions if facts.status[d.id] in ("proposed", "objected")]
    endorsed = {d.id: set(d.endorsed_by()) for d in waiting}
    absent = facts.absent
    asked = _asked(p, facts, waiting, endorsed)
    muted = {m.name for m in p.members.values() if m.muted}
    stalled = _stalled_measures(p, reported)

    parts = [say("checkins.opening", partnership=p.name, since=since)]
    parts.append(
        say("checkins.moved", moved="\n".join(filter(None, (*moved.lines, moved.legend))))
        if moved.lines
        else say("checkins.nothing_moved")
    )
    parts.append(
        say(
            "checkins.still_open",
            still_open="\n".join(_open_line(facts, d, endorsed[d.id]) for d in waiting),
        )
        if waiting
        else say("checkins.nothing_open")
    )
    if agreed:
        moment = "celebrate"
        parts.append(say("checkins.celebrate", decision=agreed[-1].id))
    elif stalled:
        moment = "shifted"
        parts.append(say("checkins.shifted", measure=stalled[0]))
    elif not moved.lines:
        moment = "quiet"
        parts.append(say("checkins.quiet", since=since))
    elif asked:
        moment = "patience"
        named = [name for name in asked if name not in muted]
        parts.append(
            say("checkins.patience", members=series(named))
            if named
            else say("checkins.patience_unnamed")
        )
    else:
        moment = "progress"
    for key in p.orgs:
        blocked = [d.id for d in waiting if key not in endorsed[d.id]]
        if key in absent and blocked:
            parts.append(
                say(
                    "checkins.absent",
                    org=p.orgs[key].name,
                    blocked=series(blocked),
                    count=len(blocked),
                )
            )
    parts += [
        say(f"checkins.sector_{p.orgs[key].sector}", org=p.orgs[key].name)
        for key in p.orgs
        if key not in absent and any(key not in endorsed[d.id] for d in waiting)
    ]
    parts.append(say("checkins.report"))
    gathered = report.build(p, content, decision_log, journal, now, moved=moved, facts=facts)
    attachment = Attachment(
        report.filename(p, now, "md"), report.markdown(gathered, content), "text/markdown"
    )
    record = {
        "sent_at": now.isoformat(timespec="seconds"),
        "due": (due or now).isoformat(timespec="seconds"),
        "decision_log": decision_log[-1]["_id"] if decision_log else last.get("decision_log", ""),
        "journal": journal[-1]["_id"] if journal else last.get("journal", ""),
    }
    choice = Choice(say("report.docx_choice"), "report docx")
    reply = Reply("\n\n".join(parts), choices=(choice,), attachment=attachment)
    return Checkin([reply], record, moment)


def _asked(
    p: Partnership, facts: report.Facts, waiting: list[Decision], endorsed: dict[str, set[str]]
) -> list[str]:
    """The members of organizations a proposed decision waits on: the people who have been
    asked (the muted ones too: they are only not called on by name). An objected decision waits
    on a revision, not on them."""
    orgs = {
        key
        for d in waiting
        if facts.status[d.id] == "proposed"
        for key in p.orgs
        if key not in facts.absent and key not in endorsed[d.id]
    }
    return sorted(m.name for m in p.members.values() if m.org in orgs)


def _open_line(facts: report.Facts, decision: Decision, endorsed: set[str]) -> str:
    p, say = facts.p, facts.content.prompts.render
    if facts.status[decision.id] == "objected":
        return "\n".join(
            say(
                "checkins.open_objected",
                decision=decision.id,
                text=decision.text,
                org=p.org_name(org),
                reason=stance.reason,
            )
            for org, stance in decision.stances.items()
            if stance.stance == "object"
        )
    waiting = [key for key in p.orgs if key not in endorsed]
    line = say(
        "checkins.open_line",
        decision=decision.id,
        text=decision.text,
        waiting_on=facts.waits_on(decision),
    )
    people = sorted(
        m.name for m in p.members.values() if m.org in waiting and not m.muted
    )  # muted members are not called on by name
    if people:
        line += say("checkins.calls_on", members=series(people))
    return line


def _stalled_measures(p: Partnership, reported: set[str]) -> list[str]:
    """Measures whose last two reports are equal, or that were reported before but not since."""
    stalled = []
    for measure in p.measures_in_order():
        if measure.owner not in p.orgs:  # its organization left: nobody is asked about it
            continue
        values = [r.value for r in measure.reports]
        flat = len(values) >= 2 and values[-1] == values[-2]
        silent = bool(values) and p.last_checkin is not None and measure.name not in reported
        if flat or silent:
            stalled.append(measure.name)
    return stalled
