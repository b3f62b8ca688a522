/*
 * web-thread.c - a server thread's own state: database and cache
 *
 * This module implements the per-thread state of struct web_thread
 * (web-private.h): the quarantine database is opened by each thread on
 * first use, since an SQLite connection serves one thread at a time, and
 * each thread keeps its own cache of what the item page derives from a
 * held message. web_server_stop() frees them all with
 * web_thread_free_all().
 */
#include "autoconfig.h"
#include "web-private.h"
#include "store.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static __thread struct web_thread *web_tls_thread;
static __thread const struct web_server *web_tls_owner;

/* web_thread_get - this thread's state; the database is opened once */
struct web_thread *web_thread_get(struct web_request *req,
				  const char **error_r)
{
	struct web_server *server = req->server;
	struct store_options opts = {
		.busy_timeout_ms = server->busy_timeout_ms,
		.create = 0,
	};
	struct web_thread *th;
	struct store *st;

	if (web_tls_thread != NULL && web_tls_owner == server)
		return web_tls_thread;
	if (store_open(server->database, &opts, &st, error_r) < 0)
		return NULL;
	th = xcalloc(1, sizeof(*th));
	th->store = st;
	pthread_mutex_lock(&server->threads_lock);
	server->threads = xrealloc(server->threads, (server->thread_count + 1) *
				   sizeof(*server->threads));
	server->threads[server->thread_count++] = th;
	pthread_mutex_unlock(&server->threads_lock);
	web_tls_thread = th;
	web_tls_owner = server;
	return th;
}

/* web_thread_store - this thread's database connection */
struct store *web_thread_store(struct web_request *req, const char **error_r)
{
	struct web_thread *th = web_thread_get(req, error_r);

	return th != NULL ? th->store : NULL;
}

/* web_thread_extra_clear - empty a cache slot */
void web_thread_extra_clear(struct web_item_extra *x)
{
	free(x->diagnostic);
	free(x->to);
	free(x->date);
	free(x->subject);
	free(x->from);
	free(x->report_html);
	free(x->failed);
	free(x->reporter);
	memset(x, 0, sizeof(*x));
}

/* web_thread_free_all - close every thread's database and free its cache */
void web_thread_free_all(struct web_server *server)
{
	for (size_t i = 0; i < server->thread_count; i++) {
		struct web_thread *th = server->threads[i];

		store_close(&th->store);
		for (size_t j = 0; j < WEB_CACHE_SLOTS; j++)
			web_thread_extra_clear(&th->cache[j]);
		free(th);
	}
	free(server->threads);
	server->threads = NULL;
	server->thread_count = 0;
}
