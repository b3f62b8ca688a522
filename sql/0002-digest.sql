-- 0002-digest.sql - daily digests: which went to whom, covering which items

-- One row per digest. A digest is written 'pending', with the exact bytes
-- to send and the items it covers, before the SMTP transaction starts;
-- it becomes 'sent' once the relay accepted it. A pending row found by a
-- later run is a digest whose fate is unknown (the process died between
-- the relay's answer and the update): it is sent again byte for byte,
-- same Message-ID, never rebuilt, so its items are never listed in two
-- different digests.
CREATE TABLE digest (
	id INTEGER PRIMARY KEY,
	mailbox TEXT NOT NULL COLLATE NOCASE,
	message_id TEXT NOT NULL UNIQUE,
	created INTEGER NOT NULL,		-- unix time
	sent INTEGER,				-- NULL while pending
	state TEXT NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'sent')),
	item_count INTEGER NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	message BLOB				-- while pending; NULL once sent
);
-- at most one digest per mailbox is in flight
CREATE UNIQUE INDEX digest_pending ON digest (mailbox) WHERE state = 'pending';
CREATE INDEX digest_mailbox_sent ON digest (mailbox, sent);

-- Which digest covered a held message: the primary key makes "listed in
-- at most one digest" a property of the schema, not of the code.
CREATE TABLE digest_item (
	quarantine_id INTEGER PRIMARY KEY REFERENCES quarantine(id),
	digest_id INTEGER NOT NULL REFERENCES digest(id)
);
CREATE INDEX digest_item_digest ON digest_item (digest_id);

-- A digest reads one mailbox's held messages, and mailboxes compare
-- without regard to case; without this every mailbox would scan the
-- whole quarantine (10,000 mailboxes: 10,000 scans).
CREATE INDEX quarantine_held_mailbox ON quarantine (recipient COLLATE NOCASE)
	WHERE state = 'held';
