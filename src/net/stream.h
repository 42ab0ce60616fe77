/* stream.h — request/response streams multiplexed over a peer (stream_).
 *
 * A client opens a stream to a peer naming a protocol ID string (at most
 * STREAM_PROTO_MAX bytes, e.g. "harmony/sync/localnet/1/1.0.0"); the server
 * accepts it if it registered that protocol and refuses it otherwise, so a
 * client learns cleanly (-CN_EUNSUPPORTED) that the other side does not
 * speak it. On an open stream the client sends requests, each with an id it
 * picks; the server answers each with a status and bytes, in any order and
 * at any later time. Requests may be sent before the server's OPEN_OK: they
 * wait in the stream and leave when it arrives.
 *
 * Limits hold on both sides: streams per peer and direction, requests in
 * flight per stream, request and response sizes. A client breaking the
 * server's limits, or a server answering what was never asked, gets its
 * stream reset (a RESET frame) and the violation is counted. A request not
 * answered within its timeout fails with -CN_ETIMEDOUT; a stream the server
 * does not accept in time fails with -CN_ETIMEDOUT too. A peer going down
 * fails all its requests and streams with -CN_ECLOSED.
 *
 * Stream ids are chosen by the opener (below 2^31) and are only unique per
 * (peer, direction). The application names a stream it opened by that id
 * and a stream the peer opened by the id with STREAM_INCOMING set, so one
 * uint32_t names any stream of a peer.
 *
 * Sans-I/O, like msg.h and gossip.h: peers are indices, every frame the core
 * emits is one net_msg message, every received frame is hostile. Frame types
 * are 0x31..0x3f. The wire format is in docs/net-gossip.md. */
#ifndef CANON_NET_STREAM_H
#define CANON_NET_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define STREAM_PROTO_MAX 128
#define STREAM_INCOMING 0x80000000u  /* set in the handle of a stream the peer opened */

enum stream_frame_type {
	STREAM_T_OPEN = 0x31,
	STREAM_T_OPEN_OK = 0x32,
	STREAM_T_OPEN_ERR = 0x33,
	STREAM_T_REQ = 0x34,
	STREAM_T_RESP = 0x35,
	STREAM_T_RESET = 0x36,
	STREAM_T_CLOSE = 0x37,
	STREAM_T_CANCEL = 0x38,     /* client gave up on a request (timeout) */
};

/* OPEN_ERR and RESET reasons on the wire. */
enum stream_reason {
	STREAM_R_UNSUPPORTED = 1,   /* protocol not registered */
	STREAM_R_TOO_MANY = 2,      /* per-peer stream cap */
	STREAM_R_VIOLATION = 3,     /* malformed or out-of-protocol frame */
	STREAM_R_LIMIT = 4,         /* size or in-flight limit broken */
	STREAM_R_UNKNOWN = 5,       /* no such stream */
	STREAM_R_TIMEOUT = 6,       /* opener gave up waiting for OPEN_OK */
};

/* Zero fields take the defaults in parentheses. */
struct stream_config {
	uint32_t max_peers;             /* peer indices are < max_peers (required) */
	uint32_t max_streams_per_peer;  /* per direction (16) */
	uint32_t max_inflight;          /* requests per stream, queued or sent (32) */
	size_t max_request;             /* request bytes (1 MiB) */
	size_t max_response;            /* response bytes (16 MiB) */
	uint64_t request_timeout_ms;    /* (10000) */
	uint64_t open_timeout_ms;       /* (5000) */
	uint32_t max_protocols;         /* registered protocols (64) */
};

enum stream_action_kind {
	STREAM_A_SEND = 1,      /* carry frame data/len to peer (one net_msg message) */
	STREAM_A_OPENED,        /* our stream was accepted */
	STREAM_A_OPEN_FAILED,   /* our stream was refused or never answered: err; its requests fail too */
	STREAM_A_REQUEST,       /* server: request req_id on stream (incoming handle), proto_index, data/len */
	STREAM_A_RESPONSE,      /* client: answer to req_id: status, data/len */
	STREAM_A_FAILED,        /* client: req_id will get no answer: err */
	STREAM_A_CLOSED,        /* the stream ended other than by our stream_close: err */
};

