/*
 * floor.c: the C floor of bench/compare, a session for its harness
 * (harness.h) that does no more than the wire asks: one thread, a blocking
 * TCP socket (TCP_NODELAY, as every client under test sets it), the
 * handshake, then for each synchronous request one write of the request
 * and reads into one buffer until its reply is whole (one read for a
 * reply that arrives at once). No queues, no other thread, no copy of the
 * reply's data. What any client pays to talk to a ZooKeeper server over
 * the kernel's sockets is here; everything a client costs beyond it is the
 * client's.
 *
 *	gcc -O2 -o cfloor floor.c harness.c
 *
 * The window keeps 64 getData requests in flight: it writes 64, then, for
 * each read, takes every whole reply in the buffer and writes as many new
 * requests with one write. The watch workload is getData with the watch
 * flag on every node, setData on each, then reads until as many
 * notifications have come.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The protocol's numbers (ZooDefs.OpCode, the special xids). */
enum {
	op_get_data = 4,
	op_set_data = 5,
	xid_notification = -1,
	xid_ping = -2,
	reply_header_len = 16, /* xid, zxid, err */
	stat_len = 68,
	passwd_len = 16,
	max_frame = 1 << 20,
	/* The longest requests: a getData, and a setData of the largest data. */
	get_data_max = 4 + 4 + 4 + 4 + PATH_MAX_LEN + 1,
	set_data_max = 4 + 4 + 4 + 4 + PATH_MAX_LEN + 4 + max_data + 4,
};

struct session {
	int fd;
	int32_t xid;     /* of the last request */
	int events;      /* notifications read so far */
	char *rbuf;      /* unread bytes: rbuf[rstart:rend] */
	size_t rcap, rstart, rend;
	char wbuf[async_window * get_data_max + set_data_max];
	size_t wlen;
};

const char *session_version(void) { return "floor"; }

/* Big-endian encoding and decoding, as Jute writes numbers. */

static char *put32(char *p, uint32_t v)
{
	p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
	return p + 4;
}

static char *put64(char *p, uint64_t v) { return put32(put32(p, v >> 32), v); }

static char *put_buffer(char *p, const char *b, int n)
{
	p = put32(p, n);
	memcpy(p, b, n);
	return p + n;
}

static int32_t get32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (int32_t)((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3]);
}

/* The frame being appended to wbuf starts at a 4-byte length, set by end_frame. */
static char *begin_frame(struct session *s) { return s->wbuf + s->wlen + 4; }

static void end_frame(struct session *s, char *end)
{
	char *start = s->wbuf + s->wlen;
	put32(start, end - start - 4);
	s->wlen = end - s->wbuf;
}

/*
 * begin_request starts a request frame with its header (xid, opcode) and
 * its path.
 */
static char *begin_request(struct session *s, int32_t op, const char *path)
{
	size_t n = strlen(path);
	if (n >= PATH_MAX_LEN)
		fail("path %s too long", path);
	return put_buffer(put32(put32(begin_frame(s), ++s->xid), op), path, n);
}

static void append_get_data(struct session *s, const char *path, int watch)
{
	char *p = begin_request(s, op_get_data, path);
	*p++ = watch != 0;
	end_frame(s, p);
}

/* flush writes wbuf whole (a blocking socket writes it in one call). */
static void flush(struct session *s)
{
	for (size_t off = 0; off < s->wlen;) {
		ssize_t n = write(s->fd, s->wbuf + off, s->wlen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("write: %s", strerror(errno));
		off += n;
	}
	s->wlen = 0;
}

/*
 * buffered_frame returns the body of the next frame when the buffer holds
 * it whole, and NULL otherwise; the body is valid until the next read.
 */
static const char *buffered_frame(struct session *s, int32_t *len)
{
	if (s->rend - s->rstart < 4)
		return NULL;
	int32_t n = get32(s->rbuf + s->rstart);
	if (n < 0 || n > max_frame)
		fail("frame length %d", (int)n);
	if (s->rend - s->rstart < 4 + (size_t)n)
		return NULL;
	const char *body = s->rbuf + s->rstart + 4;
	s->rstart += 4 + (size_t)n;
	*len = n;
	return body;
}

/* next_frame returns the body of the next frame, reading until it is whole. */
static const char *next_frame(struct session *s, int32_t *len)
{
	for (;;) {
		const char *body = buffered_frame(s, len);
		if (body != NULL)
			return body;
		if (s->rstart == s->rend) {
			s->rstart = s->rend = 0;
		} else if (s->rcap - s->rstart < 4 + (size_t)max_frame) {
			/* Make room for the largest frame after the partial one. */
			memmove(s->rbuf, s->rbuf + s->rstart, s->rend - s->rstart);
			s->rend -= s->rstart;
			s->rstart = 0;
		}
		ssize_t n = read(s->fd, s->rbuf + s->rend, s->rcap - s->rend);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("read: %s", strerror(errno));
		if (n == 0)
			fail("the server closed the connection");
		s->rend += n;
	}
}

/*
 * reply_body checks a reply frame: a notification is counted and a ping
 * passed over (NULL); any other frame must answer xid without an error,
 * and its body after the reply header is returned.
 */
static const char *reply_body(struct session *s, const char *frame, int32_t len, int32_t xid)
{
	if (len < reply_header_len)
		fail("short reply of %d bytes", (int)len);
	int32_t got = get32(frame);
	if (got == xid_notification) {
		s->events++;
		return NULL;
	}
	if (got == xid_ping)
		return NULL;
	if (got != xid)
		fail("reply to xid %d, expected %d", (int)got, (int)xid);
	if (get32(frame + 12) != 0)
		fail("error %d from the server", (int)get32(frame + 12));
	return frame + reply_header_len;
}

/* next_reply returns the body of the reply to xid, reading until it is whole. */
static const char *next_reply(struct session *s, int32_t xid, int32_t *len)
{
	for (;;) {
		const char *frame = next_frame(s, len);
		const char *body = reply_body(s, frame, *len, xid);
		if (body != NULL)
			return body;
	}
}

/* check_get_data checks a GetDataResponse: data, then a Stat. */
static void check_get_data(const char *body, int32_t len)
{
	len -= reply_header_len;
	int32_t n = len >= 4 ? get32(body) : -2;
	if (n < -1 || len != 4 + (n > 0 ? n : 0) + stat_len)
		fail("getData reply of %d bytes", (int)len);
}

static int dial(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
		fail("address %s: want host:port", addr);
	const char *h = addr;
	size_t hlen = colon - addr;
	if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']')
		h++, hlen -= 2;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0)
		fail("resolving %s: %s", addr, gai_strerror(rc));
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		fail("connecting to %s: %s", addr, strerror(errno));
	freeaddrinfo(ai);
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		fail("TCP_NODELAY: %s", strerror(errno));
	return fd;
}

