/*
 * storm.c - storm start and end decisions, with hysteresis
 */
#include "autoconfig.h"
#include "storm.h"

#include <string.h>

unsigned int storm_calm_level(const struct storm_params *params)
{
	unsigned int level = params->threshold / 2;

	return level > 0 ? level : 1;
}

long long storm_keep_since(const struct storm_params *params, long long now)
{
	/* twice what decisions need, so that the end of a storm that ended
	   a while ago can still be dated from its calm anchor */
	return now - 2 * ((long long)params->window + (long long)params->cooldown);
}

unsigned int storm_keep_count(const struct storm_params *params)
{
	return params->threshold + 1;
}

/*
 * storm_open_ended_at - when the open storm ended, or 0 if it goes on.
 * Without an anchor the mailbox has had fewer than the calm level of
 * arrivals in all the time kept (window + cooldown), so it has been calm
 * for at least the cooldown: the storm ended a cooldown after it was
 * last counted, or now, whichever came first.
 */
static long long storm_open_ended_at(const struct storm_params *params,
				     const struct storm_input *in)
{
	if (in->calm_anchor != 0) {
		long long end = in->calm_anchor + params->window
			+ params->cooldown;
		return end <= in->now ? end : 0;
	}
	long long end = in->last_seen + params->cooldown;
	return end < in->now ? end : in->now;
}

void storm_decide(const struct storm_params *params,
		  const struct storm_input *in, struct storm_decision *out)
{
	memset(out, 0, sizeof(*out));
	if (in->open) {
		long long ended = storm_open_ended_at(params, in);
		if (ended == 0) {
			out->hold = 1;
			return;
		}
		out->end_open = 1;
		out->ended_at = ended;
	}
	if (in->window_count >= params->threshold) {
		out->hold = 1;
		out->start = 1;
	}
}
