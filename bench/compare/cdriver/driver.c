/*
 * driver.c: the session of the Apache ZooKeeper C client (libzookeeper_mt,
 * Debian's libzookeeper-mt-dev) for bench/compare's harness (harness.h).
 *
 *	gcc -O2 -o cdriver driver.c harness.c -lzookeeper_mt -lpthread
 *
 * get and set are zoo_get and zoo_set; the window is zoo_aget with each
 * completion issuing the next request; the watch workload is zoo_wget on
 * every node, zoo_set on each, then a wait for the watchers.
 */
#define _POSIX_C_SOURCE 200809L
/* zookeeper.h declares the synchronous API only for the mt library. */
#define THREADED

#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

struct session {
	zhandle_t *zh;
};

static void check(const char *what, int rc)
{
	if (rc != ZOK)
		fail("%s: %s (%d)", what, zerror(rc), rc);
}

const char *session_version(void) { return ZOO_VERSION; }

/* The session: the global watcher waits for CONNECTED. */
static pthread_mutex_t session_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t session_cond = PTHREAD_COND_INITIALIZER;
static int session_state;

static void session_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh, (void)path, (void)ctx;
	if (type != ZOO_SESSION_EVENT)
		return;
	pthread_mutex_lock(&session_mu);
	session_state = state;
	pthread_cond_broadcast(&session_cond);
	pthread_mutex_unlock(&session_mu);
}

struct session *session_open(const char *addr)
{
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	zhandle_t *zh = zookeeper_init(addr, session_watcher, session_timeout_ms, NULL, NULL, 0);
	if (zh == NULL)
		fail("zookeeper_init %s: %s", addr, strerror(errno));
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += connect_timeout_s;
	pthread_mutex_lock(&session_mu);
	while (session_state != ZOO_CONNECTED_STATE)
		if (pthread_cond_timedwait(&session_cond, &session_mu, &deadline) == ETIMEDOUT)
			fail("no session with %s", addr);
	pthread_mutex_unlock(&session_mu);
	/*
	 * By default the client resolves its host list again on every turn of
	 * its loop (update_addrs from zookeeper_interest): a getaddrinfo, with
	 * its netlink socket and /dev/urandom read, per wakeup. zkloop resolves
	 * names only when it connects and never resolves an IP literal, so the
	 * comparison is of the tuned C client: routine resolution off.
	 */
	check("zoo_set_servers_resolution_delay", zoo_set_servers_resolution_delay(zh, -1));
	struct session *s = malloc(sizeof *s);
	if (s == NULL)
		fail("out of memory");
	s->zh = zh;
	return s;
}

void session_close(struct session *s)
{
	zookeeper_close(s->zh);
	free(s);
}

void session_get(struct session *s, const char *path)
{
	static char buf[max_data];
	int len = sizeof buf;
	struct Stat stat;
	check("zoo_get", zoo_get(s->zh, path, 0, buf, &len, &stat));
}

void session_set(struct session *s, const char *path, const char *data, int size)
{
	check("zoo_set", zoo_set(s->zh, path, data, size, -1));
}

/*
 * The async window. Completions run on the client's completion thread,
 * in order, so the i-th completion answers the i-th request; issued is
 * shared with the thread that opens the window.
 */
struct window {
	zhandle_t *zh;
	const char *path;
	int n;
	atomic_int issued;
	int completed; /* completion thread only */
	int64_t *starts, *lat;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int done, rc;
};

static void aget_done(int rc, const char *value, int len, const struct Stat *stat, const void *data);

static int issue(struct window *w)
{
	int i = atomic_fetch_add(&w->issued, 1);
	if (i >= w->n)
		return ZOK;
	w->starts[i] = now_ns();
	return zoo_aget(w->zh, w->path, 0, aget_done, w);
}

static void finish(struct window *w, int rc)
{
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	w->rc = rc;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
}

static void aget_done(int rc, const char *value, int len, const struct Stat *stat, const void *data)
{
	(void)value, (void)len, (void)stat;
	struct window *w = (struct window *)data;
	int i = w->completed++;
	w->lat[i] = now_ns() - w->starts[i];
	if (rc == ZOK && w->completed < w->n)
		rc = issue(w);
	if (rc != ZOK || w->completed == w->n)
		finish(w, rc);
}

void session_window(struct session *s, const char *path, int window, int64_t *lat, int n)
{
	struct window w = {.zh = s->zh, .path = path, .n = n, .lat = lat};
	w.starts = calloc(n, sizeof *w.starts);
	if (w.starts == NULL)
		fail("out of memory");
	atomic_init(&w.issued, 0);
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cond, NULL);
	for (int i = 0; i < window && i < n; i++)
		check("zoo_aget", issue(&w));
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.mu);
	pthread_mutex_unlock(&w.mu);
	check("zoo_aget completion", w.rc);
	pthread_mutex_destroy(&w.mu);
	pthread_cond_destroy(&w.cond);
	free(w.starts);
}

/* Watches: a data watch on each node, a set of each, wait for the fires. */
static pthread_mutex_t fired_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fired_cond = PTHREAD_COND_INITIALIZER;
static int fired;

static void data_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	(void)zh, (void)state, (void)path, (void)ctx;
	if (type != ZOO_CHANGED_EVENT)
		return;
	pthread_mutex_lock(&fired_mu);
	fired++;
	pthread_cond_signal(&fired_cond);
	pthread_mutex_unlock(&fired_mu);
}

void session_watch(struct session *s, char (*paths)[PATH_MAX_LEN], int n, const char *data, int size)
{
	static char buf[max_data];
	pthread_mutex_lock(&fired_mu);
	fired = 0;
	pthread_mutex_unlock(&fired_mu);
	for (int i = 0; i < n; i++) {
		int len = sizeof buf;
		struct Stat stat;
		check("zoo_wget", zoo_wget(s->zh, paths[i], data_watcher, NULL, buf, &len, &stat));
	}
	for (int i = 0; i < n; i++)
		check("zoo_set", zoo_set(s->zh, paths[i], data, size, -1));
	pthread_mutex_lock(&fired_mu);
	while (fired < n)
		pthread_cond_wait(&fired_cond, &fired_mu);
	pthread_mutex_unlock(&fired_mu);
}
