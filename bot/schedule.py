"""When check-ins are due: a partnership's cadence, and the pure next-due computation.

Times are kept in the partnership's time zone, so a weekly 09:00 check-in stays at 09:00 local
across daylight-saving changes. A check-in that falls on a public holiday of the partnership's
country (and region) moves to the next working day, at the same local time.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays

from bot.content import Grammar, normal_word, series
from bot.errors import UserFacingError

CADENCES = ("weekly", "biweekly", "monthly", "quarterly")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
QUARTER_MONTHS = (1, 4, 7, 10)
SEARCH_DAYS = 450  # far enough to find the next quarterly occurrence past any holidays
LOOKBACK_DAYS = 40  # holidays (New Year in Russia, say) can push an occurrence past later ones
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$")


class ScheduleError(UserFacingError):
    """A schedule that cannot be used; `key` names the prompt that explains it. A turn that
    raises it is answered with that prompt, like any other refusal."""


@dataclass(frozen=True)
class Schedule:
    """A cadence: weekly or biweekly on `weekday`, or monthly / quarterly on the first
    `weekday` of the month, at `at` local time in `tz`."""

    cadence: str
    weekday: int  # 0 = Monday
    at: str  # "HH:MM"
    tz: str
    anchor: str  # ISO date of the first occurrence: fixes which weeks a biweekly one falls in
    country: str | None = None
    region: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schedule:
        return cls(**data)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def local_time(self) -> time:
        hour, minute = self.at.split(":")
        return time(int(hour), int(minute))


def parse_schedule(
    cadence: str,
    weekday: str,
    at: str,
    tz: str,
    now: datetime,
    *,
    country: str | None = None,
    region: str | None = None,
) -> Schedule:
    """A schedule from a command's words, checked; raises ScheduleError naming what is wrong."""
    cadence, weekday = cadence.lower(), weekday.lower()[:3]
    if cadence not in CADENCES:
        raise ScheduleError("checkins.unknown_cadence", cadence=cadence)
    if weekday not in WEEKDAYS:
        raise ScheduleError("checkins.unknown_weekday", weekday=weekday)
    try:
        hour, minute = (int(part) for part in at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError(at)
    except ValueError:
        raise ScheduleError("checkins.bad_time", time=at) from None
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError("schedule.unknown_tz", tz=tz) from None
    if country is not None:
        if not country.strip():
            raise ScheduleError("checkins.unknown_country", country="-")
        country = country.upper()
        region = region.upper() if region else None
        try:
            _holidays(country, region, now.year)
        except NotImplementedError:
            raise ScheduleError(
                "checkins.unknown_country", country=f"{country}-{region}" if region else country
            ) from None
    draft = Schedule(
        "weekly" if cadence == "biweekly" else cadence,  # any such weekday can start a pair
        WEEKDAYS.index(weekday),
        f"{hour:02d}:{minute:02d}",
        tz,
        now.astimezone(zone).date().isoformat(),
        country,
        region,
    )
    # the anchor is an occurrence as the calendar has it, before any holiday moves it: a
    # biweekly pair is counted from there
    unmoved = replace(draft, country=None, region=None)
    anchor = next_due(unmoved, now).astimezone(zone).date().isoformat()
    return replace(draft, cadence=cadence, anchor=anchor)


def read_cadence(
    words: tuple[str, ...], grammar: Grammar, own_tz: str | None
) -> tuple[str, str, str, str]:
    """A cadence as people write it (`bi-weekly tuesday 9:00 am`, maybe without a time zone)
    as the four words `parse_schedule` reads: cadence, weekday, HH:MM, time zone. `own_tz`
    stands in for a missing time zone; anything else missing is named in a ScheduleError.

    Example:
        read_cadence(("bi-weekly", "Tuesday", "9", "am"), grammar, "America/Chicago")
        -> ("biweekly", "Tuesday", "09:00", "America/Chicago")
    """
    cadence = grammar.value("cadence", words[0]) if words else ""
    if cadence not in CADENCES:
        raise ScheduleError("checkins.unknown_cadence", cadence=words[0] if words else "-")
    rest = list(words[1:])
    if not rest:
        raise ScheduleError("schedule.missing_weekday", cadence=cadence)
    weekday = rest.pop(0)
    if not rest:
        raise ScheduleError("schedule.missing_time", cadence=cadence, weekday=weekday)
    written = rest.pop(0)
    if rest and rest[0].lower().replace(".", "") in {"am", "pm"}:  # "9:00 am"
        written += rest.pop(0)
    at = clock_time(written)
    if at is None:
        raise ScheduleError("schedule.bad_time", time=written)
    tz = own_tz
    if rest:  # a zone of one word or several ("New York", "Eastern Time"), maybe more words
        found = leading_zone(rest, grammar)
        if found is None:
            raise unknown_zone(" ".join(rest), grammar)
        tz, used = found
        rest = rest[used:]
    if tz is None:
        raise ScheduleError("schedule.missing_tz", cadence=cadence, weekday=weekday, time=at)
    if rest:
        raise ScheduleError("schedule.extra_words", extra=" ".join(f'"{w}"' for w in rest)[:200])
    return cadence, weekday, at, tz


def unknown_zone(written: str, grammar: Grammar) -> ScheduleError:
    """The refusal of a time zone `time_zone` does not know: which zones an abbreviation
    could mean ("MST", "Mountain Standard Time"), or that it is none."""
    zones = _shared_by(written, grammar)
    if zones:
        return ScheduleError("schedule.ambiguous_tz", tz=written[:40], choices=series(zones, "or"))
    return ScheduleError("schedule.unknown_tz", tz=written[:40])


def _shared_by(written: str, grammar: Grammar) -> list[str]:
    """The zones a name more than one zone goes by stands for ("MST": Denver and Phoenix, from
    content/grammar.yaml `timezone_ambiguous`); none for any other name."""
    meant = grammar.values.get("timezone_ambiguous", {}).get(_zone_phrase(written), "")
    return [_zones().get(z, z) for z in meant.split()]


def _zone_phrase(written: str) -> str:
    """A zone as written, as one phrase without a trailing "time" or "time zone":
    `Mountain Standard Time` -> `mountain-standard`; `Washington, DC` -> `washington-dc`."""
    words = [normal_word(w) for w in written.split()]
    while words and words[-1] in ("time", "zone"):
        words.pop()
    return "-".join(words)


def leading_zone(words: Sequence[str], grammar: Grammar) -> tuple[str, int] | None:
    """The time zone the first words name, and how many words name it (the most that do:
    "New York" before "New"); None when they name none."""
    for used in range(len(words), 0, -1):
        written = " ".join(words[:used])
        if _shared_by(written, grammar):
            return None  # "Mountain Standard Time" is not "Mountain" and two words more
        zone = time_zone(written, grammar)
        if zone is not None:
            return zone, used
    return None


def time_zone(written: str, grammar: Grammar) -> str | None:
    """The IANA name of a time zone as people write it: the name in any case
    (`america/chicago`), another name for it in content/grammar.yaml (`Central`, `CT`,
    `Pacific`), or its city (`New York`, `denver`); None when it names none.

    Example:
        time_zone("eastern", grammar) -> "America/New_York"
        time_zone("New York", grammar) -> "America/New_York"
    """
    said = _zone_phrase(written)
    if not said or _shared_by(written, grammar):
        return None  # "Mountain Standard Time": Denver's in winter, Arizona's all year
    for phrase in (said, said.removesuffix("-standard").removesuffix("-daylight")):
        meant = grammar.value("timezone", phrase).lower()
        zone = _zones().get(meant) or _cities().get(meant.replace("-", "_"))
        if zone is not None:
            return zone
    return None


@functools.cache
def _zones() -> dict[str, str]:
    """The zones by name, lower-cased; the legacy names without a region ("MST", "EST5EDT",
    "Cuba") are left out, but UTC: "MST" is Denver to some and Phoenix to others."""
    return {
        name.lower(): name
        for name in available_timezones()
        if "/" in name or name in ("UTC", "GMT")
    }


@functools.cache
def _cities() -> dict[str, str]:
    """The zones of the United States by their city (`new_york`: America/New_York,
    `indianapolis`: America/Indiana/Indianapolis), for a city only one of them is named after.
    Cities elsewhere are not guessed at: Lima, Ohio is not America/Lima."""
    by_city: dict[str, list[str]] = {}
    for name in US_ZONES:
        by_city.setdefault(name.rpartition("/")[2].lower(), []).append(name)
    return {city: names[0] for city, names in by_city.items() if len(names) == 1}


# The zones of the United States and its territories (tzdata's zone1970.tab, country US, and
# the territories' own zones)
US_ZONES = (
    "America/New_York", "America/Detroit", "America/Kentucky/Louisville",
    "America/Kentucky/Monticello", "America/Indiana/Indianapolis", "America/Indiana/Vincennes",
    "America/Indiana/Winamac", "America/Indiana/Marengo", "America/Indiana/Petersburg",
    "America/Indiana/Vevay", "America/Chicago", "America/Indiana/Tell_City",
    "America/Indiana/Knox", "America/Menominee", "America/North_Dakota/Center",
    "America/North_Dakota/New_Salem", "America/North_Dakota/Beulah", "America/Denver",
    "America/Boise", "America/Phoenix", "America/Los_Angeles", "America/Anchorage",
    "America/Juneau", "America/Sitka", "America/Metlakatla", "America/Yakutat", "America/Nome",
    "America/Adak", "Pacific/Honolulu", "America/Puerto_Rico", "America/St_Thomas",
    "Pacific/Guam", "Pacific/Saipan", "Pacific/Pago_Pago",
)  # fmt: skip


def clock_time(written: str) -> str | None:
    """A time of day as people write it, as 24-hour HH:MM; None when it is not one.

    Example:
        clock_time("9am") -> "09:00"; clock_time("9:30 pm") -> "21:30"; clock_time("9") -> None
    """
    match = _CLOCK.match(written.strip().lower())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    half = (match.group(3) or "").replace(".", "")
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif match.group(2) is None:
        return None  # a bare "9" could be morning or evening: ask for 9am or 09:00
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return f"{hour:02d}:{minute:02d}"


@dataclass(frozen=True)
class Calendar:
    """A public-holiday calendar chosen by a code such as `US-IL` or `CA`, with its name in
    words, and another calendar the code may have meant (`CA`: California, not Canada)."""

    country: str
    region: str | None
    name: str  # "Canada"; "Illinois (United States)"
    other: tuple[str, str] | None = None  # (code, name) of the calendar it may have meant


def calendar_for(code: str) -> Calendar:
    """The holiday calendar `code` names (`US`, `US-IL`, `CA-QC`), or a ScheduleError that says
    what might have been meant. US states come first where a code is ambiguous: `CA` selects
    Canada and says that `US-CA` is California; `NY` is no country, so it suggests `US-NY`."""
    code = code.strip().upper()
    country, _, region = code.partition("-")
    countries = _countries()
    if not country:
        raise ScheduleError("checkins.unknown_country", country="-")
    if country not in countries:
        if not region and country in _regions("US"):
            raise ScheduleError(
                "checkins.unknown_country_suggest",
                country=code,
                suggested=f"US-{country}",
                calendar=calendar_name("US", country),
            )
        alpha2 = _alpha3().get(country)
        if alpha2 is not None:
            suggested = f"{alpha2}-{region}" if region else alpha2
            raise ScheduleError(
                "checkins.unknown_country_suggest",
                country=code,
                suggested=suggested,
                calendar=calendar_name(alpha2, region or None),
            )
        raise ScheduleError("checkins.unknown_country", country=code)
    if region:
        regions = _regions(country)
        if region not in regions:
            raise ScheduleError(
                "checkins.unknown_region",
                country=code,
                calendar=calendar_name(country, None),
                region=region,
                regions=", ".join(regions) or "-",
            )
        return Calendar(country, region, calendar_name(country, region))
    other = None
    if country != "US" and country in _regions("US"):
        other = (f"US-{country}", calendar_name("US", country))
    return Calendar(country, None, calendar_name(country, None), other)


def calendar_name(country: str, region: str | None) -> str:
    """`Canada`, `Illinois (United States)`: a calendar in words, from the holidays package's
    own metadata (its class names and subdivision aliases)."""
    name = _countries().get(country, country)
    if not region:
        return name
    region_name = _region_names(country).get(region, region)
    return f"{region_name} ({name})"


@functools.cache
def _countries() -> dict[str, str]:
    """Country code -> name ("UnitedStates" -> "United States")."""
    from holidays.registry import COUNTRIES

    supported = holidays.list_supported_countries()
    names = {}
    for class_name, alpha2, *_ in COUNTRIES.values():
        if alpha2 in supported:
            names[alpha2] = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)
    return names


