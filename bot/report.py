"""The partnership's progress report, for people who circulate it: Markdown and a Word document.

Pure: no I/O. `build` gathers what the report says from a partnership's state and its streams;
`markdown` and `docx` render it. Every sentence comes from `content/prompts/report.yaml`, and
every time a person reads is in the partnership's time zone (tables keep an ISO 8601 column too).

    build(p, content, decision_log, journal, now, since)   -> Report
    markdown(report, content)                              -> str   (check-ins attach this)
    docx(report, content)                                  -> bytes (on demand: charts, slower)

The Word document is accessible: real headings, tables whose first row is a header row
repeated on each page, alt text on every chart, and nothing said by color alone (values,
baseline and target differ by line style and marker as well, and the chart's legend names them).
matplotlib is imported only when a chart is drawn, so nothing else pays for it.

The partnering-agreement draft (bot/agreement.py) is made with the same parts: `filename`,
`Row`, `md_text` (the one Markdown escape, which the decision log's export uses too),
`md_table`, `new_docx`, `docx_table` (its header row marked as one), `docx_bullets`.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.content import Content, series
from bot.partnership import (
    STATUSES,
    Decision,
    Measure,
    Partnership,
    Standing,
    local,
    number,
    readable_day,
    readable_time,
    short_day,
)
from bot.store import Entry

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
KIND = "progress-report"  # in the file name
CHART_WIDTH_IN = 6.0
CHART_SIZE_IN = (6.4, 3.0)
CHART_DPI = 110
MAX_TICKS = 7
# the tables' columns, each named by its prompt `report.col_<column>`
SCORECARD_COLUMNS = ("item", "org", "rating", "note", "rated_by", "date")
VALUES_COLUMNS = ("date", "value", "reported_by", "progress", "iso")
DECISIONS_COLUMNS = ("decision", "text", "endorsed_by", "objections", "waits_on")


@dataclass(frozen=True)
class Row:
    """One row of a table: the cells as people read them."""

    cells: tuple[str, ...]


@dataclass(frozen=True)
class MeasureView:
    measure: Measure
    org: str
    progress: str  # one of partnership.PROGRESS
    facts: str  # baseline, target, owner and where it stands, in one sentence
    rows: tuple[Row, ...]  # date, value, reporter, progress, ISO time: the period's reports


@dataclass(frozen=True)
class Moved:
    """What moved, a line each, and the legend of the mark on items that are the coach's own
    when a line carries it ("" when none does)."""

    lines: tuple[str, ...]
    legend: str = ""


@dataclass
class Report:
    """What the report says, gathered once and rendered as Markdown or as a Word document."""

    partnership: Partnership
    zone: ZoneInfo
    now: datetime
    since: datetime | None  # the period's start; None: the whole partnership
    title: str
    as_of: str
    summary: str
    decisions: dict[str, list[str]] = field(default_factory=dict)  # status -> Markdown lines
    scorecard: list[Row] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    scorecard_legend: str = ""  # explains the mark on the coach's own items, when one is listed
    measures: list[MeasureView] = field(default_factory=list)
    moved: Moved = field(default_factory=lambda: Moved(()))
    still_open: list[str] = field(default_factory=list)


class Facts:
    """What a report (and the check-in that carries it) reads many times, worked out once: each
    decision's status and what it waits on, the organizations nobody represents, the words for
    each kind of progress. Valid while the partnership it was made from does not change."""

    def __init__(self, p: Partnership, content: Content) -> None:
        self.p = p
        self.content = content
        self.decisions = p.decisions_in_order()
        self.status = {d.id: d.status for d in self.decisions}
        self.absent = set(p.orgs_without_members())
        self._waits: dict[str, str] = {}
        self._words: dict[str, str] = {}

    def waits_on(self, d: Decision) -> str:
        found = self._waits.get(d.id)
        if found is None:
            found = self._waits[d.id] = waits_on(self.p, self.content, d, self.absent)
        return found

    def progress_words(self, progress: str) -> str:
        found = self._words.get(progress)
        if found is None:
            found = self._words[progress] = progress_words(self.content, progress)
        return found


def filename(p: Partnership, now: datetime, extension: str, kind: str = KIND) -> str:
    """A document's file name: the partnership, the kind of document and the day, in plain
    ASCII (`sacramento-collaborative-progress-report-2026-04-14.docx`); never an internal id."""
    ascii_name = unicodedata.normalize("NFKD", p.name or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-")
    day = local(now, p.zone).date().isoformat()
    return f"{slug or 'partnership'}-{kind}-{day}.{extension}"


def unused_path(path: Path) -> Path:
    """`path`, or, when a file is there already (an earlier export that day), the first of
    `name-2.ext`, `name-3.ext` … that is free: an export never overwrites another."""
    n, found = 1, path
    while found.exists():
        n += 1
        found = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return found


def build(
    p: Partnership,
    content: Content,
    decision_log: list[Entry],
    journal: list[Entry],
    now: datetime,
    since: datetime | None = None,
    *,
    moved: Moved | None = None,
    facts: Facts | None = None,
) -> Report:
    """The report on `p` at `now`. `since` limits the measures' values and "what moved" to a
    period; without it, "what moved" is what happened since the last check-in. `moved` passes
    lines the caller composed already (a check-in's own), `facts` what it worked out."""
    say = content.prompts.render
    zone = p.zone
    facts = facts or Facts(p, content)
    decisions = facts.decisions
    measures = p.measures_in_order()
    by_status: dict[str, list[Decision]] = {s: [] for s in STATUSES}
    for d in decisions:
        by_status[facts.status[d.id]].append(d)
    views = [_measure_view(facts, m, zone, since) for m in measures]
    on_track = sum(1 for v in views if v.progress in {"reached", "exceeded", "on_the_way"})
    unreported = sum(1 for v in views if v.progress == "not_reported")
    rated = sum(1 for item in content.items if p.org_ratings(item))
    summary = " ".join(
        (
            say(
                "report.summary_decisions" if decisions else "report.summary_no_decisions",
                partnership=p.name,
                count=len(decisions),
                agreed=len(by_status["agreed"]),
                waiting=len(by_status["proposed"]),
                objected=len(by_status["objected"]),
            ),
            say("report.summary_scorecard", rated=rated, total=len(content.items)),
            say(
                "report.summary_measures" if views else "report.summary_no_measures",
                measure_count=len(views),
                on_track=on_track,
                off_track=len(views) - on_track - unreported,
                unreported=unreported,
            ),
        )
    )
    report = Report(
        partnership=p,
        zone=zone,
        now=now,
        since=since,
        title=say("report.title", partnership=p.name),
        as_of=say(
            "report.as_of_period" if since else "report.as_of",
            at=readable_time(now, zone),
            since=readable_day(since, zone) if since else "",
            tz=zone.key,
        ),
        summary=summary,
    )
    for status, listed in by_status.items():
        report.decisions[status] = [_decision_line(facts, d) for d in listed]
    report.scorecard, report.differences, report.scorecard_legend = _scorecard(p, content, zone)
    report.measures = views
    if moved is None:
        moved = moved_lines(p, content, decision_log, journal, zone, since)
    report.moved = moved
    report.still_open = open_lines(facts)
    return report


def decision_rows(p: Partnership, content: Content, status: str) -> list[Row]:
    """The Word document's table rows for the decisions of one status."""
    say = content.prompts.render
    rows = []
    for d in p.decisions_in_order():
        if d.status != status:
            continue
        objections = "; ".join(
            say("report.objection_cell", org=p.org_name(o), user=s.name, reason=s.reason)
            for o, s in d.stances.items()
            if s.stance == "object"
        )
        rows.append(
            Row(
                (
                    d.id,
                    d.text,
                    names(p, d.endorsed_by()) or say("decisions.nobody"),
                    objections or say("decisions.nobody"),
                    waits_on(p, content, d),
                )
            )
        )
    return rows


def names(p: Partnership, orgs: Iterable[str]) -> str:
    """Organization names in the partnership's order, as a sentence lists them: `A`,
    `A and B`, `A, B and C`."""
    return series(names_in_order(p, orgs))


def names_in_order(p: Partnership, orgs: Iterable[str]) -> list[str]:
    """Organization names in the partnership's order (then any that left since, by key)."""
    order = list(p.orgs)
    ranked = sorted(orgs, key=lambda o: (order.index(o) if o in order else len(order), o))
    return [p.org_name(o) for o in ranked]


def waits_on(p: Partnership, content: Content, d: Decision, absent: set[str] | None = None) -> str:
    """What a decision waits on, in words: nothing; a revision (it is objected to); or the
    organizations still to endorse, naming those with nobody here (`absent`, when known)."""
    say = content.prompts.render
    status = d.status
    if status in ("agreed", "withdrawn"):
        return say("report.waits_on_nothing")
    if status == "objected":
        objecting = d.objected_by()
        return say("report.waits_on_revision", orgs=names(p, objecting), count=len(objecting))
    if absent is None:
        absent = set(p.orgs_without_members())
    endorsed = d.endorsed_by()
    waiting = [key for key in p.orgs if key not in endorsed]
    parts = [
        say("report.org_absent", org=p.orgs[key].name) if key in absent else p.orgs[key].name
        for key in waiting
    ]
    return series(parts) or say("decisions.nobody")


def _decision_line(facts: Facts, d: Decision) -> str:
    p, say = facts.p, facts.content.prompts.render
    line = say(
        "report.decision_line",
        decision=d.id,
        text=d.text,
        endorsed_by=names(p, d.endorsed_by()) or say("decisions.nobody"),
        waiting_on=facts.waits_on(d),
    )
    for org, stance in d.stances.items():
        if stance.stance == "object":
            line += "\n" + say(
                "report.objection_line", org=p.org_name(org), user=stance.name, reason=stance.reason
            )
    return line


def _scorecard(
    p: Partnership, content: Content, zone: ZoneInfo
) -> tuple[list[Row], list[str], str]:
    """A row per organization's latest rating of each item (rating, note, who, when), the
    items on which the organizations' ratings differ, and the legend of the mark they carry."""
    say = content.prompts.render
    labels = {r.id: r.label for r in content.ratings}
    rows = []
    differences = []
    for item in content.items.values():
        standing = p.standing(item.id, content.scale)
        for org, rating in standing.ratings.items():
            rows.append(
                Row(
                    (
                        item.marked,
                        p.org_name(org),
                        labels.get(rating.rating, rating.rating),
                        rating.note or "-",
                        rating.by_name,
                        short_day(rating.at, zone),
                    )
                )
            )
        if standing.state == "differs":
            differences.append(
                say(
                    "report.difference_line",
                    item=item.marked,
                    org_ratings="; ".join(
                        say(
                            "report.org_rating",
                            org=p.org_name(org),
                            rating=labels.get(r.rating, r.rating),
                        )
                        for org, r in standing.ratings.items()
                    ),
                )
            )
    rated = [item_id for item_id in content.items if p.org_ratings(item_id)]
    return rows, differences, legend(content, rated)


def legend(content: Content, item_ids: Iterable[str]) -> str:
    """The sentence that explains the mark on items that are the coach's own, when any of
    `item_ids` is one ("" when none is): a symbol is explained wherever it appears."""
    if any(content.items[i].composed for i in item_ids if i in content.items):
        return content.prompts.render("scorecard.composed_marker").strip()
    return ""


def marked(content: Content, item_id: str) -> str:
    """An item's id as lists show it (`Item.marked`); an id no longer in the content as it is."""
    item = content.items.get(item_id)
    return item.marked if item else item_id


def standing_words(
    p: Partnership, content: Content, standing: Standing, wording: str = "agreement"
) -> str:
    """How an item stands across the organizations, in a sentence: agreed at a rating; the
    organizations differ, from what to what; some have rated it so far; or none has. Worded by
    the prompts `<wording>.standing_<state>` (the agreement's, or the scorecard's in chat)."""
    labels = {r.id: r.label for r in content.ratings}
    low, high = standing.low or "", standing.high or ""
    return content.prompts.render(
        f"{wording}.standing_{standing.state}",
        rating=labels.get(low, low),
        low=labels.get(low, low),
        high=labels.get(high, high),
        rated=len(standing.ratings),
        total=len(p.orgs),
    )


def amount(content: Content, value: float, unit: str) -> str:
    """`15 days`, or `15` for a measure without a unit."""
    if unit:
        return content.prompts.render("report.amount", value=number(value), unit=unit)
    return number(value)


def _amounts(content: Content, unit: str) -> tuple[str, str]:
    """What goes before and after a value of this unit (`amount` once, for many values)."""
    if not unit:
        return "", ""
    before, _, after = content.prompts.render("report.amount", value="\0", unit=unit).partition(
        "\0"
    )
    return before, after


def progress_words(content: Content, progress: str) -> str:
    return content.prompts.render(f"report.progress_{progress}")


def _measure_view(facts: Facts, m: Measure, zone: ZoneInfo, since: datetime | None) -> MeasureView:
    p, content = facts.p, facts.content
    say = content.prompts.render
    progress = m.progress()
    org = p.org_name(m.owner)
    latest = m.latest
    before, after = _amounts(content, m.unit)
    sentence = say(
        "report.measure_facts" if latest is not None else "report.measure_facts_unreported",
        baseline=before + number(m.baseline) + after,
        target=before + number(m.target) + after,
        org=org,
        value=before + number(latest) + after if latest is not None else "",
        trend=facts.progress_words(progress),
    )
    cutoff = since.isoformat() if since else ""
    rows = tuple(
        Row(
            (
                short_day(r.at, zone),
                before + number(r.value) + after,
                r.by_name,
                facts.progress_words(m.progress(i)),
                r.at,
            )
        )
        for i, r in enumerate(m.reports)
        if r.at >= cutoff
    )
    return MeasureView(m, org, progress, sentence, rows)


def alt_text(content: Content, view: MeasureView, zone: ZoneInfo, since: datetime | None) -> str:
    """What a measure's chart shows, in words: its text alternative ("" with nothing to chart).
    Only the Word document needs it, so a check-in never works it out."""
    m = view.measure
    cutoff = since.isoformat() if since else ""
    shown = [r for r in m.reports if r.at >= cutoff]
    if not shown:
        return ""
    say = content.prompts.render
    return say(
        "report.chart_alt",
        measure=m.name,
        count=len(shown),
        first_day=readable_day(shown[0].at, zone),
        last_day=readable_day(shown[-1].at, zone),
        values=", ".join(number(r.value) for r in shown),
        unit=m.unit or say("report.no_unit"),
        baseline=number(m.baseline),
        target=number(m.target),
        trend=progress_words(content, view.progress),
    )


def moved_lines(
    p: Partnership,
    content: Content,
    decision_log: list[Entry],
    journal: list[Entry],
    zone: ZoneInfo,
    since: datetime | None = None,
    *,
    last: dict[str, str] | None = None,
) -> Moved:
    """What moved: decisions agreed, proposed and objected to, items rated (by which
    organizations, and how each stands now), measures reported, each once. Since `since` when
    given; else after the stream ids of the last check-in (or `last`); the entries passed may
    be all of them or only the newer ones."""
    say = content.prompts.render
    if since is not None:
        cutoff = since.isoformat()
        new_decisions = [e for e in decision_log if e.get("at", "") >= cutoff]
        new_journal = [e for e in journal if e.get("at", "") >= cutoff]
    else:
        mark = p.last_checkin if last is None else last
        new_decisions = after(decision_log, (mark or {}).get("decision_log"))
        new_journal = after(journal, (mark or {}).get("journal"))
    lines: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for e in new_decisions:
        d = p.decisions.get(e.get("decision", ""))
        act = str(e.get("act"))
        key = (act, d.id if d else "", e.get("org", "") if act == "object" else "")
        if d is None or key in seen:
            continue
        if act == "agreed" and d.status == "agreed":
            lines.append(say("checkins.moved_agreed", decision=d.id, text=d.text))
        elif act == "propose" and d.status == "proposed":
            lines.append(say("checkins.moved_proposed", decision=d.id, text=d.text))
        elif act == "object" and d.status == "objected":
            lines.append(
                say(
                    "checkins.moved_objected",
                    decision=d.id,
                    text=d.text,
                    org=e.get("org_name") or p.org_name(e.get("org", "")),
                    reason=e.get("reason", ""),
                )
            )
        else:
            continue
        seen.add(key)
    rated: dict[str, set[str]] = {}  # item -> the organizations that rated it
    for e in new_journal:
        if e.get("type") == "rating":
            by = e.get("org") or p.org_of(e.get("by", "")) or e.get("by", "")
            rated.setdefault(e["item"], set()).add(by)
    lines += [
        say(
            "checkins.moved_rated",
            item=marked(content, item),
            orgs=names(p, orgs),
            standing=standing_words(p, content, p.standing(item, content.scale)),
        )
        for item, orgs in rated.items()
    ]
    for e in new_journal:
        if e.get("type") != "measure-report":
            continue
        m = p.measures.get(e["measure"].lower())
        unit = m.unit if m else ""
        lines.append(
            say(
                "checkins.moved_measure",
                measure=e["measure"],
                value=amount(content, float(e["value"]), unit),
                org=p.org_name(e["org"]),
                user=e.get("name") or _member_name(p, e.get("by", "")),
                day=readable_day(e["at"], zone),
            )
        )
    return Moved(tuple(lines), legend(content, rated))


def _member_name(p: Partnership, user_id: str) -> str:
    member = p.members.get(user_id)
    return member.name if member else user_id


def open_lines(facts: Facts) -> list[str]:
    """Each decision not yet agreed, and what it waits on."""
    say = facts.content.prompts.render
    return [
        say("report.open_line", decision=d.id, text=d.text, waiting_on=facts.waits_on(d))
        for d in facts.decisions
        if facts.status[d.id] in ("proposed", "objected")
    ]


def after(entries: list[Entry], last_id: str | None) -> list[Entry]:
    """The stream entries newer than `last_id` (all of them without one)."""
    if not last_id:
        return entries
    last = _stream_id(last_id)
    return [e for e in entries if _stream_id(e["_id"]) > last]


def _stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


# --- Markdown ----------------------------------------------------------------------------------


def markdown(report: Report, content: Content) -> str:
    """The report as Markdown: headings, lists, and a table per measure (with an ISO column).
    Every text in it is escaped (`md_text`), so nobody's words turn into Markdown."""
    say = content.prompts.render
    out: list[str] = []

    def heading(level: int, text: str) -> None:
        out.append("#" * level + " " + md_text(text))

    def text(*texts: str) -> None:
        out.extend(md_text(t) for t in texts if t)

    def bullets(lines: Sequence[str], empty: str) -> None:
        out.append(md_lines(lines) if lines else md_text(empty))

    heading(1, report.title)
    text(report.as_of)
    heading(2, say("report.h_summary"))
    text(report.summary)
    heading(2, say("report.h_decisions"))
    for status in ("objected", "proposed", "agreed", "withdrawn"):
        lines = report.decisions.get(status, [])
        heading(3, say(f"report.h_{status}", count=len(lines)))
        bullets(lines, say("report.none"))
    heading(2, say("report.h_scorecard"))
    text(
        say(
            "report.scorecard_coverage",
            rated=len({row.cells[0] for row in report.scorecard}),
            total=len(content.items),
        )
    )
    if report.scorecard:
        out.append(md_table(_header(content, SCORECARD_COLUMNS), report.scorecard))
    if report.differences:
        out.append(md_text(say("report.differences_intro")) + "\n" + md_lines(report.differences))
    text(report.scorecard_legend)
    heading(2, say("report.h_measures"))
    if not report.measures:
        text(say("report.summary_no_measures"))
    header = _header(content, VALUES_COLUMNS)
    for view in report.measures:
        heading(3, view.measure.name)
        text(view.facts)
        if view.rows:
            out.append(md_table(header, view.rows))
        elif view.measure.reports:
            text(say("report.none_in_period"))
    heading(2, say("report.h_moved_period" if report.since else "report.h_moved"))
    bullets(report.moved.lines, say("report.nothing_moved"))
    text(report.moved.legend)
    heading(2, say("report.h_open"))
    bullets(report.still_open, say("report.nothing_open"))
    return "\n\n".join(out) + "\n"


# emphasis, code, links, HTML, table cells, headings, strikethrough, entities; `_` inside a word
# (`chamber_rep`) is no emphasis, and stays as it is
_MD_SYNTAX = re.compile(r"[\\`*\[\]<>|~#]|(?<![^\W_])_|_(?![^\W_])|&(?=#?\w+;)")
_MD_LINE_START = re.compile(r"^(\s*\d*)((?<=\d)[.)]|(?<!\d)[-+=])", re.MULTILINE)  # list, heading
_MD_BULLET = re.compile(r"(\s*- )?(.*)")


def md_text(text: str) -> str:
    """`text` as Markdown shows it, character for character: what Markdown would read as
    syntax (emphasis, code, links, HTML, table cells, headings, strikethrough, entities, a list
    marker starting a line) is escaped, so `*pending*` stays `*pending*`. The Markdown
    documents pass every text through it: people's notes, decisions and names, and the
    prompts' words around them."""
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), _md_inline(text))


