"""The content folder: what ships loads clean, and broken content is reported line by line.

A content editor only ever sees the coach through `coach content check`, so the broken-content
tests assert the exact `file:line: field: what is wrong` lines the editor would read.

Each broken case copies the real content folder into tmp_path, adds the small, valid
tests/fixtures/content/sample-tactic.yaml (so line numbers never move when editors reword the
real tactics), and then writes ONE broken file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from bot import agreement, report
from bot.config import PROJECT_DIR
from bot.content import SECTORS as SECTOR_IDS
from bot.content import Content, load_content
from bot.dialogs import default_commands
from bot.dialogs.decisions import Act, Offered
from bot.dialogs.help import TOPICS
from bot.dialogs.spectrum import FORMALITY, INTEGRATION
from bot.errors import ContentError
from bot.partnership import PROGRESS, SCORECARD_MODES, STANDINGS, STATUSES
from bot.records import UNITS
from bot.schedule import CADENCES
from tests.conftest import CONTENT_DIR

FIXTURES = Path(__file__).parent / "fixtures" / "content"
SAMPLE_TACTIC = (FIXTURES / "sample-tactic.yaml").read_text(encoding="utf-8")
SAMPLE = "content/tactics/sample-tactic.yaml"
STAGES = "(one of: assessment, design, diagnosis, implementation)"
TACTIC_FIELDS = (
    "definition, example, id, name, position, questions, sector_notes, stage, why_it_matters"
)

SECTORS = {"government", "business", "nonprofit", "community"}
WORKSHOP_TACTICS = (
    "build-a-common-fact-base",
    "agree-on-measures-of-success",
    "commit-to-information-sharing",
    "manage-expectations-of-process-and-results",
)
PROMPT_AREAS = sorted(p.stem for p in (CONTENT_DIR / "prompts").glob("[!_]*.yaml"))
PROMPT_KEY_IN_CODE = re.compile(r'"((?:' + "|".join(PROMPT_AREAS) + r')\.[a-z_]+)"')
PROMPT_KEY_BUILT_IN_CODE = re.compile(r'f"((?:' + "|".join(PROMPT_AREAS) + r')\.[a-z_]*)\{')
NOT_PROMPT_KEYS = {"report.md"}  # a file name in the archive, in quotes like a key
# What completes each prompt key the code builds with an f-string (f"report.col_{c}"): a key
# built from a new prefix fails the test until its values are named here.
BUILT_KEYS: dict[str, tuple[str, ...]] = {
    "agreement.col_": agreement.RATING_COLUMNS + agreement.PARTY_COLUMNS,
    "agreement.sector_": SECTOR_IDS,
    "checkins.schedule_": CADENCES,
    "checkins.sector_": SECTOR_IDS,
    "decisions.history_": get_args(Act),
    "decisions.nothing_to_": get_args(Offered),
    "decisions.which_to_": get_args(Offered),
    "decisions.status_": STATUSES,
    "exercises.sector_": SECTOR_IDS,
    "help.": TOPICS,
    "records.period_": tuple(UNITS.values()),
    "report.col_": report.SCORECARD_COLUMNS + report.VALUES_COLUMNS + report.DECISIONS_COLUMNS,
    "report.h_": STATUSES,
    "report.progress_": PROGRESS,
    "scorecard.grid_": STANDINGS,
    "scorecard.mode_": SCORECARD_MODES,
    "spectrum.formality_": FORMALITY,
    "spectrum.integration_": INTEGRATION,
}

WHO_WITH_TWO_REPRESENTATIVES = """\
id: who
title: Who?
position: 1
about: Settles who the partners are and who speaks for each of them.
items:
  - id: representatives
    drafting: Who will represent each partner?
    reviewing: Who represents each partner?
    hint: Each partner names its representative.
  - id: representatives
    drafting: Who will speak for each partner?
    reviewing: Who speaks for each partner?
    hint: Each partner names a spokesperson.
