"""The sector-styles brainwriting: private writing, an anonymous grouped reveal, a debrief.

    exercise sector-styles [--minutes 15] [sectors...]   a facilitator starts it
    write <sector> <question> "words"                    each participant, privately
    exercise close                                       a facilitator reveals (or the box ends)
    exercise answer "..." / next / back / stop           the debrief, one question at a time
    exercise record                                      what was written and said, read back

While people write, `partnership.dialogs["brainwriting"]` holds the run:

    exercise, run, thread    which exercise; when it started (names the run); its thread
    sectors                  the sectors asked about, in order
    closes_at                when the time box ends ("" when the facilitator closes it)
    participants             who was asked (sorted user ids)
    contributors             who has written (sorted user ids: how many, never who wrote what)
    answers                  sector -> question id -> the texts, kept sorted

Nothing ties a text to its author: the texts are kept in alphabetical order and the
contributions are not journaled one by one. The reveal journals the grouped answers
(`exercise-revealed`); the debrief is a `Walk` (kind `exercise-debrief`) walked as `Questions`
(bot/dialogs/questions.py), whose answers are journaled as `exercise-answer`, so
`exercise record` reads the whole run back.

A time box closes lazily: after it ends a contribution is refused, and the next `exercise`
command (the facilitator's `close`, or anyone's `exercise` status) reveals.
"""

from __future__ import annotations

import bisect
import json
from datetime import datetime, timedelta
from typing import Any

from bot import themes
from bot.content import SECTORS, Exercise
from bot.dialogs.base import Args, Context, checked_text, command
from bot.dialogs.questions import Questions
from bot.dialogs.walk import Walk
from bot.model import Attachment
from bot.partnership import Partnership, readable_clock, readable_time

WRITING = "brainwriting"
DEBRIEF = "exercise-debrief"
TEXT_LIMIT = 500
ANSWER_LIMIT = 2000
MINUTES = (1, 240)
MIN_PARTICIPANTS = 2
QUESTIONS = Questions(
    command="exercise",
    question="exercises.debrief_question",
    recorded="exercises.answer_recorded",
    at_first="exercises.at_first_question",
    next_choice="exercises.next_choice",
    back_choice="exercises.back_choice",
    stop_choice="exercises.stop_choice",
    answers="exercise answer",
)


def participants(p: Partnership) -> list[str]:
    """Everyone who represents a partner organization: the people an exercise asks."""
    return sorted(uid for uid in p.members if p.org_of(uid) is not None)


def running(p: Partnership) -> str | None:
    """The exercise under way in `p` (writing or its debrief), if any: its id."""
    if WRITING in p.dialogs:
        return str(p.dialogs[WRITING].get("exercise", ""))
    walk = Walk.current(p, DEBRIEF)
    return walk.topic[0] if walk else None


@command("exercises", topic="workshop")
def exercises(ctx: Context, args: Args) -> None:
    lines = [
        ctx.text("exercises.list_line", id=e.id, title=e.title, purpose=e.purpose)
        for e in ctx.content.exercises.values()
    ]
    cases = [
        ctx.text("exercises.case_line", id=c.id, title=c.title) for c in ctx.content.cases.values()
    ]
    ctx.say(
        "exercises.list",
        exercises="\n".join(lines) or ctx.text("exercises.none"),
        cases="\n".join(cases) or ctx.text("exercises.none"),
    )


@command(
    "exercise",
    topic="workshop",
    max_words=None,
    needs_history=True,
    options=frozenset({"minutes", "confirm"}),
)
def exercise(ctx: Context, args: Args) -> None:
    word = (args.word(0) or "").lower()
    if word in {"", "status"}:
        status(ctx)
    elif word == "close":
        close(ctx)
    elif word == "answer":
        answer(ctx, args)
    elif word in {"next", "skip", "back", "stop"}:
        move(ctx, word)
    elif word == "record":
        record(ctx)
    else:
        start(ctx, word, args)


