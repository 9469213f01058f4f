"""The conversations the coach holds, and the commands they answer."""

from bot.dialogs import (
    agreement,
    checkins,
    decisions,
    exercises,
    help,
    measures,
    meetings,
    practice,
    records,
    report,
    scorecard,
    setup,
    spectrum,
    status,
    tactics,
)
from bot.dialogs.base import Args, Command, Commands, Context, Found, command, parse, tokenize

__all__ = [
    "Args",
    "Command",
    "Commands",
    "Context",
    "Found",
    "command",
    "default_commands",
    "parse",
    "tokenize",
]


def default_commands() -> Commands:
    """Every command of the coach's dialogs, in the order help lists them."""
    return Commands.collect(
        setup,
        spectrum,
        status,
        help,
        scorecard,
        agreement,
        decisions,
        tactics,
        checkins,
        measures,
        meetings,
        report,
        exercises,
        practice,
        records,
    )
