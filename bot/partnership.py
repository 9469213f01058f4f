"""A partnership's state, as the core reads and changes it during one turn.

The state is plain data. `store.py` loads it from Redis as a snapshot, a dialog changes a copy,
and the store writes back only the fields that changed. Each section below is one Redis hash
whose fields hold JSON; `to_sections`/`from_sections` are the only translation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

SECTIONS = ("meta", "orgs", "members", "facilitators", "ratings", "decisions", "dialogs")


@dataclass
class Org:
    name: str
    sector: str
    added_by: str
    added_at: str
    position: int  # organisations are listed in the order they were added


@dataclass
class Member:
    name: str
    org: str | None = None  # an org key in Partnership.orgs


@dataclass
class Rating:
    rating: str
    note: str
    by: str
    by_name: str
    at: str


@dataclass
class Stance:
    """One organisation's current position on a decision's current text."""

    stance: str  # "endorse" or "object"
    user: str
    name: str
    at: str
    reason: str = ""


@dataclass
class Decision:
    id: str
    text: str
    proposed_by: str
    proposed_by_name: str
    proposer_org: str
    created_at: str
    item: str | None = None
    revision: int = 1
    stances: dict[str, Stance] = field(default_factory=dict)
    agreed_at: str | None = None

    def endorsed_by(self) -> list[str]:
        return [org for org, s in self.stances.items() if s.stance == "endorse"]

    def objected_by(self) -> list[str]:
        return [org for org, s in self.stances.items() if s.stance == "object"]

    @property
    def number(self) -> int:
        return int(self.id[1:])


@dataclass
class Partnership:
    id: str
    name: str | None = None
    created_by: str | None = None
    created_at: str | None = None
    orgs: dict[str, Org] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    facilitators: dict[str, str] = field(default_factory=dict)  # user id -> name
    ratings: dict[str, Rating] = field(default_factory=dict)  # item id -> latest rating
    decisions: dict[str, Decision] = field(default_factory=dict)
    dialogs: dict[str, dict[str, Any]] = field(default_factory=dict)  # dialog name -> its state

    @property
    def is_set_up(self) -> bool:
        return self.name is not None

    def org_of(self, user_id: str) -> str | None:
        member = self.members.get(user_id)
        return member.org if member and member.org in self.orgs else None

    def decisions_in_order(self) -> list[Decision]:
        return sorted(self.decisions.values(), key=lambda d: d.number)

    def to_sections(self) -> dict[str, dict[str, str]]:
        meta = {"name": self.name, "created_by": self.created_by, "created_at": self.created_at}
        return {
            "meta": {k: _dump(v) for k, v in meta.items() if v is not None},
            "orgs": {k: _dump(asdict(v)) for k, v in self.orgs.items()},
            "members": {k: _dump(asdict(v)) for k, v in self.members.items()},
            "facilitators": {k: _dump(v) for k, v in self.facilitators.items()},
            "ratings": {k: _dump(asdict(v)) for k, v in self.ratings.items()},
            "decisions": {k: _dump(asdict(v)) for k, v in self.decisions.items()},
            "dialogs": {k: _dump(v) for k, v in self.dialogs.items()},
        }

    @classmethod
    def from_sections(cls, pid: str, sections: dict[str, dict[str, str]]) -> Partnership:
        def load(section: str) -> dict[str, Any]:
            return {k: json.loads(v) for k, v in sections.get(section, {}).items()}

        meta = load("meta")
        decisions = {}
        for key, raw in load("decisions").items():
            stances = {org: Stance(**s) for org, s in raw.pop("stances").items()}
            decisions[key] = Decision(**raw, stances=stances)
        return cls(
            id=pid,
            name=meta.get("name"),
            created_by=meta.get("created_by"),
            created_at=meta.get("created_at"),
            orgs=dict(
                sorted(
                    ((k, Org(**v)) for k, v in load("orgs").items()),
                    key=lambda kv: kv[1].position,
                )
            ),
            members={k: Member(**v) for k, v in load("members").items()},
            facilitators=load("facilitators"),
            ratings={k: Rating(**v) for k, v in load("ratings").items()},
            decisions=decisions,
            dialogs=load("dialogs"),
        )


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
