"""Issue 11: the progress report people circulate, and check-ins that tell the truth.

Each console session below reproduces one of the issue's "tried as a new user would" findings
and checks the corrected state and wording; expected sentences are rendered from the content,
so the wording can be edited without touching these tests.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from docx import Document
from docx.oxml.ns import qn

from bot.config import Settings
from bot.content import is_one, load_content, pluralize
from bot.model import Address, Attachment, Choice, Reply
from bot.partnership import Measure, Report
from bot.schedule import ScheduleError, calendar_for
from tests.conftest import CONTENT_DIR, said
from tests.test_slack import HERE as SLACK_HERE
from tests.test_slack import slack  # noqa: F401  (the Slack stand-in fixture)

HERE = Address("console", "local", "partnership")
CHICAGO_SETUP = """
lead: setup "Trails"
lead: partner add "City of Springfield" government
lead: partner add "Acme" business
lead: join "City of Springfield"
rep: join "Acme"
lead: member confirm @rep
lead: checkins weekly tue 09:00 America/Chicago
"""


@pytest.fixture
async def trails(convo, tmp_path):
    """Two organizations with a member each, weekly check-ins in Chicago; files go to tmp."""
    convo.channel.files = tmp_path / "files"
    await convo.script(CHICAGO_SETUP)
    return convo


async def state(store):
    return (await store.load(HERE, with_history=True)).partnership



# --- plurals in prompt templates -----------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 answers"), (1, "1 answer"), ("1", "1 answer"), (1.0, "1.0 answer"), (2, "2 answers"),
     (1.5, "1.5 answers"), ("1,000", "1,000 answers")],
)  # fmt: skip
def test_a_count_picks_its_noun(count, expected):
    assert (
        pluralize("{count} {count|answer|answers}", {"count": count}).format(count=count)
        == expected
    )
    assert is_one(count) == expected.endswith(" answer")


def test_plural_markers_are_checked_like_variables(tmp_path: Path):
    import shutil

    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy)
    with (copy / "prompts" / "checkins.yaml").open("a") as f:
        f.write('broken_plural: "{nosuch} {nosuch|answer|answers}"\n')
    with pytest.raises(Exception) as error:
        load_content(copy)
    assert "{nosuch|…}" in str(error.value)


async def test_one_answer_is_one_answer_in_a_console_session(trails, content):
    convo = trails
    await convo("lead: discuss build-a-common-fact-base")
    await convo('lead: answer "Ridership data from the transit agency"')
    out = await convo("lead: discuss stop")
    assert "1 answer recorded" in out and "1 answers" not in out


def test_every_count_meets_its_noun_in_the_discussion_prompts(content):
    finished = {"name": "X", "tactic": "x"}
    assert "1 answer recorded" in said(content, "tactics.discussion_finished", **finished, count=1)
    assert "2 answers recorded" in said(content, "tactics.discussion_finished", **finished, count=2)
    assert "(1 question)" in said(content, "tactics.discussion_started", name="X", count=1)
    again = {"name": "X", "tactic": "x", "position": 1}
    assert "1 answer is recorded" in said(
        content, "tactics.discussion_again", **again, total=1, count=1
    )
    assert "all 2 questions" in said(content, "tactics.discussion_again", **again, total=2, count=2)
    assert "2 answers are recorded" in said(
        content, "tactics.discussion_again", **again, total=2, count=2
    )


# --- measures: progress from baseline toward target, either direction ------------------------


def measure(baseline: float, target: float, *values: float) -> Measure:
    reports = [
        Report(v, f"2026-04-{10 + i:02d}T15:00:00+00:00", "u", "rep") for i, v in enumerate(values)
    ]
    return Measure("M", "", baseline, target, "acme", "2026-04-01T00:00:00+00:00", reports)


@pytest.mark.parametrize(
    ("baseline", "target", "values", "expected"),
    [
        (0, 150, (), "not_reported"),
        (0, 150, (1000,), "exceeded"),  # the issue: 1000 against 150 is not "moving away"
        (70, 70, (75,), "exceeded"),  # the issue: target = baseline, higher is better
        (70, 70, (70,), "reached"),
        (0, 150, (150,), "reached"),
        (0, 150, (50,), "on_the_way"),
        (0, 150, (50, 50), "flat"),
        (0, 150, (50, 40), "moving_away"),
        (0, 150, (0,), "flat"),
        (18, 10, (15,), "on_the_way"),  # lower is better
        (18, 10, (15, 16), "moving_away"),
        (18, 10, (9,), "exceeded"),
        (18, 10, (10,), "reached"),
    ],
)
def test_progress_is_judged_from_baseline_toward_target(baseline, target, values, expected):
    assert measure(baseline, target, *values).progress() == expected


async def test_a_new_measure_is_not_reported_yet_and_progress_is_named_right(
    trails, store, content
):
    convo = trails
    out = await convo('rep: measure add "Riders" --baseline 0 --target 150')
    assert "from a baseline of 0 to a target of 150, reported" in out  # no "150 ," for no unit
    out = await convo("rep: measures")
    assert said(
        content, "checkins.measure_line_unreported",
        measure="Riders", baseline="0", target="150", org="Acme",
    ) in out  # fmt: skip
    assert "no change since" not in out
    assert (await state(store)).measures["riders"].latest is None

    out = await convo('rep: measure report "Riders" 1000')
    assert said(content, "report.progress_exceeded") in out
    assert said(content, "report.progress_moving_away") not in out
    await convo('rep: measure add "Ozone days" --unit days --baseline 70 --target 70')
    out = await convo('rep: measure report "Ozone days" 75')
    assert "Ozone days: 75 days (target 70 days)" in out
    assert said(content, "report.progress_exceeded") in out


# --- decisions under objection, and organizations nobody represents ------------------------


async def test_an_objected_decision_is_objected_with_its_reason_everywhere(trails, store, content):
    convo = trails
    await convo('rep: decide "Meet monthly"')
    await convo('lead: object D1 "Too often for the council calendar"')
    p = await state(store)
    assert p.decisions["D1"].status == "objected"

    out = await convo("lead: checkins now")
    assert said(
        content, "checkins.moved_objected", decision="D1", text="Meet monthly",
        org="City of Springfield", reason="Too often for the council calendar",
    ) in out  # fmt: skip
    assert said(
        content, "checkins.open_objected", decision="D1", text="Meet monthly",
        org="City of Springfield", reason="Too often for the council calendar",
    ) in out  # fmt: skip
    assert "[proposed]" not in out
    assert f"### {said(content, 'report.h_objected', count=1)}" in out  # the Markdown report
    assert "Objection from City of Springfield (lead): Too often for the council calendar" in out

    out = await convo("lead: decisions")
    assert "D1 [objected]" in out
    out = await convo("lead: export decisions csv")
    assert "D1,objected,Meet monthly" in out


async def test_an_organization_with_nobody_here_is_named_not_waited_on_patiently(
    trails, store, content
):
    convo = trails
    await convo('lead: partner add "Friends of Trails" nonprofit')
    await convo('rep: decide "Share one dashboard"')
    await convo("rep: endorse D1")
    await convo("lead: endorse D1")
    p = await state(store)
    assert p.orgs_without_members() == ["friends-of-trails"]
    assert p.decisions["D1"].status == "proposed"

    out = await convo("lead: checkins now")
    assert said(
        content, "checkins.absent", org="Friends of Trails", blocked="D1", count=1
    ) in out  # fmt: skip
    assert "D1 waits on it" in out  # one decision: "waits", not "wait"
    patience = said(content, "checkins.patience", members="x").split("(")[0]
    assert patience not in out  # nobody who has been asked holds it up
    assert "For Friends of Trails:" not in out  # no sector advice to an empty seat
    assert said(content, "report.org_absent", org="Friends of Trails") in out

    # once someone from it has joined and been asked, patience fits
    await convo('ngo: join "Friends of Trails"')
    await convo("lead: member confirm @ngo")
    await convo('rep: decide "Meet monthly"')
    out = await convo("lead: checkins now")
    assert said(content, "checkins.patience", members="lead, ngo and rep") in out
    assert "Nobody from Friends of Trails" not in out


async def test_patience_with_members_who_muted_check_ins_names_nobody(trails, content):
    convo = trails
    await convo("lead: checkins mute")
    await convo("rep: checkins mute")
    await convo('rep: decide "Meet monthly"')
    out = await convo("lead: checkins now")
    assert said(content, "checkins.patience_unnamed") in out
    assert "(over to:" not in out


# --- what moved, once, with units; times in the partnership's zone ---------------------------


async def test_each_report_appears_once_in_what_moved_with_its_unit(trails, clock, content):
    convo = trails
    await convo('rep: measure add "Ozone alert days" --unit days --baseline 18 --target 10')
    await convo("lead: checkins now")
    clock.now += timedelta(days=1)
    await convo('rep: measure report "Ozone alert days" 15')
    out = await convo("lead: checkins now")
    line = said(
        content, "checkins.moved_measure", measure="Ozone alert days", value="15 days",
        user="rep", org="Acme", day="Wednesday, April 15, 2026",
    )  # fmt: skip
    moved = out.split("Still open")[0].split("--- ")[0]
    assert moved.count(line) == 1
    report = out.split("## " + said(content, "report.h_moved"))[1]
    assert report.count(line) == 1
    out = await convo("lead: checkins now")  # nothing new: the report is not repeated
    assert line not in out.split("--- ")[0]


async def test_what_moved_names_who_rated_and_how_the_item_stands(trails, clock, content, tmp_path):
    convo = trails
    await convo("lead: checkins now")
    clock.now += timedelta(days=1)
    await convo("lead: rate why.vision partial")
    await convo("rep: rate why.vision not-in-place")
    await convo("lead: rate who.partners in-place")
    await convo("rep: rate who.partners in-place")
    await convo("rep: rate when.timeline in-place")  # one of the coach's own items
    rated = {
        "why.vision": ("City of Springfield and Acme", said(
            content, "agreement.standing_differs", low="Not in place", high="Partially in place"
        )),
        "who.partners": ("City of Springfield and Acme", said(
            content, "agreement.standing_agreed", rating="Fully in place"
        )),
        "when.timeline †": ("Acme", said(
            content, "agreement.standing_partly", rated=1, total=2, rating="Fully in place"
        )),
    }  # fmt: skip
    lines = [
        said(content, "checkins.moved_rated", item=item, orgs=orgs, standing=standing)
        for item, (orgs, standing) in rated.items()
    ]
    assert "1 of 2 organizations has rated it" in lines[2]
    legend = said(content, "scorecard.composed_marker").strip()

    out = await convo("lead: checkins now")
    moved = out.split("Still open")[0].split("--- ")[0]
    for line in lines:
        assert line in moved
    assert "is now" not in moved and legend in moved
    attached = out.split("## " + said(content, "report.h_moved"))[1]
    assert all(line in attached for line in lines) and legend in attached

    clock.now += timedelta(days=1)
    out = await convo("lead: report md")  # the period since the check-in: nothing moved
    assert "when.timeline †" in out.split("## " + said(content, "report.h_moved"))[0]
    assert legend not in out.split("## " + said(content, "report.h_moved"))[1]
    out = await convo("lead: report md last 7 days")
    moved = out.split("## " + said(content, "report.h_moved_period"))[1]
    assert all(line in moved for line in lines) and legend in moved


async def test_the_coachs_own_items_are_marked_in_the_reports_scorecard(trails, content, tmp_path):
    convo = trails
    await convo("lead: rate when.timeline not-in-place")
    await convo('rep: rate when.timeline in-place "*pending* board_vote"')
    await convo("rep: rate who.partners in-place")
    legend = said(content, "scorecard.composed_marker").strip()
    difference = said(
        content, "report.difference_line", item="when.timeline †",
        org_ratings="City of Springfield: Not in place; Acme: Fully in place",
    )  # fmt: skip

    out = await convo("lead: report")
    markdown = out.split(".md ---\n", 1)[1]
    scorecard = markdown.split("## " + said(content, "report.h_scorecard"))[1].split("\n## ")[0]
    assert "| when.timeline † | Acme | Fully in place |" in scorecard
    assert "| who.partners | Acme |" in scorecard
    assert difference in scorecard and legend in scorecard

    doc = docx_of(out, tmp_path / "files")
    cells = {c.text for t in doc.tables for c in t._cells}
    assert {"when.timeline †", "who.partners"} <= cells
    paragraphs = [p.text for p in doc.paragraphs]
    assert difference.removeprefix("- ") in paragraphs and legend in paragraphs


async def test_markdown_documents_show_peoples_words_as_they_typed_them(trails, tmp_path):
    convo = trails
    note = "*pending* board_vote | [draft](x) <b>"
    await convo(f'rep: rate who.partners in-place "{note}"')
    await convo('rep: decide "Share _all_ data **now** # 1"')
    escaped_note = r"\*pending\* board_vote \| \[draft\](x) \<b\>"
    escaped_text = r"Share \_all\_ data \*\*now\*\* \# 1"
    for line in ("report md", "export agreement md", "export decisions md"):
        markdown = (await convo(f"lead: {line}")).split(".md ---\n", 1)[1]
        assert escaped_text in markdown
        assert "Share _all_" not in markdown and "**now**" not in markdown
        if line != "export decisions md":
            assert escaped_note in markdown and "*pending*" not in markdown
    out = await convo("lead: report docx")  # Word needs no escaping: the words as typed
    doc = docx_of(out, tmp_path / "files")
    assert note in {c.text for t in doc.tables for c in t._cells}


async def test_dates_are_in_the_partnerships_zone(trails, clock):
    convo = trails
    clock.now = datetime(2026, 4, 15, 3, 30, tzinfo=UTC)  # still the 14th in Chicago
    out = await convo("rep: report md")
    assert "As of Tuesday, April 14, 2026, 10:30 PM CDT. Times are in America/Chicago." in out
    assert "trails-progress-report-2026-04-14.md" in out


# --- holiday calendars -----------------------------------------------------------------------


async def test_holidays_name_the_calendar_and_suggest_what_was_meant(trails, store, content):
    convo = trails
    out = await convo("lead: checkins weekly tue 09:00 America/Los_Angeles --holidays CA")
    assert "public holidays of Canada" in out
    assert said(
        content, "checkins.holidays_suggest",
        calendar="California (United States)", suggested="US-CA",
    ) in out  # fmt: skip
    assert (await state(store)).schedule["country"] == "CA"

    out = await convo("lead: checkins weekly tue 09:00 America/Los_Angeles --holidays US-CA")
    assert "public holidays of California (United States)" in out
    assert "If you meant" not in out
    schedule = (await state(store)).schedule
    assert (schedule["country"], schedule["region"]) == ("US", "CA")

    out = await convo("lead: checkins")
    assert "every Tuesday at 9:00 AM (America/Los_Angeles)" in out
    assert said(content, "checkins.with_holidays", calendar="California (United States)") in out

    out = await convo("lead: checkins weekly tue 09:00 America/New_York --holidays NY")
    assert said(
        content, "checkins.unknown_country_suggest",
        country="NY", suggested="US-NY", calendar="New York (United States)",
    ) in out  # fmt: skip
    assert (await state(store)).schedule["tz"] == "America/Los_Angeles"  # nothing changed


def test_calendar_codes():
    assert calendar_for("us-il").name == "Illinois (United States)"
    assert calendar_for("GB").other is None
    with pytest.raises(ScheduleError) as error:
        calendar_for("US-ZZ")
    assert error.value.key == "checkins.unknown_region"
    with pytest.raises(ScheduleError) as error:
        calendar_for("USA")
    assert error.value.variables["suggested"] == "US"


async def test_checkins_shows_schedule_zone_and_calendar(trails, content):
    out = await trails("lead: checkins")
    assert "Check-ins: every Tuesday at 9:00 AM (America/Chicago)." in out
    assert said(content, "checkins.no_holidays") in out


# --- the report on demand --------------------------------------------------------------------


REPORT_SCRIPT = """
rep: decide "Meet monthly"
lead: object D1 "Too often for the council calendar"
rep: decide "Share one dashboard"
rep: endorse D2
lead: endorse D2
lead: rate who.representatives partial "City still naming its alternate"
rep: rate who.representatives in-place
rep: measure add "Riders per day" --unit riders --baseline 1000 --target 1500
rep: measure add "Ozone alert days" --unit days --baseline 18 --target 10
lead: measure add "Trail miles" --unit miles --baseline 3 --target 12
"""


async def reported_partnership(convo, clock):
    await convo.script(REPORT_SCRIPT)
    for week in range(4):
        clock.now += timedelta(days=7)
        await convo(f'rep: measure report "Riders per day" {1100 + 100 * week}')
        await convo(f'rep: measure report "Ozone alert days" {17 - week}')


def docx_of(out: str, folder: Path) -> Document:
    (name,) = re.findall(r"--- (\S+\.docx): saved as", out)
    return Document(str(folder / name))


async def test_report_docx_reads_back_with_everything_a_funder_needs(
    trails, clock, tmp_path, content
):
    convo = trails
    await reported_partnership(convo, clock)
    out = await convo("rep: report docx")
    assert said(content, "report.ready", partnership="Trails", filename="x").split("(")[0] in out
    doc = docx_of(out, tmp_path / "files")
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)

    assert doc.core_properties.title == "Progress report: Trails"
    assert "1 of 27 scorecard items is rated." in text  # a count meets its verb
    assert "Of 3 measures of success, 2 are on track" in text
    assert "and 1 has not been reported yet." in text
    headings = [
        (p.style.name, p.text)
        for p in doc.paragraphs
        if p.style.name.startswith(("Heading", "Title"))
    ]
    assert ("Title", "Progress report: Trails") in headings
    assert ("Heading 1", said(content, "report.h_measures")) in headings
    assert ("Heading 2", "Trail miles") in headings
    assert "Too often for the council calendar" in cells  # the objection's reason
    assert "Heading 2" in {style for style, _ in headings}
    # a chart for each measure that has values, each with its alt text
    described = [e.get("descr") for e in doc.element.body.iter(qn("wp:docPr"))]
    assert len(doc.inline_shapes) == 2 == len(described)
    assert all(d.startswith("Line chart of ") for d in described)
    assert any("Riders per day (riders): 4 values" in d for d in described)
    assert "1100, 1200, 1300, 1400" in described[0] + described[1]
    # the measure with no report says so
    assert "Trail miles" in text
    assert said(
        content, "report.measure_facts_unreported",
        baseline="3 miles", target="12 miles", org="City of Springfield",
    ) in text  # fmt: skip
    # times in the partnership's zone (Chicago), readable, and ISO kept in a column
    assert "CDT" in text and "Times are in America/Chicago" in text
    assert "Apr 21, 2026" in cells and "2026-04-21T15:00:00+00:00" in cells
    # every table starts with a header row marked as one
    for table in doc.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    # organizations' differing ratings are called out
    assert (
        "who.representatives: City of Springfield: Partially in place; Acme: Fully in place" in text
    )


async def test_report_takes_a_period_and_comes_as_both_forms(trails, clock, content):
    convo = trails
    await reported_partnership(convo, clock)
    out = await convo("lead: report since 2026-05-01")
    assert ".docx: saved as" in out and "--- trails-progress-report-2026-05-12.md ---" in out
    assert "covering the period since Friday, May 1, 2026" in out
    assert "| May 5, 2026 | 1300 riders |" in out and "| May 12, 2026 | 1400 riders |" in out
    assert "| Apr 28, 2026 |" not in out
    out = await convo("lead: report md last 8 days")
    assert "covering the period since Tuesday, May 5, 2026" in out and ".docx" not in out
    out = await convo("lead: report since May")
    assert said(content, "report.bad_period", period="since may") in out
    out = await convo("lead: report everything")
    assert said(content, "report.usage") in out


# --- delivery: model, Slack stand-in, Teams link ---------------------------------------------


def test_report_file_names_are_plain_ascii():
    from bot import report
    from bot.partnership import Partnership

    now = datetime(2026, 4, 14, 15, 0, tzinfo=UTC)
    named = Partnership("x", name="Équipe Santé & Transit — 2026")
    assert (
        report.filename(named, now, "docx")
        == "equipe-sante-transit-2026-progress-report-2026-04-14.docx"
    )
    assert (
        report.filename(Partnership("x", name="···"), now, "md")
        == "partnership-progress-report-2026-04-14.md"
    )


def test_a_reply_with_a_binary_attachment_round_trips_as_json():
    data = bytes(range(256))
    reply = Reply("r", attachment=Attachment("r.docx", "plain", "application/x", data=data))
    encoded = reply.to_json()
    assert json.loads(encoded)["attachment"]["data"] == base64.b64encode(data).decode()
    assert Reply.from_json(encoded) == reply
    assert Reply.from_json(Reply("t").to_json()) == Reply("t")


async def test_the_check_in_offers_the_word_report_and_draws_no_chart(trails, content):
    import sys

    out = await trails("lead: checkins now")
    assert "[1] " + said(content, "report.docx_choice") in out
    assert trails.channel.choices == (Choice(said(content, "report.docx_choice"), "report docx"),)
    if "matplotlib.figure" not in sys.modules:  # nothing earlier in this process drew one
        await trails("lead: checkins now")
        assert "matplotlib.figure" not in sys.modules
    out = await trails("1")  # the button
    assert ".docx: saved as" in out


async def test_a_check_in_and_the_word_report_through_the_slack_stand_in(
    slack,  # noqa: F811  (the fixture imported above)
    coach,
    clock,
    content,
):
    from bot.scheduler import send_checkin
    from tests.fake_slack import eventually
    from tests.test_slack import CHANNEL, slack_partnership_due

    due = await slack_partnership_due(slack, clock)
    await slack.command("UCHAMBER", 'decide "Meet monthly"')
    await slack.command("ULEAD", 'object D1 "Too soon for the council"')
    await slack.command("ULEAD", 'partner add "Friends of Trails" nonprofit')
    couriers = {"slack": slack.channel.send}
    assert await send_checkin(coach, couriers, SLACK_HERE.conversation, due, due) == "sent"
    (checkin,) = [m for m in slack.fake.messages(CHANNEL) if "metadata" in m]
    assert said(
        content, "checkins.open_objected", decision="D1", text="Meet monthly",
        org="City of Sacramento", reason="Too soon for the council",
    ) in checkin["text"]  # fmt: skip
    assert "Nobody from Friends of Trails has joined this channel yet" in checkin["text"]
    (report,) = [m for m in slack.fake.messages(CHANNEL, checkin["ts"]) if "files" in m]
    markdown = slack.fake.uploads[report["files"][0]["id"]].decode()
    assert "Objection from City of Sacramento (ulead): Too soon for the council" in markdown
    assert "Waiting on: a revision, or City of Sacramento changing its stance." in markdown

    posted = next(c for c in slack.fake.of("chat.postMessage") if c.get("metadata"))
    label = said(content, "report.docx_choice")
    assert await slack.click("UCHAMBER", posted | {"ts": checkin["ts"]}, label) == 200

    def docx_uploaded() -> bool:
        return any(name.endswith(".docx") for name in slack.fake.filenames.values())

    await eventually(docx_uploaded)
    (file_id,) = [f for f, name in slack.fake.filenames.items() if name.endswith(".docx")]
    await eventually(lambda: file_id in slack.fake.uploads)
    doc = Document(io.BytesIO(slack.fake.uploads[file_id]))
    assert any(
        "Too soon for the council" in c.text for t in doc.tables for r in t.rows for c in r.cells
    )


def test_teams_links_a_word_report_and_keeps_a_plain_text_fallback():
    from bot.adapters.teams import render_activity

    reply = Reply(
        "Here is the report.",
        attachment=Attachment("r.docx", "# Report", "application/x", data=b"PK"),
    )
    linked = render_activity(reply, "https://coach.example.gov/files/abc")
    card = linked.attachments[0].content
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "r.docx", "url": "https://coach.example.gov/files/abc"}
    ]
    assert "https://coach.example.gov/files/abc" in linked.text
    unlinked = render_activity(reply)  # no public URL: the Markdown stand-in is shown
    assert unlinked.attachments[0].content["body"][1]["text"] == "# Report"


async def test_a_download_link_serves_the_document_for_a_day(coach, store, content, redis):
    from bot.config import Settings
    from bot.store import FILE_TTL_S
    from bot.web import build_web_app

    token = await store.put_file(HERE, "trails.docx", "application/x-test", b"PK\x03\x04 bytes")
    assert 0 < await redis.ttl(f"{store.prefix}:file:{token}") <= FILE_TTL_S
    server = TestServer(await build_web_app(coach, Settings()))
    await server.start_server()
    try:
        async with ClientSession(base_url=server.make_url("/")) as http:
            async with http.get(f"/files/{token}") as response:
                assert response.status == 200
                assert await response.read() == b"PK\x03\x04 bytes"
                assert response.headers["Content-Type"].startswith("application/x-test")
                assert 'filename="trails.docx"' in response.headers["Content-Disposition"]
            for bad in ("nosuchtoken-but-long-enough", "..%2F..%2Fetc"):
                async with http.get(f"/files/{bad}") as response:
                    assert response.status == 404
                    assert await response.text() == said(content, "report.link_expired")
    finally:
        await server.close()


async def test_teams_gets_a_link_that_downloads_the_word_report(coach, content):
    """Through the Teams stand-in: `report docx` answers with a card whose button opens
    /files/<token>, and that link serves the document."""
    from bot.web import PLATFORMS_KEY, build_web_app
    from tests.fake_teams import FakeConnector
    from tests.test_teams import Teams, set_up_three_partners

    connector = FakeConnector()
    await connector.start()
    server = TestServer(await build_web_app(coach, Settings(teams_emulator=True)))
    await server.start_server()
    server.app[PLATFORMS_KEY]["teams"].public_url = str(server.make_url("")).rstrip("/")
    http = ClientSession(base_url=server.make_url("/"))
    try:
        teams = Teams(connector, http, server.app[PLATFORMS_KEY]["teams"])
        await set_up_three_partners(teams)
        assert await teams.say("chamber", 'decide "Meet monthly"') == 202
        assert await teams.say("city", 'object D1 "Not before the budget vote"') == 202
        assert await teams.say("ngo", "report docx") == 202
        sent = connector.sent[-1]
        card = connector.card(sent)
        (action,) = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
        assert action["title"].endswith(".docx") and "/files/" in action["url"]
        assert action["url"] in sent.activity["text"]  # the plain-text fallback has the link
        async with http.get(action["url"].split(str(server.make_url("")).rstrip("/"))[1]) as got:
            assert got.status == 200
            doc = Document(io.BytesIO(await got.read()))
        cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
        assert any("Not before the budget vote" in c for c in cells)
    finally:
        await http.close()
        await server.close()
        await connector.close()


async def test_each_check_in_variant_through_the_slack_stand_in(
    slack,  # noqa: F811  (the fixture imported above)
    content,
):
    """`checkins now` in Slack: the check-in is a message with the Word button, and its
    Markdown report is a file in the message's thread; one state per moment."""
    from tests.test_slack import CHANNEL, set_up_three_partners

    await set_up_three_partners(slack)
    await slack.command("ULEAD", "checkins weekly tue 09:00 America/Chicago")

    async def check_in() -> tuple[str, str]:
        assert await slack.command("ULEAD", "checkins now") == 200
        message = [m for m in slack.fake.messages(CHANNEL) if "files" not in m][-1]
        assert message["text"].startswith("Check-in for")
        posted = next(c for c in slack.fake.of("chat.postMessage") if c["text"] == message["text"])
        buttons = [e for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert [b["text"]["text"] for b in buttons] == [said(content, "report.docx_choice")]
        (report,) = [m for m in slack.fake.messages(CHANNEL, message["ts"]) if "files" in m]
        assert report["files"][0]["name"].endswith(".md")
        return message["text"], slack.fake.uploads[report["files"][0]["id"]].decode()

    text, markdown = await check_in()  # quiet: nothing happened yet
    assert said(content, "checkins.quiet", since="Tuesday, April 14, 2026") in text.replace(
        "&amp;", "&"
    )
    assert "# Progress report: Sacramento Transportation & Air Quality Collaborative" in markdown

    await slack.command("UCHAMBER", 'decide "Meet monthly"')
    text, _ = await check_in()  # patience: the decision waits on members who were asked
    assert said(content, "checkins.patience", members="uchamber, ulead and ungo") in text

    await slack.command("ULEAD", "endorse D1")
    await slack.command("UNGO", "endorse D1")
    await slack.command("UCHAMBER", "endorse D1")
    text, markdown = await check_in()  # celebrate
    assert said(content, "checkins.celebrate", decision="D1") in text
    assert f"### {said(content, 'report.h_agreed', count=1)}" in markdown

    await slack.command("ULEAD", 'partner add "Friends of Trails" nonprofit')
    await slack.command("UCHAMBER", 'decide "Share one dashboard"')
    text, _ = await check_in()  # an organization with nobody here
    assert "Nobody from Friends of Trails has joined this channel yet" in text
    assert "D2 waits on it" in text

    await slack.command("UCHAMBER", 'measure add "Riders" --unit riders --baseline 0 --target 150')
    await slack.command("UCHAMBER", 'measure report "Riders" 40')
    await slack.command("UCHAMBER", 'measure report "Riders" 40')
    text, markdown = await check_in()  # shifted: the measure stalled
    assert said(content, "checkins.shifted", measure="Riders") in text
    assert "| 40 riders | uchamber | " + said(content, "report.progress_flat") in markdown


def test_start_up_imports_neither_matplotlib_nor_python_docx():
    import subprocess
    import sys

    code = (
        "import sys, bot.__main__, bot.dialogs, bot.scheduler, bot.web; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'docx', 'numpy'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("builder", "line"),
    [("bot.report.docx", "report docx"), ("bot.agreement.docx", "export agreement docx")],
)
async def test_a_word_document_is_built_while_the_process_goes_on_answering(
    three_partners, monkeypatch, builder, line
):
    """Building a Word document (charts, python-docx) takes a while: it runs in a thread, so the
    event loop goes on (acking Slack, answering other turns). The stand-in builder waits for
    the loop to do something first; run in the loop, it would wait in vain."""
    import importlib
    import threading

    module, name = builder.rsplit(".", 1)
    real = getattr(importlib.import_module(module), name)
    loop_ran = threading.Event()
    seen: list[bool] = []

    def building(*args: object, **kwargs: object) -> bytes:
        seen.append(loop_ran.wait(5))
        return real(*args, **kwargs)

    monkeypatch.setattr(builder, building)
    await three_partners('city_lead: rate who.partners partial "Two seats open"')
    meanwhile = asyncio.get_running_loop().call_later(0.01, loop_ran.set)
    out = await three_partners(f"city_lead: {line}")
    meanwhile.cancel()
    assert seen == [True]
    assert ".docx" in out
