"""Named schema migrations, applied in order, each in one transaction."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

MIGRATIONS: list[tuple[str, tuple[str, ...]]] = [
    (
        "0001_participant_journey",
        (
            """
            CREATE TABLE participants (
                code TEXT PRIMARY KEY,
                language TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'stopped', 'unreachable')),
                contact_ok INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL
            )
            """,
            # The only table that holds Telegram ids.
            """
            CREATE TABLE identities (
                participant_code TEXT PRIMARY KEY
                    REFERENCES participants(code) ON DELETE CASCADE,
                telegram_user_id INTEGER NOT NULL UNIQUE,
                chat_id INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE consents (
                id INTEGER PRIMARY KEY,
                participant_code TEXT NOT NULL REFERENCES participants(code) ON DELETE CASCADE,
                flow_id TEXT NOT NULL,
                flow_version INTEGER NOT NULL,
                consent_version INTEGER NOT NULL,
                given_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE flows (
                flow_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                content_hash TEXT NOT NULL,
                definition TEXT NOT NULL,
                registered_at TEXT NOT NULL,
                PRIMARY KEY (flow_id, version)
            )
            """,
            """
            CREATE TABLE runs (
                id INTEGER PRIMARY KEY,
                participant_code TEXT NOT NULL REFERENCES participants(code) ON DELETE CASCADE,
                round_id INTEGER,
                flow_id TEXT NOT NULL,
                flow_version INTEGER NOT NULL,
                state TEXT NOT NULL,
                status TEXT NOT NULL,
                started_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                completed_at TEXT,
                prompt_message_id INTEGER,
                needs_delivery INTEGER NOT NULL DEFAULT 0,
                FOREIGN KEY (flow_id, flow_version) REFERENCES flows(flow_id, version)
            )
            """,
            "CREATE INDEX runs_by_participant ON runs(participant_code, id)",
            "CREATE INDEX runs_undelivered ON runs(needs_delivery) WHERE needs_delivery = 1",
            """
            CREATE TABLE answers (
                run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                step_id TEXT NOT NULL,
                value TEXT NOT NULL,
                answered_at TEXT NOT NULL,
                seq INTEGER NOT NULL,
                flagged INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (run_id, step_id)
            )
            """,
        ),
    ),
    (
        "0002_staff_roles_and_audit",
        (
            # Staff are identified by their Telegram id: they act for the charity, and an
            # admin must be able to name them. Participants' ids stay in `identities` only.
            """
            CREATE TABLE staff_roles (
                telegram_user_id INTEGER NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('coordinator', 'staff', 'safeguarding')),
                granted_by INTEGER NOT NULL,
                granted_at TEXT NOT NULL,
                PRIMARY KEY (telegram_user_id, role)
            )
            """,
            """
            CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            )
            """,
        ),
    ),
    (
        "0003_participant_choices",
        (
            # Which UK nation's support lines to show: NULL never asked, 'none' rather not say.
            "ALTER TABLE participants ADD COLUMN nation TEXT",
            # When they last said yes or no to messages about future rounds (NULL: not asked).
            "ALTER TABLE participants ADD COLUMN contact_changed_at TEXT",
        ),
    ),
    (
        "0004_safeguarding_flags",
        (
            # A flag outlives a deleted participant as a bare record: code, run and text are
            # cleared, so nothing can point back to them.
            """
            CREATE TABLE flags (
                id INTEGER PRIMARY KEY,
                participant_code TEXT REFERENCES participants(code) ON DELETE SET NULL,
                run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
                step_id TEXT,
                phrase TEXT NOT NULL,
                text TEXT,
                created_at TEXT NOT NULL,
                alerted_at TEXT,
                reviewed_by INTEGER,
                reviewed_at TEXT,
                outcome TEXT,
                note TEXT
            )
            """,
            "CREATE INDEX flags_open ON flags(reviewed_at) WHERE reviewed_at IS NULL",
        ),
    ),
    (
        "0005_rounds_and_outbox",
        (
            # A consultation round. Coordinators are staff, so the chat progress goes to is kept.
            """
            CREATE TABLE rounds (
                id INTEGER PRIMARY KEY,
                title TEXT NOT NULL,
                flow_id TEXT NOT NULL,
                opens_at TEXT NOT NULL,
                closes_at TEXT NOT NULL,
                audience TEXT NOT NULL DEFAULT 'contactable',
                reminders INTEGER NOT NULL DEFAULT 1 CHECK (reminders BETWEEN 0 AND 2),
                reminder_days REAL NOT NULL DEFAULT 3 CHECK (reminder_days > 0),
                invitation TEXT,
                status TEXT NOT NULL DEFAULT 'scheduled'
                    CHECK (status IN ('scheduled', 'open', 'closed', 'cancelled')),
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL,
                notify_chat INTEGER,
                progress_message_id INTEGER,
                closed_at TEXT,
                feedback TEXT,
                feedback_at TEXT,
                CHECK (closes_at > opens_at)
            )
            """,
            # Every proactive send, due at a time; the key makes each one happen once.
            """
            CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                key TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL
                    CHECK (kind IN ('invitation', 'reminder', 'follow_up', 'closed', 'feedback')),
                participant_code TEXT NOT NULL REFERENCES participants(code) ON DELETE CASCADE,
                round_id INTEGER REFERENCES rounds(id),
                run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
                flow_id TEXT,
                due_at TEXT NOT NULL,
                status TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'claimed', 'sent', 'failed', 'skipped')),
                attempts INTEGER NOT NULL DEFAULT 0,
                lease_until TEXT,
                recovered INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                sent_at TEXT
            )
            """,
            "CREATE INDEX outbox_due ON outbox(due_at) WHERE status IN ('pending', 'claimed')",
            "CREATE INDEX outbox_by_round ON outbox(round_id, kind, status)",
            "CREATE INDEX outbox_by_participant ON outbox(participant_code, status)",
            """
            CREATE TABLE declines (
                outbox_id INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
                participant_code TEXT NOT NULL REFERENCES participants(code) ON DELETE CASCADE,
                round_id INTEGER REFERENCES rounds(id),
                declined_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX declines_by_round ON declines(round_id, participant_code)",
            # The invitation (outbox row) a run answered, for follow-ups outside any round.
            "ALTER TABLE runs ADD COLUMN invitation_id INTEGER",
            "CREATE INDEX runs_by_round ON runs(round_id, participant_code)",
        ),
    ),
    (
        "0006_round_retention",
        (
            # Days to keep a round's conversations, when shorter or longer than
            # HEARD_RETENTION_DAYS (NULL: the setting).
            "ALTER TABLE rounds ADD COLUMN retention_days INTEGER "
            "CHECK (retention_days IS NULL OR retention_days BETWEEN 1 AND 36500)",
        ),
    ),
    (
        "0007_crisis_path",
        (
            # Where the words were written: an answer, a message outside any question, a
            # caption, an edit, a reply to staff, the "I need help now" button.
            "ALTER TABLE flags ADD COLUMN source TEXT NOT NULL DEFAULT 'answer'",
            # "I need help now" pressed (and when the safeguarding chat was told of it).
            "ALTER TABLE flags ADD COLUMN urgent_at TEXT",
            "ALTER TABLE flags ADD COLUMN urgent_alerted_at TEXT",
            # "I'm safe — carry on" pressed after the check-in.
            "ALTER TABLE flags ADD COLUMN safe_at TEXT",
            # When the flag reached the database, if later than the words (kept in a spool
            # while the database refused writes).
            "ALTER TABLE flags ADD COLUMN stored_at TEXT",
            # The alert already posted no longer says what is known (urgent, safe, outcome).
            "ALTER TABLE flags ADD COLUMN alert_stale INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE flags ADD COLUMN noted_at TEXT",
            # Every message the bot posted to staff about a flag, so it can be edited (outcome)
            # or have its words removed (the person deleted their data).
            """
            CREATE TABLE alert_posts (
                id INTEGER PRIMARY KEY,
                flag_id INTEGER REFERENCES flags(id) ON DELETE CASCADE,
                chat_id INTEGER NOT NULL,
                message_id INTEGER NOT NULL,
                kind TEXT NOT NULL
                    CHECK (kind IN ('alert', 'reminder', 'urgent', 'reply', 'stored')),
                posted_at TEXT NOT NULL,
                redact INTEGER NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX alert_posts_by_flag ON alert_posts(flag_id)",
            "CREATE INDEX alert_posts_to_redact ON alert_posts(redact) WHERE redact = 1",
            # Messages between a person at the charity and a participant: never answers.
            """
            CREATE TABLE contact_messages (
                id INTEGER PRIMARY KEY,
                participant_code TEXT NOT NULL
                    REFERENCES participants(code) ON DELETE CASCADE,
                flag_id INTEGER REFERENCES flags(id) ON DELETE SET NULL,
                direction TEXT NOT NULL
                    CHECK (direction IN ('to_participant', 'from_participant')),
                text TEXT NOT NULL,
                staff_user_id INTEGER,
                chat_message_id INTEGER,
                created_at TEXT NOT NULL,
                relayed_at TEXT
            )
            """,
            "CREATE INDEX contact_by_participant ON contact_messages(participant_code, id)",
            "CREATE INDEX contact_unrelayed ON contact_messages(relayed_at) "
            "WHERE relayed_at IS NULL AND direction = 'from_participant'",
            # Words kept outside any question: typed before the question reached them, or
            # sent in a flood faster than they could be answered.
            """
            CREATE TABLE kept_messages (
                id INTEGER PRIMARY KEY,
                participant_code TEXT NOT NULL
                    REFERENCES participants(code) ON DELETE CASCADE,
                run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,
                text TEXT NOT NULL,
                why TEXT NOT NULL CHECK (why IN ('before_question', 'flood')),
                written_at TEXT NOT NULL,
                kept_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX kept_by_participant ON kept_messages(participant_code, id)",
            # When a run's messages were last shown: text written before then was not an
            # answer to the question shown then.
            "ALTER TABLE runs ADD COLUMN delivered_at TEXT",
            # After pressing "Reply" under a message from staff, the next text goes to them.
            "ALTER TABLE participants ADD COLUMN replying_to INTEGER",
            "ALTER TABLE participants ADD COLUMN replying_until TEXT",
        ),
    ),
    (
        "0008_concern_priority",
        (
            # How soon a person must hear of a flag: 'flag' (the check-in, an alert now, its
            # answer withheld until reviewed) or 'concern' (a gentle note; reviewed later, never
            # alerted, its answer not withheld). Every flag stored before this is a 'flag'.
            "ALTER TABLE flags ADD COLUMN priority TEXT NOT NULL DEFAULT 'flag' "
            "CHECK (priority IN ('flag', 'concern'))",
        ),
    ),
]


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; return the names applied.

    Plain SQL on one connection (in autocommit mode), so the whole of it is one trip to the
    connection's thread: `await SQLiteThread.run(migrate)`.
    """
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in db.execute("SELECT name FROM schema_migrations")}
    applied = []
    for name, statements in MIGRATIONS:
        if name in done:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat()),
            )
            db.execute("COMMIT")
        except BaseException:
            # A failed COMMIT leaves the transaction open as a failed statement does.
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
