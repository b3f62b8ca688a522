-- 0009-owner-actions.sql - the mailbox owner's allow rules, time zone
-- (and any language), and audit lines for the rules
--
-- An allow rule says "always deliver bounces to this mailbox that come
-- from this reporting domain" (kind 'domain') or "that are about mail to
-- this recipient" (kind 'recipient'), even during a storm. A rule is
-- never deleted: removing it sets removed and removed_by, so the table
-- is its own history; at most one live rule per mailbox, kind and value.
CREATE TABLE allow_rule (
	id INTEGER PRIMARY KEY,
	mailbox TEXT NOT NULL COLLATE NOCASE,
	kind TEXT NOT NULL CHECK (kind IN ('domain', 'recipient')),
	value TEXT NOT NULL COLLATE NOCASE,
	created INTEGER NOT NULL,		-- unix time
	created_by TEXT NOT NULL,
	removed INTEGER,
	removed_by TEXT
);
CREATE UNIQUE INDEX allow_rule_live ON allow_rule (mailbox, kind, value)
	WHERE removed IS NULL;

-- The owner's time zone for the times the page shows (an IANA name such
-- as "Europe/Berlin"; NULL: the server's). The table is rebuilt because
-- its CHECK named the languages there were ('en', 'es'): a language is
-- now a folder of templates, which the page checks, so any short code.
CREATE TABLE mailbox_pref_new (
	mailbox TEXT PRIMARY KEY COLLATE NOCASE,
	digest TEXT NOT NULL DEFAULT 'daily'
		CHECK (digest IN ('daily', 'storms', 'never')),
	lang TEXT CHECK (lang IS NULL OR length(lang) BETWEEN 2 AND 8),
	changed INTEGER NOT NULL,		-- unix time
	timezone TEXT CHECK (timezone IS NULL OR length(timezone) <= 63)
);
INSERT INTO mailbox_pref_new (mailbox, digest, lang, changed)
SELECT mailbox, digest, lang, changed FROM mailbox_pref;
DROP TABLE mailbox_pref;
ALTER TABLE mailbox_pref_new RENAME TO mailbox_pref;

-- The audit trail also records the rules' changes: the audit line of a
-- rule has quarantine_id 0 and names the rule in its detail. SQLite
-- cannot widen a CHECK in place, so the table is rebuilt with the same
-- columns, ids and index.
CREATE TABLE audit_new (
	id INTEGER PRIMARY KEY,
	at INTEGER NOT NULL,
	quarantine_id INTEGER NOT NULL,
	action TEXT NOT NULL
		CHECK (action IN ('quarantined', 'released', 'deleted', 'expired',
				  'rule_added', 'rule_removed')),
	actor TEXT NOT NULL,
	detail TEXT
);
INSERT INTO audit_new (id, at, quarantine_id, action, actor, detail)
SELECT id, at, quarantine_id, action, actor, detail FROM audit;
DROP TABLE audit;
ALTER TABLE audit_new RENAME TO audit;
CREATE INDEX audit_quarantine ON audit (quarantine_id);
