/* httpc.c — blocking HTTP/1.1 client over one kept-alive TCP connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/httpc.h"

#define HEAD_MAX (64u * 1024)

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int httpc_parse_url(const char *url, char host[64], uint16_t *port)
{
	if (!strncmp(url, "http://", 7))
		url += 7;
	const char *colon = strchr(url, ':');
	if (!colon || colon == url || (size_t)(colon - url) >= 64)
		return -CN_EINVAL;
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || p == 0 || p > 65535 || (*end && *end != '/'))
		return -CN_EINVAL;
	memcpy(host, url, (size_t)(colon - url));
	host[colon - url] = 0;
	*port = (uint16_t)p;
	return 0;
}

void httpc_init(struct httpc *c, const char *host, uint16_t port, int timeout_ms)
{
	memset(c, 0, sizeof *c);
	snprintf(c->host, sizeof c->host, "%s", host);
	c->port = port;
	c->fd = -1;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
}

static void drop_conn(struct httpc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

void httpc_close(struct httpc *c)
{
	drop_conn(c);
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
}

/* Waits for fd to become ready for events until deadline. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline)
			return -CN_EIO;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, (int)(deadline - now));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -CN_EIO;
	}
}

static int do_connect(struct httpc *c, uint64_t deadline)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(c->port)};
	const char *h = strcmp(c->host, "localhost") ? c->host : "127.0.0.1";
	if (inet_pton(AF_INET, h, &sa.sin_addr) != 1)
		return -CN_EINVAL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -CN_EIO;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline)) {
			close(fd);
			return -CN_EIO;
		}
		int err = 0;
		socklen_t el = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
			close(fd);
			return -CN_EIO;
		}
	}
	c->fd = fd;
	c->len = 0;
	return 0;
}

static int send_all(struct httpc *c, const char *p, size_t n, uint64_t deadline)
{
	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(c->fd, POLLOUT, deadline))
				return -CN_EIO;
		} else if (!(w < 0 && errno == EINTR)) {
			return -CN_EIO;
		}
	}
	return 0;
}

/* Reads more bytes into c->buf; -CN_EIO on close, error or timeout. */
static int fill(struct httpc *c, uint64_t deadline)
{
	if (c->cap - c->len < 16384) {
		size_t ncap = c->cap ? c->cap * 2 : 65536;
		if (ncap > HTTPC_MAX_BODY + HEAD_MAX + 65536)
			return -CN_ELIMIT;
		char *nb = realloc(c->buf, ncap);
		if (!nb)
			return -CN_ENOMEM;
		c->buf = nb;
		c->cap = ncap;
	}
	for (;;) {
		ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (r > 0) {
			c->len += (size_t)r;
			return 0;
		}
		if (r == 0)
			return -CN_EIO;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(c->fd, POLLIN, deadline))
				return -CN_EIO;
		} else if (errno != EINTR) {
			return -CN_EIO;
		}
	}
}

static void consume(struct httpc *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Offset just past the next CRLF at or after from, or 0 if none yet. */
static size_t line_end(const struct httpc *c, size_t from)
{
	for (size_t i = from; i + 1 < c->len; i++)
		if (c->buf[i] == '\r' && c->buf[i + 1] == '\n')
			return i + 2;
	return 0;
}

static int append(char **out, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 4096;
		while (ncap < *len + n + 1)
			ncap *= 2;
		char *nb = realloc(*out, ncap);
		if (!nb)
			return -CN_ENOMEM;
		*out = nb;
		*cap = ncap;
	}
	memcpy(*out + *len, p, n);
	*len += n;
	(*out)[*len] = 0;
	return 0;
}

