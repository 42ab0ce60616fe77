/* ws.c — JSON-RPC over WebSocket (RFC 6455) on a libmicrohttpd upgrade:
 * the handshake, our own framing, and eth_subscribe (newHeads, logs,
 * newPendingTransactions).
 *
 * Each upgraded connection gets a thread (their number is capped) that reads
 * frames with a short poll timeout, answers text messages through the
 * handler, and between reads checks the chain head for subscribers. Frames
 * from the client are hostile input: reserved bits, unmasked frames, bad
 * opcodes, fragmented or long control frames and messages above the body
 * limit close the connection with the status code RFC 6455 names. */
#include <errno.h>
#include <netinet/in.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/err.h"
#include "rpc/ws_int.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_POLL_MS 100

void rpc_ws_accept_key(const char *key, char out[29])
{
	struct sha1_ctx c;
	uint8_t d[SHA1_DIGEST_SIZE];
	sha1_init(&c);
	sha1_update(&c, strlen(key), (const uint8_t *)key);
	sha1_update(&c, strlen(WS_GUID), (const uint8_t *)WS_GUID);
	sha1_digest(&c, sizeof d, d);
	base64_encode_raw((char *)out, sizeof d, d);
	out[28] = 0;
}

struct ws_conn {
	struct rpc_ws *ws;
	int fd;
	struct MHD_UpgradeResponseHandle *urh;
	uint8_t *in;             /* unparsed bytes */
	size_t in_len, in_cap;
	uint8_t *msg;            /* a fragmented message being assembled */
	size_t msg_len;
	int msg_open;
	struct rpc_session sess;
	struct rpc_jw w, note;
	struct sockaddr_storage client;
	int have_client;
};

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Server frames are never masked (RFC 6455 §5.1). */
static int send_frame(int fd, int opcode, const void *p, size_t n)
{
	uint8_t h[10];
	size_t hl = 2;
	h[0] = (uint8_t)(0x80 | opcode);
	if (n < 126) {
		h[1] = (uint8_t)n;
	} else if (n <= 0xffff) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	return send_all(fd, h, hl) || (n && send_all(fd, p, n)) ? -1 : 0;
}

static void send_close(int fd, unsigned code)
{
	uint8_t b[2] = {(uint8_t)(code >> 8), (uint8_t)code};
	send_frame(fd, 8, b, 2);
}

/* One complete text message: a JSON-RPC body. */
static int on_message(struct ws_conn *c, const uint8_t *p, size_t n)
{
	if (c->ws->allow && c->have_client &&
	    !c->ws->allow(c->ws->allow_ctx, (const struct sockaddr *)&c->client)) {
		rpc_jw_reset(&c->w);
		rpc_write_error(&c->w, NULL, RPC_E_LIMIT, "rate limit exceeded");
		return c->w.err ? -1 : send_frame(c->fd, 1, c->w.p, c->w.len);
	}
	int rc = rpc_handle_session(c->ws->h, (const char *)p, n, &c->w, &c->sess);
	if (rc)
		return -1;
	return c->w.len ? send_frame(c->fd, 1, c->w.p, c->w.len) : 0;
}

int rpc_ws_parse_frame(uint8_t *in, size_t avail, size_t max, struct rpc_ws_frame *f)
{
	if (avail < 2)
		return 1;
	f->fin = !!(in[0] & 0x80);
	f->opcode = in[0] & 0x0f;
	if (in[0] & 0x70)
		return 1002;     /* reserved bits without an extension */
	if (!(in[1] & 0x80))
		return 1002;     /* client frames must be masked */
	uint64_t len = in[1] & 0x7f;
	size_t hl = 2;
	if (len == 126) {
		if (avail < 4)
			return 1;
		len = (uint64_t)in[2] << 8 | in[3];
		hl = 4;
	} else if (len == 127) {
		if (avail < 10)
			return 1;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | in[2 + i];
		hl = 10;
	}
	if (f->opcode >= 8 && (len > 125 || !f->fin))
		return 1002;     /* control frames are short and whole */
	if (len > max)
		return 1009;     /* before waiting for (or buffering) any of it */
	if (avail - hl < 4 || avail - hl - 4 < len)
		return 1;
	const uint8_t *mask = in + hl;
	f->payload = in + hl + 4;
	for (uint64_t i = 0; i < len; i++)
		f->payload[i] ^= mask[i & 3];
	f->len = (size_t)len;
	f->frame_len = hl + 4 + (size_t)len;
	return 0;
}

