"""The issue's whole partnering session, through the console channel and the real store."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys

from bot.model import Address
from tests.conftest import SETUP_SCRIPT, project_path, said

SESSION = (
    SETUP_SCRIPT
    + """
city_lead: /coach scorecard who why what
city_lead: /coach rate who.representatives partial "City still naming its alternate"
chamber_rep: /coach decide "Each partner names one representative and one alternate by May 1" --item who.representatives
chamber_rep: /coach endorse D1
ngo_rep: /coach endorse D1
city_lead: /coach endorse D1
city_lead: /coach decisions
city_lead: /coach scorecard status
city_lead: /coach tactics design
city_lead: /coach tactic build-a-common-fact-base
city_lead: /coach discuss agree-on-measures-of-success
city_lead: /coach export decisions md
city_lead: /coach help
"""
)


async def test_whole_session_through_the_console(convo, store, content):
    out = await convo.script(SESSION)

    assert 'Partnership "Sacramento Transportation & Air Quality Collaborative" is set up' in out
    assert "Clean Air Coalition (nonprofit) joins the partnership" in out
    assert "Who? (1 of 12) who.partners" in out
    assert "city_lead rated who.representatives for City of Sacramento: Partially in place." in out
    assert 'chamber_rep (Metro Chamber) proposes D1: "Each partner names one' in out
    assert "waiting on: City of Sacramento and Clean Air Coalition." in out
    assert "waiting on: City of Sacramento." in out
    assert "D1 is now agreed: every partner organization endorsed it." in out
    assert "(1 of 1 agreed)" in out
    # one organization of three rated it: partly rated, and nothing is rated by all of them
    assert re.search(r"who\.representatives +partly rated +Partially in place \(1 of 3", out)
    assert "All 27 items: 0 rated by every organization (0%); 0 agreed" in out
    assert "agree-on-measures-of-success  Agree on Measures of Success" in out
    design = content.stage("design")
    assert f"Build a Common Fact Base (Design stage: {design.question})" in out
    assert "Agree on Measures of Success, question 1 of 6:" in out
    # the file is named for the partnership and the day, not for an internal id
    assert re.search(r"--- sacramento-transportation-air-quality-collaborative-decision-log-"
                     r"\d{4}-\d\d-\d\d\.md ---", out)
    assert "## D1: Each partner names one representative and one alternate by May 1" in out
    assert "- Endorsed by: City of Sacramento, Metro Chamber and Clean Air Coalition" in out
    assert "Endorsed by 3 of 3: City of Sacramento, Metro Chamber and Clean Air Coalition." in out
    assert content.prompts.render("help.main", start=said(content, "help.start_status")) in out

    # what was stored, read back through a fresh load
    snapshot = await store.load(Address("console", "local", "partnership"), with_history=True)
    p = snapshot.partnership
    assert p.name == "Sacramento Transportation & Air Quality Collaborative"
    assert [o.name for o in p.orgs.values()] == [
        "City of Sacramento",
        "Metro Chamber",
        "Clean Air Coalition",
    ]
    assert {m: p.members[m].org for m in ("city_lead", "chamber_rep", "ngo_rep")} == {
        "city_lead": "city-of-sacramento",
        "chamber_rep": "metro-chamber",
        "ngo_rep": "clean-air-coalition",
    }
    assert set(p.facilitators) == {"city_lead"}
    city = p.org_ratings("who.representatives")["city-of-sacramento"]
    assert (city.rating, city.note) == ("partial", "City still naming its alternate")
    d1 = p.decisions["D1"]
    assert d1.agreed_at is not None
    assert d1.item == "who.representatives"
    assert sorted(d1.endorsed_by()) == [
        "city-of-sacramento",
        "clean-air-coalition",
        "metro-chamber",
    ]
    assert [e["act"] for e in snapshot.decision_log] == [
        "propose",
        "endorse",
        "endorse",
        "endorse",
        "agreed",
    ]
    assert p.dialogs["scorecard"]["topic"] == ["who", "why", "what"]
    assert p.dialogs["discussion"]["topic"] == ["agree-on-measures-of-success"]


async def test_choices_are_picked_by_number(three_partners):
    convo = three_partners
    out = await convo("city_lead: /coach scorecard who why what")
    assert "[3] Partially in place" in out
    out = await convo("3")
    assert "city_lead rated who.partners for City of Sacramento: Partially in place." in out
    # the reply's choices: [1] propose, [2] each organization's rating, [3] next question
    out = await convo("chamber_rep: 3")
    assert "Who? (2 of 12) who.representatives" in out
    out = await convo("12")
    assert "There is no choice 12" in out


async def test_a_scripted_run_and_a_second_run_see_the_same_decisions(tmp_path):
    """The README's console, run as a process twice on one data folder (persistence)."""
    env = {**os.environ, "COACH_DATA_DIR": str(tmp_path / "data")}
    env.pop("REDIS_URL", None)

    def run(script: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "console"],
            input=script,
            capture_output=True,
            text=True,
            env=env,
            cwd=project_path(),
            timeout=60,
        )

    first = run(SETUP_SCRIPT + 'chamber_rep: /coach decide "Meet monthly"\nngo_rep: endorse D1\n')
    assert first.returncode == 0, first.stderr
    assert "Clean Air Coalition endorses D1 (ngo_rep)" in first.stdout

    second = run("city_lead: /coach export decisions csv\n")
    assert second.returncode == 0, second.stderr
    rows = list(csv.DictReader(io.StringIO(second.stdout.split("---\n", 1)[1])))
    assert [(r["id"], r["text"], r["status"], r["endorsed_by"]) for r in rows] == [
        ("D1", "Meet monthly", "proposed", "Clean Air Coalition"),
    ]
    assert rows[0]["waiting_on"] == "City of Sacramento and Metro Chamber"
