"""Where a partnership sits on the spectrum of collaboration, asked when it is set up.

    spectrum                                 shows the choice, or asks for one
    spectrum <integration> <formality>       a facilitator sets it: spectrum collaborative formal

Integration runs from informative (partners keep each other informed) through consultative
(partners ask each other's views) to collaborative (partners share decision-making power);
formality from an informal coalition to a formal agreement (an MOU, bylaws, a governance
structure). The choice is kept in `partnership.dialogs["spectrum"]` and journaled; the scorecard
round reflects it in the advice it starts with (`note`).
"""

from __future__ import annotations

from bot.dialogs.base import Args, Context, command

INTEGRATION = ("informative", "consultative", "collaborative")
FORMALITY = ("informal", "formal")
DIALOG = "spectrum"


@command("spectrum", topic="setup", max_words=2)
def spectrum(ctx: Context, args: Args) -> None:
    p = ctx.require_setup()
    words = [w.lower() for w in args.words]
    if not words:
        chosen = p.dialogs.get(DIALOG)
        if chosen is None:
            ctx.say(
                "spectrum.ask", integration=" ".join(INTEGRATION), formality=" ".join(FORMALITY)
            )
        else:
            ctx.say("spectrum.current", advice=note(ctx))
        return
    ctx.require_facilitator()
    integration = next((w for w in words if w in INTEGRATION), None)
    formality = next((w for w in words if w in FORMALITY), None)
    if integration is None or formality is None or len(words) != 2:
        ctx.fail("spectrum.usage", integration=" ".join(INTEGRATION), formality=" ".join(FORMALITY))
    p.dialogs[DIALOG] = {"integration": integration, "formality": formality}
    ctx.remember("spectrum", integration=integration, formality=formality)
    ctx.say("spectrum.set", advice=note(ctx))


def note(ctx: Context) -> str:
    """Advice that fits the partnership's place on the spectrum ("" when none is chosen)."""
    chosen = ctx.partnership.dialogs.get(DIALOG)
    if not chosen:
        return ""
    return " ".join(
        (
            ctx.text(f"spectrum.integration_{chosen['integration']}"),
            ctx.text(f"spectrum.formality_{chosen['formality']}"),
        )
    )