/* Handles every complete frame in c->in. Returns 0 to go on, a close
 * status (>0) to close with, or -1 when the peer is gone. */
static int on_frames(struct ws_conn *c)
{
	size_t max = c->ws->max_msg;
	size_t off = 0;
	int ret = 0;
	while (!ret) {
		struct rpc_ws_frame f;
		int rc = rpc_ws_parse_frame(c->in + off, c->in_len - off, max, &f);
		if (rc == 1)
			break;
		if (rc) {
			ret = rc;
			break;
		}
		off += f.frame_len;
		switch (f.opcode) {
		case 0x0:       /* continuation */
			if (!c->msg_open) {
				ret = 1002;
				break;
			}
			if (c->msg_len + f.len > max) {
				ret = 1009;
				break;
			}
			memcpy(c->msg + c->msg_len, f.payload, f.len);
			c->msg_len += f.len;
			if (f.fin) {
				c->msg_open = 0;
				if (on_message(c, c->msg, c->msg_len))
					ret = -1;
				c->msg_len = 0;
			}
			break;
		case 0x1:       /* text */
			if (c->msg_open) {
				ret = 1002;
				break;
			}
			if (f.fin) {
				if (on_message(c, f.payload, f.len))
					ret = -1;
			} else {
				memcpy(c->msg, f.payload, f.len);
				c->msg_len = f.len;
				c->msg_open = 1;
			}
			break;
		case 0x2:       /* binary: JSON-RPC is text */
			ret = 1003;
			break;
		case 0x8:       /* close: echo the status and stop */
			send_frame(c->fd, 8, f.payload, f.len >= 2 ? 2 : 0);
			ret = -1;
			break;
		case 0x9:       /* ping */
			if (send_frame(c->fd, 0xA, f.payload, f.len))
				ret = -1;
			break;
		case 0xA:       /* pong */
			break;
		default:
			ret = 1002;
		}
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return ret;
}

static int send_text(void *ctx, const char *p, size_t n)
{
	struct ws_conn *c = ctx;
	return send_frame(c->fd, 1, p, n);
}

/* Sends what the subscriptions are owed: new heads, their logs, pending
 * transactions. */
static int notify(struct ws_conn *c)
{
	return rpc_session_poll(c->ws->h, &c->sess, &c->note, send_text, c) ? -1 : 0;
}

static void *conn_main(void *arg)
{
	struct ws_conn *c = arg;
	struct rpc_ws *ws = c->ws;
	int close_code = 0;
	while (!atomic_load(&ws->stopping)) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r = poll(&p, 1, WS_POLL_MS);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			if (c->in_cap - c->in_len < 4096) {
				/* ws->max_msg + one frame header bounds the buffer */
				break;
			}
			ssize_t k = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0)
				break;
			c->in_len += (size_t)k;
			int rc = on_frames(c);
			if (rc) {
				close_code = rc > 0 ? rc : 0;
				break;
			}
		}
		if (notify(c))
			break;
	}
	if (close_code)
		send_close(c->fd, (unsigned)close_code);
	else if (atomic_load(&ws->stopping))
		send_close(c->fd, 1001);   /* going away */
	MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
	rpc_session_free(&c->sess);
	rpc_jw_free(&c->w);
	rpc_jw_free(&c->note);
	free(c->in);
	free(c->msg);
	free(c);
	pthread_mutex_lock(&ws->mu);
	ws->nconns--;
	pthread_cond_broadcast(&ws->cv);
	pthread_mutex_unlock(&ws->mu);
	return NULL;
}