struct session *session_open(const char *addr)
{
	struct session *s = calloc(1, sizeof *s);
	if (s == NULL || (s->rbuf = malloc(2 * (4 + (size_t)max_frame))) == NULL)
		fail("out of memory");
	s->rcap = 2 * (4 + (size_t)max_frame);
	s->fd = dial(addr);
	/* ConnectRequest: protocol version, last zxid, timeout, session, password; read-only flag. */
	static const char no_passwd[passwd_len];
	char *p = put64(put32(put64(put32(begin_frame(s), 0), 0), session_timeout_ms), 0);
	p = put_buffer(p, no_passwd, passwd_len);
	*p++ = 0;
	end_frame(s, p);
	flush(s);
	/* ConnectResponse: protocol version, timeout, session, password, read-only. */
	int32_t len;
	const char *body = next_frame(s, &len);
	if (len < 4 + 4 + 8 + 4 + passwd_len || get32(body + 4) <= 0)
		fail("handshake with %s: session refused", addr);
	return s;
}

void session_close(struct session *s)
{
	close(s->fd); /* the server expires the session, as for the Go floor */
	free(s->rbuf);
	free(s);
}

static void get_data(struct session *s, const char *path, int watch)
{
	append_get_data(s, path, watch);
	flush(s);
	int32_t len;
	const char *body = next_reply(s, s->xid, &len);
	check_get_data(body, len);
}

void session_get(struct session *s, const char *path) { get_data(s, path, 0); }

void session_set(struct session *s, const char *path, const char *data, int size)
{
	char *p = put32(put_buffer(begin_request(s, op_set_data, path), data, size), (uint32_t)-1);
	end_frame(s, p);
	flush(s);
	int32_t len;
	next_reply(s, s->xid, &len);
	if (len != reply_header_len + stat_len)
		fail("setData reply of %d bytes", (int)len);
}

void session_window(struct session *s, const char *path, int window, int64_t *lat, int n)
{
	int64_t *starts = calloc(window, sizeof *starts); /* request i's at i % window */
	if (starts == NULL)
		fail("out of memory");
	int issued = 0, done = 0;
	int32_t first = s->xid + 1; /* of request 0; replies come in order */
	for (; issued < window && issued < n; issued++) {
		append_get_data(s, path, 0);
		starts[issued % window] = now_ns();
	}
	flush(s);
	while (done < n) {
		/* Block for one reply, then take every whole one already read. */
		int32_t len;
		int got = 0;
		const char *body = next_reply(s, first + done, &len);
		for (;;) {
			if (body != NULL) { /* NULL: a notification or a ping */
				check_get_data(body, len);
				lat[done] = now_ns() - starts[done % window];
				done++, got++;
			}
			const char *frame;
			if (done == n || (frame = buffered_frame(s, &len)) == NULL)
				break;
			body = reply_body(s, frame, len, first + done);
		}
		for (; got > 0 && issued < n; got--, issued++) {
			append_get_data(s, path, 0);
			starts[issued % window] = now_ns();
		}
		flush(s);
	}
	free(starts);
}

void session_watch(struct session *s, char (*paths)[PATH_MAX_LEN], int n, const char *data, int size)
{
	int base = s->events;
	for (int i = 0; i < n; i++)
		get_data(s, paths[i], 1);
	for (int i = 0; i < n; i++)
		session_set(s, paths[i], data, size);
	while (s->events < base + n) {
		int32_t len;
		const char *body = next_frame(s, &len);
		if (len >= 4 && get32(body) == xid_notification)
			s->events++;
	}
}
