"""Compose a "manage expectations" check-in from a partnership's state. Pure: no I/O.

A check-in says what moved since the previous one (decisions agreed and proposed, scorecard
items rated, measures reported), what is still open and whom it waits on, and one prompt chosen
from the state:

    celebrate   a decision was agreed since the last check-in
    patience    decisions wait on partners, some of them governments with approval cycles
    shifted     a measure of success has stalled (its last two reports are the same), or it
                has not been reported since the previous check-in
    quiet       nothing moved at all

It ends with a line for each organization that something waits on, worded for its sector, and
carries a detailed Markdown report for partners who circulate progress up a chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.model import Attachment, Reply
from bot.partnership import Decision, Partnership
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
    """The check-in for `p` at `now`, from the streams' entries (all of them: the ones since
    the previous check-in are picked by id)."""
    say = content.prompts.render
    last = p.last_checkin or {}
    new_decisions = _after(decision_log, last.get("decision_log"))
    new_journal = _after(journal, last.get("journal"))
    zone = ZoneInfo(p.schedule["tz"]) if p.schedule else ZoneInfo("UTC")
    since = _when(last.get("sent_at") or p.created_at or now.isoformat(), zone)

    agreed = [
        p.decisions[e["decision"]]
        for e in new_decisions
        if e["act"] == "agreed"
        and e["decision"] in p.decisions
        and p.decisions[e["decision"]].agreed_at is not None  # not revised and reopened since
    ]
    proposed = [
        p.decisions[e["decision"]]
        for e in new_decisions
        if e["act"] == "propose" and e["decision"] in p.decisions
    ]
    moved = [say("checkins.moved_agreed", decision=d.id, text=d.text) for d in agreed]
    moved += [
        say("checkins.moved_proposed", decision=d.id, text=d.text)
        for d in proposed
        if d.agreed_at is None
    ]
    rated = {e["item"]: e["rating"] for e in new_journal if e["type"] == "rating"}
    moved += [
        say("checkins.moved_rated", item=item, rating=_rating_label(content, rating))
        for item, rating in rated.items()
    ]
    reported = [e for e in new_journal if e["type"] == "measure-report"]
    moved += [
        say("checkins.moved_measure", measure=e["measure"], value=e["value"], org=e["org"])
        for e in reported
    ]

    waiting = [d for d in p.decisions_in_order() if d.agreed_at is None]
    stalled = _stalled_measures(p, {e["measure"] for e in reported})
    parts = [say("checkins.opening", partnership=p.name, since=since)]
    parts.append(
        say("checkins.moved", moved="\n".join(moved)) if moved else say("checkins.nothing_moved")
    )
    parts.append(
        say("checkins.still_open", still_open="\n".join(_open_line(p, content, d) for d in waiting))
        if waiting
        else say("checkins.nothing_open")
    )
    if agreed:
        moment = "celebrate"
        parts.append(say("checkins.celebrate", decision=agreed[-1].id))
    elif stalled:
        moment = "shifted"
        parts.append(say("checkins.shifted", measure=stalled[0]))
    elif not moved:
        moment = "quiet"
        parts.append(say("checkins.quiet", since=since))
    elif waiting:
        moment = "patience"
        parts.append(say("checkins.patience"))
    else:
        moment = "progress"
    waited_on = [key for key in p.orgs if any(key not in d.endorsed_by() for d in waiting)]
    parts += [
        say(f"checkins.sector_{p.orgs[key].sector}", org=p.orgs[key].name) for key in waited_on
    ]
    parts.append(say("checkins.report"))
    report = Attachment(
        f"check-in-{now.astimezone(zone).date().isoformat()}.md",
        _report(p, content, now, zone),
        "text/markdown",
    )
    record = {
        "sent_at": now.isoformat(timespec="seconds"),
        "due": (due or now).isoformat(timespec="seconds"),
        "decision_log": decision_log[-1]["_id"] if decision_log else last.get("decision_log", ""),
        "journal": journal[-1]["_id"] if journal else last.get("journal", ""),
    }
    return Checkin([Reply("\n\n".join(parts), attachment=report)], record, moment)


def _after(entries: list[Entry], last_id: str | None) -> list[Entry]:
    if not last_id:
        return entries
    last = _stream_id(last_id)
    return [e for e in entries if _stream_id(e["_id"]) > last]


def _stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _when(iso: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%A %d %B")


def _rating_label(content: Content, rating_id: str) -> str:
    rating = content.rating(rating_id)
    return rating.label if rating else rating_id


def _open_line(p: Partnership, content: Content, decision: Decision) -> str:
    waiting = [key for key in p.orgs if key not in decision.endorsed_by()]
    names = [p.orgs[key].name for key in waiting]
    people = sorted(
        m.name for m in p.members.values() if m.org in waiting and not m.muted
    )  # muted members are not called on by name
    line = content.prompts.render(
        "checkins.open_line", decision=decision.id, text=decision.text, waiting_on=", ".join(names)
    )
    if people:
        line += content.prompts.render("checkins.calls_on", members=", ".join(people))
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


def _report(p: Partnership, content: Content, now: datetime, zone: ZoneInfo) -> str:
    say = content.prompts.render
    decisions = "\n".join(
        say(
            "checkins.report_decision",
            decision=d.id,
            text=d.text,
            status=say("decisions.status_agreed" if d.agreed_at else "decisions.status_proposed"),
            waiting_on=", ".join(p.waiting_on(d)) or say("decisions.nobody"),
        )
        for d in p.decisions_in_order()
    ) or say("decisions.none_yet")
    rated = sum(1 for item in content.items if item in p.ratings)
    measures = "\n".join(
        say(
            "checkins.report_measure",
            measure=m.name,
            value=f"{m.latest:g}",
            unit=m.unit,
            baseline=f"{m.baseline:g}",
            target=f"{m.target:g}",
            org=p.org_name(m.owner),
            count=len(m.reports),
        )
        for m in p.measures_in_order()
    ) or say("checkins.report_no_measures")
    return (
        say(
            "checkins.report_body",
            partnership=p.name,
            at=now.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
            decisions=decisions,
            rated=rated,
            total=len(content.items),
            measures=measures,
        )
        + "\n"
    )


def progress_report(p: Partnership, content: Content, now: datetime, zone: ZoneInfo) -> str:
    """The detailed Markdown report a check-in carries, as of `now` (the records archive)."""
    return _report(p, content, now, zone)
