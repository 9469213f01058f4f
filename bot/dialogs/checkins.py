"""Check-ins and measures of success: the Toolkit's Manage Expectations of Process and Results.

checkins weekly tue 09:00 America/Chicago [--holidays US-IL]   set the cadence (facilitators)
checkins off | pause | resume | skip next | now                  (facilitators; off asks first)
checkins | checkins preview                                      status; what one would say
checkins mute | unmute                                           for yourself
measure add "Name" --unit … --baseline … --target … [--owner "Org"]
measure report "Name" <value>
measures
(measure edit and measure remove are in measures.py)

Each sub-command is a command of its own (`checkins pause`); the words a cadence may be written
in (`bi-weekly tuesday 9am`) are read into the canonical four by `cadence_words`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import replace
from datetime import datetime

from bot import nudges, report
from bot.dialogs.base import Args, Context, checked_text, command
from bot.partnership import Measure, Partnership, Report, clock, number, readable_time
from bot.schedule import (
    Calendar,
    Schedule,
    calendar_for,
    calendar_name,
    next_due,
    parse_schedule,
    read_cadence,
)

MEASURE_NAME_LIMIT = 80
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


@command("checkins", topic="checkins", max_words=None, options=frozenset({"holidays"}))
def checkins(ctx: Context, args: Args) -> None:
    """`checkins` alone says when the next one is due; with a cadence, sets it."""
    if not args.words:
        status(ctx)
        return
    set_cadence(ctx, args.with_words(*cadence_words(ctx, args.words)))


@command("checkins pause", topic="checkins")
def checkins_pause(ctx: Context, args: Args) -> None:
    pause(ctx)


@command("checkins resume", topic="checkins")
def checkins_resume(ctx: Context, args: Args) -> None:
    resume(ctx)


@command("checkins off", topic="checkins", confirm=True)
def checkins_off(ctx: Context, args: Args) -> None:
    p = ctx.require_facilitator()
    if p.schedule is None:
        ctx.fail("checkins.none_set")
    if not ctx.confirm("confirm.checkins_off", "confirm.checkins_off_yes", args):
        return
    p.schedule, p.checkins_paused, p.skipped = None, None, None
    _remember_due(ctx, None)
    ctx.say("schedule.turned_off")


@command("checkins skip next", topic="checkins")
def checkins_skip_next(ctx: Context, args: Args) -> None:
    skip_next(ctx)


@command("checkins now", topic="checkins", needs_history=True)
def checkins_now(ctx: Context, args: Args) -> None:
    send_now(ctx)


@command("checkins preview", topic="checkins", needs_history=True)
def checkins_preview(ctx: Context, args: Args) -> None:
    preview(ctx)


@command("checkins mute", topic="checkins")
def checkins_mute(ctx: Context, args: Args) -> None:
    mute(ctx, True)


@command("checkins unmute", topic="checkins")
def checkins_unmute(ctx: Context, args: Args) -> None:
    mute(ctx, False)


def cadence_words(ctx: Context, words: tuple[str, ...]) -> tuple[str, str, str, str]:
    """A cadence as written, as the four words `set_cadence` reads; a missing time zone is
    the partnership's own, once it has one."""
    return read_cadence(words, ctx.content.grammar, ctx.partnership.tz_name)


def set_cadence(ctx: Context, args: Args) -> None:
    p = ctx.require_facilitator()
    if len(args.words) != 4:
        ctx.fail("checkins.usage")
    cadence, weekday, at, tz = args.words
    chosen: Calendar | None = None
    if "holidays" in args.options:
        chosen = calendar_for(args.options["holidays"])
    schedule = parse_schedule(
        cadence,
        weekday,
        at,
        tz,
        ctx.now,
        country=chosen.country if chosen else None,
        region=chosen.region if chosen else None,
    )
    p.schedule, p.checkins_paused, p.skipped = schedule.to_dict(), None, None
    due = _upcoming(ctx, p)
    _remember_due(ctx, due)
    suggestion = ""
    if chosen is not None and chosen.other is not None:
        code, name = chosen.other
        suggestion = ctx.text("checkins.holidays_suggest", calendar=name, suggested=code)
    ctx.say(
        "checkins.set_with_holidays" if chosen else "checkins.set",
        schedule=_schedule_words(ctx, schedule),
        when=due_words(due, schedule),
        calendar=chosen.name if chosen else "",
        suggestion=suggestion,
    )


