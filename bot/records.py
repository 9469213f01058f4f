"""Records a public body keeps: linked conversations, the archive, retention, legal hold and
deletion. The dialogs (`bot.dialogs.records`) decide; this module does the I/O they ask for
after their commit (`Coach`), and what the worker and the command line do.

A partnership's `records` section (in its own state, so every change is one commit checked
against its revision) holds:

    links       conversation key -> who linked it and when (and when it was unlinked);
                the partnership's home conversation (its id) is not listed: it is always in
    link_code   the pending one-time link code: its hash, its expiry, who made it
    retention   how long history is kept: {"amount": 7, "unit": "years", ...}; absent: forever
    hold        a legal hold: {"on": true, "by": ..., "at": ...}
    delete      a pending `partnership delete`: the step its confirmation button carries

The archive is one zip: the state as JSON, both streams (every entry with its time and
author) as JSON and CSV, the decisions as CSV and Markdown, a progress report, and a dump of
every Redis key the coach holds about the partnership (`redis.json`), so nothing is left out.
Earlier archives kept for a download link are in `redis.json` by size and SHA-256, not by
their bytes: archives do not nest. It is named like the other documents, after the partnership
and the day in its time zone.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.content import Content
from bot.partnership import SECTIONS, Partnership, practice_id, readable_time
from bot.store import CommitResult, Entry, Store

LINK_CODE_TTL_S = 15 * 60  # a link code is good for this long, once
DELETE_CONFIRM_S = 10 * 60  # a delete's confirmation button is good for this long
DECISIONS = "decisions"  # the archive's decisions.csv and decisions.md
ARCHIVE_KIND = "archive"  # in its file name: trails-archive-2026-04-14.zip
ARCHIVE_MEDIA_TYPE = "application/zip"
UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}


def conversations(p: Partnership) -> list[str]:
    """The conversations the partnership lives in: its home first, then those linked."""
    linked = [c for c, link in links(p).items() if not link.get("unlinked_at") and c != p.id]
    return [p.id, *sorted(linked, key=lambda c: str(links(p)[c].get("at", "")))]


def links(p: Partnership) -> dict[str, dict[str, Any]]:
    found = p.records.get("links")
    return dict(found) if isinstance(found, dict) else {}


def hold_on(p: Partnership) -> bool:
    return bool((p.records.get("hold") or {}).get("on"))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalized_code(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


@dataclass(frozen=True)
class Retention:
    amount: int
    unit: str  # days, weeks, months or years

    @classmethod
    def parse(cls, words: tuple[str, ...]) -> Retention | None:
        """`7 years`, `18 months`, `90 days`, `1 week`; None when it is not a duration."""
        if len(words) != 2 or not words[0].isdigit():
            return None
        amount, unit = int(words[0]), words[1].lower()
        unit = UNITS.get(unit.removesuffix("s"), "")
        if not unit or not 1 <= amount <= 1000:
            return None
        return cls(amount, unit)

    @classmethod
    def of(cls, p: Partnership) -> Retention | None:
        found = p.records.get("retention")
        if not isinstance(found, dict):
            return None
        return cls(int(found["amount"]), str(found["unit"]))

    def cutoff(self, now: datetime) -> datetime:
        """The moment before which history is no longer kept, by the calendar."""
        if self.unit in ("days", "weeks"):
            return now - timedelta(days=self.amount * (7 if self.unit == "weeks" else 1))
        months = self.amount * (12 if self.unit == "years" else 1)
        year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
        day = now.day
        while True:
            try:
                return now.replace(year=year, month=month + 1, day=day)
            except ValueError:  # 29 February, or the 31st of a shorter month
                day -= 1


async def archive(store: Store, content: Content, pid: str, now: datetime) -> tuple[str, bytes]:
    """The partnership's archive: its file name and the zip's bytes."""
    from bot import report
    from bot.dialogs.base import Context
    from bot.dialogs.decisions import decisions_csv, decisions_markdown
    from bot.model import Address, Turn, User

    snapshot = await store.load_partnership(pid, with_history=True)
    p = snapshot.partnership
    keys = await store.keys_of(pid, conversations(p)) + await store.keys_of(practice_id(pid), [])
    dumped = await store.dump(keys, digested={ARCHIVE_MEDIA_TYPE})  # earlier archives: no nesting
    indexes = await store.indexes_of(pid)
    ctx = Context(
        turn=Turn(Address.of_conversation(pid), User("archive", "archive"), ""),
        partnership=p,
        content=content,
        now=now,
        decision_log=snapshot.decision_log,
        journal_log=snapshot.journal,
    )
    state = {
        "id": pid,
        "name": p.name,
        "revision": snapshot.rev,
        "exported_at": now.isoformat(timespec="seconds"),
        "conversations": conversations(p),
        "sections": {
            section: {k: json.loads(v) for k, v in snapshot.sections[section].items()}
            for section in SECTIONS
        },
    }
    name = report.filename(p, now, "zip", ARCHIVE_KIND)

    def zipped() -> bytes:  # compressing a long history takes a while: not in the event loop
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            readme = content.prompts.render(
                "records.archive_readme",
                partnership=p.name or pid,
                at=readable_time(now, p.zone),
            )
            zf.writestr("README.txt", readme + "\n")
            zf.writestr("state.json", _json(state))
            for stream, entries in (
                ("decision-log", snapshot.decision_log),
                ("journal", snapshot.journal),
            ):
                zf.writestr(f"{stream}.json", _json([_entry(e) for e in entries]))
                zf.writestr(f"{stream}.csv", _history_csv(entries))
            zf.writestr(f"{DECISIONS}.csv", decisions_csv(ctx))
            zf.writestr(f"{DECISIONS}.md", decisions_markdown(ctx))
            if p.is_set_up:
                gathered = report.build(p, content, snapshot.decision_log, snapshot.journal, now)
                zf.writestr("report.md", report.markdown(gathered, content))
            zf.writestr("redis.json", _json({"keys": dumped, "indexes": indexes}))
        return out.getvalue()

    return name, await asyncio.to_thread(zipped)


async def delete(store: Store, pid: str) -> int:
    """Remove everything the coach holds about the partnership, its practice run's space
    included; returns how many keys."""
    p = (await store.load_partnership(pid)).partnership
    practice = await store.purge(practice_id(pid), [])  # a practice run's space, if any
    return practice + await store.purge(pid, conversations(p))


async def record_act(store: Store, pid: str, kind: str, by: str, now: datetime) -> None:
    """Keep an act done outside a conversation (the command line's export) in the journal."""
    for _ in range(20):
        snapshot = await store.load_partnership(pid)
        entry = {"type": kind, "by": by, "at": now.isoformat(timespec="seconds")}
        if await store.commit(snapshot, None, journal=[entry]) is not CommitResult.CONFLICT:
            return
    raise RuntimeError(f"could not record {kind} for {pid}")


async def summaries(store: Store) -> list[tuple[str, str, int]]:
    """Each partnership: its id, its name, how many conversations it lives in."""
    found = []
    for pid in await store.partnership_ids():
        p = (await store.load_partnership(pid)).partnership
        if p.is_set_up:
            found.append((pid, p.name or "", len(conversations(p))))
    return found


async def trim(store: Store, now: datetime) -> dict[str, int]:
    """The worker's trimming: each partnership with a retention period and no legal hold
    loses the stream entries older than that period. Returns how many each lost."""
    trimmed = {}
    for pid in await store.retained():
        p = (await store.load_partnership(pid)).partnership
        retention = Retention.of(p)
        if retention is None or hold_on(p):
            continue
        trimmed[pid] = await store.trim_history(pid, retention.cutoff(now))
    return trimmed


def _entry(entry: Entry) -> dict[str, str]:
    """A stream entry with the time Redis recorded it (its id) beside its own fields."""
    millis = int(entry["_id"].split("-")[0])
    recorded = datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="milliseconds")
    return {"id": entry["_id"], "recorded_at": recorded} | {
        k: v for k, v in entry.items() if k != "_id"
    }


def _history_csv(entries: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "recorded_at", "at", "author", "kind", "details"])
    for entry in entries:
        row = _entry(entry)
        author = row.get("name") or row.get("by") or row.get("user") or ""
        kind = row.get("act") or row.get("type") or ""
        rest = {
            k: v
            for k, v in row.items()
            if k not in {"id", "recorded_at", "at", "act", "type", "name", "by"}
        }
        writer.writerow(
            [_safe(x) for x in (row["id"], row["recorded_at"], row.get("at", ""), author, kind)]
            + [_safe(json.dumps(rest, ensure_ascii=False, sort_keys=True))]
        )
    return out.getvalue()


def _safe(value: str) -> str:
    """Keep a spreadsheet from running text that starts like a formula (CSV injection)."""
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
