-- 0001-quarantine.sql - the quarantine, the storm meter and the audit log

-- One row per held message and recipient: the raw bytes exactly as
-- received, the envelope, and what the classifier found.
CREATE TABLE quarantine (
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
		CHECK (state IN ('held', 'released', 'deleted', 'expired')),
	state_changed INTEGER NOT NULL,
	size INTEGER NOT NULL,
	raw BLOB NOT NULL
);
-- Postfix retries a delivery whose exit status it did not see; the same
-- queue file and recipient must never be held twice.
CREATE UNIQUE INDEX quarantine_queue_rcpt ON quarantine (queue_id, recipient)
	WHERE queue_id IS NOT NULL;
CREATE INDEX quarantine_rcpt_state ON quarantine (recipient, state, arrived);
CREATE INDEX quarantine_arrived ON quarantine (arrived);

-- Backscatter arrivals per mailbox, for the storm meter. Only the last
-- storm_window + storm_cooldown matter; older rows are pruned.
CREATE TABLE arrival (
	mailbox TEXT NOT NULL,
	arrived INTEGER NOT NULL,
	queue_id TEXT
);
CREATE INDEX arrival_mailbox ON arrival (mailbox, arrived);
CREATE UNIQUE INDEX arrival_queue ON arrival (queue_id, mailbox)
	WHERE queue_id IS NOT NULL;

-- Storms: open while ended IS NULL.
CREATE TABLE storm (
	id INTEGER PRIMARY KEY,
	mailbox TEXT NOT NULL,
	started INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	ended INTEGER,
	count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX storm_mailbox ON storm (mailbox, ended);

-- Every state change of a quarantined message, never updated or deleted
-- by ndrguard itself.
CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	quarantine_id INTEGER NOT NULL,
	action TEXT NOT NULL
		CHECK (action IN ('quarantined', 'released', 'deleted', 'expired')),
	actor TEXT NOT NULL,
	detail TEXT
);
CREATE INDEX audit_quarantine ON audit (quarantine_id);
