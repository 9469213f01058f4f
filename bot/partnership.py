"""A partnership's state, as the core reads and changes it during one turn.

The state is plain data. `store.py` loads it from Redis as a snapshot, a dialog changes it, and
the store writes back only the fields that changed. Each section below is one Redis hash whose
fields hold JSON; `from_sections`/`changes` are the only translation. The sections that grow
with use (members, ratings, decisions) decode a field only when it is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

# A decision's status, the same word everywhere (decisions, check-ins, reports, exports,
# meeting summaries). There is no "withdrawn": nothing withdraws a decision yet.
STATUSES = ("proposed", "objected", "agreed", "withdrawn")
# How a measure stands, judged from its baseline toward its target (either direction).
PROGRESS = ("not_reported", "reached", "exceeded", "on_the_way", "flat", "moving_away")
UTC = ZoneInfo("UTC")
SECTIONS = (
    "meta", "orgs", "members", "facilitators", "ratings", "decisions", "dialogs", "measures",
    "records",
)  # fmt: skip
META_FIELDS = (
    "name", "created_by", "created_at", "schedule", "checkins_paused", "skipped", "last_checkin",
    "scorecard_mode", "tz",
)  # fmt: skip
# How a scorecard item stands across the partner organizations (`Partnership.standing`).
STANDINGS = ("not_rated", "partly", "differs", "agreed")
# What the scorecard is used for: drafting an agreement, or reviewing one in place.
SCORECARD_MODES = ("drafting", "reviewing")


PRACTICE_SUFFIX = "#practice"  # a practice run's space: its partnership's id, then this


def practice_id(pid: str) -> str:
    """The id of the practice space of the partnership `pid` (bot/dialogs/practice.py)."""
    return pid if pid.endswith(PRACTICE_SUFFIX) else pid + PRACTICE_SUFFIX


def home_id(pid: str) -> str:
    """The real partnership's id, given it or its practice space's."""
    return pid.removesuffix(PRACTICE_SUFFIX)


@dataclass
class Org:
    name: str
    sector: str
    added_by: str
    added_at: str
    position: int  # organizations are listed in the order they were added
    # verified identities (bot.model.User.verified) that confirm a join to this organization
    identities: list[str] = field(default_factory=list)


@dataclass
class Member:
    """A person in the partnership. `org` is the organization they speak for, once confirmed;
    `pending` the one they asked to join, until a facilitator, a confirmed member of it, or a
    verified identity tied to it confirms them."""

    name: str
    org: str | None = None  # an org key in Partnership.orgs
    muted: bool = False  # check-ins do not call on this member
    pending: str | None = None  # an org key this person asked to represent


@dataclass
class Rating:
    """One rating of a scorecard item, by a member, for the organization they speak for."""

    rating: str
    note: str
    by: str
    by_name: str
    at: str
    org: str = ""  # an org key; empty in ratings kept before organizations rated separately


@dataclass
class ItemRatings:
    """Every rating of one scorecard item, oldest first. Each organization's latest counts for
    it (`Partnership.org_ratings`); the earlier ones are its history."""

    history: list[Rating] = field(default_factory=list)


@dataclass(frozen=True)
class Standing:
    """How a scorecard item stands across the partner organizations, derived, never stored.

    state     one of STANDINGS: nobody rated it; some organizations did (and agree so far);
              the organizations' ratings differ; every organization gives the same rating
    ratings   each organization's latest rating, in the partnership's order of organizations
    low, high the ends of the ratings given, in the key's order (equal unless they differ)
    """

    state: str
    ratings: dict[str, Rating]
    low: str | None = None
    high: str | None = None

    @property
    def rating(self) -> str | None:
        """The rating every organization gives, once they all agree on it."""
        return self.low if self.state == "agreed" else None


@dataclass
class Stance:
    """One organization's current position on a decision's current text."""

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
    withdrawn_at: str | None = None  # its proposer or a facilitator took it back

    @property
    def is_open(self) -> bool:
        """Still waiting for endorsements: neither agreed nor withdrawn."""
        return self.agreed_at is None and self.withdrawn_at is None

    def endorsed_by(self) -> list[str]:
        return [org for org, s in self.stances.items() if s.stance == "endorse"]

    def objected_by(self) -> list[str]:
        return [org for org, s in self.stances.items() if s.stance == "object"]

    @property
    def status(self) -> str:
        """One of STATUSES: withdrawn; agreed; objected while any organization objects; else
        proposed."""
        if self.withdrawn_at is not None:
            return "withdrawn"
        if self.agreed_at is not None:
            return "agreed"
        return "objected" if self.objected_by() else "proposed"

    @property
    def number(self) -> int:
        return int(self.id[1:])


@dataclass
class Report:
    value: float
    at: str
    by: str
    by_name: str


@dataclass
class Measure:
    """A measure of success: its target, who reports it, and every value reported."""

    name: str
    unit: str
    baseline: float
    target: float
    owner: str  # an org key
    added_at: str
    reports: list[Report] = field(default_factory=list)

    @property
    def latest(self) -> float | None:
        """The last reported value; None before any report (the baseline is not a report)."""
        return self.reports[-1].value if self.reports else None

    @property
    def lower_is_better(self) -> bool:
        """A target below the baseline means lower is better; otherwise higher is."""
        return self.target < self.baseline

    def progress(self, upto: int | None = None) -> str:
        """One of PROGRESS for the reports up to index `upto` (all of them by default).

        Judged from the baseline toward the target: past the target is exceeded, at it
        reached; short of it, the last value against the one before (or the baseline) is on
        the way, flat or moving away. Example: baseline 0, target 150, reported 1000:
        exceeded; baseline 70, target 70, reported 75: exceeded (higher is better).
        """
        reports = self.reports if upto is None else self.reports[: upto + 1]
        if not reports:
            return "not_reported"
        sign = -1.0 if self.lower_is_better else 1.0
        last = reports[-1].value
        to_go = sign * (self.target - last)
        if to_go < 0:
            return "exceeded"
        if to_go == 0:
            return "reached"
        before = reports[-2].value if len(reports) >= 2 else self.baseline
        step = sign * (last - before)
        if step == 0:
            return "flat"
        return "on_the_way" if step > 0 else "moving_away"


@dataclass
class Partnership:
    id: str
    name: str | None = None
    created_by: str | None = None
    created_at: str | None = None
    orgs: dict[str, Org] = field(default_factory=dict)
    members: LazySection[Member] = field(default_factory=lambda: LazySection(_member))
    facilitators: dict[str, str] = field(default_factory=dict)  # user id -> name
    # item id -> its ratings; decision id -> its current state
    ratings: LazySection[ItemRatings] = field(default_factory=lambda: LazySection(_ratings))
    decisions: LazySection[Decision] = field(default_factory=lambda: LazySection(_decision))
    dialogs: dict[str, dict[str, Any]] = field(default_factory=dict)  # dialog name -> its state
    # linked conversations, link code, retention, legal hold, a pending delete (bot.records)
    records: dict[str, Any] = field(default_factory=dict)
    measures: LazySection[Measure] = field(default_factory=lambda: LazySection(_measure))
    schedule: dict[str, Any] | None = None  # a bot.schedule.Schedule, as a dict
    checkins_paused: bool | None = None
    skipped: list[str] | None = None  # due times (ISO, UTC) of check-ins to skip
    last_checkin: dict[str, str] | None = None  # due, sent_at, and the stream ids seen then
    scorecard_mode: str | None = None  # one of SCORECARD_MODES; drafting until one is chosen
    tz: str | None = None  # the time zone a facilitator set (an IANA name)

    @property
    def is_set_up(self) -> bool:
        return self.name is not None

    @property
    def tz_name(self) -> str | None:
        """The partnership's time zone: the one a facilitator set, else its check-in
        schedule's; None until either is set."""
        return self.tz or (self.schedule or {}).get("tz")

    @property
    def zone(self) -> ZoneInfo:
        """`tz_name` as a zone, UTC until one is set."""
        tz = self.tz_name
        return ZoneInfo(tz) if tz else UTC

    def members_of(self, org: str) -> list[Member]:
        return [m for m in self.members.values() if m.org == org]

    def orgs_without_members(self) -> list[str]:
        """The partner organizations nobody in the conversation represents (their keys)."""
        represented = {m.org for m in self.members.values()}
        return [key for key in self.orgs if key not in represented]

    def org_of(self, user_id: str) -> str | None:
        """The organization a member speaks for: only a confirmed member's acts count."""
        member = self.members.get(user_id)
        return member.org if member and member.org in self.orgs else None

    def can_confirm(self, user_id: str, org: str) -> bool:
        """Who vouches for a join to `org`: a facilitator, or a confirmed member of it."""
        return user_id in self.facilitators or self.org_of(user_id) == org

    def pending_joins(self) -> list[tuple[str, Member]]:
        return [(uid, m) for uid, m in self.members.items() if m.pending in self.orgs]

    @property
    def mode(self) -> str:
        """What the scorecard is used for here (SCORECARD_MODES)."""
        return self.scorecard_mode or SCORECARD_MODES[0]

    def rate(self, item_id: str, rating: Rating) -> None:
        """Record `rating` of an item for its organization; earlier ones stay in the history."""
        kept = self.ratings.get(item_id) or ItemRatings()
        self.ratings[item_id] = ItemRatings([*kept.history, rating])

    def org_ratings(self, item_id: str) -> dict[str, Rating]:
        """Each current organization's latest rating of an item, in the organizations' order.
        A rating kept before organizations rated separately counts for its rater's org."""
        kept = self.ratings.get(item_id)
        latest: dict[str, Rating] = {}
        for r in kept.history if kept else ():
            org = r.org or self.org_of(r.by) or ""
            if org in self.orgs:
                latest[org] = r
        return {org: latest[org] for org in self.orgs if org in latest}

    def standing(self, item_id: str, scale: Sequence[str]) -> Standing:
        """How an item stands across the organizations; `scale` is the key's rating ids, in
        order (a rating the key no longer has sorts first)."""
        ratings = self.org_ratings(item_id)
        if not ratings:
            return Standing("not_rated", ratings)
        given = sorted({r.rating for r in ratings.values()}, key=lambda r: _rank(scale, r))
        if len(given) > 1:
            state = "differs"
        else:
            state = "agreed" if len(ratings) == len(self.orgs) else "partly"
        return Standing(state, ratings, given[0], given[-1])

    def is_fully_endorsed(self, decision: Decision) -> bool:
        """Every current partner organization endorses the decision's current text."""
        endorsed = decision.endorsed_by()
        return bool(self.orgs) and all(key in endorsed for key in self.orgs)

    def org_name(self, key: str) -> str:
        """An organization's name; its key when it has left the partnership since."""
        org = self.orgs.get(key)
        return org.name if org else key

    def waiting_on(self, decision: Decision) -> list[str]:
        """The names of the partner organizations that have not endorsed `decision` (none once
        it is withdrawn)."""
        if decision.withdrawn_at is not None:
            return []
        endorsed = decision.endorsed_by()
        return [org.name for key, org in self.orgs.items() if key not in endorsed]

    def measures_in_order(self) -> list[Measure]:
        """Every measure, in the order they were added (decodes them all)."""
        return sorted(self.measures.values(), key=lambda m: (m.added_at, m.name.lower()))

    def decisions_in_order(self) -> list[Decision]:
        return sorted(self.decisions.values(), key=lambda d: d.number)

    def detached(self) -> Partnership:
        """A copy to read from: its lazy sections decode into the copy, so reading every
        decision (a check-in, a report) leaves nothing for this one's `changes()` to compare.
        Changes made to the copy are not written back."""
        return replace(
            self,
            members=self.members.fresh(),
            ratings=self.ratings.fresh(),
            decisions=self.decisions.fresh(),
            measures=self.measures.fresh(),
        )

    def changes(
        self, before: dict[str, dict[str, str]]
    ) -> dict[str, tuple[dict[str, str], list[str]]]:
        """Per section, the fields to write and the fields to delete, compared with `before`."""
        meta = {key: getattr(self, key) for key in META_FIELDS}
        eager = {
            "meta": {k: _dump(v) for k, v in meta.items() if v is not None},
            "orgs": {k: _dump(v) for k, v in self.orgs.items()},
            "facilitators": {k: _dump(v) for k, v in self.facilitators.items()},
            "dialogs": {k: _dump(v) for k, v in self.dialogs.items()},
            "records": {k: _dump(v) for k, v in self.records.items()},
        }
        result = {}
        for section, after in eager.items():
            old = before.get(section, {})
            updates = {k: v for k, v in after.items() if old.get(k) != v}
            result[section] = (updates, [k for k in old if k not in after])
        for section, lazy in (
            ("members", self.members),
            ("ratings", self.ratings),
            ("decisions", self.decisions),
            ("measures", self.measures),
        ):
            result[section] = lazy.changes()
        return result

    @classmethod
    def from_sections(cls, pid: str, sections: dict[str, dict[str, str]]) -> Partnership:
        def load(section: str) -> dict[str, Any]:
            return {k: json.loads(v) for k, v in sections.get(section, {}).items()}

        meta = load("meta")
        orgs = sorted(
            ((k, Org(**v)) for k, v in load("orgs").items()), key=lambda kv: kv[1].position
        )
        return cls(
            id=pid,
            **{key: meta.get(key) for key in META_FIELDS},
            orgs=dict(orgs),
            measures=LazySection(_measure, sections.get("measures", {})),
            members=LazySection(_member, sections.get("members", {})),
            facilitators=load("facilitators"),
            ratings=LazySection(_ratings, sections.get("ratings", {})),
            decisions=LazySection(_decision, sections.get("decisions", {})),
            dialogs=load("dialogs"),
            records=load("records"),
        )


