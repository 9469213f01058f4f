"""The progress report on demand: `report` (any member).

report                      the Word document (with charts) and the Markdown
report docx | md            one of them
report since 2026-10-01     measures' values and what moved, since that day
report last 30 days         the same, for the last 30 days (or weeks)
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot import report
from bot.dialogs.base import Args, Context, command
from bot.model import Attachment

FORMS = {"docx": "docx", "word": "docx", "md": "md", "markdown": "md"}
_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7}
MAX_DAYS = 3660


@command("report", topic="measures", max_words=None, needs_history=True, builds_file=True)
def report_(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    words = [w.lower() for w in args.words]
    forms = {FORMS[w] for w in words if w in FORMS}
    period = [w for w in words if w not in FORMS]
    since = _since(ctx, period) if period else None
    view = p.detached()
    gathered = report.build(view, ctx.content, ctx.decision_log, ctx.journal_log, ctx.now, since)
    if not forms or "docx" in forms:
        name = report.filename(view, ctx.now, "docx")
        data = report.docx(gathered, ctx.content)
        text = report.markdown(gathered, ctx.content)  # the plain-text stand-in
        ctx.say(
            "report.ready",
            attachment=Attachment(name, text, report.DOCX_TYPE, data=data),
            partnership=p.name,
            filename=name,
        )
    if not forms or "md" in forms:
        name = report.filename(view, ctx.now, "md")
        ctx.say(
            "report.ready_md",
            attachment=Attachment(name, report.markdown(gathered, ctx.content), "text/markdown"),
            filename=name,
        )


def _since(ctx: Context, words: list[str]) -> datetime:
    """The period's start, at midnight in the partnership's time zone."""
    zone = ctx.partnership.zone
    today = ctx.now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    text = " ".join(words)
    if len(words) == 2 and words[0] == "since":
        try:
            day = datetime.strptime(words[1], "%Y-%m-%d")
        except ValueError:
            ctx.fail("report.bad_period", period=text[:40])
        return day.replace(tzinfo=zone)
    match = re.fullmatch(r"last (\d{1,4}) (days?|weeks?)", text)
    if match:
        days = int(match.group(1)) * _DAYS[match.group(2)]
        if 0 < days <= MAX_DAYS:
            return today - timedelta(days=days - 1)
    if words[0] in {"since", "last"}:
        ctx.fail("report.bad_period", period=text[:40])
    ctx.fail("report.usage")
