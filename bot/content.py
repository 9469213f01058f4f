"""Load and validate the content folder into typed objects.

Every problem found is collected and reported as `file:line: field: what is wrong`, and
`load_content` raises one `ContentError` carrying all of them, so an editor fixes a file in
one pass. The schema is documented for editors in `content/README.md`.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ContentError

SECTORS = ("government", "business", "nonprofit", "community")
QUESTIONS_PER_TACTIC = (4, 6)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PROMPT_KEY = re.compile(r"^[a-z0-9_]+$")
# `{count|answer|answers}`: the first word when `count` is 1, the second otherwise. A prompt
# writes the number itself as usual: "{count} {count|answer|answers} recorded".
_PLURAL = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\|([^{}|]*)\|([^{}|]*)\}")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    question: str
    summary: str


@dataclass(frozen=True)
class Tactic:
    id: str
    name: str
    stage: str
    definition: str
    why_it_matters: str
    questions: tuple[str, ...]
    sector_notes: dict[str, str]
    example: str | None
    position: int = 0  # its place in the Toolkit's process order within its stage


@dataclass(frozen=True)
class Rating:
    id: str
    label: str
    meaning: str


# After the id of an item that is the coach's own wherever items are listed; the prompt
# scorecard.composed_marker explains it, and goes wherever it appears.
COMPOSED_MARK = "†"


@dataclass(frozen=True)
class Item:
    """A scorecard item, asked one way while an agreement is drafted and another while one in
    place is reviewed. `composed`: the item is the coach's own, not one of the Scorecard's
    (the Scorecard's items for When?, How? and What if? could not be retrieved), and says so
    wherever it appears."""

    id: str  # "<family>.<slug>"
    family: str
    drafting: str
    reviewing: str
    hint: str
    composed: bool = False

    def question(self, mode: str) -> str:
        """The item's question for a partnership's scorecard mode (`Partnership.mode`)."""
        return self.reviewing if mode == "reviewing" else self.drafting

    @property
    def marked(self) -> str:
        """The item's id as lists show it: `when.timeline †` for the coach's own."""
        return f"{self.id} {COMPOSED_MARK}" if self.composed else self.id


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    position: int
    about: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class ExerciseQuestion:
    id: str
    question: str  # may hold {sector}

    def for_sector(self, sector: str) -> str:
        return self.question.format(sector=sector)


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    purpose: str
    per_sector: tuple[ExerciseQuestion, ...]
    sector_notes: dict[str, str]
    debrief: tuple[str, ...]


@dataclass(frozen=True)
class CaseStep:
    id: str
    name: str
    summary: str
    done: bool


@dataclass(frozen=True)
class InterestGroup:
    id: str
    name: str
    brief: str
    sector: str = "community"  # the sector it plays in a practice run


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    scenario: str
    task: str
    steps: tuple[CaseStep, ...]
    interest_groups: tuple[InterestGroup, ...]
    source: str = ""  # where the case comes from, credited when a practice run starts
    debrief: tuple[str, ...] = ()  # asked once, at the end of a practice run


@dataclass(frozen=True)
class Prompts:
    """Every sentence the coach says outside tactic and scorecard content."""

    templates: dict[str, str]
    samples: dict[str, str]
    plurals: frozenset[str] = field(init=False)  # the keys whose templates hold {n|one|more}

    def __post_init__(self) -> None:
        plurals = frozenset(k for k, t in self.templates.items() if _PLURAL.search(t))
        object.__setattr__(self, "plurals", plurals)

    def render(self, key: str, **variables: Any) -> str:
        """Fill the template `key`; a missing template or variable is a bug and raises.

        Example:
            render("tactics.discussion_finished", count=1, name="…")  # "…: 1 answer recorded"
        """
        template = self.templates[key]
        if key in self.plurals:
            template = pluralize(template, variables)
        return template.format_map(variables)

    def __contains__(self, key: str) -> bool:
        return key in self.templates


Phrase = tuple[str, ...]
_TRAILING_PUNCTUATION = "?!.,:;"


def normal_word(word: str) -> str:
    """A word as the grammar compares it: lower case, straight apostrophes, no trailing
    punctuation (`What's` -> `what's`, `next?` -> `next`, `coach,` -> `coach`); a word that is
    all punctuation (`?`) stays as it is."""
    folded = unicodedata.normalize("NFKC", word).lower().replace("\u2019", "'")
    return folded.rstrip(_TRAILING_PUNCTUATION) or folded


def phrase_of(text: str) -> Phrase:
    return tuple(normal_word(w) for w in text.split())


@dataclass(frozen=True)
class Grammar:
    """The words people may use besides each command's own (content/grammar.yaml).

    openers       phrases said before a command and dropped ("@coach", "coach,")
    synonyms      phrase -> the command words it means ("i agree with" -> "endorse")
    text_openers  command -> words dropped where its free text starts ("because")
    values        kind -> written form -> the value it means (cadence: "bi-weekly" -> biweekly)
    topics        written form -> help topic ("check-ins" -> checkins)
    """

    openers: frozenset[Phrase] = frozenset()
    synonyms: dict[Phrase, Phrase] = field(default_factory=dict)
    text_openers: dict[str, frozenset[str]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)

    def value(self, kind: str, word: str) -> str:
        """The value `word` means for `kind` (its normal form when it is no alias)."""
        written = normal_word(word)
        return self.values.get(kind, {}).get(written, written)


@dataclass(frozen=True)
class Content:
    stages: tuple[Stage, ...]
    tactics: dict[str, Tactic]
    ratings: tuple[Rating, ...]
    families: tuple[Family, ...]
    prompts: Prompts
    exercises: dict[str, Exercise] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    grammar: Grammar = field(default_factory=Grammar)
    items: dict[str, Item] = field(init=False)

    def __post_init__(self) -> None:
        items = {item.id: item for family in self.families for item in family.items}
        object.__setattr__(self, "items", items)

    def family(self, family_id: str) -> Family | None:
        return next((f for f in self.families if f.id == family_id), None)

    def rating(self, rating_id: str) -> Rating | None:
        return next((r for r in self.ratings if r.id == rating_id), None)

    @property
    def scale(self) -> tuple[str, ...]:
        """The rating ids, from the key's first (not relevant) to its last (fully in place)."""
        return tuple(r.id for r in self.ratings)

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)


