/*
 * store.c - open the backend a location names; the storm meter
 *
 * How a `database` value names its backend is store-location.c's. The
 * meter's arithmetic (storm.c) and the order
 * of its reads and writes are the same on every backend and live here;
 * the backend only makes them one step for all its writers
 * (store-private.h, meter_lock).
 */
#include "autoconfig.h"
#include "store.h"
#include "store-private.h"
#include "storm.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int store_open(const char *location, const struct store_options *opts,
	       struct store **store_r, const char **error_r)
{
	const char *file = store_location_file(location);

	if (file == NULL)
		return store_pgsql_open(location, opts, store_r, error_r);
	return store_sqlite_open(file, opts, store_r, error_r);
}

void store_close(struct store **_st)
{
	struct store *st = *_st;

	if (st == NULL)
		return;
	*_st = NULL;
	st->v->close(st);
}

/*
 * store_meter_count - record this arrival, unless that would change
 * nothing: the meter keeps a mailbox's newest storm_keep_count() arrival
 * times, to the second. When the oldest of those is already this second,
 * adding one more and pruning the oldest leaves the same times. In a
 * storm of hundreds a second that is nearly every arrival, and skipping
 * it spares the arrival table and its indexes a write in every commit.
 */
static int store_meter_count(struct store *st, const struct storm_params *p,
			     const char *mailbox, const char *queue_id,
			     long long now, const char **error_r)
{
	long long oldest_kept;

	if (st->v->arrival_nth_recent(st, mailbox, storm_keep_count(p),
				      &oldest_kept, error_r) < 0)
		return -1;
	if (oldest_kept >= now)
		return 0;
	if (st->v->arrival_add(st, mailbox, queue_id, now, error_r) < 0)
		return -1;
	return st->v->arrival_prune(st, mailbox, storm_keep_since(p, now),
				    storm_keep_count(p), error_r);
}

/* store_meter_read - what storm_decide() needs, this arrival counted */
static int store_meter_read(struct store *st, const struct storm_params *p,
			    const char *mailbox, long long now,
			    struct store_storm *storm, struct storm_input *in,
			    const char **error_r)
{
	memset(in, 0, sizeof(*in));
	in->now = now;
	if (st->v->arrival_count(st, mailbox, now - p->window, p->threshold,
				 &in->window_count, error_r) < 0
	    || st->v->storm_get_open(st, mailbox, storm, error_r) < 0)
		return -1;
	in->open = storm->id != 0;
	in->last_seen = storm->last_seen;
	/* +1: the newest arrival is this one */
	if (in->open && st->v->arrival_nth_recent(st, mailbox,
			storm_calm_level(p) + 1, &in->calm_anchor, error_r) < 0)
		return -1;
	return 0;
}

/* store_meter_apply - end, start or count the storm as decided */
static int store_meter_apply(struct store *st, const char *mailbox,
			     long long now, const struct storm_decision *d,
			     long long *storm_id, const char **error_r)
{
	if (d->end_open) {
		if (st->v->storm_end(st, *storm_id, d->ended_at, error_r) < 0)
			return -1;
		*storm_id = 0;
	}
	if (d->start && st->v->storm_start(st, mailbox, now, storm_id,
					   error_r) < 0)
		return -1;
	if (d->hold)
		return st->v->storm_hit(st, *storm_id, now, error_r);
	return 0;
}

int store_meter_arrival(struct store *st, const char *mailbox,
			const char *queue_id, long long now,
			const struct storm_params *params,
			struct store_meter *meter_r, const char **error_r)
{
	struct store_storm storm;
	struct storm_input in;
	struct storm_decision d;

	memset(meter_r, 0, sizeof(*meter_r));
	if (st->v->meter_lock(st, mailbox, error_r) < 0
	    || store_meter_count(st, params, mailbox, queue_id, now,
				 error_r) < 0
	    || store_meter_read(st, params, mailbox, now, &storm, &in,
				error_r) < 0)
		return -1;
	storm_decide(params, &in, &d);
	if (store_meter_apply(st, mailbox, now, &d, &storm.id, error_r) < 0)
		return -1;
	meter_r->window_count = in.window_count;
	meter_r->hold = d.hold;
	meter_r->started = d.start;
	meter_r->storm_id = d.hold ? storm.id : 0;
	return 0;
}

void store_record_free(struct store_record **_rec)
{
	struct store_record *rec = *_rec;

	if (rec == NULL)
		return;
	*_rec = NULL;
	free(rec->queue_id);
	free(rec->sender);
	free(rec->recipient);
	free(rec->kind);
	free(rec->status);
	free(rec->reason);
	free(rec->reporting_mta);
	free(rec->verdict);
	free(rec->evidence);
	free(rec->orig_subject);
	free(rec->orig_from);
	free(rec->orig_message_id);
	free(rec->state);
	free(rec->raw);
	free(rec);
}

void store_raw_hash(const char *raw, size_t size,
		    char out[STORE_RAW_HASH_LEN])
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < size; i++) {
		h ^= (unsigned char)raw[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, STORE_RAW_HASH_LEN, "%016llx", h);
}
