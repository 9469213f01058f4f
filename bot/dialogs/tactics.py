"""The Toolkit's tactics: list them by stage, show one, and discuss one question at a time.

A discussion is a `Walk` (bot/dialogs/walk.py) whose topic is the tactic discussed; its counts
say how many answers each question had (the answers themselves are in the journal, as `answer`
entries). It is asked, answered and moved through as `Questions` (bot/dialogs/questions.py).
Only one discussion is under way at a time: starting another puts it aside, and a discussion
put aside, stopped or gone through keeps its place (`Walk.kept`), so `discuss` on its tactic
picks it up there with its counts.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

from bot.content import SECTORS, Tactic, kebab
from bot.dialogs.base import CLOSE_ENOUGH, Args, Context, checked_text, command
from bot.dialogs.questions import Questions
from bot.dialogs.walk import Walk

ANSWER_LIMIT = 2000
DIALOG = "discussion"
DISCUSSION = Questions(
    command="discuss",
    question="tactics.question",
    recorded="tactics.answer_recorded",
    at_first="tactics.at_first_question",
    next_choice="tactics.next_choice",
    back_choice="tactics.back_choice",
    stop_choice="tactics.stop_choice",
    keep_place=True,
)


@command("tactics", topic="tactics", max_words=1, needs_partnership=False)
def tactics(ctx: Context, args: Args) -> None:
    wanted = (args.word(0) or "").lower()
    stages = ctx.content.stages
    if wanted:
        stage = ctx.content.stage(wanted)
        if stage is None:
            ctx.fail("tactics.unknown_stage", stage=wanted, stages=" ".join(s.id for s in stages))
        stages = (stage,)
    blocks = []
    for stage in stages:
        listed = [t for t in ctx.content.tactics.values() if t.stage == stage.id]
        lines = "\n".join(ctx.text("tactics.list_line", tactic=t.id, name=t.name) for t in listed)
        blocks.append(
            ctx.text(
                "tactics.stage_block",
                stage=stage.name,
                question=stage.question,
                tactics=lines or ctx.text("tactics.none_in_stage"),
            )
        )
    ctx.say("tactics.list", stages="\n\n".join(blocks))


@command("tactic", topic="tactics", min_words=1, max_words=None, needs_partnership=False)
def tactic(ctx: Context, args: Args) -> None:
    t = _tactic(ctx, " ".join(args.words))
    stage = ctx.content.stage(t.stage)
    sectors = sorted({o.sector for o in ctx.partnership.orgs.values()}, key=SECTORS.index)
    notes = "\n".join(
        ctx.text("tactics.sector_note", sector=s, note=t.sector_notes[s])
        for s in (sectors or SECTORS)
    )
    ctx.say(
        "tactics.detail",
        name=t.name,
        stage=stage.name if stage else t.stage,
        stage_question=stage.question if stage else "",
        definition=t.definition,
        why=t.why_it_matters,
        questions="\n".join(f"{n}. {q}" for n, q in enumerate(t.questions, 1)),
        notes=notes,
        example=ctx.text("tactics.example", example=t.example) if t.example else "",
        choices=[ctx.choice("tactics.discuss_choice", f"discuss {t.id}")],
    )


@command("discuss", topic="tactics", max_words=None, confirm=True)
def discuss_tactic(ctx: Context, args: Args) -> None:
    """`discuss` alone asks the current question again; with a tactic, starts discussing it,
    or picks it up where it stopped (asking first when another discussion is under way)."""
    if not args.words:
        discuss(ctx, args)
        return
    t = _tactic(ctx, " ".join(args.words))
    current = _current(ctx)
    if current is not None and current.topic[0] != t.id:  # another one: ask first
        confirmed = ctx.confirm(
            "confirm.discuss",
            "confirm.discuss_yes",
            args.with_words(t.id),
            name=t.name,
            current=_tactic(ctx, current.topic[0]).name,
        )
        if not confirmed:
            return
    discuss(ctx, args.with_words(t.id))


@command("discuss next", topic="tactics")
def discuss_next(ctx: Context, args: Args) -> None:
    discuss(ctx, args.with_words("next"))


@command("discuss back", topic="tactics")
def discuss_back(ctx: Context, args: Args) -> None:
    discuss(ctx, args.with_words("back"))


@command("discuss stop", topic="tactics")
def discuss_stop(ctx: Context, args: Args) -> None:
    discuss(ctx, args.with_words("stop"))


def current_question(ctx: Context) -> tuple[Tactic, int] | None:
    """The tactic under discussion and the number of its current question, if any."""
    current = _current(ctx)
    if current is None:
        return None
    return _tactic(ctx, current.topic[0]), current.index + 1


def discuss(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    word = (args.word(0) or "").lower()
    current = _current(ctx)
    if word in {"next", "skip", "stop", "back", ""}:
        if current is None:
            ctx.fail("tactics.no_discussion")
        if word == "":
            ask(ctx, current)
            return
        t = _tactic(ctx, current.topic[0])
        DISCUSSION.move(ctx, current, word, t.questions, finish, name=t.name)
        return
    t = _tactic(ctx, word)
    if current is not None and current.topic[0] == t.id:
        ask(ctx, current)  # already under way
        return
    if current is not None:
        set_aside(ctx, current)
    total = len(t.questions)
    place = Walk.kept(p, DIALOG, (t.id,))
    if place is None or (place.index == 0 and not place.answered):  # nothing to pick up
        walk = Walk.start(p, DIALOG, (t.id,), at=place)  # a thread of its own, or the one it had
        ctx.remember("discussion-started", tactic=t.id)
        ctx.say("tactics.discussion_started", thread=walk.thread, name=t.name, count=total)
    else:  # in the thread it had, at the question it stopped at, with its counts
        walk = Walk.start(p, DIALOG, (t.id,), at=replace(place, index=place.resume_at(total)))
        ctx.remember("discussion-resumed", tactic=t.id, question=str(walk.index + 1))
        ctx.say(
            "tactics.discussion_again" if place.finished(total) else "tactics.discussion_resumed",
            thread=walk.thread,
            name=t.name,
            tactic=t.id,
            position=walk.index + 1,
            total=total,
            count=walk.answered,
        )
    ask(ctx, walk)


def set_aside(ctx: Context, walk: Walk) -> None:
    """Put the discussion under way aside, keeping its place; say so in its thread."""
    walk.end(ctx.partnership, keep=True)
    t = _tactic(ctx, walk.topic[0])
    ctx.say(
        "tactics.discussion_set_aside",
        thread=walk.thread,
        name=t.name,
        tactic=t.id,
        position=walk.index + 1,
        total=len(t.questions),
        count=walk.answered,
    )


@command("answer", topic="tactics", min_words=1, text_from=0)
def answer(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    current = _current(ctx)
    if current is None:
        ctx.fail("tactics.no_discussion")
    text = checked_text(ctx, args.rest(0), limit=ANSWER_LIMIT, usage="tactics.answer_usage")
    t = _tactic(ctx, current.topic[0])
    org = p.org_of(ctx.user_id)
    DISCUSSION.answer(
        ctx,
        current,
        lambda question: ctx.remember(
            "answer",
            tactic=t.id,
            question=question,
            text=text,
            org=p.orgs[org].name if org else "",
        ),
    )


def ask(ctx: Context, walk: Walk) -> None:
    t = _tactic(ctx, walk.topic[0])
    DISCUSSION.ask(ctx, walk, t.questions, name=t.name)


def finish(ctx: Context, walk: Walk) -> None:
    """The discussion has ended (bot/dialogs/questions.py), stopped or through its last
    question: how many answers it had, and how to pick it up or read them back."""
    t = _tactic(ctx, walk.topic[0])
    ctx.say(
        "tactics.discussion_finished"
        if walk.index >= len(t.questions)
        else "tactics.discussion_stopped",
        thread=walk.thread,
        name=t.name,
        tactic=t.id,
        position=walk.index + 1,
        total=len(t.questions),
        count=walk.answered,
    )


def _current(ctx: Context) -> Walk | None:
    """The discussion under way, if it still fits the content (an edit may have changed it)."""
    walk = Walk.current(ctx.partnership, DIALOG)
    if walk is None:
        return None
    tactic = ctx.content.tactics.get(walk.topic[0])
    if tactic is None or walk.index >= len(tactic.questions):
        walk.end(ctx.partnership, keep=tactic is not None)  # kept as gone through
        return None
    return walk


def _tactic(ctx: Context, tactic_id: str | None) -> Tactic:
    """The tactic named by its id, its name as listed (`Build a Common Fact Base`), or a part of
    its name that fits no other tactic (`fact-base`)."""
    tactics = ctx.content.tactics
    wanted = kebab(tactic_id or "")
    t = tactics.get(wanted)
    if t is not None:
        return t
    fits = [t for key, t in tactics.items() if wanted and f"-{wanted}-" in f"-{key}-"]
    if len(fits) == 1:
        return fits[0]
    if fits:
        ctx.fail(
            "tactics.ambiguous",
            tactic=tactic_id or "?",
            tactics=" ".join(t.id for t in fits),
        )
    close = difflib.get_close_matches(wanted, list(tactics), 3, CLOSE_ENOUGH)
    ctx.fail(
        "tactics.unknown_tactic_suggest" if close else "tactics.unknown_tactic",
        tactic=tactic_id or "?",
        tactics=" ".join(close or sorted(tactics)),
    )
