"""The command registry and the grammar: which command a line means, as tables.

Lines go through the same `tokenize` and `Commands.find` as a turn does, with the shipped
content/grammar.yaml; the session tests in test_newcomer.py check what the commands then do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import Content
from bot.dialogs import Commands, default_commands, tokenize
from bot.dialogs.help import TOPICS
from bot.schedule import ScheduleError, clock_time, read_cadence, time_zone, unknown_zone
from tests.test_content import content_copy, problems_in


@pytest.fixture(scope="module")
def commands() -> Commands:
    return default_commands()


MEANS = [
    # the command's own words
    ("endorse D1", "endorse", ("D1",)),
    ("/coach endorse D1", "endorse", ("D1",)),
    ("ENDORSE d1", "endorse", ("d1",)),
    # synonyms and phrasings
    ("approve D1", "endorse", ("D1",)),
    ("agree D1", "endorse", ("D1",)),
    ("+1 D1", "endorse", ("D1",)),
    ("support D1", "endorse", ("D1",)),
    ("I agree with D1", "endorse", ("D1",)),
    ("@coach I agree with D1", "endorse", ("D1",)),
    ("coach, I agree with D1", "endorse", ("D1",)),
    ("Hey coach, please approve D1", "endorse", ("D1",)),
    ("disagree D2 too soon", "object", ("D2", "too", "soon")),
    ("oppose D2 too soon", "object", ("D2", "too", "soon")),
    ("I object to D2 because it is too soon", "object", ("D2", "because", "it", "is", "too", "soon")),
    ('propose "Meet monthly"', "decide", ("Meet monthly",)),
    ('suggest "Meet monthly"', "decide", ("Meet monthly",)),
    ("retract D1", "withdraw", ("D1",)),
    ('objection D1 "Tuesdays clash with our board"', "object", ("D1", "Tuesdays clash with our board")),
    ('proposal "Meet monthly"', "decide", ("Meet monthly",)),
    # what's waiting on me
    ("status", "status", ()),
    ("next", "status", ()),
    ("what's next", "status", ()),
    ("What\u2019s next?", "status", ()),
    ("coach, what's next?", "status", ()),
    ("@coach what is waiting on me?", "status", ()),
    ("what are we waiting on?", "status", ()),
    ("what's left", "status", ()),
    ("what's the status?", "status", ()),
    # sub-commands: the longest run of words wins
    ("checkins", "checkins", ()),
    ("checkins pause", "checkins pause", ()),
    ("check-ins pause", "checkins pause", ()),
    ("checkin skip", "checkins skip next", ()),
    ("checkins skip next", "checkins skip next", ()),
    ("checkins weekly tue 09:00", "checkins", ("weekly", "tue", "09:00")),
    ("scorecard", "scorecard", ()),
    ("scorecard next", "scorecard next", ()),
    ("scorecard skip", "scorecard next", ()),
    ("scorecard Who? Why? What?", "scorecard", ("Who?", "Why?", "What?")),
    ("scorecard what if when how", "scorecard", ("what", "if", "when", "how")),
    ("discuss skip", "discuss next", ()),
    ('partner add "Metro Chamber" business', "partner add", ("Metro Chamber", "business")),
    ("partner", "partners", ()),
    ("members", "partners", ()),
    ('measure add "Ozone days" --target 10', "measure add", ("Ozone days", "--target", "10")),
    ('measure remove "Ozone days"', "measure remove", ("Ozone days",)),
    ("meeting start", "meeting start", ()),
    ("export decisions csv", "export decisions", ("csv",)),
    ('tactic "Build a Common Fact Base"', "tactic", ("Build a Common Fact Base",)),
    # help
    ("", "help", ()),
    ("coach", "help", ()),
    ("?", "help", ()),
    ("help checkins", "help", ("checkins",)),
]


@pytest.mark.parametrize(("line", "name", "words"), MEANS, ids=[m[0] or "(empty)" for m in MEANS])
def test_a_line_means_its_command(commands, content: Content, line, name, words):
    found = commands.find(tokenize(line), content.grammar)
    assert found.command is not None, found
    assert (found.command.name, found.words) == (name, words)


TYPOS = [
    ("endrose D1", "endorse"),
    ("endorce D1", "endorse"),
    ("aprove D1", "endorse"),
    ("objet D1 no", "object"),
    ("decisons", "decisions"),
    ("withdrew D1", "withdraw"),
    ("stauts", "status"),
    ("checkins pasue", "checkins pause"),
    ("checkins resum", "checkins resume"),
    ("scorecard stauts", "scorecard status"),
    ("measure ad", "measure add"),
    ('partner ad "Acme" business', "partner add"),
    ("check-ins pasue", "checkins pause"),
    ("meeting strat", "meeting start"),
    ("tactis design", "tactics"),
]


@pytest.mark.parametrize(("line", "meant"), TYPOS)
def test_a_typo_is_answered_with_the_command_it_looks_like(commands, content, line, meant):
    found = commands.find(tokenize(line), content.grammar)
    assert found.command is None
    assert meant in [c.name for c in found.suggestions]


def test_a_group_word_alone_offers_its_sub_commands(commands, content):
    found = commands.find(tokenize("measure"), content.grammar)
    assert found.command is None and found.group
    assert {c.name for c in found.suggestions} == {
        "measure add", "measure report", "measure edit", "measure remove"
    }  # fmt: skip


def test_nonsense_gets_no_suggestion(commands, content):
    found = commands.find(tokenize("frobnicate"), content.grammar)
    assert found.command is None and found.suggestions == ()


CLOCK = [
    ("9am", "09:00"),
    ("9AM", "09:00"),
    ("9:00am", "09:00"),
    ("9:00 am", "09:00"),
    ("9:30pm", "21:30"),
    ("9:30 p.m.", "21:30"),
    ("09:00", "09:00"),
    ("14:15", "14:15"),
    ("14.15", "14:15"),
    ("12am", "00:00"),
    ("12pm", "12:00"),
    ("9", None),  # morning or evening? ask
    ("13pm", None),
    ("25:00", None),
    ("9:75", None),
    ("noon", None),
]


@pytest.mark.parametrize(("written", "at"), CLOCK)
def test_times_of_day_as_people_write_them(written, at):
    assert clock_time(written) == at


# --- every command can be found in help ------------------------------------------------------


def test_every_command_has_a_usage_line_and_a_help_topic(commands, content):
    assert len(commands) > 40
    for spec in commands:
        assert spec.usage in content.prompts, spec.name
        assert spec.name in content.prompts.render(spec.usage), spec.name  # it shows the words
        assert spec.topic in TOPICS, spec.name
    assert commands.problems(content) == []


def test_every_topic_is_listed_in_the_main_help_and_has_commands(commands, content):
    main = content.prompts.render("help.main", start="")
    for topic in TOPICS:
        assert f"/coach help {topic}" in main
        assert f"help.{topic}" in content.prompts
        assert commands.in_topic(topic), topic


def test_only_the_commands_that_read_the_history_load_it(commands):
    loading = {c.name for c in commands if c.needs_history}
    assert loading == {
        "decision", "export decisions", "checkins now", "checkins preview", "exercise", "practice",
        "report", "answers",
    }  # fmt: skip


def test_a_grammar_phrase_that_leads_nowhere_is_a_content_problem(tmp_path: Path, commands):
    from bot.content import load_content

    grammar = (Path(__file__).parent.parent / "content" / "grammar.yaml").read_text()
    grammar = grammar.replace("\nsynonyms:\n", "\nsynonyms:\n  frobnicate:\n    - zap\n")
    root = content_copy(tmp_path, {"grammar.yaml": grammar})
    problems = commands.problems(load_content(root))
    assert problems == ["content/grammar.yaml: synonyms.frobnicate: 'zap' leads to no command"]


def test_a_phrase_given_to_two_commands_is_reported_with_its_line(tmp_path: Path):
    root = content_copy(
        tmp_path, {"grammar.yaml": "synonyms:\n  endorse: [agree]\n  object: [agree]\n"}
    )
    assert problems_in(root) == [
        "content/grammar.yaml:3: synonyms.object[0]: 'agree' already means 'endorse'"
    ]


VALUES = [
    ("cadence", "bi-weekly", "biweekly"),
    ("cadence", "Fortnightly", "biweekly"),
    ("cadence", "weekly", "weekly"),
    ("sector", "Non-profit", "nonprofit"),
    ("sector", "NGO", "nonprofit"),
    ("sector", "gov", "government"),
    ("sector", "community", "community"),
    ("rating", "Full", "in-place"),
    ("rating", "yes", "in-place"),
    ("rating", "N/A", "not-relevant"),
]


def test_every_other_way_to_say_a_rating_names_a_rating(content):
    ids = {r.id for r in content.ratings}
    assert content.grammar.values["rating"]
    assert set(content.grammar.values["rating"].values()) <= ids


def test_a_yes_or_no_that_yaml_reads_as_true_or_false_is_reported(tmp_path: Path):
    root = content_copy(tmp_path, {"grammar.yaml": "values:\n  rating:\n    yes: in-place\n"})
    assert len(problems := problems_in(root)) == 1
    assert problems[0].startswith("content/grammar.yaml:") and "quotes" in problems[0]


@pytest.mark.parametrize(
    ("written", "zone"),
    [
        ("Central", "America/Chicago"),
        ("PT", "America/Los_Angeles"),
        ("EST", "America/New_York"),  # Eastern as people mean it, not the fixed-offset "EST"
        ("america/new_york", "America/New_York"),
        ("Europe/London", "Europe/London"),
        ("New York", "America/New_York"),  # a zone's city
        ("denver", "America/Denver"),
        ("MST", None),  # Denver to some, Phoenix all year to others: asked, not guessed
        ("Eastern Time", "America/New_York"),
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("San Juan", "America/Puerto_Rico"),  # not America/Argentina/San_Juan
        ("Lima", None),  # cities are looked up among US zones only: Lima, Ohio is not Peru
        ("Indianapolis", "America/Indiana/Indianapolis"),
        ("Mountain Standard Time", None),  # Arizona's name for its own zone too: asked
        ("Washington, DC", "America/New_York"),
        ("EST5EDT", None),  # the legacy names without a region are left out
        ("Mars/Olympus_Mons", None),
        ("central-ish", None),
    ],
)
def test_time_zones_as_people_write_them(content, written, zone):
    assert time_zone(written, content.grammar) == zone


def test_every_other_name_of_a_time_zone_names_one(content):
    names = content.grammar.values["timezone"]
    assert len(names) > 10
    assert [w for w in names if time_zone(w, content.grammar) is None] == []
    shared = content.grammar.values["timezone_ambiguous"]
    assert [z for zones in shared.values() for z in zones.split() if time_zone(z, content.grammar) is None] == []


def test_an_abbreviation_two_zones_share_is_asked_about(content):
    error = unknown_zone("MST", content.grammar)
    assert error.key == "schedule.ambiguous_tz"
    assert error.variables["choices"] == "America/Denver or America/Phoenix"
    assert unknown_zone("Mars", content.grammar).key == "schedule.unknown_tz"


@pytest.mark.parametrize(
    ("words", "zone", "problem"),
    [
        ("weekly tue 9am New York", "America/New_York", None),
        ("weekly tue 9am Central time", "America/Chicago", None),
        ("weekly tue 9am Los Angeles please", None, "schedule.extra_words"),
        ("weekly tue 9am MST", None, "schedule.ambiguous_tz"),
        ("weekly tue 9am Mountain Standard Time", None, "schedule.ambiguous_tz"),
        ("weekly tue 9am Springfield", None, "schedule.unknown_tz"),
    ],
)
def test_a_cadence_ends_with_a_zone_of_one_word_or_several(content, words, zone, problem):
    if problem is None:
        assert read_cadence(tuple(words.split()), content.grammar, None)[3] == zone
    else:
        with pytest.raises(ScheduleError) as refused:
            read_cadence(tuple(words.split()), content.grammar, None)
        assert refused.value.key == problem


@pytest.mark.parametrize(("kind", "written", "meant"), VALUES)
def test_values_as_people_write_them(content, kind, written, meant):
    assert content.grammar.value(kind, written) == meant