def pause(ctx: Context) -> None:
    p = ctx.require_facilitator()
    if p.schedule is None:
        ctx.fail("checkins.none_set")
    if p.checkins_paused:
        ctx.fail("checkins.already_paused")
    p.checkins_paused = True
    _remember_due(ctx, None)
    ctx.say("checkins.paused")


def resume(ctx: Context) -> None:
    p = ctx.require_facilitator()
    if p.schedule is None:
        ctx.fail("checkins.none_set")
    if not p.checkins_paused:
        ctx.fail("checkins.not_paused")
    p.checkins_paused = None
    schedule = Schedule.from_dict(p.schedule)
    due = _upcoming(ctx, p)
    _remember_due(ctx, due)
    ctx.say("checkins.resumed", when=due_words(due, schedule))


def skip_next(ctx: Context) -> None:
    p = ctx.require_facilitator()
    if p.schedule is None or p.checkins_paused:
        ctx.fail("checkins.none_set")
    schedule = Schedule.from_dict(p.schedule)
    skipped = _upcoming(ctx, p)
    now = ctx.now.isoformat()
    p.skipped = [s for s in (p.skipped or []) if s > now] + [skipped.isoformat()]
    after = _upcoming(ctx, p)
    _remember_due(ctx, after)
    ctx.say(
        "checkins.skipped",
        skipped=due_words(skipped, schedule),
        when=due_words(after, schedule),
    )


def send_now(ctx: Context) -> None:
    p = ctx.require_facilitator()
    checkin = nudges.compose(p, ctx.content, ctx.decision_log, ctx.journal_log, ctx.now)
    p.last_checkin = checkin.record
    ctx.replies.extend(checkin.replies)


def preview(ctx: Context) -> None:
    p = ctx.require_setup()
    checkin = nudges.compose(p, ctx.content, ctx.decision_log, ctx.journal_log, ctx.now)
    intro = ctx.text("checkins.preview_intro")  # one private message, not an intro apart
    first, *rest = checkin.replies
    ctx.replies.append(replace(first, text=f"{intro}\n\n{first.text}", to=ctx.user_id))
    ctx.replies.extend(replace(reply, to=ctx.user_id) for reply in rest)


def status(ctx: Context) -> None:
    p = ctx.require_setup()
    if p.schedule is None:
        ctx.say("checkins.status_none")
        return
    schedule = Schedule.from_dict(p.schedule)
    holidays = (
        ctx.text(
            "checkins.with_holidays", calendar=calendar_name(schedule.country, schedule.region)
        )
        if schedule.country
        else ctx.text("checkins.no_holidays")
    )
    words = _schedule_words(ctx, schedule)
    if p.checkins_paused:
        ctx.say("checkins.status_paused", schedule=words, holidays=holidays)
        return
    ctx.say(
        "checkins.status",
        schedule=words,
        when=due_words(_upcoming(ctx, p), schedule),
        holidays=holidays,
    )


def _schedule_words(ctx: Context, schedule: Schedule) -> str:
    """`every Tuesday at 9:00 AM (America/Chicago)`: the cadence, day, time and zone."""
    return ctx.text(
        f"checkins.schedule_{schedule.cadence}",
        weekday=calendar.day_name[schedule.weekday],
        time=clock(schedule.local_time),
        tz=schedule.tz,
    )


def mute(ctx: Context, muted: bool) -> None:
    p = ctx.require_setup()
    member = p.members.get(ctx.user_id)
    if member is None:
        ctx.fail("errors.no_org", orgs=ctx.org_names() or ctx.text("setup.no_partners_yet"))
    if member.muted == muted:
        ctx.fail("checkins.already_muted" if muted else "checkins.not_muted")
    member.muted = muted
    ctx.say("checkins.muted" if muted else "checkins.unmuted", user=ctx.user_name, private=True)


def upcoming(p: Partnership, now: datetime) -> datetime | None:
    """The next check-in that will be sent, past skipped ones; None when none is scheduled."""
    if p.schedule is None or p.checkins_paused:
        return None
    schedule = Schedule.from_dict(p.schedule)
    skipped = set(p.skipped or ())
    due = next_due(schedule, now)
    while due.isoformat() in skipped:
        due = next_due(schedule, due)
    return due


def _upcoming(ctx: Context, p: Partnership) -> datetime:
    due = upcoming(p, ctx.now)
    assert due is not None  # callers have checked there is an active schedule
    return due