"""


def sample_tactic(old: str, new: str) -> str:
    """The sample tactic with one edit; `old` must appear exactly once."""
    if SAMPLE_TACTIC.count(old) != 1:
        raise ValueError(f"{old!r} is not exactly once in sample-tactic.yaml")
    return SAMPLE_TACTIC.replace(old, new)


def prompts_file(greeting: str) -> str:
    """A prompts file whose second line is the `greeting` prompt."""
    return f"welcome: Welcome to the partnership.\ngreeting: {greeting}\n"


def content_copy(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    """The real content plus the sample tactic, with `files` (path: text) written over it."""
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    (root / "tactics" / "sample-tactic.yaml").write_text(SAMPLE_TACTIC, encoding="utf-8")
    for relative, text in (files or {}).items():
        (root / relative).write_text(text, encoding="utf-8")
    return root


def problems_in(root: Path) -> list[str]:
    with pytest.raises(ContentError) as raised:
        load_content(root)
    return raised.value.problems


def kebab_case(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


# --- the shipped content ------------------------------------------------------------------


def test_stages_are_the_four_in_order(content: Content) -> None:
    assert [s.id for s in content.stages] == [
        "diagnosis",
        "design",
        "implementation",
        "assessment",
    ]


def test_scorecard_has_the_six_families_in_order_each_with_items(content: Content) -> None:
    assert [f.id for f in content.families] == ["who", "why", "what", "when", "how", "what-if"]
    assert [f.id for f in content.families if not f.items] == []
    assert "who.representatives" in content.items


def test_rating_key_is_the_four_levels_in_order(content: Content) -> None:
    assert [r.id for r in content.ratings] == [
        "not-relevant",
        "not-in-place",
        "partial",
        "in-place",
    ]


def test_the_four_workshop_tactics_exist(content: Content) -> None:
    assert [t for t in WORKSHOP_TACTICS if t not in content.tactics] == []


@pytest.mark.parametrize(
    "tactic_id", sorted(p.stem for p in (CONTENT_DIR / "tactics").glob("*.yaml"))
)
def test_each_tactic_is_complete(content: Content, tactic_id: str) -> None:
    tactic = content.tactics[tactic_id]
    assert tactic.id == kebab_case(tactic.name)
    assert (CONTENT_DIR / "tactics" / f"{tactic.id}.yaml").is_file()
    assert content.stage(tactic.stage) is not None
    assert set(tactic.sector_notes) == SECTORS
    assert all(note.strip() for note in tactic.sector_notes.values())
    assert 4 <= len(tactic.questions) <= 6
    assert tactic.definition
    assert tactic.why_it_matters


# --- prompts ------------------------------------------------------------------------------


def test_every_prompt_renders_with_the_sample_values(content: Content) -> None:
    for key, template in content.prompts.templates.items():
        assert (
            content.prompts.render(key, **content.prompts.samples) != template
            or "{" not in template
        ), key


def prompt_keys_in_code() -> list[str]:
    code = [path.read_text(encoding="utf-8") for path in (PROJECT_DIR / "bot").rglob("*.py")]
    keys = {key for text in code for key in PROMPT_KEY_IN_CODE.findall(text)} - NOT_PROMPT_KEYS
    built = {prefix for text in code for prefix in PROMPT_KEY_BUILT_IN_CODE.findall(text)}
    assert built <= set(BUILT_KEYS), f"say in BUILT_KEYS what completes {built - set(BUILT_KEYS)}"
    keys |= {prefix + value for prefix, values in BUILT_KEYS.items() for value in values}
    # report.standing_words: how an item stands, worded for the agreement or for the chat
    keys |= {f"{w}.standing_{s}" for w in ("agreement", "scorecard") for s in STANDINGS}
    keys |= {spec.usage for spec in default_commands()}
    return sorted(keys)


def test_the_code_refers_to_prompts() -> None:
    # Guards the scan below: if the pattern stopped matching, every prompt would look "used".
    assert len(prompt_keys_in_code()) > 500


@pytest.mark.parametrize("key", prompt_keys_in_code())
def test_every_prompt_the_code_uses_exists(content: Content, key: str) -> None:
    assert key in content.prompts


def test_every_prompt_is_used_by_the_code(content: Content) -> None:
    """A sentence nobody can see is content an editor maintains for nothing."""
    assert sorted(set(content.prompts.templates) - set(prompt_keys_in_code())) == []


# --- broken content -----------------------------------------------------------------------


def test_the_copy_with_the_sample_tactic_loads_clean(tmp_path: Path) -> None:
    """The baseline of every broken case below: only the broken file differs from it."""
    content = load_content(content_copy(tmp_path))
    assert content.tactics["sample-tactic"].stage == "design"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"tactics/sample-tactic.yaml": sample_tactic("definition: A made-up", "define: A")},
            [
                f"{SAMPLE}:4: define: is not a known field (known: {TACTIC_FIELDS})",
                f"{SAMPLE}:1: definition: is missing",
            ],
            id="misspelt-field-so-required-field-missing",
        ),
        pytest.param(
            {
                "tactics/sample-tactic.yaml": sample_tactic(
                    "definition: A made-up tactic that only the content tests use.\n", ""
                )
            },
            [f"{SAMPLE}:1: definition: is missing"],
            id="required-field-deleted",
        ),
        pytest.param(
            {"tactics/sample-tactic.yaml": sample_tactic("stage: design", "stage: planning")},
            [f"{SAMPLE}:3: stage: 'planning' is not a stage {STAGES}"],
            id="unknown-stage",
        ),
        pytest.param(
            # An editor copies a tactic to start a new one and forgets to change its id. File
            # names are unique, so a duplicate id always also mismatches its file name.
            {"tactics/trust-the-process.yaml": SAMPLE_TACTIC},
            [
                "content/tactics/trust-the-process.yaml:1: id: 'sample-tactic' must match the "
                "file name 'trust-the-process'",
            ],
            id="duplicate-tactic-id-in-a-later-file",
        ),
        pytest.param(
            # The same mistake, but the copy's name sorts first: still only the copy is blamed.
            {"tactics/reach-out-early.yaml": SAMPLE_TACTIC},
            [
                "content/tactics/reach-out-early.yaml:1: id: 'sample-tactic' must match the "
                "file name 'reach-out-early'",
            ],
            id="duplicate-tactic-id-in-an-earlier-file",
        ),
        pytest.param(
            {
                "tactics/sample-tactic.yaml": sample_tactic(
                    "name: Sample Tactic", "name: Sample Step"
                )
            },
            [f"{SAMPLE}:1: id: 'sample-tactic' must be the name in kebab-case: 'sample-step'"],
            id="id-does-not-match-name",
        ),
        pytest.param(
            # A problem inside a block (sector_notes, questions) points at the block's own
            # line (`sector_notes:`, line 11).
            {
                "tactics/sample-tactic.yaml": sample_tactic(
                    "  community: A note for community partners.\n", ""
                )
            },
            [f"{SAMPLE}:11: sector_notes.community: is missing"],
            id="sector-note-missing",
        ),
        pytest.param(
            {"tactics/sample-tactic.yaml": sample_tactic("  communi", "  communa")},
            [
                f"{SAMPLE}:15: sector_notes.communaty: is not a known field "
                "(known: business, community, government, nonprofit)",
                f"{SAMPLE}:11: sector_notes.community: is missing",
            ],
            id="sector-note-misspelt",
        ),
        pytest.param(
            {
                "tactics/sample-tactic.yaml": sample_tactic(
                    "  - What is the fourth thing we should ask?\n", ""
                )
            },
            [f"{SAMPLE}:6: questions: must hold 4 to 6 questions"],
            id="three-questions",
        ),
        pytest.param(
            {
                "tactics/sample-tactic.yaml": sample_tactic(
                    "questions:\n", "questions:\n  - A?\n  - B?\n  - C?\n"
                )
            },
            [f"{SAMPLE}:6: questions: must hold 4 to 6 questions"],
            id="seven-questions",
        ),
        pytest.param(
            {"scorecard/who.yaml": WHO_WITH_TWO_REPRESENTATIVES},
            [
                "content/scorecard/who.yaml:10: items[1].id: 'representatives' is used by another "
                "item in this family"
            ],
            id="duplicate-item-in-a-family",
        ),
        pytest.param(
            {
                "tactics/sample-tactic.yaml": sample_tactic(
                    "stage: design\n", "stage: design\nstage: diagnosis\n"
                )
            },
            [f"{SAMPLE}:4: stage: appears twice"],
            id="duplicate-key-in-a-mapping",
        ),
        pytest.param(
            {"prompts/sample.yaml": prompts_file("Hello {nobody}.")},
            [
                "content/prompts/sample.yaml:2: greeting: uses {nobody}, which "
                "prompts/_variables.yaml does not define"
            ],
            id="prompt-uses-undefined-variable",
        ),
        pytest.param(
            {"prompts/sample.yaml": prompts_file("'Hello {oops'")},
            [
                "content/prompts/sample.yaml:2: greeting: has a broken {...}: expected '}' before "
                "end of string; write {{ for a brace"
            ],
            id="prompt-with-unclosed-brace",
        ),
        pytest.param(
            {"prompts/sample.yaml": prompts_file("'Hello oops}'")},
            [
                "content/prompts/sample.yaml:2: greeting: has a broken {...}: Single '}' "
                "encountered in format string; write {{ for a brace"
            ],
            id="prompt-with-stray-closing-brace",
        ),
        pytest.param(
            {"prompts/sample.yaml": "greeting: 'Hello {0}'\n"},
            ["content/prompts/sample.yaml:1: greeting: {0} must be a plain {variable}"],
            id="prompt-with-numbered-field",
        ),
        pytest.param(
            {"tactics/sample-tactic.yaml": sample_tactic("stage: design", "stage: design: early")},
            [f"{SAMPLE}:3: (syntax): mapping values are not allowed here"],
            id="yaml-syntax-error",
        ),
        pytest.param(
            {"tactics/sample-tactic.yaml": sample_tactic("  business:", "\tbusiness:")},
            [f"{SAMPLE}:13: (syntax): found character '\\t' that cannot start any token"],
            id="yaml-tab-indent",
        ),
        pytest.param(
            {"tactics/sample-tactic.yaml": "- Sample Tactic\n"},
            [f"{SAMPLE}:1: (file): must be a mapping of fields, not a list"],
            id="tactic-file-is-a-list",
        ),
        pytest.param(
            {"scorecard/why.yaml": "- id: why\n- title: Why?\n"},
            ["content/scorecard/why.yaml:1: (file): must be a mapping of fields, not a list"],
            id="family-file-is-a-list",
        ),
        pytest.param(
            {"prompts/sample.yaml": "- Hello.\n"},
            ["content/prompts/sample.yaml:1: (file): must be a mapping of fields, not a list"],
            id="prompts-file-is-a-list",
        ),
    ],
)
def test_broken_content_is_reported_exactly(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    assert problems_in(content_copy(tmp_path, files)) == expected


def test_problems_in_several_files_are_all_reported_at_once(tmp_path: Path) -> None:
    root = content_copy(
        tmp_path,
        {
            "tactics/sample-tactic.yaml": sample_tactic("stage: design", "stage: planning"),
            "scorecard/who.yaml": WHO_WITH_TWO_REPRESENTATIVES,
            "prompts/sample.yaml": "greeting: Hello {nobody}.\n",
            "prompts/broken.yaml": "greeting: Hello: there.\n",
        },
    )
    assert sorted(problems_in(root)) == [
        "content/prompts/broken.yaml:1: (syntax): mapping values are not allowed here",
        "content/prompts/sample.yaml:1: greeting: uses {nobody}, which prompts/_variables.yaml "
        "does not define",
        "content/scorecard/who.yaml:10: items[1].id: 'representatives' is used by another item "
        "in this family",
        f"{SAMPLE}:3: stage: 'planning' is not a stage {STAGES}",
    ]


def test_several_problems_in_one_file_are_all_reported(tmp_path: Path) -> None:
    broken = sample_tactic("stage: design", "stage: planning").replace(
        "  community: A note for community partners.\n", ""
    )
    assert problems_in(content_copy(tmp_path, {"tactics/sample-tactic.yaml": broken})) == [
        f"{SAMPLE}:3: stage: 'planning' is not a stage {STAGES}",
        f"{SAMPLE}:11: sector_notes.community: is missing",
    ]


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({"tactics/sample-tactic.yaml": ""}, id="empty-tactic-file-is-skipped"),
        pytest.param({"scorecard/why.yaml": "# todo\n"}, id="empty-family-file-is-skipped"),
        pytest.param({"scorecard/key.yaml": ""}, id="empty-rating-key-gives-no-ratings"),
        pytest.param({"prompts/help.yaml": ""}, id="empty-prompts-file-drops-its-prompts"),
        pytest.param({"stages.yaml": ""}, id="empty-stages-file-is-not-itself-reported"),
        pytest.param(
            {"tactics/sample-tactic.yaml": sample_tactic("questions:\n", "questions: 5\nq:\n")},
            id="questions-as-a-number-crashes-the-loader",
        ),
    ],
)
def test_empty_or_mistyped_files_are_reported(tmp_path: Path, files: dict[str, str]) -> None:
    """Each of these is a ContentError naming the file."""
    root = content_copy(tmp_path, files)
    problems = problems_in(root)
    assert any(line.startswith(f"content/{next(iter(files))}") for line in problems)


# --- the command line ---------------------------------------------------------------------


def coach_content_check(content_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "content", "check"],
        env={**os.environ, "COACH_CONTENT_DIR": str(content_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_check_passes_on_the_shipped_content(content: Content) -> None:
    result = coach_content_check(CONTENT_DIR)
    assert result.returncode == 0, result.stderr
    assert "content is valid" in result.stdout
    assert f"{len(content.stages)} stages, {len(content.tactics)} tactics" in result.stdout


def test_cli_check_lists_the_problems_and_fails(tmp_path: Path) -> None:
    root = content_copy(
        tmp_path, {"tactics/sample-tactic.yaml": sample_tactic("stage: design", "stage: planning")}
    )
    result = coach_content_check(root)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"coach: the content in {root} has problems:",
        f"{SAMPLE}:3: stage: 'planning' is not a stage {STAGES}",
    ]


# --- exercises and cases ---------------------------------------------------------------------


def test_the_sector_styles_exercise_asks_four_questions_of_every_sector(content: Content) -> None:
    exercise = content.exercises["sector-styles"]
    assert [q.id for q in exercise.per_sector] == [
        "culture",
        "motivations",
        "limitations",
        "assets",
    ]
    for question in exercise.per_sector:
        assert "nonprofit" in question.for_sector("nonprofit")
    assert set(exercise.sector_notes) == SECTORS
    assert len(exercise.debrief) >= 3


def test_the_case_simulation_has_its_five_steps_and_five_interest_groups(content: Content) -> None:
    case = content.cases["transportation-air-quality"]
    assert [(s.name, s.done) for s in case.steps] == [
        ("Assess", True),
        ("Organize", False),
        ("Educate", False),
        ("Negotiate", False),
        ("Implement", False),
    ]
    assert [g.id for g in case.interest_groups] == [
        "business",
        "environment",
        "government",
        "local-community",
        "community-interests",
    ]
    assert all(len(g.brief) > 100 for g in case.interest_groups)
    assert "48 organizations" in case.scenario


EXERCISE = """\
id: warm-up
title: Warm-up
purpose: Get talking.
per_sector:
  - id: culture
    question: What is {sector} like at {place}?
