/*
 * harness.c: the measuring half of the C programs of bench/compare (see
 * harness.h). It takes the Go child's flags, connects the client, warms it
 * up with a tenth of the operations, then measures a run: wall time,
 * per-request latency (none for the watch workload), the process's
 * user+system CPU time and context switches (getrusage) and its peak RSS
 * (VmHWM: ru_maxrss carries the parent's peak across the vfork and execve
 * that start this program). It has no allocation counts: it reports 0 and the table shows
 * a dash.
 *
 *	./cdriver -workload get100 -addr 127.0.0.1:2181 -ops 5000
 *	./cdriver -version    # the client's version
 *
 * The workloads (child.go has the Go side, and the two must agree):
 *   get100, get10k  a get of the workload's node, one at a time
 *   set             a set of 100 bytes, any version
 *   aget64          gets with 64 requests in flight
 *   watch1000       a data watch on 1,000 nodes, a set of each, then a
 *                   wait until every watch has fired
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *program = "cprogram";

int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void fail(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	fprintf(stderr, "%s: ", program);
	vfprintf(stderr, format, ap);
	fputc('\n', stderr);
	va_end(ap);
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

/* run runs n operations of w, recording latencies for all but watches. */
static void run(struct session *s, const struct workload *w, const char *data, char (*paths)[PATH_MAX_LEN], int64_t *lat, int n)
{
	if (strcmp(w->key, "get100") == 0 || strcmp(w->key, "get10k") == 0) {
		for (int i = 0; i < n; i++) {
			int64_t start = now_ns();
			session_get(s, w->path);
			lat[i] = now_ns() - start;
		}
	} else if (strcmp(w->key, "set") == 0) {
		for (int i = 0; i < n; i++) {
			int64_t start = now_ns();
			session_set(s, w->path, data, w->size);
			lat[i] = now_ns() - start;
		}
	} else if (strcmp(w->key, "aget64") == 0) {
		session_window(s, w->path, async_window, lat, n);
	} else {
		for (int done = 0; done < n; done += watch_batch)
			session_watch(s, paths, n - done < watch_batch ? n - done : watch_batch, data, w->size);
	}
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

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: %s -workload KEY -addr HOST:PORT [-ops N]\n", program);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *key = "get100", *addr = NULL;
	int ops = 0;
	const char *slash = strrchr(argv[0], '/');
	program = slash != NULL ? slash + 1 : argv[0];
	if (argc == 2 && strcmp(argv[1], "-version") == 0) {
		puts(session_version());
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
	if (w == NULL || addr == NULL)
		fail("unknown workload %s or no -addr", key);
	if (ops <= 0)
		ops = w->ops;

	char *data = malloc(w->size);
	char (*paths)[PATH_MAX_LEN] = calloc(watch_batch, sizeof *paths);
	int64_t *lat = calloc(ops, sizeof *lat);
	if (data == NULL || paths == NULL || lat == NULL)
		fail("out of memory");
	for (int i = 0; i < w->size; i++)
		data[i] = 'a' + i % 26;
	for (int i = 0; i < watch_batch; i++)
		snprintf(paths[i], sizeof paths[i], NODE_ROOT "/w/%04d", i);

	struct session *s = session_open(addr);
	int warm = ops / 10 > 0 ? ops / 10 : 1;
	run(s, w, data, paths, lat, warm);

	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	int64_t start = now_ns();
	run(s, w, data, paths, lat, ops);
	int64_t elapsed = now_ns() - start;
	getrusage(RUSAGE_SELF, &r1);

	double p50 = 0, p99 = 0;
	if (strcmp(w->key, "watch1000") != 0) {
		qsort(lat, ops, sizeof *lat, cmp_i64);
		p50 = lat[ops / 2] / 1e3;
		p99 = lat[(int64_t)ops * 99 / 100] / 1e3;
	}
	printf("{\"Ops\":%d,\"Seconds\":%.9f,\"P50us\":%.3f,\"P99us\":%.3f,\"CPUus\":%.0f,"
	       "\"Allocs\":0,\"Bytes\":0,\"MaxRSSKiB\":%ld,\"VolCtxSw\":%ld,\"InvolCtxSw\":%ld}\n",
	       ops, elapsed / 1e9, p50, p99, cpu_us(&r1) - cpu_us(&r0), peak_rss_kib(&r1),
	       r1.ru_nvcsw - r0.ru_nvcsw, r1.ru_nivcsw - r0.ru_nivcsw);
	fflush(stdout);
	session_close(s);
	free(lat);
	free(paths);
	free(data);
	return 0;
}