def _md_inline(text: str) -> str:
    """`md_text` inside a table cell, where nothing starts a block."""
    return _MD_SYNTAX.sub(lambda m: "\\" + m.group(0), text)


def md_lines(lines: Iterable[str]) -> str:
    """Lines that start with their own list marker (`- `, `  - `, from the prompts), with the
    text after it escaped (`md_text`)."""
    out = []
    for line in "\n".join(lines).split("\n"):
        bullet, text = _MD_BULLET.fullmatch(line).groups()  # type: ignore[union-attr]
        out.append((bullet or "") + md_text(text))
    return "\n".join(out)


def md_table(header: tuple[str, ...], rows: Iterable[Row]) -> str:
    """A table, every cell escaped (`md_text`) and on one line."""

    def cells(texts: Iterable[str]) -> str:
        return "| " + " | ".join(_md_inline(t).replace("\n", " ") for t in texts) + " |"

    lines = [cells(header), "|" + "---|" * len(header)]
    lines += [cells(row.cells) for row in rows]
    return "\n".join(lines)


def _header(content: Content, columns: tuple[str, ...]) -> tuple[str, ...]:
    """A table's header row: each column's name (`report.col_<column>`)."""
    return tuple(content.prompts.render(f"report.col_{c}") for c in columns)


# --- Word --------------------------------------------------------------------------------------


