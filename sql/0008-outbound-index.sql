-- 0008-outbound-index.sql - the Message-IDs of the mail we sent
--
-- ndrguard-milter records each outbound message here; a bounce whose
-- original Message-ID is found is one of ours with certainty. The
-- Message-ID is kept normalised (lib/mail/msgid.c: no angle brackets,
-- the domain part lower-cased), so the lookup is one equality on the
-- primary key. Rows older than outbound_days are deleted by the purge.
CREATE TABLE outbound (
	message_id TEXT PRIMARY KEY,
	sender TEXT NOT NULL,
	sent INTEGER NOT NULL			-- unix time
);
CREATE INDEX outbound_sent ON outbound (sent);