# English names written out, not strftime's: the coach writes US English whatever the locale.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SHORT_MONTHS = ("", *(month[:3] for month in _MONTHS[1:]))


def local(at: str | datetime, zone: ZoneInfo) -> datetime:
    """An ISO time (as stored, UTC) or an aware datetime, in `zone`."""
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def clock(at: time | datetime) -> str:
    """`3:05 PM`: a time of day on the 12-hour clock (noon is 12:00 PM, midnight 12:00 AM)."""
    return f"{at.hour % 12 or 12}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def readable_time(at: str | datetime, zone: ZoneInfo, *, abbreviation: bool = True) -> str:
    """`Tuesday, April 14, 2026, 10:00 AM CDT`: a time as a person reads it, in `zone`.

    With `abbreviation=False`, `Tuesday, April 14, 2026, 10:00 AM`, for text that names the zone
    in another way.
    """
    moment = local(at, zone)
    text = f"{_day(moment)}, {clock(moment)}"
    return f"{text} {moment.tzname()}" if abbreviation else text


def readable_clock(at: str | datetime, zone: ZoneInfo) -> str:
    """`3:15 PM CDT`: the time of day of a time, in `zone`."""
    moment = local(at, zone)
    return f"{clock(moment)} {moment.tzname()}"


def readable_day(at: str | datetime, zone: ZoneInfo) -> str:
    """`Tuesday, April 14, 2026`: the day of a time, in `zone`."""
    return _day(local(at, zone))


