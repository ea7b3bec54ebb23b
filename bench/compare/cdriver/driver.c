/*
 * driver.c runs the workloads of bench/compare with the Apache ZooKeeper C
 * client (libzookeeper_mt, Debian's libzookeeper-mt-dev) and prints the
 * result as the Go children do: one JSON object with the fields of
 * compare's result type. It is benchmark code only: the compare tool
 * builds it with gcc at run time; zkloop itself stays cgo-free.
 *
 *	gcc -O2 -o cdriver driver.c -lzookeeper_mt -lpthread
 *	./cdriver -workload get100 -addr 127.0.0.1:2181 -ops 5000
 *	./cdriver -version    # the C client's version
 *
 * The workloads (child.go has the Go side, and the two must agree):
 *   get100, get10k  zoo_get of the workload's node, one at a time
 *   set             zoo_set of 100 bytes, any version
 *   aget64          zoo_aget with 64 requests in flight: each completion
 *                   issues the next request
 *   watch1000       zoo_wget on 1,000 nodes, zoo_set on each, then wait
 *                   until every watch has fired
 *
 * Like a Go child it connects, warms up with a tenth of the operations,
 * then measures: wall time, per-request latency (none for the watch
 * workload), the process's user+system CPU time (getrusage) and its
 * peak RSS (VmHWM: ru_maxrss carries the parent's peak across the vfork
 * and execve that start this program). It has no allocation counts: it
 * reports 0 and the table shows a dash.
 */
#define _POSIX_C_SOURCE 200809L
/* zookeeper.h declares the synchronous API only for the mt library. */
#define THREADED

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <zookeeper/zookeeper.h>

enum {
	session_timeout_ms = 30000,
	connect_timeout_s = 10,
	async_window = 64,
	watch_batch = 1000,
	max_data = 16 << 10, /* room for the 10 KiB node */
};

#define NODE_ROOT "/zkcompare"

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "cdriver: %s: %s (%d)\n", what, zerror(rc), rc);
	exit(1);
}

/* A workload: its key, its default number of operations, its node. */
struct workload {
	const char *key;
	int ops;
	int size;
	const char *path;
};

static const struct workload workloads[] = {
	{"get100", 5000, 100, NODE_ROOT "/n100"},
	{"get10k", 5000, 10 << 10, NODE_ROOT "/n10k"},
	{"set", 5000, 100, NODE_ROOT "/set"},
	{"aget64", 50000, 100, NODE_ROOT "/n100"},
	{"watch1000", 1000, 100, NODE_ROOT "/n100"},
};

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

static zhandle_t *dial(const char *addr)
{
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	zhandle_t *zh = zookeeper_init(addr, session_watcher, session_timeout_ms, NULL, NULL, 0);
	if (zh == NULL) {
		fprintf(stderr, "cdriver: zookeeper_init %s: %s\n", addr, strerror(errno));
		exit(1);
	}
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += connect_timeout_s;
	pthread_mutex_lock(&session_mu);
	while (session_state != ZOO_CONNECTED_STATE) {
		if (pthread_cond_timedwait(&session_cond, &session_mu, &deadline) == ETIMEDOUT) {
			fprintf(stderr, "cdriver: no session with %s\n", addr);
			exit(1);
		}
	}
	pthread_mutex_unlock(&session_mu);
	/*
	 * By default the client resolves its host list again on every turn of
	 * its loop (update_addrs from zookeeper_interest): a getaddrinfo, with
	 * its netlink socket and /dev/urandom read, per wakeup. zkloop resolves
	 * names only when it connects and never resolves an IP literal, so the
	 * comparison is of the tuned C client: routine resolution off.
	 */
	int rc = zoo_set_servers_resolution_delay(zh, -1);
	if (rc != ZOK)
		die("zoo_set_servers_resolution_delay", rc);
	return zh;
}

/* Timed one-at-a-time operations. */

static void run_get(zhandle_t *zh, const char *path, int64_t *lat, int n)
{
	static char buf[max_data];
	for (int i = 0; i < n; i++) {
		int64_t start = now_ns();
		int len = sizeof buf;
		struct Stat stat;
		int rc = zoo_get(zh, path, 0, buf, &len, &stat);
		if (rc != ZOK)
			die("zoo_get", rc);
		lat[i] = now_ns() - start;
	}
}

static void run_set(zhandle_t *zh, const char *path, const char *data, int size, int64_t *lat, int n)
{
	for (int i = 0; i < n; i++) {
		int64_t start = now_ns();
		int rc = zoo_set(zh, path, data, size, -1);
		if (rc != ZOK)
			die("zoo_set", rc);
		lat[i] = now_ns() - start;
	}
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

static void run_aget(zhandle_t *zh, const char *path, int64_t *lat, int n)
{
	struct window w = {.zh = zh, .path = path, .n = n, .lat = lat};
	w.starts = calloc(n, sizeof *w.starts);
	if (w.starts == NULL)
		die("calloc", ZSYSTEMERROR);
	atomic_init(&w.issued, 0);
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cond, NULL);
	for (int i = 0; i < async_window && i < n; i++) {
		int rc = issue(&w);
		if (rc != ZOK)
			die("zoo_aget", rc);
	}
	pthread_mutex_lock(&w.mu);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.mu);
	pthread_mutex_unlock(&w.mu);
	if (w.rc != ZOK)
		die("zoo_aget completion", w.rc);
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

