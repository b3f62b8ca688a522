-- 0004-digest-time.sql - a mailbox's own time of day for its digest

-- Without a row the mailbox gets its digest at digest_time; with one, at
-- its own time (someone on night shifts, or in another time zone). The
-- time is HH:MM on the server's clock, like digest_time.
CREATE TABLE digest_schedule (
	mailbox TEXT PRIMARY KEY COLLATE NOCASE,
	digest_time TEXT NOT NULL
		CHECK (length(digest_time) = 5
		       AND digest_time GLOB '[0-2][0-9]:[0-5][0-9]'
		       AND digest_time < '24:00'),
	changed INTEGER NOT NULL		-- unix time
);
