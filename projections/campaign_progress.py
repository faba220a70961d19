"""Campaign progress: each campaign's state and counters, and each contact's calling state
(what the scheduler asks for due contacts and `campaign status` shows). Folded from the
Campaign and Contact events; rebuildable from position 0 like every read model.

Survey answers (Contact.Answered: the question's id and the answer's label, or the marker
of an answer not recognised) are kept per contact and question, the latest one counting,
so a contact answering the same question again in a retried call is counted once; the
distribution per question is kept alongside.

Nothing personal is kept here: contacts appear by reference and number only (no
transcript either: what a citizen said may name them).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Notification

from domain.campaign.states import CALLING, CONNECTED, DONE, DRAFT, RETRY_PENDING, WAITING
from projections.sql import Cursor

if TYPE_CHECKING:
    from domain.campaign.service import DueContact

CAMPAIGNS = "rexian_campaigns"
CONTACTS = "rexian_campaign_contacts"
OUTCOMES = "rexian_campaign_outcomes"
ANSWERS = "rexian_campaign_answers"  # campaign, question, answer -> contacts
CONTACT_ANSWERS = "rexian_campaign_contact_answers"  # contact, question -> its answer
# contact, mark: "heard" (a notification confirmed heard, its latest confirmation) and
# "handed_off" (a broadcast's contact handed to a person).
CONTACT_MARKS = "rexian_campaign_contact_marks"
HEARD, HANDED_OFF = "heard", "handed_off"
_MINUTE = timedelta(minutes=1)
# Events are told apart by their class's module and name: every engine registers this read
# model, and importing the campaign aggregates would cost each CLI start-up ~30 ms (the
# mapper imports them when it decodes the first campaign event).
CAMPAIGN_EVENTS = "domain.campaign.campaign"
CONTACT_EVENTS = "domain.campaign.contact"
CAMPAIGN_STATE_EVENTS = ("Scheduled", "Began", "Paused", "Resumed", "Completed", "Cancelled")



def utc_text(instant: datetime | None) -> str | None:
    """Fixed-width UTC text, so SQL compares instants as strings."""
    return None if instant is None else instant.astimezone(UTC).isoformat(timespec="microseconds")


class CampaignProgress:
    name = "campaign_progress"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {CAMPAIGNS} (campaign_id TEXT PRIMARY KEY, "
                    "oid TEXT UNIQUE NOT NULL, "
                    "kind TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL, "
                    "contacts INTEGER NOT NULL, start_at TEXT, updated_at TEXT NOT NULL)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {CONTACTS} (contact_id TEXT PRIMARY KEY, "
                    "oid TEXT UNIQUE NOT NULL, "
                    "campaign_id TEXT NOT NULL, number INTEGER NOT NULL, "
                    "listed INTEGER NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, "
                    "retry_after TEXT, dialled_at TEXT, connected INTEGER NOT NULL, "
                    "last_outcome TEXT, flag TEXT)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {CONTACTS}_due ON {CONTACTS} "
                    "(campaign_id, listed, state, retry_after, number)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {OUTCOMES} (campaign_id TEXT NOT NULL, "
                    "outcome TEXT NOT NULL, calls INTEGER NOT NULL, "
                    "PRIMARY KEY (campaign_id, outcome))")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {ANSWERS} (campaign_id TEXT NOT NULL, "
                    "question TEXT NOT NULL, answer TEXT NOT NULL, contacts INTEGER NOT NULL, "
                    "PRIMARY KEY (campaign_id, question, answer))")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {CONTACT_ANSWERS} (contact_id TEXT NOT NULL, "
                    "question TEXT NOT NULL, campaign_id TEXT NOT NULL, answer TEXT NOT NULL, "
                    "answered_at TEXT NOT NULL, PRIMARY KEY (contact_id, question))")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {CONTACT_MARKS} (contact_id TEXT NOT NULL, "
                    "mark TEXT NOT NULL, campaign_id TEXT NOT NULL, "
                    "PRIMARY KEY (contact_id, mark))")

    def drop_tables(self, cur: Cursor) -> None:
        for table in (CAMPAIGNS, CONTACTS, OUTCOMES, ANSWERS, CONTACT_ANSWERS, CONTACT_MARKS):
            cur.execute(f"DROP TABLE IF EXISTS {table}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        module = type(event).__module__
        if module == CAMPAIGN_EVENTS:
            self._campaign(cur, event, type(event).__name__)
        elif module == CONTACT_EVENTS:
            self._contact(cur, event, type(event).__name__)

    @staticmethod
    def _campaign(cur: Cursor, event: Any, kind: str) -> None:
        at = utc_text(event.timestamp)
        if kind == "Created":
            cur.execute(f"INSERT INTO {CAMPAIGNS} (campaign_id, oid, kind, name, state, contacts, "
                        "start_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?) "
                        "ON CONFLICT (campaign_id) DO NOTHING",
                        (event.ref, str(event.originator_id), event.kind, event.name, DRAFT, utc_text(event.start_at), at))
            return
        row = cur.execute(f"SELECT campaign_id FROM {CAMPAIGNS} WHERE oid = ?",
                          (str(event.originator_id),)).fetchone()
        ref = row[0]
        if kind == "ContactsImported":
            cur.execute(f"UPDATE {CAMPAIGNS} SET contacts = ?, updated_at = ? "
                        "WHERE campaign_id = ?", (event.first + event.count - 1, at, ref))
            cur.execute(f"UPDATE {CONTACTS} SET listed = 1 WHERE campaign_id = ? "
                        "AND number BETWEEN ? AND ?",
                        (ref, event.first, event.first + event.count - 1))
        elif kind in CAMPAIGN_STATE_EVENTS:
            start = utc_text(event.start_at) if kind == "Scheduled" else None
            cur.execute(f"UPDATE {CAMPAIGNS} SET state = ?, updated_at = ?, "
                        "start_at = COALESCE(?, start_at) WHERE campaign_id = ?",
                        (event.state, at, start, ref))

    @staticmethod
    def _contact(cur: Cursor, event: Any, kind: str) -> None:
        if kind == "Imported":
            cur.execute(f"INSERT INTO {CONTACTS} (contact_id, oid, campaign_id, number, listed, "
                        "state, attempts, connected) VALUES (?, ?, ?, ?, 0, ?, 0, 0) "
                        "ON CONFLICT (contact_id) DO NOTHING",
                        (event.ref, str(event.originator_id), event.campaign_ref, event.number, WAITING))
            return
        oid = str(event.originator_id)
        if kind == "Dialled":
            cur.execute(f"UPDATE {CONTACTS} SET state = ?, attempts = ?, dialled_at = ?, "
                        "retry_after = NULL WHERE oid = ?",
                        (event.state, event.attempt, utc_text(event.timestamp), oid))
        elif kind == "CallEnded":
            cur.execute(f"UPDATE {CONTACTS} SET state = ?, last_outcome = ?, "
                        "connected = connected + ? WHERE oid = ?",
                        (event.state, event.outcome, int(event.outcome == CONNECTED), oid))
            campaign = cur.execute(f"SELECT campaign_id FROM {CONTACTS} WHERE oid = ?",
                                   (oid,)).fetchone()[0]
            cur.execute(f"INSERT INTO {OUTCOMES} (campaign_id, outcome, calls) VALUES (?, ?, 1) "
                        "ON CONFLICT (campaign_id, outcome) DO UPDATE SET calls = "
                        f"{OUTCOMES}.calls + 1", (campaign, event.outcome))
        elif kind == "RetryScheduled":
            cur.execute(f"UPDATE {CONTACTS} SET state = ?, retry_after = ? WHERE oid = ?",
                        (event.state, utc_text(event.retry_after), oid))
        elif kind == "Abandoned":  # the gateway never took it: the attempt is given back
            cur.execute(f"UPDATE {CONTACTS} SET state = ?, attempts = ?, retry_after = ? "
                        "WHERE oid = ?", (event.state, event.attempt - 1,
                                          utc_text(event.retry_after), oid))
        elif kind == "Finished":
            cur.execute(f"UPDATE {CONTACTS} SET state = ?, flag = ? WHERE oid = ?",
                        (event.state, event.flag, oid))
        elif kind == "Answered":
            _answered(cur, oid, str(event.question), str(event.answer),
                      utc_text(event.timestamp) or "")
        elif kind == "Confirmed":
            _mark(cur, oid, HEARD, bool(event.heard))
        elif kind == "HandedOff":
            _mark(cur, oid, HANDED_OFF, True)


def _mark(cur: Cursor, oid: str, mark: str, on: bool) -> None:
    contact, campaign = cur.execute(f"SELECT contact_id, campaign_id FROM {CONTACTS} "
                                    "WHERE oid = ?", (oid,)).fetchone()
    if on:
        cur.execute(f"INSERT INTO {CONTACT_MARKS} (contact_id, mark, campaign_id) "
                    "VALUES (?, ?, ?) ON CONFLICT (contact_id, mark) DO NOTHING",
                    (contact, mark, campaign))
    else:
        cur.execute(f"DELETE FROM {CONTACT_MARKS} WHERE contact_id = ? AND mark = ?",
                    (contact, mark))


def _answered(cur: Cursor, oid: str, question: str, answer: str, at: str) -> None:
    """The contact's answer to `question` is now `answer` (a repeat replaces the last)."""
    contact, campaign = cur.execute(f"SELECT contact_id, campaign_id FROM {CONTACTS} "
                                    "WHERE oid = ?", (oid,)).fetchone()
    before = cur.execute(f"SELECT answer FROM {CONTACT_ANSWERS} WHERE contact_id = ? "
                         "AND question = ?", (contact, question)).fetchone()
    if before is not None:
        cur.execute(f"UPDATE {ANSWERS} SET contacts = contacts - 1 WHERE campaign_id = ? "
                    "AND question = ? AND answer = ?", (campaign, question, before[0]))
    cur.execute(f"INSERT INTO {CONTACT_ANSWERS} (contact_id, question, campaign_id, answer, "
                "answered_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (contact_id, question) "
                "DO UPDATE SET answer = excluded.answer, answered_at = excluded.answered_at",
                (contact, question, campaign, answer, at))
    cur.execute(f"INSERT INTO {ANSWERS} (campaign_id, question, answer, contacts) "
                "VALUES (?, ?, ?, 1) ON CONFLICT (campaign_id, question, answer) DO UPDATE "
                f"SET contacts = {ANSWERS}.contacts + 1", (campaign, question, answer))


