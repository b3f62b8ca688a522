/*
 * storm.h - when is a mailbox in a backscatter storm? (pure logic)
 *
 * A storm starts when storm_threshold backscatter messages reached one
 * mailbox within storm_window, counting the one arriving now: that
 * message, and every later one while the storm lasts, is held.
 *
 * A storm does not end the moment the rate dips (spam runs come in
 * waves; a storm that flapped on and off would let every wave's first
 * messages through). It ends once the mailbox has been calm for
 * storm_cooldown, calm meaning fewer than storm_calm_level() arrivals
 * (half the threshold, at least 1) within storm_window. The time the
 * mailbox became calm is derived from the arrivals themselves: the
 * calm-level-th most recent arrival plus storm_window.
 *
 * Nothing here reads a clock or a database: the caller passes the time
 * and the counts, so tests decide what time it is.
 */
#ifndef NDRGUARD_STORM_H
#define NDRGUARD_STORM_H

struct storm_params {
	unsigned int threshold;
	unsigned int window;	/* seconds */
	unsigned int cooldown;	/* seconds */
};

struct storm_input {
	long long now;
	/* arrivals within (now - window, now], this one included; only
	   compared with the threshold, so it may be capped there */
	unsigned int window_count;
	/* a storm is open for this mailbox, and when it was last counted */
	int open;
	long long last_seen;
	/* arrival time of the calm-level-th most recent arrival before this
	   one, or 0 when there were fewer */
	long long calm_anchor;
};

struct storm_decision {
	int hold;		/* this message is held */
	int start;		/* ... and opens a new storm */
	int end_open;		/* the open storm had ended before now */
	long long ended_at;	/* when, if end_open */
};

/* storm_calm_level - below this many arrivals per window a mailbox is calm */
unsigned int storm_calm_level(const struct storm_params *params);
/* storm_keep_since - arrivals before this time no longer matter */
long long storm_keep_since(const struct storm_params *params, long long now);
/*
 * storm_keep_count - nor do any but the newest this many: decisions need
 * the window count only up to the threshold (storm_input.window_count may
 * be capped there) and the calm anchor, which is among the newest
 * threshold + 1. So a storm of any size keeps a few rows per mailbox.
 */
unsigned int storm_keep_count(const struct storm_params *params);
void storm_decide(const struct storm_params *params,
		  const struct storm_input *in, struct storm_decision *out);

#endif