struct stream_action {
	enum stream_action_kind kind;
	uint32_t peer;
	uint32_t stream;        /* handle: opener's id, | STREAM_INCOMING for the peer's streams */
	uint32_t req_id;
	uint32_t proto_index;   /* REQUEST: from stream_register */
	int32_t status;         /* RESPONSE: 0 ok, else the server application's code */
	int err;                /* OPEN_FAILED, FAILED, CLOSED: -CN_E… */
	uint8_t *data;          /* owned by the out list */
	size_t len;
};

struct stream_out {
	struct stream_action *a;
	size_t n, cap;
	uint64_t next_timer_ms;  /* call stream_timer then; UINT64_MAX: nothing due */
	int oom;
};

void stream_out_init(struct stream_out *out);
void stream_out_reset(struct stream_out *out);
void stream_out_free(struct stream_out *out);

struct stream_stats {
	uint64_t opened_out, opened_in, refused_in;  /* refused: unsupported or too many */
	uint64_t requests_out, requests_in, responses_out, responses_in;
	uint64_t timeouts, failed;
	uint64_t resets_out, resets_in;
	uint64_t malformed;     /* frames that do not parse */
	uint64_t violations;    /* limits or protocol broken by the peer (stream reset) */
	uint64_t stray;         /* frames for streams or requests we no longer know */
};

struct stream;

int stream_new(const struct stream_config *cfg, struct stream **out);
void stream_free(struct stream *s);

/* Serve proto. -CN_EEXIST if already registered, -CN_EINVAL for an empty or
 * too long id, -CN_ELIMIT past max_protocols. */
int stream_register(struct stream *s, const char *proto, uint32_t *proto_index);

/* The functions below append actions to out (reset by the caller) and set
 * out->next_timer_ms. Errors are the caller's mistakes: -CN_EINVAL (bad peer,
 * proto or handle), -CN_ENOTFOUND (no such stream or request), -CN_ELIMIT
 * (a limit), -CN_ENOMEM. */

/* Client: opens a stream; *stream receives its handle. */
int stream_open(struct stream *s, uint64_t now_ms, uint32_t peer, const char *proto, uint32_t *stream,
		struct stream_out *out);
/* Client: a request with the default timeout; *req_id receives its id. */
int stream_request(struct stream *s, uint64_t now_ms, uint32_t peer, uint32_t stream, const uint8_t *data,
		   size_t len, uint32_t *req_id, struct stream_out *out);
/* The same with its own timeout (0: the default). */
int stream_request_timeout(struct stream *s, uint64_t now_ms, uint32_t peer, uint32_t stream,
			   const uint8_t *data, size_t len, uint64_t timeout_ms, uint32_t *req_id,
			   struct stream_out *out);
/* Server: answers req_id on an incoming stream. */
int stream_respond(struct stream *s, uint64_t now_ms, uint32_t peer, uint32_t stream, uint32_t req_id,
		   int32_t status, const uint8_t *data, size_t len, struct stream_out *out);
/* Either side: ends the stream (a CLOSE frame). Our pending requests on it
 * are dropped without FAILED actions: the caller asked. */
int stream_close(struct stream *s, uint64_t now_ms, uint32_t peer, uint32_t stream, struct stream_out *out);
/* One frame from peer. Hostile frames are counted and return 0. */
int stream_receive(struct stream *s, uint64_t now_ms, uint32_t peer, const uint8_t *frame, size_t len,
		   struct stream_out *out);
/* The session to peer is gone: every stream of it ends (FAILED, OPEN_FAILED,
 * CLOSED actions with -CN_ECLOSED). */
int stream_peer_down(struct stream *s, uint64_t now_ms, uint32_t peer, struct stream_out *out);
/* Request and open timeouts. */
int stream_timer(struct stream *s, uint64_t now_ms, struct stream_out *out);

/* Open streams with peer (both directions, including ones not yet accepted). */
size_t stream_count(const struct stream *s, uint32_t peer);
const struct stream_stats *stream_stats(const struct stream *s);

#endif
