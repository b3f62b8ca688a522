/*
 * metrics.h - counters of what ndrguardd did since it started
 *
 * SYNOPSIS
 *	metrics_enable();			(ndrguardd's main, once)
 *	metrics_count(METRIC_LMTP_CONNECTIONS);	(any thread)
 *	n = metrics_get(METRIC_LMTP_CONNECTIONS);
 *
 * DESCRIPTION
 *	A fixed set of process-wide counters, each a relaxed atomic: any
 *	thread may count without a lock, and a reader sees every count
 *	made before it read (no snapshot across counters is promised).
 *	The release page's /metrics (web/) prints them only when
 *	metrics_enabled() says a daemon counts them: ndrguard-web alone
 *	has no LMTP to count.
 */
#ifndef NDRGUARD_METRICS_H
#define NDRGUARD_METRICS_H

enum metric_id {
	METRIC_LMTP_CONNECTIONS,	/* accepted */
	METRIC_LMTP_REFUSED,		/* over lmtp_max_connections */
	METRIC_LMTP_MESSAGES,		/* DATA completed */
	/* one per recipient of a message */
	METRIC_DECISION_HELD,
	METRIC_DECISION_PASSED,
	METRIC_DECISION_DEFERRED,	/* 451: Postfix retries */
	METRIC_DECISION_REJECTED,	/* 552: too big */
	METRIC_COUNT
};

void metrics_count(enum metric_id id);
void metrics_add(enum metric_id id, unsigned long long n);
unsigned long long metrics_get(enum metric_id id);
/* metrics_enable - say that this process counts; records the start time */
void metrics_enable(void);
int metrics_enabled(void);
/* metrics_started - unix time of metrics_enable(), 0 before */
long long metrics_started(void);

#endif