# ----- queries (the scheduler, `campaign status`) -------------------------------------------
def campaigns_in(cur: Cursor, states: tuple[str, ...]) -> list[str]:
    marks = ", ".join("?" for _ in states)
    rows = cur.execute(f"SELECT campaign_id FROM {CAMPAIGNS} WHERE state IN ({marks}) "
                       "ORDER BY campaign_id", states).fetchall()
    return [r[0] for r in rows]


def due_contacts(cur: Cursor, campaign: str, now: datetime, limit: int) -> list[DueContact]:
    """Listed contacts waiting for a first call, or for a retry whose instant has come;
    retries that came due first (by their instant), then first calls in file order."""
    rows = cur.execute(
        f"SELECT contact_id, attempts, retry_after FROM {CONTACTS} WHERE campaign_id = ? "
        "AND listed = 1 AND ((state = ?) OR (state = ? AND retry_after <= ?)) "
        "ORDER BY retry_after IS NULL, retry_after, number LIMIT ?",
        (campaign, WAITING, RETRY_PENDING, utc_text(now), limit)).fetchall()
    from domain.campaign.service import DueContact

    return [DueContact(r[0], int(r[1]) + 1, datetime.fromisoformat(r[2]) if r[2] else None)
            for r in rows]


def next_retry(cur: Cursor, campaign: str) -> datetime | None:
    row = cur.execute(f"SELECT MIN(retry_after) FROM {CONTACTS} WHERE campaign_id = ? "
                      "AND listed = 1 AND state = ?", (campaign, RETRY_PENDING)).fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def lines_in_use(cur: Cursor, campaign: str, now: datetime) -> tuple[int, list[datetime]]:
    """Calls in progress, and the dials of the last minute (each contact's latest dial:
    a contact is never dialled twice within a minute, retries wait at least one)."""
    in_flight = cur.execute(f"SELECT COUNT(*) FROM {CONTACTS} WHERE campaign_id = ? "
                            "AND state = ?", (campaign, CALLING)).fetchone()[0]
    since = utc_text(now - _MINUTE)
    rows = cur.execute(f"SELECT dialled_at FROM {CONTACTS} WHERE campaign_id = ? "
                       "AND dialled_at > ?", (campaign, since)).fetchall()
    return int(in_flight), [datetime.fromisoformat(r[0]) for r in rows]


