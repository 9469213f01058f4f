"""Issue 10: the partnering-agreement draft, built from the partners' own record.

A console session with three organizations rates items (alike, differently, Not in place),
agrees one decision linked to an item and one linked to none, objects to another and leaves a
fourth waiting; the draft is then read back as a Word document (python-docx) and as Markdown,
delivered into a Slack thread at the stand-in Slack API, and linked from Teams. Expected
sentences are rendered from the content, so the wording can change without these tests.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from docx import Document
from docx.oxml.ns import qn

from bot import agreement
from bot.config import Settings
from bot.content import Content
from bot.model import Address
from bot.partnership import Partnership
from tests.conftest import said
from tests.test_slack import slack  # noqa: F401  (the Slack stand-in fixture)

HERE = Address("console", "local", "partnership")
NAME = "Sacramento Transportation & Air Quality Collaborative"
SLUG = "sacramento-transportation-air-quality-collaborative"
REPRESENTATIVES = "Each partner names one representative and one alternate by May 1"
MINUTES = "Publish the minutes within a week of each meeting"
MONTHLY = "Meet monthly"
DASHBOARD = "Share one dashboard"
OBJECTION = "Too often for the council calendar"

RECORD = f"""
city_lead: checkins weekly tue 09:00 America/Chicago
city_lead: rate who.representatives partial "City still naming its alternate"
chamber_rep: rate who.representatives in-place
ngo_rep: rate who.representatives in-place
city_lead: rate who.partners in-place
chamber_rep: rate who.partners in-place
ngo_rep: rate who.partners in-place "Missions attached"
ngo_rep: rate why.vision not-in-place
chamber_rep: decide "{REPRESENTATIVES}" --item who.representatives
city_lead: endorse D1
chamber_rep: endorse D1
ngo_rep: endorse D1
ngo_rep: decide "{MONTHLY}"
city_lead: object D2 "{OBJECTION}"
chamber_rep: decide "{MINUTES}"
city_lead: endorse D3
chamber_rep: endorse D3
ngo_rep: endorse D3
chamber_rep: decide "{DASHBOARD}" --item what.indicators
chamber_rep: endorse D4
"""



@pytest.fixture
async def recorded(three_partners, tmp_path):
    """Three organizations with a record to draft from; files go to tmp."""
    convo = three_partners
    convo.channel.files = tmp_path / "files"
    await convo.script(RECORD)
    return convo


async def partnership(store) -> Partnership:
    return (await store.load(HERE, with_history=True)).partnership


def docx_of(out: str, folder: Path) -> Document:
    (name,) = re.findall(r"--- (\S+\.docx): saved as", out)
    return Document(str(folder / name))


def sections(paragraphs: list[tuple[str, str]], style: str, text: str) -> list[str]:
    """The texts after the heading (`style`, `text`) up to the next heading of its level or
    above."""
    levels = ("Title", "Heading 1", "Heading 2", "Heading 3")
    start = paragraphs.index((style, text)) + 1
    found = []
    for s, t in paragraphs[start:]:
        if s in levels and levels.index(s) <= levels.index(style):
            break
        found.append(t)
    return found


def heading_of(content: Content, item_id: str, mode: str = "drafting") -> str:
    item = content.items[item_id]
    key = "agreement.item_heading_composed" if item.composed else "agreement.item_heading"
    return said(content, key, question=item.question(mode), item=item_id)


# --- the Word document -----------------------------------------------------------------------


async def test_the_word_draft_has_every_family_the_agreed_decision_and_what_is_left(
    recorded, content, tmp_path
):
    out = await recorded("ngo_rep: export agreement docx")
    assert said(content, "agreement.ready_docx", partnership=NAME, filename="x").split("(")[0] in out
    assert f"{SLUG}-partnering-agreement-draft-2026-04-14.docx" in out  # the name, not an id
    doc = docx_of(out, tmp_path / "files")
    paragraphs = [(p.style.name, p.text) for p in doc.paragraphs]
    title = said(content, "agreement.title", partnership=NAME)

    # real heading styles: the built-in Title and Heading 1-3, which Word's navigation pane reads
    headings = [(s, t) for s, t in paragraphs if s.startswith(("Title", "Heading"))]
    assert headings[0] == ("Title", title)
    assert {s for s, _ in headings} == {"Title", "Heading 1", "Heading 2", "Heading 3"}
    for p in doc.paragraphs:
        if p.style.name.startswith("Heading"):
            assert p.style.builtin and p.style.style_id == p.style.name.replace(" ", "")
    family_headings = [t for s, t in headings if s == "Heading 1"]
    for family in content.families:  # Who? Why? What? When? How? What if?
        assert family.title in family_headings
    assert len(content.families) == 6
    items = [t for s, t in headings if s == "Heading 2"]
    for item_id in content.items:
        assert heading_of(content, item_id) in items
    assert "coach's own question" in heading_of(content, "when.timeline")  # composed: marked
    assert "coach's own question" not in heading_of(content, "who.representatives")

    # the cover: a draft, from when, the mode, the partners and who represents them
    cover = sections(paragraphs, "Title", title)
    assert said(content, "agreement.draft", day="Tuesday, April 14, 2026", tz="America/Chicago") in cover
    assert said(content, "agreement.mode", mode=said(content, "scorecard.mode_drafting")) in cover
    partners = doc.tables[0]
    assert [c.text for c in partners.rows[0].cells] == [
        said(content, f"agreement.col_{c}") for c in ("org", "sector", "representatives")
    ]
    assert [c.text for c in partners.rows[2].cells] == [
        "Metro Chamber", said(content, "agreement.sector_business"), "chamber_rep",
    ]  # fmt: skip
    assert said(
        content, "agreement.facilitators",
        facilitators=said(content, "agreement.facilitator", user="city_lead", org="City of Sacramento"),
    ) in sections(paragraphs, "Heading 1", said(content, "agreement.h_partners"))  # fmt: skip

    # the agreed decision under its item, with who endorsed it for whom and when
    under = "\n".join(sections(paragraphs, "Heading 2", heading_of(content, "who.representatives")))
    assert f'D1 "{REPRESENTATIVES}"' in under
    assert "Clean Air Coalition (ngo_rep, Tuesday, April 14, 2026)" in under
    assert said(content, "agreement.standing_differs", low="Partially in place", high="Fully in place") in under
    assert MINUTES not in under and DASHBOARD not in under  # not agreed, or about another item
    ratings = next(
        t for t in doc.tables if any("City still naming its alternate" in c.text for c in t._cells)
    )
    assert [c.text for c in ratings.rows[1].cells] == [
        "City of Sacramento", "Partially in place", "City still naming its alternate",
        "city_lead", "Apr 14, 2026",
    ]  # fmt: skip
    agreed_item = "\n".join(sections(paragraphs, "Heading 2", heading_of(content, "who.partners")))
    assert said(content, "agreement.standing_agreed", rating="Fully in place") in agreed_item

    # still to settle: the differing item, the one rated Not in place, the objection, the wait
    to_settle = "\n".join(sections(paragraphs, "Heading 1", said(content, "agreement.h_to_settle")))
    assert "who.representatives (Who?)" in to_settle
    assert said(
        content, "agreement.why_differs",
        org_ratings="City of Sacramento: Partially in place; Metro Chamber: Fully in place; "
        "Clean Air Coalition: Fully in place",
    ) in to_settle  # fmt: skip
    assert "why.vision (Why?)" in to_settle and "Not in place" in to_settle
    assert "who.partners (Who?)" not in to_settle  # every organization rates it Fully in place
    assert f'D2: "{MONTHLY}" is under objection from City of Sacramento (city_lead' in to_settle
    assert OBJECTION in to_settle
    assert f'D4: "{DASHBOARD}" (about what.indicators) waits on an endorsement from' in to_settle
    assert "D1" not in to_settle and "D3" not in to_settle

    # the agreed decision linked to no item has its own section
    others = "\n".join(sections(paragraphs, "Heading 1", said(content, "agreement.h_unlinked")))
    assert f'D3 "{MINUTES}"' in others and REPRESENTATIVES not in others

    # tables have a header row marked as one (repeated on each page); properties; DRAFT header
    assert doc.tables
    for table in doc.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(r.bold for c in table.rows[0].cells for r in c.paragraphs[0].runs if r.text)
    assert doc.core_properties.title == title
    assert doc.core_properties.language == "en-US"
    assert "DRAFT" in doc.sections[0].header.paragraphs[0].text


async def test_the_markdown_draft_carries_the_same_sections_and_facts(recorded, content, tmp_path):
    out = await recorded("city_lead: export agreement")  # both files
    doc = docx_of(out, tmp_path / "files")
    name = f"{SLUG}-partnering-agreement-draft-2026-04-14.md"
    assert said(content, "agreement.ready_md", filename=name) in out
    markdown = out.split(f"--- {name} ---\n", 1)[1]

    levels = {"Title": 1, "Heading 1": 2, "Heading 2": 3, "Heading 3": 4}
    from_word = [
        "#" * levels[p.style.name] + " " + p.text for p in doc.paragraphs if p.style.name in levels
    ]
    from_markdown = [line for line in markdown.splitlines() if line.startswith("#")]
    assert from_markdown == from_word  # the same sections, in the same order
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert bullets
    for line in bullets:
        assert f"- {line}" in markdown
    for table in doc.tables:  # every cell, in a table of the same header
        header = "| " + " | ".join(c.text for c in table.rows[0].cells) + " |"
        assert header in markdown
        for row in table.rows[1:]:
            assert "| " + " | ".join(c.text for c in row.cells) + " |" in markdown
    section = markdown.split("### " + heading_of(content, "who.representatives"))[1]
    assert f'D1 "{REPRESENTATIVES}"' in section.split("\n### ")[0]
    to_settle = markdown.split("## " + said(content, "agreement.h_to_settle"))[1]
    assert OBJECTION in to_settle and "who.representatives (Who?)" in to_settle


async def test_dates_and_the_file_name_are_in_the_partnerships_zone(recorded, clock):
    clock.now = datetime(2026, 4, 15, 3, 30, tzinfo=UTC)  # still the 14th in Chicago
    out = await recorded("city_lead: export agreement md")
    assert f"--- {SLUG}-partnering-agreement-draft-2026-04-14.md ---" in out
    assert "generated by Partnering Coach on Tuesday, April 14, 2026" in out
    assert "Dates are in America/Chicago." in out


async def test_reviewing_words_every_item_for_the_agreement_in_place(recorded, content):
    await recorded("city_lead: scorecard mode reviewing")
    out = await recorded("city_lead: export agreement md")
    assert f"### {heading_of(content, 'who.partners', 'reviewing')}" in out
    assert said(content, "agreement.mode", mode=said(content, "scorecard.mode_reviewing")) in out


async def test_sentences_list_organizations_and_count_them_as_english_does(three_partners):
    convo = three_partners
    for who in ("city_lead", "chamber_rep", "ngo_rep"):
        await convo(f"{who}: rate why.vision not-in-place")
    await convo("ngo_rep: rate who.partners in-place")
    await convo('ngo_rep: decide "Meet monthly"')
    await convo('city_lead: object D1 "Too often"')
    await convo('chamber_rep: object D1 "Too often for us too"')
    out = await convo("city_lead: export agreement md")
    assert "City of Sacramento, Metro Chamber and Clean Air Coalition rate it Not in place." in out
    assert "1 of 3 organizations has rated it" in out
    assert "Still to be rated by City of Sacramento and Metro Chamber." in out
    out = await convo("city_lead: report md")
    assert "a revision, or City of Sacramento and Metro Chamber changing their stance" in out


async def test_documents_carry_no_chat_instructions(recorded, content, tmp_path):
    folder = tmp_path / "files"
    for line in ("export agreement", "report"):  # each as Word and as Markdown
        out = await recorded(f"city_lead: {line}")
        markdown = out.split(".md ---\n", 1)[1]
        assert "/coach" not in markdown
        doc = docx_of(out, folder)
        cells = [c.text for t in doc.tables for c in t._cells]
        assert not [t for t in [p.text for p in doc.paragraphs] + cells if "/coach" in t]
    out = await recorded("city_lead: export decisions md")
    assert "/coach" not in out.split(".md ---\n", 1)[1]
    # the conversation may still say how to link a decision (D3 is agreed and linked to none)
    out = await recorded("city_lead: agreement")
    assert said(content, "agreement.link_unlinked", count=1) in out.split("--- ")[0]


async def test_a_decision_log_with_no_decisions_exports_without_chat_instructions(three_partners):
    out = await three_partners("city_lead: export decisions md")
    assert "/coach" not in out.split(".md ---\n", 1)[1]


def test_file_names_carry_the_kind_of_document():
    from bot import report

    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    named = Partnership("slack:T1:C9", name="Sacramento Clean Air")
    assert report.filename(named, now, "md") == "sacramento-clean-air-progress-report-2026-12-01.md"
    assert (
        report.filename(named, now, "docx", agreement.KIND)
        == "sacramento-clean-air-partnering-agreement-draft-2026-12-01.docx"
    )


# --- in the conversation ---------------------------------------------------------------------


async def test_agreement_shows_what_is_settled_and_what_is_not_with_the_draft(recorded, content):
    out = await recorded("ngo_rep: draft agreement")  # a synonym of `agreement`
    assert f'Draft partnering agreement for "{NAME}"' in out
    assert "who.representatives: " + said(content, "agreement.why_differs", org_ratings="").split(":")[0] in out
    assert f'- D2 "{MONTHLY}": under objection from City of Sacramento.' in out
    assert "- D4 " in out
    assert said(content, "agreement.untouched_items", count=24, items="x").split(":")[0] in out
    # the whole draft comes with it, as Markdown
    assert f"--- {SLUG}-partnering-agreement-draft-2026-04-14.md ---" in out
    assert "## " + said(content, "agreement.h_to_settle") in out


async def test_the_conversation_marks_the_coachs_own_items_and_says_what_the_mark_means(
    recorded, content
):
    legend = said(content, "scorecard.composed_marker").strip()
    chat = (await recorded("ngo_rep: agreement")).split("--- ")[0]
    untouched = next(line for line in chat.splitlines() if "when.milestones" in line)
    assert "when.milestones †" in untouched and "why.values," in untouched  # no mark
    assert legend in chat
    await recorded("ngo_rep: rate when.timeline not-in-place")
    chat = (await recorded("ngo_rep: agreement")).split("--- ")[0]
    assert "- when.timeline †: " in chat
    assert "- who.representatives: " in chat  # one of the Scorecard's own: no mark


async def test_the_conversation_stays_short_however_much_is_open(recorded, store):
    long_text = "Share data " + "and more data " * 60
    for _ in range(15):
        await recorded(f'chamber_rep: decide "{long_text.strip()}"')
    replies = await recorded.channel.line("city_lead: agreement")
    (reply,) = replies
    assert len(reply.text) < 3000  # one Slack section; Slack's cap on a message is 40,000
    # 2 items and 17 decisions to settle: 10 listed
    assert "and 9 more, listed in the draft" in reply.text
    assert reply.attachment is not None and long_text.strip() in reply.attachment.content


# --- bad input: a clear reply, and nothing changes --------------------------------------------


async def snapshot(store):
    loaded = await store.load(HERE, with_history=True)
    p = loaded.partnership
    return (
        p.name, dict(p.ratings), dict(p.decisions), dict(p.members),
        len(loaded.decision_log), len(loaded.journal),
    )  # fmt: skip


async def test_no_partnership_no_draft(convo, store, content, tmp_path):
    convo.channel.files = tmp_path
    for line in ("export agreement docx", "export agreement", "agreement"):
        out = await convo(f"someone: {line}")
        assert said(content, "errors.not_set_up") in out
    assert not (await store.load(HERE)).partnership.is_set_up
    assert not any(tmp_path.iterdir())


async def test_before_any_rating_the_reply_says_where_to_start(three_partners, store, content, tmp_path):
    convo = three_partners
    convo.channel.files = tmp_path
    await convo('chamber_rep: decide "Meet monthly"')
    before = await snapshot(store)
    for line in ("export agreement docx", "export agreement md", "agreement"):
        out = await convo(f"ngo_rep: {line}")
        assert said(content, "agreement.no_ratings") in out
        assert "/coach scorecard who why what" in out
    assert await snapshot(store) == before
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("form", ["pdf", "csv", "html", "doc"])
async def test_a_format_not_offered_is_refused_with_those_that_are(recorded, store, content, form):
    before = await snapshot(store)
    out = await recorded(f"ngo_rep: export agreement {form}")
    assert said(content, "agreement.unknown_format", form=form) in out
    assert "docx" in out and "md" in out
    assert ".docx: saved as" not in out
    assert await snapshot(store) == before


@pytest.mark.parametrize(
    ("line", "command"),
    [("export agreement md docx", "export agreement md"), ("agreement please now", "agreement")],
)
async def test_extra_words_are_pointed_out_not_dropped(recorded, store, content, line, command):
    before = await snapshot(store)
    out = await recorded(f"ngo_rep: {line}")
    assert f"I read /coach {command} and would have to ignore" in out
    assert said(content, f"usage.{command.split(' md')[0].replace(' ', '_')}") in out
    assert "saved as" not in out and "--- " not in out
    assert await snapshot(store) == before


async def test_export_agreement_is_its_own_command_among_the_exports(coach, content):
    found = coach.commands.find(("export", "agreement", "docx"), content.grammar)
    assert (found.command.name, found.words) == ("export agreement", ("docx",))
    assert coach.commands.find(("export", "decisions", "csv"), content.grammar).command.name == (
        "export decisions"
    )
    typo = coach.commands.find(("export", "agreemnt"), content.grammar)
    assert typo.command is None and [c.name for c in typo.suggestions] == ["export agreement"]


# --- delivery: a Slack thread, a Teams link --------------------------------------------------


async def test_in_slack_the_word_draft_goes_into_the_thread_where_it_was_asked(
    slack,  # noqa: F811  (the fixture imported above)
):
    from tests.fake_slack import eventually
    from tests.test_slack import CHANNEL, set_up_three_partners

    await set_up_three_partners(slack)
    await slack.command("ULEAD", 'rate who.representatives partial "Alternate to be named"')
    await slack.command("UCHAMBER", f'decide "{REPRESENTATIVES}" --item who.representatives')
    for user in ("ULEAD", "UCHAMBER", "UNGO"):
        await slack.command(user, "endorse D1")
    thread = "1776000000.000100"
    mention = {"type": "app_mention", "user": "UNGO", "channel": CHANNEL, "ts": "1776000000.000200",
               "thread_ts": thread, "text": "<@UBOT> export agreement docx"}  # fmt: skip
    assert await slack.event(mention, "EvAgreement") == 200

    def uploaded() -> list[str]:
        return [f for f, name in slack.fake.filenames.items() if name.endswith(".docx")]

    await eventually(lambda: bool(uploaded()) and uploaded()[0] in slack.fake.uploads)
    (file_id,) = uploaded()
    assert slack.fake.filenames[file_id] == f"{SLUG}-partnering-agreement-draft-2026-04-14.docx"
    (shared,) = [m for m in slack.fake.messages(CHANNEL) if "files" in m]
    assert shared["thread_ts"] == thread  # into the thread it was asked in
    assert shared["files"][0]["id"] == file_id
    assert shared["text"].startswith("Here is the draft partnering agreement")
    doc = Document(io.BytesIO(slack.fake.uploads[file_id]))
    texts = [p.text for p in doc.paragraphs]
    assert any(REPRESENTATIVES in t for t in texts)


async def test_in_teams_the_word_draft_is_a_link_that_downloads_it(coach, content):
    """Through the Teams stand-in: `export agreement docx` answers with a card whose button
    opens /files/<token>, and that link serves the document."""
    from bot.web import PLATFORMS_KEY, build_web_app
    from tests.fake_teams import FakeConnector
    from tests.test_teams import Teams, set_up_three_partners

    connector = FakeConnector()
    await connector.start()
    server = TestServer(await build_web_app(coach, Settings(teams_emulator=True)))
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    server.app[PLATFORMS_KEY]["teams"].public_url = base
    http = ClientSession(base_url=server.make_url("/"))
    try:
        teams = Teams(connector, http, server.app[PLATFORMS_KEY]["teams"])
        await set_up_three_partners(teams)
        assert await teams.say("city", 'rate who.partners not-in-place "Missions still missing"') == 202
        assert await teams.say("chamber", 'decide "Meet monthly"') == 202
        assert await teams.say("city", 'object D1 "Not before the budget vote"') == 202
        assert await teams.say("ngo", "export agreement docx") == 202
        sent = connector.sent[-1]
        card = connector.card(sent)
        (action,) = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
        assert action["title"].endswith(".docx") and "-partnering-agreement-draft-" in action["title"]
        assert action["url"].startswith(f"{base}/files/")
        assert action["url"] in sent.activity["text"]  # the plain-text fallback has the link
        async with http.get(action["url"].removeprefix(base)) as got:
            assert got.status == 200
            assert f'filename="{action["title"]}"' in got.headers["Content-Disposition"]
            assert got.headers["Cache-Control"] == "private, no-store"
            doc = Document(io.BytesIO(await got.read()))
        texts = [p.text for p in doc.paragraphs]
        assert any("Not before the budget vote" in t for t in texts)
        assert any("Missions still missing" in c.text for t in doc.tables for c in t._cells)
        async with http.get("/files/" + "x" * 32) as gone:  # an unknown or expired token
            assert gone.status == 404
            assert await gone.text() == said(content, "report.link_expired")
    finally:
        await http.close()
        await server.close()
        await connector.close()
