-- 0010-digest-reply.sql - release by reply: the digest's reply address
-- and the numbers its items are shown under

-- reply_ref: the reference in the digest's reply address
-- (reply_address's local part + REF.TOKEN); NULL for digests sent before
-- this or without reply_address. The token in the address binds it to
-- the digest's mailbox, so the reference alone grants nothing.
ALTER TABLE digest ADD COLUMN reply_ref TEXT;
CREATE UNIQUE INDEX digest_reply_ref ON digest (reply_ref)
	WHERE reply_ref IS NOT NULL;

-- number: 1, 2, ... in the order the digest lists its items; NULL for
-- an item the digest covers but does not list ("... and 12 more")
ALTER TABLE digest_item ADD COLUMN number INTEGER;
