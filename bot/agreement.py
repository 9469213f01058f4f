"""The partnering-agreement draft: what the partners settled, item by item, and what they have not.

Pure: no I/O. `build` gathers the draft from a partnership's state; `markdown` and `docx` render
it; `to_settle_lines` is what the conversation lists. Every sentence comes from
`content/prompts/agreement.yaml`, every day a person reads is in the partnership's time zone.

    build(p, content, now)            -> Agreement
    markdown(agreement, content)      -> str
    docx(agreement, content)          -> bytes   (python-docx, imported when called)
    to_settle_lines(agreement, content) -> list[str]   (for the conversation, bounded)

The draft has a cover (the partnership, that it is a draft and from when, the scorecard mode, the
partner organizations with their sectors and representatives, the facilitators), a section per
scorecard family with a heading per item (its agreed decisions, then each organization's rating
and note), what is still to settle, and the agreed decisions linked to no item.

The Word document is what a city attorney or a board edits: Title and Heading 1-3 styles (the
navigation pane and a table of contents work), tables whose header row is marked and repeats
on each page, its title in the document's properties, and nothing said by color.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.content import Content, Family, Item, clip, series
from bot.partnership import Decision, Partnership, Standing, readable_day, short_day
from bot.report import (
    Row,
    docx_bullets,
    docx_bytes,
    docx_table,
    filename,
    legend,
    marked,
    md_table,
    md_text,
    names,
    new_docx,
    standing_words,
    waits_on,
)

KIND = "partnering-agreement-draft"  # in the file name
NOT_IN_PLACE = "not-in-place"  # the rating id that puts an item on the "still to settle" list
CHAT_LINES = 10  # the conversation lists at most this many things still to settle
CHAT_TEXT = 80  # characters of a decision's text in the conversation
# the tables' columns, each named by its prompt `agreement.col_<column>`
RATING_COLUMNS = ("org", "rating", "note", "rated_by", "date")
PARTY_COLUMNS = ("org", "sector", "representatives")


@dataclass(frozen=True)
class ItemView:
    item: Item
    heading: str
    state: str  # one of partnership.STANDINGS
    standing: str  # how it stands, in a sentence
    decisions: tuple[str, ...]  # its agreed decisions, a line each
    ratings: tuple[Row, ...]  # each organization: rating, note, rated by, date


@dataclass(frozen=True)
class FamilyView:
    family: Family
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class Unsettled:
    """One thing still to settle: its line in the draft, and a short one for the conversation.
    `untouched`: an item no organization has rated (the conversation lists those together)."""

    subject: str  # an item or a decision id
    line: str
    short: str
    untouched: bool = False


@dataclass(frozen=True)
class Agreement:
    """What the draft says, gathered once and rendered as Markdown or as a Word document."""

    partnership: Partnership
    now: datetime
    title: str
    day: str  # when it was made, in the partnership's time zone
    header: str  # the Word document's page header
    cover: tuple[str, ...]  # the paragraphs under the title: draft, mode, marks, counts
    summary: str  # the counts, also the conversation's
    parties: tuple[Row, ...]  # organization, sector, representatives
    facilitators: str
    families: tuple[FamilyView, ...]
    open_items: tuple[Unsettled, ...]
    open_decisions: tuple[Unsettled, ...]
    unlinked: tuple[str, ...]  # agreed decisions linked to no scorecard item


def has_ratings(p: Partnership, content: Content) -> bool:
    """Whether any organization has rated a scorecard item: the draft's least to start from."""
    return any(p.org_ratings(item_id) for item_id in content.items)


def file_name(agreement: Agreement, extension: str) -> str:
    """`sacramento-...-partnering-agreement-draft-2026-12-01.docx`"""
    return filename(agreement.partnership, agreement.now, extension, KIND)


