-- 0003-release.sql - the release page: mailbox preferences, release requests

-- What a mailbox owner chose on the settings page: how often a digest
-- comes (the digest reads this; no row means the default, daily) and the
-- language of the digest and the page (NULL: the browser's).
CREATE TABLE mailbox_pref (
	mailbox TEXT PRIMARY KEY COLLATE NOCASE,
	digest TEXT NOT NULL DEFAULT 'daily'
		CHECK (digest IN ('daily', 'storms', 'never')),
	lang TEXT CHECK (lang IS NULL OR lang IN ('en', 'es')),
	changed INTEGER NOT NULL		-- unix time
);

-- With release_mode = request, the owner asks and a postmaster decides.
-- A request is never deleted; at most one per message is pending.
CREATE TABLE release_request (
	id INTEGER PRIMARY KEY,
	quarantine_id INTEGER NOT NULL REFERENCES quarantine(id),
	requested INTEGER NOT NULL,
	requested_by TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'approved', 'refused')),
	decided INTEGER,
	decided_by TEXT
);
CREATE UNIQUE INDEX release_request_pending ON release_request (quarantine_id)
	WHERE state = 'pending';
CREATE INDEX release_request_item ON release_request (quarantine_id, id);
CREATE INDEX release_request_state ON release_request (state, requested);