def calls_dialled_before(cur: Cursor, campaign: str, before: datetime) -> list[str]:
    """Contacts whose call has been in progress since before `before` (candidates for an
    expired lease: the scheduler asks each aggregate for its recorded lease)."""
    rows = cur.execute(f"SELECT contact_id FROM {CONTACTS} WHERE campaign_id = ? AND state = ? "
                       "AND dialled_at <= ? ORDER BY dialled_at",
                       (campaign, CALLING, utc_text(before))).fetchall()
    return [r[0] for r in rows]


def progress(cur: Cursor, campaign: str) -> dict[str, Any] | None:
    row = cur.execute(f"SELECT state, contacts, kind, name FROM {CAMPAIGNS} "
                      "WHERE campaign_id = ?", (campaign,)).fetchone()
    if row is None:
        return None
    states = dict(cur.execute(f"SELECT state, COUNT(*) FROM {CONTACTS} WHERE campaign_id = ? "
                              "AND listed = 1 GROUP BY state", (campaign,)).fetchall())
    totals = cur.execute(f"SELECT COALESCE(SUM(attempts), 0), COUNT(CASE WHEN attempts > 0 "
                         "THEN 1 END), COALESCE(SUM(connected), 0), COUNT(CASE WHEN "
                         f"connected > 0 THEN 1 END) FROM {CONTACTS} WHERE campaign_id = ? "
                         "AND listed = 1", (campaign,)).fetchone()
    flags = dict(cur.execute(f"SELECT flag, COUNT(*) FROM {CONTACTS} WHERE campaign_id = ? "
                             "AND flag IS NOT NULL GROUP BY flag", (campaign,)).fetchall())
    outcomes = dict(cur.execute(f"SELECT outcome, calls FROM {OUTCOMES} WHERE campaign_id = ?",
                                (campaign,)).fetchall())
    called = int(totals[1])
    answered = cur.execute(f"SELECT COUNT(DISTINCT contact_id) FROM {CONTACT_ANSWERS} "
                           "WHERE campaign_id = ?", (campaign,)).fetchone()[0]
    marks = dict(cur.execute(f"SELECT mark, COUNT(*) FROM {CONTACT_MARKS} WHERE campaign_id = ? "
                             "GROUP BY mark", (campaign,)).fetchall())
    return {
        "campaign_id": campaign, "kind": row[2], "name": row[3], "state": row[0],
        "contacts": int(row[1]), "dialled": int(totals[0]), "contacts_dialled": called,
        "connected": int(totals[2]),
        "connect_rate": round(int(totals[2]) / called, 4) if called else None,
        # A person picked up (carrier announcements are recorded as 空号/停机/关机, not
        # 已接通), and gave at least one survey answer.
        "reached": int(totals[3]), "answered": int(answered),
        # A notification confirmed heard (听清楚了); a broadcast's contact handed to a person.
        "heard": int(marks.get(HEARD, 0)), "handed_off": int(marks.get(HANDED_OFF, 0)),
        "completed": int(states.get(DONE, 0)), "in_progress": int(states.get(CALLING, 0)),
        "waiting": int(states.get(WAITING, 0)),
        "pending_retries": int(states.get(RETRY_PENDING, 0)),
        "flags": {k: int(v) for k, v in flags.items()},
        "outcomes": {k: int(v) for k, v in outcomes.items()},
        "answers": answer_counts(cur, campaign),
    }


