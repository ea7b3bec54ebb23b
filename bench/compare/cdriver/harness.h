/*
 * harness.h: what the C programs of bench/compare share. harness.c runs a
 * workload and reports it as the Go children do (one JSON object with the
 * fields of compare's result type); each client program supplies a
 * session, the functions below, with the client under test:
 *
 *   driver.c  the Apache C client (libzookeeper_mt)
 *   floor.c   the C floor: one thread, blocking syscalls, no client library
 *
 * Benchmark code only: the compare tool builds these with gcc at run time;
 * zkloop itself stays cgo-free.
 */
#ifndef ZKCOMPARE_HARNESS_H
#define ZKCOMPARE_HARNESS_H

#include <stdint.h>

enum {
	session_timeout_ms = 30000,
	connect_timeout_s = 10,
	async_window = 64,
	watch_batch = 1000,
	max_data = 16 << 10, /* room for the 10 KiB node */
};

/* A watch workload's node name fits in this (NODE_ROOT "/w/%04d"). */
#define PATH_MAX_LEN 32
#define NODE_ROOT "/zkcompare"

/* One client's session with the server: opaque to the harness. */
struct session;

/* Supplied by the client program; each ends the process on an error. */

/* session_version names the client (the -version flag). */
const char *session_version(void);
/* session_open connects to addr (host:port) and waits for the session. */
struct session *session_open(const char *addr);
/* session_get reads path's data once, synchronously. */
void session_get(struct session *s, const char *path);
/* session_set writes size bytes of data to path, any version. */
void session_set(struct session *s, const char *path, const char *data, int size);
/*
 * session_window reads path n times keeping window requests in flight and
 * writes each request's latency to lat[i], in nanoseconds.
 */
void session_window(struct session *s, const char *path, int window, int64_t *lat, int n);
/*
 * session_watch leaves a data watch on each of the n paths, sets each to
 * data, and returns once every watch has fired.
 */
void session_watch(struct session *s, char (*paths)[PATH_MAX_LEN], int n, const char *data, int size);
void session_close(struct session *s);

/* Supplied by harness.c. */

/* now_ns is CLOCK_MONOTONIC in nanoseconds. */
int64_t now_ns(void);
/* fail prints "cprogram: " and the message, and exits with status 1. */
_Noreturn void fail(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