def start(ctx: Context, exercise_id: str, args: Args) -> None:
    p = ctx.require_facilitator()
    found = ctx.content.exercises.get(exercise_id)
    if found is None:
        ctx.fail(
            "exercises.unknown_exercise",
            exercise=exercise_id,
            exercises=" ".join(ctx.content.exercises) or "-",
        )
    sectors = _sectors(ctx, [w.lower() for w in args.words[1:]])
    minutes = _minutes(ctx, args.options.get("minutes"))
    asked = participants(p)
    if len(asked) < MIN_PARTICIPANTS:
        ctx.fail("exercises.too_few_participants", count=len(asked), fewest=MIN_PARTICIPANTS)
    under_way = _under_way(ctx)
    if under_way and args.options.get("confirm", "").lower() != "yes":
        again = " ".join(
            [
                f"exercise {found.id}",
                *sectors,
                *([f"--minutes {minutes}"] if minutes else []),
                "--confirm yes",
            ]
        )
        ctx.say(
            "exercises.confirm_replace",
            private=True,
            running=under_way,
            exercise=found.title,
            effect=ctx.text(
                "exercises.effect_replace" if running(p) else "exercises.effect_alongside"
            ),
            choices=[
                ctx.choice("exercises.replace_choice", again),
                ctx.choice("exercises.keep_choice", "exercise"),
            ],
        )
        return
    p.dialogs.pop(WRITING, None)
    Walk.end_current(p, DEBRIEF)
    ends = ctx.now + timedelta(minutes=minutes)
    closes_at = ends.isoformat(timespec="seconds") if minutes else ""
    state: dict[str, Any] = {
        "exercise": found.id,
        "run": ctx.stamp,
        "thread": f"{WRITING}:{ctx.stamp}",
        "sectors": sectors,
        "closes_at": closes_at,
        "participants": asked,
        "contributors": [],
        "answers": {s: {q.id: [] for q in found.per_sector} for s in sectors},
    }
    p.dialogs[WRITING] = state
    ctx.remember("exercise-started", exercise=found.id, run=ctx.stamp, sectors=" ".join(sectors))
    closing = _closing(ctx, closes_at)
    ctx.say(
        "exercises.started",
        thread=state["thread"],
        exercise=found.title,
        purpose=found.purpose,
        count=len(asked),
        sectors=", ".join(sectors),
        closing=closing,
    )
    questions = "\n".join(
        ctx.text(
            "exercises.prompt_line",
            sector=sector,
            question=q.id,
            text=q.for_sector(_sector_name(ctx, sector)),
        )
        for sector in sectors
        for q in found.per_sector
    )
    first = found.per_sector[0].id
    for uid in asked:
        ctx.say(
            "exercises.private_prompt",
            to=uid,
            exercise=found.title,
            partnership=p.name,
            questions=questions,
            sector=sectors[0],
            question=first,
            closing=closing,
        )