def answer_counts(cur: Cursor, campaign: str) -> dict[str, dict[str, int]]:
    """question id -> answer -> contacts whose (latest) answer it is."""
    counts: dict[str, dict[str, int]] = {}
    for question, answer, contacts in cur.execute(
            f"SELECT question, answer, contacts FROM {ANSWERS} WHERE campaign_id = ? "
            "AND contacts > 0 ORDER BY question, answer", (campaign,)).fetchall():
        counts.setdefault(question, {})[answer] = int(contacts)
    return counts


def contact_answers(cur: Cursor, contacts: list[str]) -> dict[str, dict[str, str]]:
    """contact id -> question id -> its latest answer (for the export's columns)."""
    if not contacts:
        return {}
    marks = ", ".join("?" for _ in contacts)
    found: dict[str, dict[str, str]] = {}
    for contact, question, answer in cur.execute(
            f"SELECT contact_id, question, answer FROM {CONTACT_ANSWERS} WHERE contact_id "
            f"IN ({marks})", contacts).fetchall():
        found.setdefault(contact, {})[question] = answer
    return found


def flagged_contacts(cur: Cursor, campaign: str, after: int, limit: int
                     ) -> list[tuple[int, str, str]]:
    """(number, contact id, flag) of the campaign's flagged contacts, in file order."""
    rows = cur.execute(f"SELECT number, contact_id, flag FROM {CONTACTS} WHERE campaign_id = ? "
                       "AND listed = 1 AND flag IS NOT NULL AND number > ? ORDER BY number "
                       "LIMIT ?", (campaign, after, limit)).fetchall()
    return [(int(r[0]), r[1], r[2]) for r in rows]


def open_contacts(cur: Cursor, campaign: str) -> int:
    return int(cur.execute(f"SELECT COUNT(*) FROM {CONTACTS} WHERE campaign_id = ? "
                           "AND listed = 1 AND state <> ?", (campaign, DONE)).fetchone()[0])


def contact_refs(cur: Cursor, campaign: str, after: int, limit: int) -> list[tuple[int, str]]:
    rows = cur.execute(f"SELECT number, contact_id FROM {CONTACTS} WHERE campaign_id = ? "
                       "AND listed = 1 AND number > ? ORDER BY number LIMIT ?",
                       (campaign, after, limit)).fetchall()
    return [(int(r[0]), r[1]) for r in rows]