static void upgraded(void *cls, struct MHD_Connection *connection, void *con_cls,
                     const char *extra_in, size_t extra_in_size, MHD_socket sock,
                     struct MHD_UpgradeResponseHandle *urh)
{
	struct rpc_ws *ws = cls;
	struct ws_conn *c = calloc(1, sizeof *c);
	size_t cap = ws->max_msg + 4096 + 14;
	if (!c || !(c->in = malloc(cap)) || !(c->msg = malloc(ws->max_msg + 1)) ||
	    extra_in_size > cap) {
		if (c) {
			free(c->in);
			free(c->msg);
			free(c);
		}
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		pthread_mutex_lock(&ws->mu);
		ws->nconns--;
		pthread_cond_broadcast(&ws->cv);
		pthread_mutex_unlock(&ws->mu);
		return;
	}
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		size_t sl = ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                                    : sizeof(struct sockaddr_in);
		memcpy(&c->client, ci->client_addr, sl);
		c->have_client = 1;
	}
	c->ws = ws;
	c->fd = sock;
	c->urh = urh;
	c->in_cap = cap;
	memcpy(c->in, extra_in, extra_in_size);
	c->in_len = extra_in_size;
	rpc_jw_init(&c->w);
	rpc_jw_init(&c->note);
	pthread_t th;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, conn_main, c)) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		free(c->in);
		free(c->msg);
		free(c);
		pthread_mutex_lock(&ws->mu);
		ws->nconns--;
		pthread_cond_broadcast(&ws->cv);
		pthread_mutex_unlock(&ws->mu);
	}
	pthread_attr_destroy(&attr);
}

static int header_has_token(const char *v, const char *token)
{
	/* "Connection: keep-alive, Upgrade" */
	size_t tl = strlen(token);
	for (const char *p = v; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!strncasecmp(p, token, tl) && (p[tl] == 0 || p[tl] == ',' || p[tl] == ' '))
			return 1;
		p = strchr(p, ',');
	}
	return 0;
}

int rpc_ws_is_upgrade(struct MHD_Connection *conn)
{
	const char *up = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade");
	return up && !strcasecmp(up, "websocket");
}

enum MHD_Result rpc_ws_upgrade(struct rpc_ws *ws, struct MHD_Connection *conn,
                               const char *cors)
{
	const char *con = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	                                              "Sec-WebSocket-Version");
	unsigned status = 0;
	const char *why = NULL;
	if (!con || !header_has_token(con, "upgrade") || !key || strlen(key) != 24) {
		status = MHD_HTTP_BAD_REQUEST;
		why = "bad WebSocket handshake\n";
	} else if (!ver || strcmp(ver, "13")) {
		status = 426;
		why = "WebSocket version 13 only\n";
	} else {
		pthread_mutex_lock(&ws->mu);
		if (ws->nconns >= ws->max_conns) {
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
			why = "too many WebSocket connections\n";
		} else {
			ws->nconns++;
		}
		pthread_mutex_unlock(&ws->mu);
	}
	struct MHD_Response *r;
	if (status) {
		r = MHD_create_response_from_buffer(strlen(why), (void *)why, MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		if (status == 426)
			MHD_add_response_header(r, "Sec-WebSocket-Version", "13");
		enum MHD_Result rc = MHD_queue_response(conn, status, r);
		MHD_destroy_response(r);
		return rc;
	}
	char accept[29];
	rpc_ws_accept_key(key, accept);
	r = MHD_create_response_for_upgrade(upgraded, ws);
	if (!r) {
		pthread_mutex_lock(&ws->mu);
		ws->nconns--;
		pthread_mutex_unlock(&ws->mu);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Upgrade", "websocket");
	MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
	MHD_add_response_header(r, "Access-Control-Allow-Origin", cors);
	enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	return rc;
}

void rpc_ws_init(struct rpc_ws *ws, struct rpc_handler *h, size_t max_msg, unsigned max_conns)
{
	memset(ws, 0, sizeof *ws);
	ws->h = h;
	ws->max_msg = max_msg;
	ws->max_conns = max_conns;
	atomic_init(&ws->stopping, 0);
	pthread_mutex_init(&ws->mu, NULL);
	pthread_cond_init(&ws->cv, NULL);
}

void rpc_ws_stop(struct rpc_ws *ws)
{
	atomic_store(&ws->stopping, 1);
	pthread_mutex_lock(&ws->mu);
	while (ws->nconns)
		pthread_cond_wait(&ws->cv, &ws->mu);
	pthread_mutex_unlock(&ws->mu);
	pthread_mutex_destroy(&ws->mu);
	pthread_cond_destroy(&ws->cv);
}
