"""The Toolkit's tactics: list them by stage, show one, discuss one question at a time, and
read back what the partners answered.

A discussion is a `Walk` (bot/dialogs/walk.py) whose topic is the tactic discussed; its counts
say how many answers each question had (the answers themselves are in the journal, as `answer`
entries). It is asked, answered and moved through as `Questions` (bot/dialogs/questions.py).
Only one discussion is under way at a time: starting another puts it aside, and a discussion
put aside, stopped or gone through keeps its place (`Walk.kept`), so `discuss` on its tactic
picks it up there with its counts. `answers` reads the journal back, tactic by tactic.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

from bot.content import SECTORS, Tactic, clip, kebab, series
from bot.dialogs.base import CLOSE_ENOUGH, Args, Context, checked_text, command
from bot.dialogs.questions import Questions
from bot.dialogs.walk import Walk
from bot.partnership import clock, local, short_day
from bot.store import Entry

ANSWER_LIMIT = 2000
MESSAGE_LIMIT = 2800  # characters in one message of `answers`: Slack cuts a section at 3,000
PREVIEW_LIMIT = 300  # characters of an answer that `answers` (every tactic) shows
MESSAGES_PER_TACTIC = 10  # at most this many messages for `answers <tactic>`
DISCUSSED = {"discussion-started", "discussion-resumed", "answer"}  # journal entries
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
    answers="answer",
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
        listed = _in_stage(ctx, stage.id)
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
            name=ctx.user_name,
            org=p.orgs[org].name if org else "",
        ),
    )


@command("answers", topic="tactics", max_words=None, needs_history=True)
def answers(ctx: Context, args: Args) -> None:
    """Every discussed tactic's questions with their answers, one message a tactic; with a
    tactic, that tactic's in full."""
    ctx.require_setup()
    given = _discussed(ctx)
    if not args.words:
        if not given:
            ctx.fail("tactics.answers_none")
        ctx.say("tactics.answers_heading", count=len(given), tz=ctx.partnership.zone.key)
        for tactic_id, entries in given.items():
            ctx.say("tactics.answers_message", lines=_block(ctx, tactic_id, entries))
        return
    wanted = " ".join(args.words)
    tactic_id = kebab(wanted)
    if tactic_id in ctx.content.tactics or tactic_id not in given:
        tactic_id = _tactic(ctx, wanted).id  # one the content no longer has goes by its id
    if tactic_id not in given:
        ctx.fail(
            "tactics.answers_not_discussed" if given else "tactics.answers_not_discussed_none",
            name=ctx.content.tactics[tactic_id].name,
            tactic=tactic_id,
            tactics=series(given),
        )
    messages, left_out = _paged(ctx, tactic_id, given[tactic_id])
    for message in messages:
        ctx.say("tactics.answers_message", lines=message)
    if left_out:
        ctx.say("tactics.answers_left_out", count=left_out, tactic=tactic_id)


def _discussed(ctx: Context) -> dict[str, list[Entry]]:
    """The tactics discussed here (in the order `tactics` lists them, then any the content no
    longer has), each with its journal entries: answers and when it was started or resumed."""
    found: dict[str, list[Entry]] = {}
    for entry in [*ctx.journal_log, *ctx.journal]:
        if entry.get("type") in DISCUSSED and entry.get("tactic"):
            found.setdefault(entry["tactic"], []).append(entry)
    listed = [t.id for stage in ctx.content.stages for t in _in_stage(ctx, stage.id)]
    order = {tactic_id: n for n, tactic_id in enumerate(listed)}
    return dict(sorted(found.items(), key=lambda item: order.get(item[0], len(order))))


def _questions_of(ctx: Context, tactic_id: str) -> tuple[str, tuple[str, ...]]:
    """A tactic's name and questions; its id and none when the content no longer has it."""
    t = ctx.content.tactics.get(tactic_id)
    return (t.name, t.questions) if t is not None else (tactic_id, ())


