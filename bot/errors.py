"""The coach's exceptions.

    CoachError
     ├── UserFacingError   an expected outcome (unknown command, stale click, bad id): rendered
     │    │                from its prompt as an ordinary reply; nothing changes
     │    └── FormError    a form refused whole: one UserFacingError per field, so a platform
     │                     can show each beside its field
     └── ContentError      the content folder has problems; carries every problem found

ConfigError (in `config.py`) is a ValueError raised while reading settings.
Anything else is a bug: caught once per entry point, logged with its ids, and answered with
the generic `errors.sorry` prompt. Exception text never goes to chat.
"""

from __future__ import annotations

from typing import Any


class CoachError(Exception):
    """Base of the coach's own exceptions."""


class UserFacingError(CoachError):
    """An expected outcome that the user should hear about, as the prompt `key` renders it."""

    def __init__(self, key: str, **variables: Any) -> None:
        super().__init__(key)
        self.key = key
        self.variables = variables

    def __repr__(self) -> str:
        return f"UserFacingError({self.key!r}, {self.variables!r})"


class FormError(UserFacingError):
    """A form with problems in some fields; as a reply it says the first one."""

    def __init__(self, problems: dict[str, UserFacingError]) -> None:
        first = next(iter(problems.values()))
        super().__init__(first.key, **first.variables)
        self.problems = problems


class ContentError(CoachError):
    """The content folder could not be loaded.

    `problems` lists every problem found, each as `file:line: field: what is wrong`.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in content")
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(self.problems)