sector_notes:
  government: g
  business: b
  nonprofit: n
  community: c
debrief:
  - What did we learn?
"""

CASE = """\
id: practice
title: Practice
scenario: A town.
task: Agree.
steps:
  - id: assess
    name: Assess
    summary: Look around.
    done: yes please
  - id: assess
    name: Assess again
    summary: Look again.
interest_groups:
  - id: business
    name: Business
    brief: Wants speed.
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"exercises/warm-up.yaml": EXERCISE},
            [
                "content/exercises/warm-up.yaml:6: per_sector[0].question: may use {sector} "
                "and no other {variable}"
            ],
        ),
        (
            {"exercises/warm-up.yaml": EXERCISE.replace("  community: c\n", "")},
            [
                "content/exercises/warm-up.yaml:6: per_sector[0].question: may use {sector} "
                "and no other {variable}",
                "content/exercises/warm-up.yaml:7: sector_notes.community: is missing",
            ],
        ),
        (
            {"cases/practice.yaml": CASE},
            [
                "content/cases/practice.yaml:9: steps[0].done: must be true or false, not text",
                "content/cases/practice.yaml:5: steps: 'assess' is used twice",
            ],
        ),
        (
            {"cases/other-name.yaml": CASE},
            [
                "content/cases/other-name.yaml:1: id: 'practice' must match the file name 'other-name'"
            ],
        ),
    ],
    ids=["exercise-unknown-variable", "exercise-missing-note", "case-bad-step", "case-id-mismatch"],
)
def test_broken_exercises_and_cases_are_reported(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    assert problems_in(content_copy(tmp_path, files)) == expected


@pytest.mark.parametrize(
    ("words", "last", "listed"),
    [([], "and", ""), (["City"], "and", "City"), (["City", "NGO"], "or", "City or NGO"),
     (["City", "Chamber", "NGO"], "and", "City, Chamber and NGO")],
)  # fmt: skip
def test_series_lists_words_as_a_sentence_does(words, last, listed):
    from bot.content import series

    assert series(words, last) == listed