def _by_question(
    ctx: Context, tactic_id: str, entries: list[Entry]
) -> list[tuple[str, str, list[Entry]]]:
    """Each question's number, heading line and answers (in the order given); a question the
    content no longer has still shows its answers, under its number."""
    _, texts = _questions_of(ctx, tactic_id)
    asked: dict[str, list[Entry]] = {str(n): [] for n in range(1, len(texts) + 1)}
    for entry in entries:
        if entry["type"] == "answer":
            asked.setdefault(str(entry.get("question", "?")), []).append(entry)
    numbered = sorted(asked, key=lambda q: (0, int(q), q) if q.isdigit() else (1, 0, q))
    sections = []
    for question in numbered:
        n = int(question) if question.isdigit() else 0
        heading = (
            ctx.text("tactics.answers_question", position=question, question=texts[n - 1])
            if 0 < n <= len(texts)
            else ctx.text("tactics.answers_question_unknown", position=question)
        )
        sections.append((question, heading, asked[question]))
    return sections


def _answer_line(ctx: Context, entry: Entry, *, limit: int | None = None) -> str:
    p = ctx.partnership
    text = entry.get("text", "")
    if limit is not None:
        text = clip(" ".join(text.split()), limit)
    by = entry.get("by", "")
    user = entry.get("name") or (p.members[by].name if by in p.members else by)
    at = local(entry["at"], p.zone)
    when = f"{short_day(at, p.zone)}, {clock(at)}"
    if entry.get("org"):
        return ctx.text("tactics.answers_line", text=text, user=user, org=entry["org"], at=when)
    return ctx.text("tactics.answers_line_no_org", text=text, user=user, at=when)


def _block(ctx: Context, tactic_id: str, entries: list[Entry]) -> str:
    """One tactic's message for `answers`: its questions and answers (shortened), as many as
    fit one message, then how many more `answers <tactic>` shows."""
    name, _ = _questions_of(ctx, tactic_id)
    count = sum(1 for e in entries if e["type"] == "answer")
    more = ctx.text("tactics.answers_more", count=count, tactic=tactic_id)
    pager = _Pager(pages=1, reserve=len(more) + 1)
    pager.add(ctx.text("tactics.answers_title", name=name, tactic=tactic_id, count=count))
    shown = _fill(ctx, pager, tactic_id, entries, limit=PREVIEW_LIMIT)
    if shown < count:
        pager.pages[-1].append(
            ctx.text("tactics.answers_more", count=count - shown, tactic=tactic_id)
        )
    return "\n".join(pager.pages[-1])


def _paged(ctx: Context, tactic_id: str, entries: list[Entry]) -> tuple[list[str], int]:
    """One tactic's questions and answers in full, in as many messages as they need (up to
    MESSAGES_PER_TACTIC), and how many answers did not fit."""
    name, texts = _questions_of(ctx, tactic_id)
    count = sum(1 for e in entries if e["type"] == "answer")
    pager = _Pager(pages=MESSAGES_PER_TACTIC)
    pager.add(
        ctx.text(
            "tactics.answers_detail", name=name, tactic=tactic_id, count=count,
            total=len(texts), tz=ctx.partnership.zone.key,
        )
    )  # fmt: skip
    shown = _fill(ctx, pager, tactic_id, entries)
    return ["\n".join(page) for page in pager.pages], count - shown


def _fill(
    ctx: Context, pager: _Pager, tactic_id: str, entries: list[Entry], *, limit: int | None = None
) -> int:
    """Add each question and its answers to `pager` until it is full; how many answers fit."""
    shown = 0
    for position, heading, answered in _by_question(ctx, tactic_id, entries):
        if not pager.add(heading):
            break
        if not answered and not pager.add(ctx.text("tactics.answers_no_answers")):
            break
        again = ctx.text("tactics.answers_question_continued", position=position)
        for entry in answered:
            if not pager.add(_answer_line(ctx, entry, limit=limit), heading=again):
                return shown
            shown += 1
    return shown


