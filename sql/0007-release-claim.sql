-- 0007-release-claim.sql - release exactly once; one request mail per batch
--
-- A release first claims the item (state 'releasing' and a row in
-- release_claim) in its own transaction, then hands the bytes on, then
-- records the hop's answer and marks the item released. The claim lives
-- in the database, not in a process, so two processes (or two hosts
-- sharing one store) can never both hand the same item on.
--
-- SQLite cannot widen a CHECK constraint in place: the table is rebuilt
-- as its documented procedure says (foreign keys are off while a
-- migration runs, see sqlite_migrate()), with the same columns, ids and
-- indexes.
CREATE TABLE quarantine_new (
	id INTEGER PRIMARY KEY,
	queue_id TEXT,
	sender TEXT NOT NULL,
	recipient TEXT NOT NULL,
	arrived INTEGER NOT NULL,		-- unix time
	kind TEXT NOT NULL,
	status TEXT,
	reason TEXT,
	reporting_mta TEXT,
	verdict TEXT NOT NULL,
	evidence TEXT,
	orig_subject TEXT,
	orig_from TEXT,
	orig_message_id TEXT,
	storm_id INTEGER REFERENCES storm(id),
	state TEXT NOT NULL DEFAULT 'held'
		CHECK (state IN ('held', 'releasing', 'released', 'deleted',
				 'expired')),
	state_changed INTEGER NOT NULL,
	size INTEGER NOT NULL,
	raw BLOB NOT NULL,
	raw_hash TEXT
);
INSERT INTO quarantine_new (id, queue_id, sender, recipient, arrived, kind,
	status, reason, reporting_mta, verdict, evidence, orig_subject,
	orig_from, orig_message_id, storm_id, state, state_changed, size, raw,
	raw_hash)
SELECT id, queue_id, sender, recipient, arrived, kind, status, reason,
	reporting_mta, verdict, evidence, orig_subject, orig_from,
	orig_message_id, storm_id, state, state_changed, size, raw, raw_hash
FROM quarantine;
DROP TABLE quarantine;
ALTER TABLE quarantine_new RENAME TO quarantine;
CREATE UNIQUE INDEX quarantine_retry ON quarantine (queue_id, recipient, raw_hash)
	WHERE queue_id IS NOT NULL;
CREATE INDEX quarantine_arrived ON quarantine (arrived);
CREATE INDEX quarantine_held_mailbox ON quarantine (recipient COLLATE NOCASE)
	WHERE state = 'held';

-- The claim of an item in state 'releasing', kept once it is released as
-- the record of what the re-injection hop answered.
--   owner	"host:pid:random" of the process releasing it
--   lease	until when the claim stands without a sign of its owner
--   handed	set (a time) just before the step that lets the hop take
--		the message: the final "." over SMTP, running sendmail on
--		the fully written message. A claim that is stale and was
--		never handed is safe to take over; one that was handed but
--		has no reply is in doubt and is never sent again without
--		the postmaster saying so.
--   reply	the hop's answer, e.g. "250 2.0.0 Ok: queued as 4Xb1"
CREATE TABLE release_claim (
	quarantine_id INTEGER PRIMARY KEY REFERENCES quarantine(id),
	owner TEXT NOT NULL,
	actor TEXT NOT NULL,
	claimed INTEGER NOT NULL,		-- unix time
	lease INTEGER NOT NULL,			-- unix time
	handed INTEGER,
	reply TEXT
);

-- Mails to release_notify, one row per mail, by the mailbox whose owner
-- asked: what the hourly cap counts.
CREATE TABLE request_notice (
	id INTEGER PRIMARY KEY,
	mailbox TEXT NOT NULL COLLATE NOCASE,
	sent INTEGER NOT NULL,			-- unix time
	item_count INTEGER NOT NULL
);
CREATE INDEX request_notice_mailbox ON request_notice (mailbox, sent);