static void watch_batch_run(zhandle_t *zh, char (*paths)[32], int n, const char *data, int size)
{
	static char buf[max_data];
	pthread_mutex_lock(&fired_mu);
	fired = 0;
	pthread_mutex_unlock(&fired_mu);
	for (int i = 0; i < n; i++) {
		int len = sizeof buf;
		struct Stat stat;
		int rc = zoo_wget(zh, paths[i], data_watcher, NULL, buf, &len, &stat);
		if (rc != ZOK)
			die("zoo_wget", rc);
	}
	for (int i = 0; i < n; i++) {
		int rc = zoo_set(zh, paths[i], data, size, -1);
		if (rc != ZOK)
			die("zoo_set", rc);
	}
	pthread_mutex_lock(&fired_mu);
	while (fired < n)
		pthread_cond_wait(&fired_cond, &fired_mu);
	pthread_mutex_unlock(&fired_mu);
}

static void run(zhandle_t *zh, const struct workload *w, const char *data, char (*paths)[32], int64_t *lat, int n)
{
	if (strcmp(w->key, "get100") == 0 || strcmp(w->key, "get10k") == 0)
		run_get(zh, w->path, lat, n);
	else if (strcmp(w->key, "set") == 0)
		run_set(zh, w->path, data, w->size, lat, n);
	else if (strcmp(w->key, "aget64") == 0)
		run_aget(zh, w->path, lat, n);
	else
		for (int done = 0; done < n; done += watch_batch)
			watch_batch_run(zh, paths, n - done < watch_batch ? n - done : watch_batch, data, w->size);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double cpu_us(const struct rusage *r)
{
	return (r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1e6 + r->ru_utime.tv_usec + r->ru_stime.tv_usec;
}

/* peak_rss_kib is VmHWM from /proc/self/status, or ru_maxrss without it. */
static long peak_rss_kib(const struct rusage *r)
{
	long kib = r->ru_maxrss;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return kib;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void usage(void)
{
	fprintf(stderr, "usage: cdriver -workload KEY -addr HOST:PORT [-ops N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *key = "get100", *addr = NULL;
	int ops = 0;
	if (argc == 2 && strcmp(argv[1], "-version") == 0) {
		puts(ZOO_VERSION);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		/* The flags the compare tool passes to a Go child; -client is ignored. */
		const char *flag = argv[i];
		if (flag[0] == '-' && flag[1] == '-')
			flag++;
		if (i + 1 >= argc)
			usage();
		if (strcmp(flag, "-workload") == 0)
			key = argv[++i];
		else if (strcmp(flag, "-addr") == 0)
			addr = argv[++i];
		else if (strcmp(flag, "-ops") == 0)
			ops = atoi(argv[++i]);
		else if (strcmp(flag, "-client") == 0)
			i++;
		else
			usage();
	}
	const struct workload *w = NULL;
	for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
		if (strcmp(workloads[i].key, key) == 0)
			w = &workloads[i];
	if (w == NULL || addr == NULL) {
		fprintf(stderr, "cdriver: unknown workload %s or no -addr\n", key);
		exit(2);
	}
	if (ops <= 0)
		ops = w->ops;

	char *data = malloc(w->size);
	char (*paths)[32] = calloc(watch_batch, sizeof *paths);
	int64_t *lat = calloc(ops, sizeof *lat);
	if (data == NULL || paths == NULL || lat == NULL)
		die("malloc", ZSYSTEMERROR);
	for (int i = 0; i < w->size; i++)
		data[i] = 'a' + i % 26;
	for (int i = 0; i < watch_batch; i++)
		snprintf(paths[i], sizeof paths[i], NODE_ROOT "/w/%04d", i);

	zhandle_t *zh = dial(addr);
	int warm = ops / 10 > 0 ? ops / 10 : 1;
	run(zh, w, data, paths, lat, warm);

	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	int64_t start = now_ns();
	run(zh, w, data, paths, lat, ops);
	int64_t elapsed = now_ns() - start;
	getrusage(RUSAGE_SELF, &r1);

	double p50 = 0, p99 = 0;
	if (strcmp(w->key, "watch1000") != 0) {
		qsort(lat, ops, sizeof *lat, cmp_i64);
		p50 = lat[ops / 2] / 1e3;
		p99 = lat[(int64_t)ops * 99 / 100] / 1e3;
	}
	printf("{\"Ops\":%d,\"Seconds\":%.9f,\"P50us\":%.3f,\"P99us\":%.3f,\"CPUus\":%.0f,"
	       "\"Allocs\":0,\"Bytes\":0,\"MaxRSSKiB\":%ld}\n",
	       ops, elapsed / 1e9, p50, p99, cpu_us(&r1) - cpu_us(&r0), peak_rss_kib(&r1));
	fflush(stdout);
	zookeeper_close(zh);
	free(lat);
	free(paths);
	free(data);
	return 0;
}