/* Reads one response: status, then the body framed as the headers say. */
static int read_response(struct httpc *c, uint64_t deadline, int *status, char **resp,
                         size_t *resp_len, int *keep)
{
	size_t hend;
	int rc;
	for (;;) {
		char *e = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
		if (e) {
			hend = (size_t)(e - c->buf) + 4;
			break;
		}
		if (c->len > HEAD_MAX)
			return -CN_ELIMIT;
		if ((rc = fill(c, deadline)))
			return rc;
	}
	int minor, st;
	if (sscanf(c->buf, "HTTP/1.%d %d", &minor, &st) != 2 || st < 100 || st > 999)
		return -CN_EPARSE;
	long long clen = -1;
	int chunked = 0;
	*keep = minor >= 1;
	for (size_t p = line_end(c, 0); p && p < hend - 2;) {
		size_t q = line_end(c, p);
		const char *l = c->buf + p;
		size_t ll = q - p - 2;
		if (ll > 15 && !strncasecmp(l, "content-length:", 15))
			clen = strtoll(l + 15, NULL, 10);
		else if (ll > 18 && !strncasecmp(l, "transfer-encoding:", 18))
			chunked = memmem(l, ll, "chunked", 7) != NULL;
		else if (ll > 11 && !strncasecmp(l, "connection:", 11))
			*keep = !memmem(l, ll, "close", 5);
		p = q;
	}
	consume(c, hend);
	char *out = NULL;
	size_t olen = 0, ocap = 0;
	if ((rc = append(&out, &olen, &ocap, "", 0)))
		return rc;
	if (chunked) {
		for (;;) {
			size_t le;
			while (!(le = line_end(c, 0)))
				if ((rc = fill(c, deadline)))
					goto fail;
			unsigned long long n = strtoull(c->buf, NULL, 16);
			consume(c, le);
			if (n > HTTPC_MAX_BODY || olen + n > HTTPC_MAX_BODY) {
				rc = -CN_ELIMIT;
				goto fail;
			}
			while (c->len < n + 2)
				if ((rc = fill(c, deadline)))
					goto fail;
			if ((rc = append(&out, &olen, &ocap, c->buf, n)))
				goto fail;
			consume(c, n + 2);
			if (n == 0)
				break;
		}
	} else if (clen >= 0) {
		if (clen > HTTPC_MAX_BODY) {
			rc = -CN_ELIMIT;
			goto fail;
		}
		while (c->len < (size_t)clen)
			if ((rc = fill(c, deadline)))
				goto fail;
		if ((rc = append(&out, &olen, &ocap, c->buf, (size_t)clen)))
			goto fail;
		consume(c, (size_t)clen);
	} else if (st != 204 && st != 304 && st >= 200) {
		/* Framed by the end of the connection. */
		for (;;) {
			rc = fill(c, deadline);
			if (rc == -CN_EIO)
				break;
			if (rc)
				goto fail;
			if (c->len > HTTPC_MAX_BODY) {
				rc = -CN_ELIMIT;
				goto fail;
			}
		}
		if ((rc = append(&out, &olen, &ocap, c->buf, c->len)))
			goto fail;
		c->len = 0;
		*keep = 0;
	}
	*status = st;
	*resp = out;
	*resp_len = olen;
	return 0;
fail:
	free(out);
	return rc;
}

int httpc_request(struct httpc *c, const char *method, const char *path, const char *body,
                  size_t body_len, int *status, char **resp, size_t *resp_len)
{
	char head[512];
	int hl;
	if (body)
		hl = snprintf(head, sizeof head,
		              "%s %s HTTP/1.1\r\nHost: %s:%u\r\nContent-Type: application/json\r\n"
		              "Content-Length: %zu\r\n\r\n",
		              method, path, c->host, (unsigned)c->port, body_len);
	else
		hl = snprintf(head, sizeof head, "%s %s HTTP/1.1\r\nHost: %s:%u\r\n\r\n", method, path,
		              c->host, (unsigned)c->port);
	if (hl < 0 || (size_t)hl >= sizeof head)
		return -CN_EINVAL;
	/* A kept-alive connection the server closed meanwhile fails on first
	 * use; one retry on a fresh connection tells that apart from a dead
	 * server. */
	int rc = -CN_EIO;
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t deadline = mono_ms() + (uint64_t)c->timeout_ms;
		int fresh = c->fd < 0;
		if (fresh && (rc = do_connect(c, deadline)))
			return rc;
		int keep = 0;
		if (!(rc = send_all(c, head, (size_t)hl, deadline)) &&
		    !(rc = body ? send_all(c, body, body_len, deadline) : 0) &&
		    !(rc = read_response(c, deadline, status, resp, resp_len, &keep))) {
			if (!keep)
				drop_conn(c);
			return 0;
		}
		drop_conn(c);
		if (fresh || rc != -CN_EIO)
			break;
	}
	return rc;
}

int httpc_get(const char *host, uint16_t port, const char *path, int timeout_ms, int *status,
              char **resp, size_t *resp_len)
{
	struct httpc c;
	httpc_init(&c, host, port, timeout_ms);
	int rc = httpc_request(&c, "GET", path, NULL, 0, status, resp, resp_len);
	httpc_close(&c);
	return rc;
}
