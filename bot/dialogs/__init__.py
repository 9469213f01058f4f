"""The conversations the coach holds; importing this package registers every command."""

from bot.dialogs import (
    checkins,
    decisions,
    exercises,
    help,
    meetings,
    practice,
    scorecard,
    setup,
    spectrum,
    tactics,
)
from bot.dialogs.base import COMMANDS, Args, Command, Context, parse

__all__ = [
    "COMMANDS",
    "Args",
    "Command",
    "Context",
    "checkins",
    "decisions",
    "exercises",
    "help",
    "meetings",
    "parse",
    "practice",
    "scorecard",
    "setup",
    "spectrum",
    "tactics",
]