def docx(report: Report, content: Content) -> bytes:
    """The report as a Word document, with a chart per measure that has values."""
    from docx.shared import Inches

    say = content.prompts.render
    doc = new_docx(report.title, say("report.h_summary"))
    doc.add_heading(report.title, level=0)
    doc.add_paragraph(report.as_of)
    doc.add_heading(say("report.h_summary"), level=1)
    doc.add_paragraph(report.summary)

    doc.add_heading(say("report.h_decisions"), level=1)
    p = report.partnership
    for status in ("objected", "proposed", "agreed", "withdrawn"):
        rows = decision_rows(p, content, status)
        doc.add_heading(say(f"report.h_{status}", count=len(rows)), level=2)
        if rows:
            docx_table(doc, _header(content, DECISIONS_COLUMNS), rows)
        else:
            doc.add_paragraph(say("report.none"))

    doc.add_heading(say("report.h_scorecard"), level=1)
    doc.add_paragraph(
        say(
            "report.scorecard_coverage",
            rated=len({row.cells[0] for row in report.scorecard}),
            total=len(content.items),
        )
    )
    if report.scorecard:
        docx_table(doc, _header(content, SCORECARD_COLUMNS), report.scorecard)
    if report.differences:
        doc.add_paragraph(say("report.differences_intro"))
        for line in report.differences:
            doc.add_paragraph(line.removeprefix("- "), style="List Bullet")
    if report.scorecard_legend:
        doc.add_paragraph(report.scorecard_legend)

    doc.add_heading(say("report.h_measures"), level=1)
    if not report.measures:
        doc.add_paragraph(say("report.summary_no_measures"))
    header = _header(content, VALUES_COLUMNS)
    for view in report.measures:
        doc.add_heading(view.measure.name, level=2)
        doc.add_paragraph(view.facts)
        if not view.rows:
            if view.measure.reports:
                doc.add_paragraph(say("report.none_in_period"))
            continue
        alt = alt_text(content, view, report.zone, report.since)
        picture = chart_png(view, report, content)
        doc.add_picture(io.BytesIO(picture), width=Inches(CHART_WIDTH_IN))
        _describe_last_picture(doc, alt, say("report.chart_title", measure=view.measure.name))
        doc.add_paragraph(alt)  # the same words for everyone, not only screen readers
        docx_table(doc, header, view.rows)

    doc.add_heading(say("report.h_moved_period" if report.since else "report.h_moved"), level=1)
    docx_bullets(doc, report.moved.lines, say("report.nothing_moved"))
    if report.moved.legend:
        doc.add_paragraph(report.moved.legend)
    doc.add_heading(say("report.h_open"), level=1)
    docx_bullets(doc, report.still_open, say("report.nothing_open"))
    return docx_bytes(doc)