class _Pager:
    """Lines gathered into messages of at most MESSAGE_LIMIT characters (less `reserve` for a
    closing line), at most `pages` of them; a line that does not fit starts the next message
    (after `heading`, when given), or is refused when there is no next one."""

    def __init__(self, *, pages: int, reserve: int = 0) -> None:
        self.most, self.room = pages, MESSAGE_LIMIT - reserve
        self.pages: list[list[str]] = [[]]
        self.size = 0

    def add(self, line: str, heading: str | None = None) -> bool:
        if self.pages[-1] and self.size + len(line) + 1 > self.room:
            if len(self.pages) == self.most:
                return False
            self.pages.append([])
            self.size = 0
            if heading is not None:
                self.add(heading)
        self.pages[-1].append(line)
        self.size += len(line) + 1
        return True


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


def _in_stage(ctx: Context, stage: str) -> list[Tactic]:
    """The stage's tactics, in the order `tactics` lists them."""
    return [t for t in ctx.content.tactics.values() if t.stage == stage]


def tactic_named(ctx: Context, typed: str) -> Tactic | None:
    """The one tactic `typed` names (its id, its name, a part of its name no other fits)."""
    fits = _fits(ctx, typed)
    return fits[0] if len(fits) == 1 else None


def _tactic(ctx: Context, tactic_id: str | None) -> Tactic:
    """The tactic named by its id, its name as listed (`Build a Common Fact Base`), or a part of
    its name that fits no other tactic (`fact-base`). Otherwise a refusal: the tactics a part
    fits, the closest to a typo (`fact-bse`), or the words after a tactic's name pointed out."""
    typed = tactic_id or ""
    fits = _fits(ctx, typed)
    if len(fits) == 1:
        return fits[0]
    if fits:
        ids = series((t.id for t in fits), "or")
        ctx.fail("tactics.ambiguous", tactic=typed or "?", tactics=ids)
    wanted = kebab(typed)
    ranked = sorted((_closeness(wanted, key), key) for key in ctx.content.tactics)
    close = [key for score, key in ranked if score >= CLOSE_ENOUGH]
    start = _leading_tactic(ctx, typed.split())
    if start is not None and (start[1] or not close):  # a tactic, then words of no command
        end, _, tactic = start
        ctx.fail(
            "tactics.extra_words",
            command=ctx.command,
            tactic=tactic.id,
            extra=" ".join(f'"{w}"' for w in typed.split()[end:])[:200],
        )
    if close:
        ctx.fail(
            "tactics.unknown_tactic_suggest",
            tactic=typed or "?",
            tactics=series(reversed(close[-3:]), "or"),
        )
    ctx.fail("tactics.unknown_tactic", tactic=typed or "?")


def _leading_tactic(ctx: Context, words: list[str]) -> tuple[int, bool, Tactic] | None:
    """The longest run of `words` before the last that fits one tactic: how many words, whether
    they are its id or name in full, and the tactic."""
    for end in range(len(words) - 1, 0, -1):
        run = " ".join(words[:end])
        fits = _fits(ctx, run)
        if len(fits) == 1:
            return end, kebab(run) == fits[0].id, fits[0]
    return None


def _fits(ctx: Context, typed: str) -> list[Tactic]:
    """The tactic whose id or name `typed` is, else every tactic whose id holds it as words."""
    tactics = ctx.content.tactics
    wanted = kebab(typed)
    if wanted in tactics:
        return [tactics[wanted]]
    return [t for key, t in tactics.items() if wanted and f"-{wanted}-" in f"-{key}-"]


def _closeness(wanted: str, key: str) -> float:
    """How like a tactic's id `wanted` is, whole or as a run of as many of its words
    (`fact-bse` is close to `build-a-common-fact-base`)."""
    words, count = key.split("-"), len(wanted.split("-"))
    runs = {key, *("-".join(words[i : i + count]) for i in range(len(words) - count + 1))}
    return max(difflib.SequenceMatcher(None, wanted, run).ratio() for run in runs)
