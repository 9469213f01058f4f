"""One typed walk through a dialog's questions, shared by every dialog that asks in turn.

A walk is kept in `partnership.dialogs[kind]` as plain JSON:

    topic    what is walked: the chosen scorecard families, or the tactic discussed
    index    the current question
    step     bumped on every move, so a choice from an older question is recognized as stale
    thread   the thread this walk's messages share (`scorecard:3`): one per walk
    counts   how many answers each question has had (the answers themselves are journaled)

Handlers get the walk under way with `Walk.current`, check a picked choice with `check`, move
with `advance` / `back`, and `save` it back (or `end` it); `token` goes into the choices
offered, so `Context.check_step` can tell a stale click. Dialogs that ask a list of questions
in turn and record answers do all this through `Questions` (bot/dialogs/questions.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.partnership import Partnership


@dataclass
class Walk:
    kind: str
    topic: tuple[str, ...]
    index: int = 0
    step: int = 1
    thread: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def start(cls, p: Partnership, kind: str, topic: tuple[str, ...]) -> Walk:
        """A new walk of `kind`, replacing any under way; its step continues from the last
        one, so choices offered by an earlier walk stay stale."""
        previous = p.dialogs.get(kind, {})
        step = int(previous.get("step", 0)) + 1
        walk = cls(kind, topic, step=step, thread=f"{kind}:{step}")
        walk.save(p)
        return walk

    @classmethod
    def current(cls, p: Partnership, kind: str) -> Walk | None:
        stored = p.dialogs.get(kind)
        return None if stored is None else cls.from_dict(kind, stored)

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

    def is_stale(self, step: str | None) -> bool:
        """A choice (its step token) picked from an older question than the current one."""
        return step is not None and step != self.token

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
        stored = asdict(self)
        del stored["kind"]
        stored["topic"] = list(self.topic)
        p.dialogs[self.kind] = stored

    def end(self, p: Partnership) -> None:
        p.dialogs.pop(self.kind, None)