def is_one(value: Any) -> bool:
    """Whether a count reads as singular in English: 1 (or "1", 1.0), not 0, 2 or 1.5."""
    try:
        return float(str(value).replace(",", "")) == 1
    except ValueError:
        return False


def pluralize(template: str, variables: dict[str, Any]) -> str:
    """`template` with each `{count|one|more}` replaced by the form that fits `count`; a
    missing count raises KeyError, as a missing {variable} does."""

    def form(match: re.Match[str]) -> str:
        one, more = match.group(2), match.group(3)
        return one if is_one(variables[match.group(1)]) else more

    return _PLURAL.sub(form, template)


def series(words: Iterable[str], last: str = "and") -> str:
    """Words as a sentence lists them: `a`, `a and b`, `a, b and c` (`last`: "and" or "or")."""
    listed = list(words)
    if len(listed) < 3:
        return f" {last} ".join(listed)
    return f"{', '.join(listed[:-1])} {last} {listed[-1]}"


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, marked with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def kebab(name: str) -> str:
    """A tactic's id from its name: `Build a Common Fact Base` -> `build-a-common-fact-base`."""
    return "-".join(re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", name).lower()))


def load_content(directory: Path) -> Content:
    """Load `directory` (the content folder), or raise ContentError listing every problem.

    Example:
        content = load_content(Path("content"))
        content.prompts.render("decisions.agreed", decision="D1")
    """
    problems: list[str] = []
    loader = _Loader(directory, problems)
    stages = loader.stages()
    tactics = loader.tactics({s.id for s in stages})
    ratings = loader.ratings()
    families = loader.families()
    prompts = loader.prompts()
    exercises = loader.exercises()
    cases = loader.cases()
    grammar = loader.grammar()
    if problems:
        raise ContentError(problems)
    return Content(
        stages=stages,
        tactics=tactics,
        ratings=ratings,
        families=families,
        prompts=prompts,
        exercises=exercises,
        cases=cases,
        grammar=grammar,
    )


class _File:
    """One YAML file's data, with the line of every value, and a place to report problems."""

    def __init__(self, path: Path, label: str, problems: list[str]) -> None:
        self.label = label
        self.problems = problems
        self.lines: dict[Path_, int] = {}
        self.data: Any = None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{label}: (file): cannot be read: {exc}")
            return
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                problems.append(f"{label}:1: (file): is empty")
            else:
                self.data = self._build(loader, node, ())
        except yaml.MarkedYAMLError as exc:
            problems.append(f"{label}{_syntax_problem(exc)}")
            self.data = None
        except yaml.YAMLError as exc:
            problems.append(f"{label}: (syntax): {exc}")
            self.data = None
        finally:
            loader.dispose()

    def _build(self, loader: yaml.SafeLoader, node: yaml.Node, at: Path_) -> Any:
        self.lines.setdefault(at, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                self.lines[(*at, key)] = key_node.start_mark.line + 1
                if key in result:
                    self.problems.append(
                        f"{self.label}:{key_node.start_mark.line + 1}: {_dotted((*at, key))}: "
                        "appears twice"
                    )
                result[key] = self._build(loader, value_node, (*at, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self._build(loader, item, (*at, i)) for i, item in enumerate(node.value)]
        return loader.construct_object(node, deep=True)

    def problem(self, at: Path_, message: str) -> None:
        line = next((self.lines[at[:n]] for n in range(len(at), -1, -1) if at[:n] in self.lines), 0)
        where = f":{line}" if line else ""
        self.problems.append(f"{self.label}{where}: {_dotted(at) or '(file)'}: {message}")

    def mapping(self, value: Any, at: Path_) -> dict[str, Any] | None:
        if value is None and at:
            self.problem(at, "is missing")
            return None
        if not isinstance(value, dict):
            self.problem(at, f"must be a mapping of fields, not {_kind(value)}")
            return None
        return value

    def sequence(self, value: Any, at: Path_) -> list[Any]:
        if value is None and at:
            self.problem(at, "is missing")
            return []
        if not isinstance(value, list):
            self.problem(at, f"must be a list, not {_kind(value)}")
            return []
        return value

    def text(self, obj: dict[str, Any], key: str, at: Path_, *, required: bool = True) -> str:
        value = obj.get(key)
        if value is None:
            if required:
                self.problem((*at, key), "is missing")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem((*at, key), f"must be non-empty text, not {_kind(value)}")
            return ""
        return value.strip()

    def texts(
        self, obj: dict[str, Any], key: str, at: Path_, count: tuple[int, int] | None = None
    ) -> tuple[str, ...]:
        """A list of non-empty texts, optionally holding `count` = (fewest, most) of them."""
        noun = key.replace("_", " ")
        raw = self.sequence(obj.get(key), (*at, key))
        texts = []
        for i, value in enumerate(raw):
            if not isinstance(value, str) or not value.strip():
                self.problem((*at, key, i), f"must be non-empty text, not {_kind(value)}")
            else:
                texts.append(value.strip())
        if raw and count and not count[0] <= len(raw) <= count[1]:
            self.problem((*at, key), f"must hold {count[0]} to {count[1]} {noun}")
        return tuple(texts)

    def sector_notes(self, obj: dict[str, Any], at: Path_) -> dict[str, str]:
        notes: dict[str, str] = {}
        raw = self.mapping(obj.get("sector_notes"), (*at, "sector_notes"))
        if raw is not None:
            self.unknown_fields(raw, set(SECTORS), (*at, "sector_notes"))
            for sector in SECTORS:
                notes[sector] = self.text(raw, sector, (*at, "sector_notes"))
        return notes

    def flag(self, obj: dict[str, Any], key: str, at: Path_) -> bool:
        """An optional true/false field (false when absent)."""
        value = obj.get(key, False)
        if not isinstance(value, bool):
            self.problem((*at, key), f"must be true or false, not {_kind(value)}")
            return False
        return value

    def ident(self, obj: dict[str, Any], key: str, at: Path_) -> str:
        value = self.text(obj, key, at)
        if value and not _ID.match(value):
            self.problem((*at, key), f"{value!r} must be lower-case words joined by hyphens")
        return value

    def texts_or_words(self, obj: dict[str, Any], key: str) -> list[Any]:
        return self.sequence(obj.get(key, []), (key,))

    def lists_by_key(self, obj: dict[str, Any], key: str) -> Iterator[tuple[str, list[Any]]]:
        """A mapping of name -> list (of phrases), as (name, list) pairs, problems reported."""
        raw = self.mapping(obj.get(key, {}), (key,)) or {}
        for name, said in raw.items():
            if not isinstance(name, str) or not name.strip():
                self.problem((key, name), "must be named by non-empty text")
                continue
            yield name.strip(), self.sequence(said, (key, name))

    def unknown_fields(self, obj: dict[str, Any], allowed: set[str], at: Path_) -> None:
        for key in obj:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.problem((*at, key), f"is not a known field (known: {known})")


class _Loader:
    def __init__(self, root: Path, problems: list[str]) -> None:
        self.root = root
        self.problems = problems

    def _label(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def _file(self, path: Path) -> _File:
        return _File(path, self._label(path), self.problems)

    def _files(self, folder: str) -> Iterator[Path]:
        directory = self.root / folder
        if not directory.is_dir():
            self.problems.append(f"{self._label(directory)}: (folder): is missing")
            return
        yield from sorted(p for p in directory.glob("*.yaml") if not p.name.startswith("_"))

    def stages(self) -> tuple[Stage, ...]:
        path = self.root / "stages.yaml"
        if not path.is_file():
            self.problems.append(f"{self._label(path)}: (file): is missing")
            return ()
        f = self._file(path)
        if f.data is None:
            return ()
        stages: list[Stage] = []
        raw_stages = f.sequence(f.data, ())
        if not raw_stages:
            f.problem((), "must list the stages")
        for i, raw in enumerate(raw_stages):
            obj = f.mapping(raw, (i,))
            if obj is None:
                continue
            f.unknown_fields(obj, {"id", "name", "question", "summary"}, (i,))
            stage = Stage(
                id=f.ident(obj, "id", (i,)),
                name=f.text(obj, "name", (i,)),
                question=f.text(obj, "question", (i,)),
                summary=f.text(obj, "summary", (i,)),
            )
            if stage.id in {s.id for s in stages}:
                f.problem((i, "id"), f"{stage.id!r} is used by another stage")
            stages.append(stage)
        return tuple(stages)

    def tactics(self, stage_ids: set[str]) -> dict[str, Tactic]:
        tactics: dict[str, Tactic] = {}
        for path in self._files("tactics"):
            f = self._file(path)
            obj = f.mapping(f.data, ()) if f.data is not None else None
            if obj is None:
                continue
            f.unknown_fields(
                obj,
                {
                    "id",
                    "name",
                    "stage",
                    "definition",
                    "why_it_matters",
                    "questions",
                    "sector_notes",
                    "example",
                    "position",
                },
                (),
            )
            tactic_id = f.ident(obj, "id", ())
            name = f.text(obj, "name", ())
            if tactic_id and name and tactic_id != kebab(name):
                f.problem(("id",), f"{tactic_id!r} must be the name in kebab-case: {kebab(name)!r}")
            if tactic_id and tactic_id != path.stem:
                f.problem(("id",), f"{tactic_id!r} must match the file name {path.stem!r}")
                continue  # file names are unique, so ids that match them are too
            stage = f.text(obj, "stage", ())
            if stage and stage_ids and stage not in stage_ids:
                f.problem(
                    ("stage",), f"{stage!r} is not a stage (one of: {', '.join(sorted(stage_ids))})"
                )
            questions = f.texts(obj, "questions", (), QUESTIONS_PER_TACTIC)
            notes = f.sector_notes(obj, ())
            tactics[tactic_id] = Tactic(
                id=tactic_id,
                name=name,
                stage=stage,
                definition=f.text(obj, "definition", ()),
                why_it_matters=f.text(obj, "why_it_matters", ()),
                questions=questions,
                sector_notes=notes,
                example=f.text(obj, "example", (), required=False) or None,
                position=_position(f, obj),
            )
        # listed in the Toolkit's process order within each stage, not by file name
        return dict(sorted(tactics.items(), key=lambda kv: (kv[1].position, kv[0])))

    def ratings(self) -> tuple[Rating, ...]:
        path = self.root / "scorecard" / "key.yaml"
        if not path.is_file():
            self.problems.append(f"{self._label(path)}: (file): is missing")
            return ()
        f = self._file(path)
        obj = f.mapping(f.data, ()) if f.data is not None else None
        if obj is None:
            return ()
        ratings: list[Rating] = []
        for i, raw in enumerate(f.sequence(obj.get("ratings"), ("ratings",))):
            r = f.mapping(raw, ("ratings", i))
            if r is None:
                continue
            at: Path_ = ("ratings", i)
            f.unknown_fields(r, {"id", "label", "meaning"}, at)
            rating = Rating(f.ident(r, "id", at), f.text(r, "label", at), f.text(r, "meaning", at))
            if rating.id in {x.id for x in ratings}:
                f.problem((*at, "id"), f"{rating.id!r} is used by another rating")
            ratings.append(rating)
        if not ratings:
            f.problem(("ratings",), "must list the rating key")
        return tuple(ratings)

    def families(self) -> tuple[Family, ...]:
        families: list[Family] = []
        for path in self._files("scorecard"):
            if path.name == "key.yaml":
                continue
            f = self._file(path)
            obj = f.mapping(f.data, ()) if f.data is not None else None
            if obj is None:
                continue
            f.unknown_fields(obj, {"id", "title", "position", "about", "composed", "items"}, ())
            family_id = f.ident(obj, "id", ())
            if family_id and family_id != path.stem:
                f.problem(("id",), f"{family_id!r} must match the file name {path.stem!r}")
            if family_id in {x.id for x in families}:
                f.problem(("id",), f"{family_id!r} is used by another family")
            position = obj.get("position")
            if not isinstance(position, int) or isinstance(position, bool):
                f.problem(("position",), f"must be a whole number, not {_kind(position)}")
                position = 0
            composed = f.flag(obj, "composed", ())
            items: list[Item] = []
            raw_items = f.sequence(obj.get("items"), ("items",))
            if "items" in obj and not raw_items:
                f.problem(("items",), "must list at least one item")
            for i, raw in enumerate(raw_items):
                at: Path_ = ("items", i)
                it = f.mapping(raw, at)
                if it is None:
                    continue
                f.unknown_fields(it, {"id", "drafting", "reviewing", "hint", "composed"}, at)
                slug = f.ident(it, "id", at)
                item = Item(
                    id=f"{family_id}.{slug}",
                    family=family_id,
                    drafting=f.text(it, "drafting", at),
                    reviewing=f.text(it, "reviewing", at),
                    hint=f.text(it, "hint", at),
                    composed=composed or f.flag(it, "composed", at),
                )
                if item.id in {x.id for x in items}:
                    f.problem((*at, "id"), f"{slug!r} is used by another item in this family")
                items.append(item)
            families.append(
                Family(
                    id=family_id,
                    title=f.text(obj, "title", ()),
                    position=position,
                    about=f.text(obj, "about", ()),
                    items=tuple(items),
                )
            )
        if not families:
            self.problems.append(
                f"{self._label(self.root / 'scorecard')}: (folder): holds no families"
            )
        return tuple(sorted(families, key=lambda fam: fam.position))

    def _named_files(self, folder: str, fields: set[str]) -> Iterator[tuple[_File, dict[str, Any]]]:
        """The mappings in an optional folder whose `id` matches the file name."""
        if not (self.root / folder).is_dir():
            return
        for path in self._files(folder):
            f = self._file(path)
            obj = f.mapping(f.data, ()) if f.data is not None else None
            if obj is None:
                continue
            f.unknown_fields(obj, fields, ())
            item_id = f.ident(obj, "id", ())
            if item_id and item_id != path.stem:
                f.problem(("id",), f"{item_id!r} must match the file name {path.stem!r}")
                continue
            yield f, obj

    def exercises(self) -> dict[str, Exercise]:
        exercises = {}
        fields = {"id", "title", "purpose", "per_sector", "sector_notes", "debrief"}
        for f, obj in self._named_files("exercises", fields):
            questions = []
            for i, raw in enumerate(f.sequence(obj.get("per_sector"), ("per_sector",))):
                at: Path_ = ("per_sector", i)
                q = f.mapping(raw, at)
                if q is None:
                    continue
                f.unknown_fields(q, {"id", "question"}, at)
                question = ExerciseQuestion(f.ident(q, "id", at), f.text(q, "question", at))
                try:
                    question.for_sector("government")
                except (KeyError, ValueError, IndexError):
                    f.problem((*at, "question"), "may use {sector} and no other {variable}")
                questions.append(question)
            exercise = Exercise(
                id=obj["id"],
                title=f.text(obj, "title", ()),
                purpose=f.text(obj, "purpose", ()),
                per_sector=tuple(questions),
                sector_notes=f.sector_notes(obj, ()),
                debrief=f.texts(obj, "debrief", (), (1, 10)),
            )
            exercises[exercise.id] = exercise
        return exercises

    def cases(self) -> dict[str, Case]:
        cases = {}
        fields = {"id", "title", "scenario", "task", "steps", "interest_groups", "source"}
        fields.add("debrief")
        for f, obj in self._named_files("cases", fields):
            steps = []
            for i, raw in enumerate(f.sequence(obj.get("steps"), ("steps",))):
                at: Path_ = ("steps", i)
                step = f.mapping(raw, at)
                if step is None:
                    continue
                f.unknown_fields(step, {"id", "name", "summary", "done"}, at)
                done = step.get("done", False)
                if not isinstance(done, bool):
                    f.problem((*at, "done"), f"must be true or false, not {_kind(done)}")
                steps.append(
                    CaseStep(
                        f.ident(step, "id", at),
                        f.text(step, "name", at),
                        f.text(step, "summary", at),
                        done is True,
                    )
                )
            groups = []
            for i, raw in enumerate(f.sequence(obj.get("interest_groups"), ("interest_groups",))):
                at = ("interest_groups", i)
                group = f.mapping(raw, at)
                if group is None:
                    continue
                f.unknown_fields(group, {"id", "name", "brief", "sector"}, at)
                sector = f.text(group, "sector", at, required=False) or "community"
                if sector not in SECTORS:
                    f.problem((*at, "sector"), f"{sector!r} is not a sector ({', '.join(SECTORS)})")
                groups.append(
                    InterestGroup(
                        f.ident(group, "id", at),
                        f.text(group, "name", at),
                        f.text(group, "brief", at),
                        sector,
                    )
                )
            for label, ids in (
                ("steps", [x.id for x in steps]),
                ("interest_groups", [g.id for g in groups]),
            ):
                for duplicate in sorted({x for x in ids if ids.count(x) > 1}):
                    f.problem((label,), f"{duplicate!r} is used twice")
            case = Case(
                id=obj["id"],
                title=f.text(obj, "title", ()),
                scenario=f.text(obj, "scenario", ()),
                task=f.text(obj, "task", ()),
                steps=tuple(steps),
                interest_groups=tuple(groups),
                source=f.text(obj, "source", (), required=False),
                debrief=f.texts(obj, "debrief", (), (1, 10)) if "debrief" in obj else (),
            )
            cases[case.id] = case
        return cases

    def grammar(self) -> Grammar:
        """content/grammar.yaml: checked here for its shape; whether each synonym names a
        command is checked against the commands (`Commands.problems`)."""
        path = self.root / "grammar.yaml"
        if not path.is_file():
            self.problems.append(f"{self._label(path)}: (file): is missing")
            return Grammar()
        f = self._file(path)
        obj = f.mapping(f.data, ()) if f.data is not None else None
        if obj is None:
            return Grammar()
        f.unknown_fields(obj, {"openers", "synonyms", "text_openers", "values", "topics"}, ())

        def phrase(value: Any, at: Path_) -> Phrase:
            if isinstance(value, bool):  # YAML reads yes, no, on, off as true/false
                f.problem(at, "must be text: put the word in quotes (\"yes\")")
                return ()
            if not isinstance(value, (str, int)) or not str(value).strip():
                f.problem(at, f"must be non-empty text, not {_kind(value)}")
                return ()
            return phrase_of(str(value))

        openers = {
            phrase(v, ("openers", i)) for i, v in enumerate(f.texts_or_words(obj, "openers"))
        }
        synonyms: dict[Phrase, Phrase] = {}
        for target, said in f.lists_by_key(obj, "synonyms"):
            for i, value in enumerate(said):
                written = phrase(value, ("synonyms", target, i))
                if written in synonyms and synonyms[written] != phrase_of(target):
                    f.problem(
                        ("synonyms", target, i),
                        f"{' '.join(written)!r} already means {' '.join(synonyms[written])!r}",
                    )
                elif written:
                    synonyms[written] = phrase_of(target)
        text_openers = {
            target: frozenset(
                w for i, v in enumerate(said) for w in phrase(v, ("text_openers", target, i))
            )
            for target, said in f.lists_by_key(obj, "text_openers")
        }
        values: dict[str, dict[str, str]] = {}
        raw_values = f.mapping(obj.get("values", {}), ("values",)) or {}
        for kind, raw in raw_values.items():
            forms = f.mapping(raw, ("values", kind)) or {}
            values[str(kind)] = {
                " ".join(phrase(written, ("values", kind, written))): " ".join(
                    phrase(meant, ("values", kind, written))
                )
                for written, meant in forms.items()
            }
        raw_topics = f.mapping(obj.get("topics", {}), ("topics",)) or {}
        topics = {
            " ".join(phrase(written, ("topics", written))): str(meant).strip()
            for written, meant in raw_topics.items()
        }
        return Grammar(frozenset(o for o in openers if o), synonyms, text_openers, values, topics)

    def prompts(self) -> Prompts:
        samples: dict[str, str] = {}
        samples_loaded = False
        variables_path = self.root / "prompts" / "_variables.yaml"
        if not variables_path.is_file():
            self.problems.append(f"{self._label(variables_path)}: (file): is missing")
        else:
            f = self._file(variables_path)
            obj = f.mapping(f.data, ()) if f.data is not None else None
            samples_loaded = obj is not None
            for name, raw in (obj or {}).items():
                var = f.mapping(raw, (name,))
                if var is None:
                    continue
                f.unknown_fields(var, {"sample", "meaning"}, (name,))
                sample = var.get("sample")
                if sample is None or isinstance(sample, (dict, list)):
                    f.problem((name, "sample"), "must be a sample value")
                samples[str(name)] = str(sample)
                f.text(var, "meaning", (name,))
        templates: dict[str, str] = {}
        formatter = string.Formatter()
        for path in self._files("prompts"):
            f = self._file(path)
            obj = f.mapping(f.data, ()) if f.data is not None else None
            for key, template in (obj or {}).items():
                if not isinstance(key, str) or not _PROMPT_KEY.match(key):
                    f.problem((key,), "a prompt's name must be lower-case letters, digits and _")
                    continue
                if not isinstance(template, str) or not template.strip():
                    f.problem((key,), f"must be non-empty text, not {_kind(template)}")
                    continue
                for match in _PLURAL.finditer(template):
                    if samples_loaded and match.group(1) not in samples:
                        f.problem(
                            (key,),
                            f"uses {{{match.group(1)}|…}}, which prompts/_variables.yaml does "
                            "not define",
                        )
                plain = _PLURAL.sub(lambda m: m.group(2), template)
                try:
                    fields = list(formatter.parse(plain))
                except ValueError as exc:
                    f.problem((key,), f"has a broken {{...}}: {exc}; write {{{{ for a brace")
                    continue
                problems_before = len(self.problems)
                for field_name, spec, conversion in dict.fromkeys(
                    (name, spec, conversion) for _, name, spec, conversion in fields
                ):
                    if field_name is None:
                        continue
                    name = field_name
                    if spec or conversion or not name.isidentifier():
                        written = name + (f"!{conversion}" if conversion else "")
                        written += f":{spec}" if spec else ""
                        f.problem((key,), f"{{{written}}} must be a plain {{variable}}")
                    elif samples_loaded and name not in samples:
                        f.problem(
                            (key,),
                            f"uses {{{name}}}, which prompts/_variables.yaml does not define",
                        )
                template = template.rstrip("\n")
                if samples_loaded and len(self.problems) == problems_before:
                    try:
                        pluralize(template, samples).format_map(samples)
                    except (KeyError, ValueError, IndexError, AttributeError) as exc:
                        f.problem((key,), f"does not render with the sample values: {exc}")
                        continue
                templates[f"{path.stem}.{key}"] = template
        return Prompts(templates=templates, samples=samples)


def _syntax_problem(exc: yaml.MarkedYAMLError) -> str:
    """`:line: (syntax): …`, at the construct that started the trouble when PyYAML names it."""
    problem, mark = exc.problem or "", exc.problem_mark
    if exc.context and exc.context_mark:
        if mark and mark.line != exc.context_mark.line:
            problem += f" (at line {mark.line + 1})"
        return f":{exc.context_mark.line + 1}: (syntax): {exc.context}: {problem}"
    return f":{mark.line + 1}: (syntax): {problem}" if mark else f": (syntax): {problem}"


def _position(f: _File, obj: dict[str, Any]) -> int:
    """A tactic's optional `position`: a whole number from 1, its order within its stage."""
    position = obj.get("position", 0)
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        f.problem(("position",), f"must be a whole number from 1, not {_kind(position)}")
        return 0
    return position


def _dotted(at: Path_) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return "empty text" if not value.strip() else "text"
    return {dict: "a mapping", list: "a list", bool: "true/false"}.get(
        type(value), type(value).__name__
    )