def new_docx(title: str, subject: str) -> Any:
    """An empty Word document whose properties say what it is: title, subject, en-US."""
    from docx import Document

    doc = Document()
    props = doc.core_properties
    props.title = title
    props.subject = subject
    props.language = "en-US"
    return doc


def docx_bytes(doc: Any) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def docx_bullets(doc: Any, lines: Sequence[str], empty: str) -> None:
    if not lines:
        doc.add_paragraph(empty)
    for line in lines:
        doc.add_paragraph(line.removeprefix("- "), style="List Bullet")


def docx_table(doc: Any, header: tuple[str, ...], rows: Iterable[Row]) -> None:
    """A table whose first row is a real header row (repeated on each page; read as headers)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    listed = list(rows)
    table = doc.add_table(rows=1 + len(listed), cols=len(header))
    table.style = "Table Grid"
    first = table.rows[0]
    tr_pr = first._tr.get_or_add_trPr()
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    tr_pr.append(marker)
    for cell, text in zip(first.cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
    for row, values in zip(table.rows[1:], listed, strict=True):
        for cell, text in zip(row.cells, values.cells, strict=True):
            cell.text = text


def _describe_last_picture(doc: Any, alt: str, title: str) -> None:
    """Set the alt text (docPr descr) of the picture just added."""
    from docx.oxml.ns import qn

    props = doc.element.body.findall(".//" + qn("wp:docPr"))
    props[-1].set("descr", alt)
    props[-1].set("title", title)


def chart_png(view: MeasureView, report: Report, content: Content) -> bytes:
    """A line chart of a measure's values against its baseline and target, as PNG. The three
    differ by line style and marker, not only color, and the legend names them."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    say = content.prompts.render
    m = view.measure
    cutoff = report.since.isoformat() if report.since else ""
    shown = [r for r in m.reports if r.at >= cutoff]
    days = [local(r.at, report.zone) for r in shown]
    when = [d.timestamp() / 86400 for d in days]  # days since 1970: the x axis
    values = [r.value for r in shown]
    figure = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI)
    axes = figure.subplots()
    axes.plot(
        when, values, color="#1f4e79", marker="o", linestyle="-", linewidth=2,
        label=say("report.chart_values"),
    )  # fmt: skip
    axes.axhline(
        m.baseline, color="#595959", linestyle="--", linewidth=1.5,
        label=say("report.chart_baseline", value=number(m.baseline)),
    )  # fmt: skip
    axes.axhline(
        m.target, color="#7f3f00", linestyle=":", linewidth=2,
        label=say("report.chart_target", value=number(m.target)),
    )  # fmt: skip
    if len(set(when)) == 1:  # one day: give the axis a range around it
        axes.set_xlim(when[0] - 1, when[0] + 1)
    every = max(1, -(-len(when) // MAX_TICKS))  # at most MAX_TICKS labeled days
    axes.set_xticks(when[::every])
    axes.set_xticklabels(
        [short_day(d, report.zone) for d in days[::every]], rotation=30, ha="right", fontsize=8
    )
    # a plain text, not set_title: placing a title measures every tick label on each draw
    figure.text(0.55, 0.95, m.name, fontsize=11, ha="center", va="center")
    axes.set_ylabel(m.unit or say("report.no_unit_axis"))
    axes.grid(True, linestyle=":", linewidth=0.5)
    axes.legend(loc="best", fontsize=8, frameon=True)
    axes.tick_params(axis="y", labelsize=8)
    # fixed margins: tight_layout would measure every label first, a quarter of the chart's time
    figure.subplots_adjust(left=0.13, right=0.98, top=0.9, bottom=0.24)
    out = io.BytesIO()
    figure.savefig(out, format="png", pil_kwargs={"compress_level": 3})
    return out.getvalue()