def build(p: Partnership, content: Content, now: datetime) -> Agreement:
    """The draft agreement of `p` as it stands at `now`."""
    say = content.prompts.render
    zone = p.zone
    labels = {r.id: r.label for r in content.ratings}
    agreed = [d for d in p.decisions_in_order() if d.status == "agreed"]
    by_item: dict[str, list[Decision]] = {}
    for d in agreed:
        if d.item in content.items:
            by_item.setdefault(d.item, []).append(d)
    families = []
    open_items = []
    counts = {"agreed": 0, "partly": 0, "differs": 0, "not_rated": 0}
    for family in content.families:
        views = []
        for item in family.items:
            standing = p.standing(item.id, content.scale)
            counts[standing.state] += 1
            key = "agreement.item_heading_composed" if item.composed else "agreement.item_heading"
            views.append(
                ItemView(
                    item=item,
                    heading=say(key, question=item.question(p.mode), item=item.id),
                    state=standing.state,
                    standing=standing_words(p, content, standing),
                    decisions=tuple(
                        _decision_line(p, content, d) for d in by_item.get(item.id, ())
                    ),
                    ratings=_rating_rows(p, content, standing),
                )
            )
            unsettled = _open_item(p, content, family, item, standing, labels)
            if unsettled is not None:
                open_items.append(unsettled)
        families.append(FamilyView(family, tuple(views)))
    open_decisions = [
        _open_decision(p, content, d)
        for d in p.decisions_in_order()
        if d.status in ("proposed", "objected")
    ]
    summary = say(
        "agreement.summary",
        total=len(content.items),
        agreed_items=counts["agreed"],
        differ=counts["differs"],
        partly=counts["partly"],
        untouched=counts["not_rated"],
        agreed_decisions=len(agreed),
        unsettled=len(open_items) + len(open_decisions),
    )
    day = readable_day(now, zone)
    cover = [
        say("agreement.draft", day=day, tz=zone.key),
        say("agreement.mode", mode=say(f"scorecard.mode_{p.mode}")),
    ]
    if any(item.composed for item in content.items.values()):
        cover.append(say("agreement.composed"))
    cover.append(summary)
    return Agreement(
        partnership=p,
        now=now,
        day=day,
        title=say("agreement.title", partnership=p.name),
        header=say("agreement.page_header", partnership=p.name, day=day),
        cover=tuple(cover),
        summary=summary,
        parties=_parties(p, content),
        facilitators=_facilitators(p, content),
        families=tuple(families),
        open_items=tuple(open_items),
        open_decisions=tuple(open_decisions),
        unlinked=tuple(
            _decision_line(p, content, d) for d in agreed if d.item not in content.items
        ),
    )


def _parties(p: Partnership, content: Content) -> tuple[Row, ...]:
    say = content.prompts.render
    rows = []
    for key, org in p.orgs.items():
        sector = f"agreement.sector_{org.sector}"
        members = sorted(m.name for m in p.members_of(key))
        rows.append(
            Row(
                (
                    org.name,
                    say(sector) if sector in content.prompts else org.sector,
                    series(members) or say("agreement.no_representatives"),
                )
            )
        )
    return tuple(rows)


def _facilitators(p: Partnership, content: Content) -> str:
    say = content.prompts.render
    people = []
    for user_id, name in sorted(p.facilitators.items(), key=lambda kv: kv[1].lower()):
        org = p.org_of(user_id)
        people.append(
            say("agreement.facilitator", user=name, org=p.orgs[org].name) if org else name
        )
    if not people:
        return say("agreement.no_facilitators")
    return say("agreement.facilitators", facilitators=series(people))


def _rating_rows(p: Partnership, content: Content, standing: Standing) -> tuple[Row, ...]:
    """A row for every partner organization, rated or not, in the partnership's order."""
    say = content.prompts.render
    labels = {r.id: r.label for r in content.ratings}
    blank = say("agreement.blank")
    rows = []
    for key, org in p.orgs.items():
        rating = standing.ratings.get(key)
        if rating is None:
            rows.append(Row((org.name, say("agreement.not_rated"), blank, blank, blank)))
            continue
        rows.append(
            Row(
                (
                    org.name,
                    labels.get(rating.rating, rating.rating),
                    rating.note or blank,
                    rating.by_name,
                    short_day(rating.at, p.zone),
                )
            )
        )
    return tuple(rows)