def _day(moment: datetime) -> str:
    return f"{_WEEKDAYS[moment.weekday()]}, {_MONTHS[moment.month]} {moment.day}, {moment.year}"


def short_day(at: str | datetime, zone: ZoneInfo) -> str:
    """`Apr 14, 2026`: a day in a table or a chart, in `zone` (built from its fields rather than
    by strftime: reports list hundreds of them)."""
    day = local(at, zone)
    return f"{_SHORT_MONTHS[day.month]} {day.day}, {day.year}"


def number(value: float) -> str:
    """A value as people write it: 15, 12.5, 1500 (no trailing .0, no exponent below 1e16)."""
    value = float(value)
    if value != value:
        return "?"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


V = TypeVar("V")


class LazySection(MutableMapping[str, V]):
    """A section's fields, decoded from their JSON only when a handler reads them.

    A turn touches a few members, ratings or decisions of a partnership that may hold hundreds;
    only those are decoded, and only those are compared and written back by `changes()`.
    """

    def __init__(self, decode: Callable[[dict[str, Any]], V], raw: dict[str, str] | None = None):
        self._decode = decode
        self._raw = raw or {}
        self._live: dict[str, V] = {}
        self._deleted: set[str] = set()

    def __getitem__(self, key: str) -> V:
        if key in self._live:
            return self._live[key]
        if key in self._deleted or key not in self._raw:
            raise KeyError(key)
        value = self._live[key] = self._decode(json.loads(self._raw[key]))
        return value

    def __setitem__(self, key: str, value: V) -> None:
        self._live[key] = value
        self._deleted.discard(key)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._live.pop(key, None)
        self._deleted.add(key)

    def __iter__(self) -> Iterator[str]:
        yield from (k for k in self._raw if k not in self._deleted)
        yield from (k for k in self._live if k not in self._raw)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def fresh(self) -> LazySection[V]:
        """The same fields, none decoded yet (the ones changed here stay as changed)."""
        copy: LazySection[V] = LazySection(self._decode, self._raw)
        copy._live = dict(self._live)
        copy._deleted = set(self._deleted)
        return copy

    def changes(self) -> tuple[dict[str, str], list[str]]:
        updates = {}
        for key, value in self._live.items():
            encoded = _dump(value)
            if self._raw.get(key) != encoded:
                updates[key] = encoded
        return updates, [k for k in self._deleted if k in self._raw]


def _rank(scale: Sequence[str], rating: str) -> int:
    return scale.index(rating) if rating in scale else -1


def _member(data: dict[str, Any]) -> Member:
    return Member(**data)


def _ratings(data: dict[str, Any]) -> ItemRatings:
    if "rating" in data:  # kept before organizations rated separately: one rating, no org
        return ItemRatings([Rating(**data)])
    return ItemRatings([Rating(**r) for r in data["history"]])


def _measure(data: dict[str, Any]) -> Measure:
    return Measure(**(data | {"reports": [Report(**r) for r in data["reports"]]}))


def _decision(data: dict[str, Any]) -> Decision:
    stances = {org: Stance(**s) for org, s in data.pop("stances").items()}
    return Decision(**data, stances=stances)


def _dump(value: Any) -> str:
    # default=vars serialises the (nested) dataclasses without the deep copy asdict() makes
    return json.dumps(
        value, default=vars, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