@functools.cache
def _alpha3() -> dict[str, str]:
    from holidays.registry import COUNTRIES

    return {entry[2]: entry[1] for entry in COUNTRIES.values() if len(entry) > 2}


@functools.cache
def _regions(country: str) -> tuple[str, ...]:
    return tuple(holidays.list_supported_countries().get(country, ()))


@functools.cache
def _region_names(country: str) -> dict[str, str]:
    """Region code -> its first alias (the English name, in the package's data)."""
    aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {}) or {}
    names: dict[str, str] = {}
    for alias, region in aliases.items():
        names.setdefault(region, alias)
    return names


def next_due(schedule: Schedule, after: datetime) -> datetime:
    """The first check-in strictly after `after` (an aware datetime), in UTC.

    Example:
        next_due(weekly_tuesday_9am_chicago, datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
        -> 2026-03-10 14:00 UTC (09:00 CDT, the week clocks moved)
    """
    zone = schedule.zone
    day = after.astimezone(zone).date() - timedelta(days=LOOKBACK_DAYS)
    for _ in range(SEARCH_DAYS):
        day += timedelta(days=1)
        if not _is_occurrence(schedule, day):
            continue
        moved = _next_working_day(schedule, day)
        due = _local(moved, schedule.local_time, zone)
        if due > after:
            return due.astimezone(ZoneInfo("UTC"))
    raise ScheduleError("checkins.no_next")  # unreachable for the cadences above


def _is_occurrence(schedule: Schedule, day: date) -> bool:
    if day.weekday() != schedule.weekday:
        return False
    if schedule.cadence == "weekly":
        return True
    if schedule.cadence == "biweekly":
        return (day - date.fromisoformat(schedule.anchor)).days % 14 == 0
    first_of_month = day.day <= 7
    if schedule.cadence == "monthly":
        return first_of_month
    return first_of_month and day.month in QUARTER_MONTHS


def _next_working_day(schedule: Schedule, day: date) -> date:
    if schedule.country is None:
        return day
    while True:
        calendar = _holidays(schedule.country, schedule.region, day.year)
        weekend = day.weekday() in calendar.weekend and day.weekday() != schedule.weekday
        if day not in calendar and not weekend:  # the country's own weekend (Fri-Sat in Israel)
            return day
        day += timedelta(days=1)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone`; a time that does not exist (the spring-forward gap) moves on by
    the gap, as clocks do."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(ZoneInfo("UTC")).astimezone(zone)


@functools.lru_cache(maxsize=256)
def _holidays(country: str, region: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=region, years=year)
