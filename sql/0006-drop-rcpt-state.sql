-- 0006-drop-rcpt-state.sql - an index no query could use
--
-- quarantine_rcpt_state compared recipients byte for byte, but every
-- query that looks a mailbox up compares without regard to case
-- (COLLATE NOCASE), so SQLite never chose it: quarantine_held_mailbox
-- serves the digest and quarantine_arrived the listings. It still cost
-- a b-tree insert and a page written in every commit that holds mail.
DROP INDEX quarantine_rcpt_state;
