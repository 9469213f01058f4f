"""The conversations the coach holds; importing this package registers every command."""

from bot.dialogs import decisions, help, meetings, scorecard, setup, tactics
from bot.dialogs.base import COMMANDS, Args, Command, Context, parse

__all__ = [
    "COMMANDS",
    "Args",
    "Command",
    "Context",
    "decisions",
    "help",
    "meetings",
    "parse",
    "scorecard",
    "setup",
    "tactics",
]
