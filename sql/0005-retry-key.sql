-- 0005-retry-key.sql - a retry is the same queue id, recipient and bytes
--
-- A Postfix queue id is unique only while its queue file exists: once
-- the file is gone the id can come back for another message (it is made
-- from the time and the file's inode). Keyed on queue id and recipient
-- alone, that other message would have been taken for a retry of the
-- first and acknowledged without being stored. The key now includes a
-- hash of the message bytes, which a real retry repeats exactly.
ALTER TABLE quarantine ADD COLUMN raw_hash TEXT;
DROP INDEX quarantine_queue_rcpt;
CREATE UNIQUE INDEX quarantine_retry ON quarantine (queue_id, recipient, raw_hash)
	WHERE queue_id IS NOT NULL;