@command("write", topic="workshop", min_words=1, max_words=None)
def write(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    state = p.dialogs.get(WRITING)
    if state is None:
        ctx.fail("exercises.no_writing")
    found = ctx.content.exercises[state["exercise"]]
    sector, question = (args.word(0) or "").lower(), (args.word(1) or "").lower()
    questions = [q.id for q in found.per_sector]
    if not sector or not question:
        ctx.fail(
            "exercises.write_usage",
            sectors=" ".join(state["sectors"]),
            questions=" ".join(questions),
        )
    if not ctx.turn.private:
        ctx.fail("exercises.write_privately")
    if ctx.user_id not in state["participants"] and p.org_of(ctx.user_id) is None:
        ctx.fail("exercises.not_a_participant")
    if _box_ended(ctx, state):
        ctx.fail("exercises.writing_closed")
    if sector not in state["sectors"] or question not in questions:
        ctx.fail(
            "exercises.unknown_slot",
            sector=sector,
            question=question,
            sectors=" ".join(state["sectors"]),
            questions=" ".join(questions),
        )
    text = checked_text(ctx, args.rest(2), limit=TEXT_LIMIT, usage="exercises.write_usage_short")
    bisect.insort(state["answers"][sector][question], text)
    if ctx.user_id not in state["contributors"]:
        bisect.insort(state["contributors"], ctx.user_id)
    ctx.say(
        "exercises.written",
        private=True,
        sector=sector,
        question=question,
        count=len(state["contributors"]),
    )


def status(ctx: Context) -> None:
    p = ctx.require_setup()
    state = p.dialogs.get(WRITING)
    if state is not None and _box_ended(ctx, state):
        reveal(ctx, state)
        return
    if state is not None:
        ctx.say(
            "exercises.status_writing",
            exercise=ctx.content.exercises[state["exercise"]].title,
            count=len(state["contributors"]),
            total=len(state["participants"]),
            closing=_closing(ctx, state["closes_at"]),
        )
        return
    walk = _debrief(ctx)
    if walk is not None:
        ask(ctx, walk)
        return
    ctx.say("exercises.none_running", private=True)


def close(ctx: Context) -> None:
    p = ctx.require_setup()
    state = p.dialogs.get(WRITING)
    if state is None:
        ctx.fail("exercises.no_writing")
    if not _box_ended(ctx, state) and ctx.user_id not in p.facilitators:
        names = ", ".join(sorted(p.facilitators.values()))
        ctx.fail("exercises.facilitators_close", facilitators=names)
    reveal(ctx, state)


def reveal(ctx: Context, state: dict[str, Any]) -> None:
    """Post the grouped answers without names, point out the themes, start the debrief."""
    p = ctx.partnership
    found = ctx.content.exercises[state["exercise"]]
    p.dialogs.pop(WRITING, None)
    answers: dict[str, dict[str, list[str]]] = state["answers"]
    recurring, across = _themes(ctx, state["sectors"], answers)
    notes = "\n".join(
        ctx.text("exercises.sector_note", sector=_sector_name(ctx, s), note=found.sector_notes[s])
        for s in state["sectors"]
    )
    ctx.remember(
        "exercise-revealed",
        exercise=found.id,
        run=state["run"],
        sectors=" ".join(state["sectors"]),
        contributors=str(len(state["contributors"])),
        asked=str(len(state["participants"])),
        answers=json.dumps(answers, ensure_ascii=False),
        themes=recurring,
        across=across,
    )
    ctx.say(
        "exercises.revealed",
        thread=state["thread"],
        exercise=found.title,
        count=len(state["contributors"]),
        total=len(state["participants"]),
    )
    for sector in state["sectors"]:  # one message a sector: each stays within Slack's limits
        ctx.say(
            "exercises.revealed_sector",
            thread=state["thread"],
            sector=_sector_name(ctx, sector),
            preformatted=_grouped(ctx, found, [sector], answers, headings=False),
        )
    ctx.say("exercises.themes", thread=state["thread"], themes=recurring, across=across)
    ctx.say("exercises.sector_notes", thread=state["thread"], notes=notes)
    walk = Walk.start(p, DEBRIEF, (found.id, state["run"]))
    walk.thread = state["thread"]
    walk.save(p)
    ask(ctx, walk)


def ask(ctx: Context, walk: Walk) -> None:
    QUESTIONS.ask(ctx, walk, ctx.content.exercises[walk.topic[0]].debrief)


def answer(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    walk = _debrief(ctx)
    if walk is None:
        ctx.fail("exercises.no_debrief")
    text = checked_text(ctx, args.rest(1), limit=ANSWER_LIMIT, usage="exercises.answer_usage")
    org = p.org_of(ctx.user_id)
    QUESTIONS.answer(
        ctx,
        walk,
        lambda question: ctx.remember(
            "exercise-answer",
            exercise=walk.topic[0],
            run=walk.topic[1],
            question=question,
            text=text,
            name=ctx.user_name,
            org=p.orgs[org].name if org else "",
        ),
    )


def move(ctx: Context, word: str) -> None:
    ctx.require_setup()
    walk = _debrief(ctx)
    if walk is None:
        ctx.fail("exercises.no_debrief")
    QUESTIONS.move(ctx, walk, word, ctx.content.exercises[walk.topic[0]].debrief, finish)


def finish(ctx: Context, walk: Walk) -> None:
    found = ctx.content.exercises[walk.topic[0]]
    ctx.remember(
        "exercise-finished", exercise=found.id, run=walk.topic[1], answered=str(walk.answered)
    )
    ctx.say(
        "exercises.debrief_finished", thread=walk.thread, exercise=found.title,
        count=walk.answered,
    )  # fmt: skip


def record(ctx: Context) -> None:
    """The latest run's answers, themes and debrief, from the journal."""
    ctx.require_setup()
    journal = [*ctx.journal_log, *ctx.journal]
    revealed = [e for e in journal if e["type"] == "exercise-revealed"]
    if not revealed:
        ctx.fail("exercises.no_record")
    last = revealed[-1]
    found = ctx.content.exercises.get(last["exercise"])
    if found is None:
        ctx.fail("exercises.no_record")
    answers = json.loads(last["answers"])
    said = [e for e in journal if e["type"] == "exercise-answer" and e.get("run") == last["run"]]
    debrief = []
    for n, question in enumerate(found.debrief, 1):
        debrief.append(ctx.text("exercises.record_question", position=n, question=question))
        debrief += [
            ctx.text("exercises.record_answer", user=e.get("name") or e["by"], text=e["text"])
            for e in said
            if e["question"] == str(n)
        ] or [ctx.text("exercises.record_no_answer")]
    summary = ctx.text(
        "exercises.record",
        exercise=found.title,
        run=readable_time(last["run"], ctx.partnership.zone),
        count=last["contributors"],
        total=last["asked"],
        themes=last["themes"],
        across=last["across"],
    )
    grouped = _grouped(ctx, found, last["sectors"].split(), answers)
    ctx.say(
        "exercises.record_kept",
        summary=summary,
        attachment=Attachment(
            f"{found.id}-{last['run'][:10]}.md",
            "\n\n".join((summary, grouped, "\n".join(debrief))) + "\n",
            "text/markdown",
        ),
    )


# --- helpers ------------------------------------------------------------------------------


def _under_way(ctx: Context) -> str | None:
    """The title of a workshop activity under way: an exercise here or a practice run."""
    running_id = running(ctx.partnership)
    if running_id:
        found = ctx.content.exercises.get(running_id)
        return found.title if found else running_id
    other = ctx.other  # the practice space
    if (
        other is not None
        and other.is_set_up
        and not other.dialogs.get("practice", {}).get("finished")
    ):
        return other.name
    return None


def _sectors(ctx: Context, words: list[str]) -> list[str]:
    for word in words:
        if word not in SECTORS:
            ctx.fail("exercises.unknown_sector", sector=word, sectors=" ".join(SECTORS))
    return [s for s in SECTORS if s in words] if words else list(SECTORS)


def _minutes(ctx: Context, value: str | None) -> int:
    if value is None:
        return 0
    low, high = MINUTES
    if not value.isdigit() or not low <= int(value) <= high:
        ctx.fail("exercises.minutes_usage", low=low, high=high)
    return int(value)


def _box_ended(ctx: Context, state: dict[str, Any]) -> bool:
    closes_at = state.get("closes_at") or ""
    return bool(closes_at) and ctx.now >= datetime.fromisoformat(closes_at)


def _closing(ctx: Context, closes_at: str) -> str:
    if not closes_at:
        return ctx.text("exercises.closes_by_facilitator")
    ends = datetime.fromisoformat(closes_at)
    left = max(0, round((ends - ctx.now).total_seconds() / 60))
    at = readable_clock(ends, ctx.partnership.zone)
    return ctx.text("exercises.closes_in", minutes=left, at=at)


def _sector_name(ctx: Context, sector: str) -> str:
    return ctx.text(f"exercises.sector_{sector}")


def _grouped(
    ctx: Context,
    found: Exercise,
    sectors: list[str],
    answers: dict[str, dict[str, list[str]]],
    headings: bool = True,
) -> str:
    lines: list[str] = []
    for sector in sectors:
        by_question = answers.get(sector, {})
        if headings:
            lines.append(ctx.text("exercises.group_sector", sector=_sector_name(ctx, sector)))
        for q in found.per_sector:
            texts = by_question.get(q.id, [])
            lines.append(ctx.text("exercises.group_question", question=q.id, count=len(texts)))
            lines += [ctx.text("exercises.group_text", text=t) for t in sorted(texts)] or [
                ctx.text("exercises.group_empty")
            ]
    return "\n".join(lines)


def _themes(
    ctx: Context, sectors: list[str], answers: dict[str, dict[str, list[str]]]
) -> tuple[str, str]:
    """The themes that recur within each sector, and those shared across sectors, as text."""
    by_sector = {s: [t for texts in answers.get(s, {}).values() for t in texts] for s in sectors}
    lines = []
    for sector, texts in by_sector.items():
        found_themes = themes.recurring(texts)
        if found_themes:
            listed = ", ".join(
                ctx.text("exercises.theme", theme=term, count=n) for term, n in found_themes
            )
            lines.append(
                ctx.text("exercises.theme_line", sector=_sector_name(ctx, sector), themes=listed)
            )
    shared = themes.shared(by_sector)
    across = ", ".join(
        ctx.text(
            "exercises.shared_theme",
            theme=term,
            sectors=", ".join(_sector_name(ctx, s) for s in groups),
        )
        for term, groups in shared
    )
    return (
        "\n".join(lines) or ctx.text("exercises.no_themes"),
        across or ctx.text("exercises.no_shared_themes"),
    )


def _debrief(ctx: Context) -> Walk | None:
    walk = Walk.current(ctx.partnership, DEBRIEF)
    if walk is None:
        return None
    found = ctx.content.exercises.get(walk.topic[0])
    if found is None or walk.index >= len(found.debrief) or len(walk.topic) < 2:
        walk.end(ctx.partnership)
        return None
    return walk
