"""Questions asked one at a time on a `Walk`, each answer recorded: one mechanism for the tactic
discussion, the sector-styles debrief and the practice run's debrief.

A dialog declares its `Questions` once: the command its buttons give (`discuss` gives
`discuss next`, `discuss back`, `discuss stop`) and the keys of its prompts, so each dialog
keeps its own wording in content/prompts. Its handlers then find the walk under way and pass
it on with the questions' texts:

    QUESTIONS.ask(ctx, walk, found.debrief)                  question N of M, with the moves
    QUESTIONS.answer(ctx, walk, journal)                     counted, saved, journaled, noted
    QUESTIONS.move(ctx, walk, word, found.debrief, finish)   next / skip / back / stop

A dialog that asks in its own way (the scorecard's items, with their rating buttons) takes the
moves alone: `QUESTIONS.step(ctx, walk, word, total)`.

What is journaled for an answer, and how a walk finishes, stay with the dialog (`journal`,
`finish`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.dialogs.base import Context
from bot.dialogs.walk import Walk
from bot.model import Choice


@dataclass(frozen=True)
class Questions:
    """How one dialog walks its questions: the command its buttons give, and its prompt keys.

    command      the buttons' command, before `next` / `back` / `stop`
    question     a question: `position`, `total`, `question` and what the dialog adds
    recorded     an answer noted: `user`, `position`, `count` (the question's answers so far)
    at_first     the refusal of `back` on the first question
    next_choice, back_choice, stop_choice    the buttons' labels
    keep_place   a walk that stops, or goes through every question, keeps its place for its
                 topic (`Walk.kept`), so the dialog can resume it there
    answers      the command that records a typed answer (`answer`), if the walk takes them
    """

    command: str
    question: str
    recorded: str
    at_first: str
    next_choice: str
    back_choice: str
    stop_choice: str
    keep_place: bool = False
    answers: str | None = None  # the command that records a typed answer, if the walk takes them

    def ask(self, ctx: Context, walk: Walk, texts: Sequence[str], **variables: Any) -> None:
        """Ask the walk's current question (of `texts`), offering the moves."""
        ctx.say(
            self.question,
            thread=walk.thread,
            position=walk.index + 1,
            total=len(texts),
            question=texts[walk.index],
            choices=self.choices(ctx, walk),
            **variables,
        )

    def answer(self, ctx: Context, walk: Walk, journal: Callable[[str], None]) -> None:
        """Count an answer to the current question and save the walk, journal the answer
        (`journal` gets the question's number, from 1) and say it is noted, offering the moves
        again."""
        position = walk.index + 1
        count = walk.count_answer()
        walk.save(ctx.partnership)
        journal(str(position))
        ctx.say(
            self.recorded,
            thread=walk.thread,
            user=ctx.user_name,
            position=position,
            count=count,
            choices=self.choices(ctx, walk),
        )

    def move(
        self,
        ctx: Context,
        walk: Walk,
        word: str,
        texts: Sequence[str],
        finish: Callable[[Context, Walk], None],
        **variables: Any,
    ) -> None:
        """Move on (`next`, `skip`), `back` or `stop`; past the last question, or on `stop`,
        `finish` gets the walk, otherwise the question moved to is asked."""
        if self.step(ctx, walk, word, len(texts)):
            self.ask(ctx, walk, texts, **variables)
        else:
            finish(ctx, walk)

    def step(self, ctx: Context, walk: Walk, word: str, total: int) -> bool:
        """Take one move on a walk of `total` questions, refusing a move picked from an
        earlier question's buttons and `back` on the first. True when the walk goes on (saved
        at its new question); False when it has ended (past the last question, or `stop`)."""
        ctx.check_step(walk.token)
        if word == "back":
            if not walk.back():
                ctx.fail(self.at_first)
        elif word != "stop":
            walk.advance()
        if word == "stop" or walk.index >= total:
            walk.end(ctx.partnership, keep=self.keep_place)
            return False
        walk.save(ctx.partnership)
        return True

    def choices(self, ctx: Context, walk: Walk) -> list[Choice]:
        """Previous (after the first question), Next and Stop, carrying the walk's step token."""
        step = walk.token
        back = [ctx.choice(self.back_choice, f"{self.command} back", step)] if walk.index else []
        return [
            *back,
            ctx.choice(self.next_choice, f"{self.command} next", step),
            ctx.choice(self.stop_choice, f"{self.command} stop", step),
        ]
