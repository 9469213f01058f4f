"""The conversations the coach holds; importing this package registers every command."""

from bot.dialogs import (
    checkins,
    decisions,
    help,
    meetings,
    records,
    scorecard,
    setup,
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
    "help",
    "meetings",
    "parse",
    "records",
    "scorecard",
    "setup",
    "tactics",
]
