"""Build the Teams app package: teams/manifest.json with the bot's ids filled in, plus its icons,
zipped for upload (Teams admin center, or Apps > Manage your apps > Upload an app)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from bot.config import PROJECT_DIR

TEAMS_DIR = PROJECT_DIR / "teams"
ICONS = ("color.png", "outline.png")
_APP_ID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


class PackageError(ValueError):
    """The package cannot be built as asked; the message says why."""


def build_package(app_id: str, website_url: str, out: Path, source: Path = TEAMS_DIR) -> Path:
    """Write the zip to `out` and return it.

    Args:
        app_id: the bot's Microsoft App ID (a GUID from its Azure Bot registration).
        website_url: an https URL about the app; the privacy and terms pages hang off it.
    """
    if not _APP_ID.match(app_id):
        raise PackageError(
            f"app id {app_id!r} is not a GUID like 00000000-0000-0000-0000-000000000000"
        )
    if not website_url.startswith("https://"):
        raise PackageError(f"website URL {website_url!r} must start with https://")
    text = (source / "manifest.json").read_text(encoding="utf-8")
    text = text.replace("{{APP_ID}}", app_id).replace("{{WEBSITE_URL}}", website_url.rstrip("/"))
    manifest = json.loads(text)  # a broken template fails here, not in the Teams upload
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2))
        for icon in ICONS:
            package.write(source / icon, icon)
    return out