def _decision_line(p: Partnership, content: Content, d: Decision) -> str:
    """An agreed decision: its text, when it was agreed, and who endorsed it for whom, when."""
    say = content.prompts.render
    order = list(p.orgs)
    endorsed = sorted(
        ((org, s) for org, s in d.stances.items() if s.stance == "endorse"),
        key=lambda pair: (order.index(pair[0]) if pair[0] in order else len(order), pair[0]),
    )
    return say(
        "agreement.decision",
        decision=d.id,
        text=d.text,
        day=readable_day(d.agreed_at or d.created_at, p.zone),
        endorsements=series(
            say(
                "agreement.endorsement",
                org=p.org_name(org),
                user=s.name,
                day=readable_day(s.at, p.zone),
            )
            for org, s in endorsed
        ),
    )


def _open_item(
    p: Partnership,
    content: Content,
    family: Family,
    item: Item,
    standing: Standing,
    labels: dict[str, str],
) -> Unsettled | None:
    """Why an item is still to settle (not rated by every organization, rated Not in place, or
    rated differently), or None when it is settled."""
    say = content.prompts.render
    reasons = []
    if standing.state == "not_rated":
        reasons.append(say("agreement.why_not_rated"))
    elif standing.state == "differs":
        reasons.append(
            say(
                "agreement.why_differs",
                org_ratings="; ".join(
                    say(
                        "agreement.org_rating",
                        org=p.org_name(org),
                        rating=labels.get(r.rating, r.rating),
                    )
                    for org, r in standing.ratings.items()
                ),
            )
        )
    elif standing.low == NOT_IN_PLACE:
        low = [org for org, r in standing.ratings.items() if r.rating == NOT_IN_PLACE]
        reasons.append(
            say(
                "agreement.why_rated_low",
                orgs=names(p, low),
                count=len(low),
                rating=labels.get(NOT_IN_PLACE, NOT_IN_PLACE),
            )
        )
    missing = [key for key in p.orgs if key not in standing.ratings]
    if standing.state != "not_rated" and missing:
        reasons.append(say("agreement.why_partly", orgs=names(p, missing)))
    if not reasons:
        return None
    why = " ".join(reasons)
    line = say(
        "agreement.open_item",
        item=item.id,
        family=family.title,
        question=item.question(p.mode),
        composed=say("agreement.open_composed") if item.composed else "",
        reasons=why,
    )
    short = say("agreement.open_item_short", item=item.marked, reasons=why)
    return Unsettled(item.id, line, short, untouched=standing.state == "not_rated")


def _open_decision(p: Partnership, content: Content, d: Decision) -> Unsettled:
    """A decision waiting on endorsements, or under objection (with each objection)."""
    say = content.prompts.render
    linked = say("agreement.linked", item=d.item) if d.item else ""
    waiting = waits_on(p, content, d)
    short_text = clip(d.text, CHAT_TEXT)
    if d.status == "proposed":
        return Unsettled(
            d.id,
            say(
                "agreement.open_waiting",
                decision=d.id,
                text=d.text,
                linked=linked,
                waiting_on=waiting,
            ),
            say("agreement.open_waiting_short", decision=d.id, text=short_text, waiting_on=waiting),
        )
    objections = "; ".join(
        say(
            "agreement.objection",
            org=p.org_name(org),
            user=s.name,
            day=readable_day(s.at, p.zone),
            reason=s.reason,
        )
        for org, s in d.stances.items()
        if s.stance == "object"
    )
    return Unsettled(
        d.id,
        say(
            "agreement.open_objected",
            decision=d.id,
            text=d.text,
            linked=linked,
            objections=objections,
            waiting_on=waiting,
        ),
        say(
            "agreement.open_objected_short",
            decision=d.id,
            text=short_text,
            objections=names(p, d.objected_by()),
        ),
    )


def to_settle_lines(agreement: Agreement, content: Content) -> list[str]:
    """The conversation's list of what is still to settle, short: the items rated but not
    settled and the open decisions (at most CHAT_LINES, then a count of the rest), then one
    line naming the items nobody has rated, and what the mark on the coach's own items means
    when one is listed."""
    say = content.prompts.render
    listed = [u for u in agreement.open_items if not u.untouched]
    listed += agreement.open_decisions
    lines = ["- " + u.short for u in listed[:CHAT_LINES]]
    if len(listed) > CHAT_LINES:
        lines.append(say("agreement.more_to_settle", count=len(listed) - CHAT_LINES))
    untouched = [u.subject for u in agreement.open_items if u.untouched]
    if untouched:
        lines.append(
            say(
                "agreement.untouched_items",
                count=len(untouched),
                items=series(marked(content, item) for item in untouched),
            )
        )
    shown = [u.subject for u in listed[:CHAT_LINES]] + untouched
    explained = legend(content, shown)
    return [*lines, explained] if explained else lines


