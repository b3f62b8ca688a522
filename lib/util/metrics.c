/*
 * metrics.c - process-wide atomic counters (metrics.h)
 */
#include "autoconfig.h"
#include "metrics.h"

#include <time.h>

static unsigned long long metrics_values[METRIC_COUNT];
static long long metrics_start;

void metrics_add(enum metric_id id, unsigned long long n)
{
	if ((unsigned int)id < METRIC_COUNT)
		__atomic_fetch_add(&metrics_values[id], n, __ATOMIC_RELAXED);
}

void metrics_count(enum metric_id id)
{
	metrics_add(id, 1);
}

unsigned long long metrics_get(enum metric_id id)
{
	if ((unsigned int)id >= METRIC_COUNT)
		return 0;
	return __atomic_load_n(&metrics_values[id], __ATOMIC_RELAXED);
}

void metrics_enable(void)
{
	__atomic_store_n(&metrics_start, (long long)time(NULL),
			 __ATOMIC_RELAXED);
}

int metrics_enabled(void)
{
	return metrics_started() != 0;
}

long long metrics_started(void)
{
	return __atomic_load_n(&metrics_start, __ATOMIC_RELAXED);
}
