/* ws_int.h — the WebSocket side of the server (private to src/rpc). */
#ifndef CANON_RPC_WS_INT_H
#define CANON_RPC_WS_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "rpc/rpc_int.h"

struct rpc_ws {
	struct rpc_handler *h;
	size_t max_msg;          /* largest message (the body limit) */
	unsigned max_conns;
	atomic_int stopping;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned nconns;         /* upgraded connections alive (threads running) */
	/* The server's per-client rate limit, asked once per message. */
	int (*allow)(void *ctx, const struct sockaddr *client);
	void *allow_ctx;
};

void rpc_ws_init(struct rpc_ws *ws, struct rpc_handler *h, size_t max_msg, unsigned max_conns);
/* Asks every connection thread to close (status 1001) and waits for them. */
void rpc_ws_stop(struct rpc_ws *ws);
/* Nonzero if the request asks for a WebSocket upgrade. */
int rpc_ws_is_upgrade(struct MHD_Connection *conn);
/* Answers the handshake: 101 and a connection thread, or 400/426/503. */
enum MHD_Result rpc_ws_upgrade(struct rpc_ws *ws, struct MHD_Connection *conn, const char *cors);
/* One client frame, parsed without I/O (so the fuzzer reaches it). */
struct rpc_ws_frame {
	int fin, opcode;
	uint8_t *payload;        /* points into the input, unmasked in place */
	size_t len;
	size_t frame_len;        /* bytes the frame occupies in the input */
};

/* Parses the frame at in[0..avail). Returns 0 with *f filled, 1 when more
 * bytes are needed, or a close status for a frame RFC 6455 forbids (1002)
 * or one longer than max (1009). Unmasks the payload in place. */
int rpc_ws_parse_frame(uint8_t *in, size_t avail, size_t max, struct rpc_ws_frame *f);

/* Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2). */
void rpc_ws_accept_key(const char *key, char out[29]);

#endif