# --- the document's outline, rendered as Markdown and as Word ----------------------------------
#
# Both renderers walk the same outline, so the two files say the same things in the same order.
# Heading levels: 0 the title; 1 a section (the partners, a family, still to settle, other
# decisions); 2 an item (or a part of "still to settle"); 3 a part of an item.


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    lines: tuple[str, ...]
    empty: str  # said instead of an empty list


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[Row, ...]


Block = Heading | Paragraph | Bullets | Table


def outline(agreement: Agreement, content: Content) -> list[Block]:
    """The draft's headings, paragraphs, lists and tables, in order."""
    say = content.prompts.render
    not_in_place = {r.id: r.label for r in content.ratings}.get(NOT_IN_PLACE, NOT_IN_PLACE)
    rating_header = tuple(say(f"agreement.col_{c}") for c in RATING_COLUMNS)
    parties_header = tuple(say(f"agreement.col_{c}") for c in PARTY_COLUMNS)
    out: list[Block] = [Heading(0, agreement.title)]
    out += [Paragraph(text) for text in agreement.cover]
    out += [
        Heading(1, say("agreement.h_partners")),
        Table(parties_header, agreement.parties),
        Paragraph(agreement.facilitators),
    ]
    for view in agreement.families:
        out += [Heading(1, view.family.title), Paragraph(view.family.about)]
        for item in view.items:
            out += [
                Heading(2, item.heading),
                Heading(3, say("agreement.h_decisions")),
                Bullets(item.decisions, say("agreement.no_decisions")),
                Heading(3, say("agreement.h_ratings")),
                Paragraph(item.standing),
            ]
            if item.state != "not_rated":
                out.append(Table(rating_header, item.ratings))
    out += [
        Heading(1, say("agreement.h_to_settle")),
        Paragraph(say("agreement.to_settle_intro", not_in_place=not_in_place)),
        Heading(2, say("agreement.h_open_items")),
        Bullets(
            tuple(u.line for u in agreement.open_items),
            say("agreement.nothing_open_items", not_in_place=not_in_place),
        ),
        Heading(2, say("agreement.h_open_decisions")),
        Bullets(
            tuple(u.line for u in agreement.open_decisions),
            say("agreement.nothing_open_decisions"),
        ),
        Heading(1, say("agreement.h_unlinked")),
    ]
    if agreement.unlinked:
        out.append(Paragraph(say("agreement.unlinked_intro")))
    out.append(Bullets(agreement.unlinked, say("agreement.no_unlinked")))
    return out


def markdown(agreement: Agreement, content: Content) -> str:
    """The draft as Markdown: a heading per section and item, lists, and tables; every text
    escaped (`md_text`), so nobody's words turn into Markdown."""
    out = []
    for block in outline(agreement, content):
        if isinstance(block, Heading):
            out.append("#" * (block.level + 1) + " " + md_text(block.text))
        elif isinstance(block, Paragraph):
            out.append(md_text(block.text))
        elif isinstance(block, Bullets):
            lines = "\n".join(f"- {md_text(line)}" for line in block.lines)
            out.append(lines or md_text(block.empty))
        else:
            out.append(md_table(block.header, block.rows))
    return "\n\n".join(out) + "\n"


def docx(agreement: Agreement, content: Content) -> bytes:
    """The draft as a Word document: Title and Heading 1-3 styles, tables with a marked header
    row, its title in the document's properties, and the draft's name in every page's header."""
    doc = new_docx(agreement.title, content.prompts.render("agreement.subject"))
    doc.sections[0].header.paragraphs[0].text = agreement.header
    for block in outline(agreement, content):
        if isinstance(block, Heading):
            doc.add_heading(block.text, level=block.level)
        elif isinstance(block, Paragraph):
            doc.add_paragraph(block.text)
        elif isinstance(block, Bullets):
            docx_bullets(doc, list(block.lines), block.empty)
        else:
            docx_table(doc, block.header, block.rows)
    return docx_bytes(doc)
