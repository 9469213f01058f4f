"""The partnering-agreement draft on demand (any member): `agreement`, `export agreement`.

agreement                    what the draft holds and what is still to settle, with the draft
                             as Markdown
export agreement docx | md   the draft as a Word document to edit, or as Markdown
export agreement             both

Nothing changes: the draft is built from the partnership's state (`bot.agreement`), and it is
refused, with where to start, until some organization has rated a scorecard item.
"""

from __future__ import annotations

from bot import agreement, report
from bot.dialogs.base import Args, Context, command
from bot.dialogs.report import FORMS
from bot.model import Attachment


@command("agreement", topic="scorecard")
def agreement_(ctx: Context, args: Args) -> None:
    draft = _draft(ctx)
    name = agreement.file_name(draft, "md")
    lines = agreement.to_settle_lines(draft, ctx.content)
    ctx.say(
        "agreement.shown" if lines else "agreement.shown_settled",
        attachment=Attachment(name, agreement.markdown(draft, ctx.content), "text/markdown"),
        partnership=draft.partnership.name,
        day=draft.day,
        draft_summary=draft.summary,
        linking=(
            " " + ctx.text("agreement.link_unlinked", count=len(draft.unlinked))
            if draft.unlinked
            else ""
        ),
        to_settle="\n".join(lines),
    )


@command("export agreement", topic="records", max_words=1, builds_file=True)
def export(ctx: Context, args: Args) -> None:
    typed = (args.word(0) or "").lower()
    form = FORMS.get(typed.lstrip("."))
    if typed and form is None:
        ctx.fail("agreement.unknown_format", form=typed[:40])
    draft = _draft(ctx)
    p = draft.partnership
    markdown = agreement.markdown(draft, ctx.content)
    if form in (None, "docx"):
        name = agreement.file_name(draft, "docx")
        ctx.say(
            "agreement.ready_docx",
            attachment=Attachment(
                name, markdown, report.DOCX_TYPE, data=agreement.docx(draft, ctx.content)
            ),
            partnership=p.name,
            filename=name,
        )
    if form in (None, "md"):
        name = agreement.file_name(draft, "md")
        ctx.say(
            "agreement.ready_md" if form is None else "agreement.ready_md_alone",
            attachment=Attachment(name, markdown, "text/markdown"),
            partnership=p.name,
            filename=name,
        )


def _draft(ctx: Context) -> agreement.Agreement:
    p = ctx.require_setup()
    if not agreement.has_ratings(p, ctx.content):
        ctx.fail("agreement.no_ratings")
    return agreement.build(p.detached(), ctx.content, ctx.now)
