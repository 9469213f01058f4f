"""One typed walk through a dialog's questions, shared by every dialog that asks in turn.

Each kind of walk (`scorecard`, `discussion`, `exercise-debrief`, `practice-debrief`) keeps one
entry in `partnership.dialogs[kind]`, as plain JSON. While a walk is under way:

    topic    what is walked: the chosen scorecard families, or the tactic discussed
    index    the current question
    step     bumped on every move and by every new walk of the kind, so a choice from an older
             question, or from an earlier walk, is recognized as stale
    thread   the thread this walk's messages share (`discussion:3`)
    counts   how many answers each question has had (the answers themselves are journaled)
    kept     where walks of other topics stopped, by topic (`Place`), to be resumed there

When no walk of the kind is under way the entry stays, as `{"ended": true, "step": 7,
"kept": {...}}`: `Walk.current` finds no walk in it, and the next `Walk.start` numbers its steps
(and names its thread) after it, so a button from an ended walk never fits a later one.

Handlers find the walk under way with `Walk.current` (or start one with `Walk.start`, from a
place `Walk.kept` found), move with `advance` / `back`, and `save` it back, or `end` it (keeping
its place, or not); `token` goes into the choices offered, so `Context.check_step` can tell a
stale click. Dialogs that ask a list of questions in turn and record answers do all this
through `Questions` (bot/dialogs/questions.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.partnership import Partnership


@dataclass(frozen=True)
class Place:
    """Where the walk of one topic stopped: its question, its counts and its thread.

    An index past the last question means the walk went through them all: it starts again
    from the first (`resume_at`), with its counts."""

    index: int
    counts: dict[str, int]
    thread: str

    def resume_at(self, total: int) -> int:
        return self.index if self.index < total else 0

    def finished(self, total: int) -> bool:
        return self.index >= total

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> Place:
        counts = stored.get("counts") or {}
        return cls(
            index=int(stored.get("index", 0)),
            counts={str(k): int(v) for k, v in counts.items()},
            thread=str(stored.get("thread", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "counts": dict(self.counts), "thread": self.thread}


@dataclass
class Walk:
    kind: str
    topic: tuple[str, ...]
    index: int = 0
    step: int = 1
    thread: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def start(
        cls, p: Partnership, kind: str, topic: tuple[str, ...], *, at: Place | None = None
    ) -> Walk:
        """A new walk of `kind`, replacing any under way (whose place is not kept), from the
        first question or from `at`. Its step continues from the kind's last one, so choices
        offered by an earlier walk stay stale; it gets a thread of its own, or `at`'s."""
        step = int(p.dialogs.get(kind, {}).get("step", 0)) + 1
        walk = cls(kind, topic, step=step, thread=f"{kind}:{step}")
        if at is not None:
            walk.index, walk.counts = at.index, dict(at.counts)
            walk.thread = at.thread or walk.thread
        kept = _kept(p, kind)
        kept.pop(_key(topic), None)  # under way again: kept again when it stops
        walk._store(p, kept)
        return walk

    @classmethod
    def current(cls, p: Partnership, kind: str) -> Walk | None:
        stored = p.dialogs.get(kind)
        if stored is None or stored.get("ended"):
            return None
        return cls.from_dict(kind, stored)

    @classmethod
    def kept(cls, p: Partnership, kind: str, topic: tuple[str, ...]) -> Place | None:
        """Where the last walk of `kind` on `topic` stopped, if it was kept."""
        stored = _kept(p, kind).get(_key(topic))
        return None if stored is None else Place.from_dict(stored)

    @classmethod
    def end_current(cls, p: Partnership, kind: str) -> None:
        """End the walk of `kind` under way, if any, without keeping its place."""
        walk = cls.current(p, kind)
        if walk is not None:
            walk.end(p)

    @classmethod
    def from_dict(cls, kind: str, stored: dict[str, Any]) -> Walk:
        # walks saved before this shape kept the topic as `families` or `tactic`
        topic = stored.get("topic") or stored.get("families") or [stored.get("tactic", "")]
        counts = stored.get("counts") or stored.get("answers") or {}
        return cls(
            kind,
            tuple(str(t) for t in topic),
            index=int(stored.get("index", 0)),
            step=int(stored.get("step", 1)),
            thread=str(stored.get("thread") or f"{kind}:{stored.get('step', 1)}"),
            counts={str(k): int(v) for k, v in counts.items()},
        )

    @property
    def token(self) -> str:
        """The step token the choices of the current question carry."""
        return f"{self.kind}:{self.step}"

    def advance(self) -> None:
        self.index += 1
        self.step += 1

    def back(self) -> bool:
        """To the previous question; False when this is the first."""
        if self.index == 0:
            return False
        self.index -= 1
        self.step += 1
        return True

    def count_answer(self) -> int:
        """Count one more answer to the current question; returns its answers so far."""
        key = str(self.index)
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    def save(self, p: Partnership) -> None:
        self._store(p, _kept(p, self.kind))

    def end(self, p: Partnership, *, keep: bool = False) -> None:
        """No walk of this kind is under way any more; with `keep`, `Walk.kept` finds where
        this one stopped (its question, or past the last one when it went through them all).
        The step stays, for the next walk to count on from."""
        kept = _kept(p, self.kind)
        if keep:
            kept[_key(self.topic)] = Place(self.index, dict(self.counts), self.thread).to_dict()
        ended: dict[str, Any] = {"ended": True, "step": self.step}
        if kept:
            ended["kept"] = kept
        p.dialogs[self.kind] = ended

    def _store(self, p: Partnership, kept: dict[str, Any]) -> None:
        stored: dict[str, Any] = {
            "topic": list(self.topic),
            "index": self.index,
            "step": self.step,
            "thread": self.thread,
            "counts": dict(self.counts),
        }
        if kept:
            stored["kept"] = kept
        p.dialogs[self.kind] = stored


def _key(topic: tuple[str, ...]) -> str:
    return " ".join(topic)


def _kept(p: Partnership, kind: str) -> dict[str, Any]:
    """A copy of the places kept for `kind`, by topic."""
    return dict(p.dialogs.get(kind, {}).get("kept") or {})