def _remember_due(ctx: Context, due: datetime | None) -> None:
    ctx.remember("schedule", next_due=due.isoformat() if due else "")


def due_words(due: datetime, schedule: Schedule) -> str:
    """`Tuesday, April 21, 2026, 9:00 AM (America/Chicago)`: when a check-in is due."""
    return f"{readable_time(due, schedule.zone, abbreviation=False)} ({schedule.tz})"


@command(
    "measure add",
    topic="measures",
    min_words=1,
    max_words=None,
    options=frozenset({"unit", "baseline", "target", "owner"}),
)
def measure_add(ctx: Context, args: Args) -> None:
    add_measure(ctx, args.with_words("add", *args.words))


@command("measure report", topic="measures", min_words=2, max_words=None)
def measure_report(ctx: Context, args: Args) -> None:
    report_measure(ctx, args.with_words("report", *args.words))


def add_measure(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    org = ctx.require_org()
    name = checked_text(
        ctx, " ".join(args.words[1:]), limit=MEASURE_NAME_LIMIT, usage="checkins.measure_usage"
    )
    key = name.lower()
    if key in p.measures:
        ctx.fail("checkins.measure_exists", measure=p.measures[key].name)
    if "baseline" not in args.options or "target" not in args.options:
        ctx.fail("checkins.measure_usage")
    baseline = _number(ctx, args.options["baseline"])
    target = _number(ctx, args.options["target"])
    owner = org
    if "owner" in args.options:
        owner = ctx.org_key(args.options["owner"])
    unit = args.options.get("unit", "").strip()[:20]
    p.measures[key] = Measure(name, unit, baseline, target, owner, ctx.stamp)
    ctx.remember("measure-added", measure=name, org=p.orgs[owner].name)
    ctx.say(
        "checkins.measure_added",
        measure=name,
        baseline=report.amount(ctx.content, baseline, unit),
        target=report.amount(ctx.content, target, unit),
        org=p.orgs[owner].name,
    )


def report_measure(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    org = ctx.require_org()
    if len(args.words) < 3:
        ctx.fail("checkins.measure_usage")
    name, value_word = " ".join(args.words[1:-1]), args.words[-1]
    found = p.measures.get(name.lower())
    if found is None:
        ctx.fail(
            "checkins.unknown_measure",
            measure=name,
            measures=", ".join(f'"{m.name}"' for m in p.measures_in_order()) or "-",
        )
    owner = p.org_name(found.owner)
    if org != found.owner and ctx.user_id not in p.facilitators:
        ctx.fail("checkins.not_owner", measure=found.name, org=owner)
    value = _number(ctx, value_word)
    found.reports.append(Report(value, ctx.stamp, ctx.user_id, ctx.user_name))
    ctx.remember(
        "measure-report",
        measure=found.name,
        value=number(value),
        org=found.owner,
        name=ctx.user_name,
    )
    ctx.say(
        "checkins.measure_reported",
        measure=found.name,
        value=report.amount(ctx.content, value, found.unit),
        target=report.amount(ctx.content, found.target, found.unit),
        trend=report.progress_words(ctx.content, found.progress()),
    )


@command("measures", topic="measures")
def measures(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    if not p.measures:
        ctx.say("checkins.report_no_measures")
        return
    lines = [_measure_line(ctx, p, m) for m in p.measures_in_order()]
    ctx.say("checkins.measures", measures="\n".join(lines))


def _measure_line(ctx: Context, p: Partnership, m: Measure) -> str:
    amount = report.amount
    if m.latest is None:
        return ctx.text(
            "checkins.measure_line_unreported",
            measure=m.name,
            baseline=amount(ctx.content, m.baseline, m.unit),
            target=amount(ctx.content, m.target, m.unit),
            org=p.org_name(m.owner),
        )
    return ctx.text(
        "checkins.measure_line",
        measure=m.name,
        value=amount(ctx.content, m.latest, m.unit),
        target=amount(ctx.content, m.target, m.unit),
        org=p.org_name(m.owner),
        trend=report.progress_words(ctx.content, m.progress()),
    )


def _number(ctx: Context, word: str | None) -> float:
    text = (word or "").strip()
    if _THOUSANDS.match(text):  # 1,500 or 12,000.5; "1,5" is refused, not read as 15
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        ctx.fail("checkins.not_a_number", value=(word or "?")[:20])
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
        ctx.fail("checkins.not_a_number", value=(word or "?")[:20])
    return value
