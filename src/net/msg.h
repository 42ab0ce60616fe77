/* msg.h — messages carried as RaptorQ-coded symbols: unicast (net_msg_) and
 * the shared action list that the multicast layer (mcast.h) also uses.
 *
 * This layer sits above the encrypted session: it turns an application
 * message for peer P into datagram payloads of at most NET_MSG_MTU bytes for
 * P, and turns payloads received from P back into messages. Peers are plain
 * indices (0..max_peers-1) that the driver maps to node IDs and sessions, so
 * the layer knows nothing about addresses or keys.
 *
 * A message is one RaptorQ source block (RFC 6330, src/fec/raptorq.h) with
 * symbols sized so that a DATA payload fits the MTU. The sender emits K + 2
 * symbols at once, then repair rounds on a timer (first after 1.5 smoothed
 * RTT, then every half RTT doubling each time up to 8x) until the receiver's
 * ACK or the message's deadline. When the driver tells the pace at which
 * congestion control lets bytes out, timers count from the moment the bytes
 * queued so far have left rather than from the send call, so a long burst
 * does not trigger repair before it is even on the wire. The receiver decodes, delivers exactly once
 * (a window of recently delivered ids per peer), and acknowledges; symbols
 * that arrive after completion are answered with another ACK. Memory is
 * bounded per peer: a cap on concurrent incoming messages and on the decoder
 * bytes they may reserve (rq_decoder_memory's worst case, reserved up front).
 * Everything received is hostile: bad bytes are dropped and counted.
 *
 * Sans-I/O: net_msg_step() takes the time and one input and appends actions
 * (send a payload to a peer, deliver a message, a send succeeded or failed)
 * to a struct net_msg_out, plus the instant the timer should fire next. */
#ifndef CANON_NET_MSG_H
#define CANON_NET_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "fec/raptorq.h"

#define NET_MSG_MTU 1200                     /* payload bytes per datagram */
#define NET_MSG_MAX_SIZE (32u << 20)         /* largest message: 32 MiB */
#define NET_MSG_AL 4                         /* RaptorQ symbol alignment */
#define NET_MSG_HDR 25                       /* type, msg id, OTI, payload ID */
#define NET_MSG_T_MAX ((NET_MSG_MTU - NET_MSG_HDR) / NET_MSG_AL * NET_MSG_AL)

/* First byte of every payload this layer and mcast.h produce, so a driver
 * that shares one session between them can demultiplex. */
enum net_msg_type {
	NET_MSG_T_DATA = 0x01,
	NET_MSG_T_ACK = 0x02,
	NET_MCAST_T_DIRECT = 0x11,
	NET_MCAST_T_RELAY = 0x12,
};

/* ---- actions (shared with mcast.h) ------------------------------------- */

enum net_msg_action_kind {
	NET_MSG_A_SEND = 1,     /* send data (len <= NET_MSG_MTU) to peer */
	NET_MSG_A_DELIVER,      /* message msg_id from peer is complete: data, len */
	NET_MSG_A_SENT,         /* our message msg_id reached peer (ACK) */
	NET_MSG_A_FAILED,       /* our message msg_id missed its deadline (err) */
};

struct net_msg_action {
	enum net_msg_action_kind kind;
	uint32_t peer;
	uint64_t msg_id;
	uint8_t *data;          /* owned by the out list; freed by net_msg_out_reset */
	size_t len;
	int err;
};

struct net_msg_out {
	struct net_msg_action *a;
	size_t n, cap;
	uint64_t next_timer_ms; /* UINT64_MAX: no timer needed */
	int oom;                /* an action could not be recorded */
};

void net_msg_out_init(struct net_msg_out *out);
/* Frees every action's data and empties the list (keeps the array). */
void net_msg_out_reset(struct net_msg_out *out);
void net_msg_out_free(struct net_msg_out *out);

/* ---- unicast ------------------------------------------------------------- */

struct net_msg_config {
	uint32_t max_peers;            /* peer indices are < max_peers */
	uint32_t max_incoming;         /* concurrent partial messages per peer (default 8) */
	uint64_t peer_mem_cap;         /* decoder bytes per peer (default: one max message) */
	uint32_t max_outgoing;         /* messages in flight, all peers (default 256) */
	uint32_t dedup_window;         /* delivered ids remembered per peer (default 1024) */
	uint64_t initial_rtt_ms;       /* RTT before any sample (default 200) */
	uint64_t min_rtt_ms;           /* repair timing never assumes a smaller RTT (default 0):
					* on loopback a sample is well below the time a busy
					* receiver takes to be scheduled, and repairs sent that
					* early are spurious */
	uint64_t incoming_timeout_ms;  /* a partial message idle this long is dropped (default 30000) */
	uint32_t overhead;             /* symbols beyond K in the first burst (default 2) */
	uint64_t id_seed;              /* first message id (the driver picks it at random) */
	uint64_t pace_bytes_per_ms;    /* uplink rate congestion control allows (0: unknown) */
};

struct net_msg_stats {
	uint64_t sent_msgs, sent_ok, sent_failed, delivered;
	uint64_t datagrams_out, bytes_out, repair_symbols, acks_out;
	uint64_t datagrams_in, acks_in;
	uint64_t drop_malformed;       /* truncated, bad type, bad OTI, wrong length */
	uint64_t drop_oversize;        /* OTI announces more than NET_MSG_MAX_SIZE */
	uint64_t drop_inconsistent;    /* OTI differs from earlier symbols of the message */
	uint64_t drop_duplicate;       /* symbol of a delivered message (answered by ACK) */
	uint64_t refused_busy;         /* per-peer incoming slot cap */
	uint64_t refused_memory;       /* per-peer decoder memory cap */
	uint64_t expired_incoming;
	uint64_t ack_unknown;          /* ACK for no message in flight */
};

enum net_msg_input_kind {
	NET_MSG_IN_SEND = 1,    /* send data/len to peer before deadline_ms; msg_id is written back */
	NET_MSG_IN_DATAGRAM,    /* payload data/len arrived from peer */
	NET_MSG_IN_TIMER,       /* the armed timer fired (or any time: it is idempotent) */
	NET_MSG_IN_RTT,         /* rtt_ms to peer measured; a nonzero rate_bytes_per_ms updates the pace */
	NET_MSG_IN_PEER_RESET,  /* the session to peer was replaced: forget its partial messages */
};

struct net_msg_input {
	enum net_msg_input_kind kind;
	uint32_t peer;
	const uint8_t *data;
	size_t len;
	uint64_t deadline_ms;
	uint64_t rtt_ms;
	uint64_t rate_bytes_per_ms;
	uint64_t *msg_id;       /* SEND: where to write the new message's id (may be NULL) */
};

struct net_msg;

int net_msg_new(const struct net_msg_config *cfg, struct net_msg **out);
void net_msg_free(struct net_msg *sm);
/* Appends actions to out (which the caller resets between steps) and sets
 * out->next_timer_ms. Hostile datagrams are counted, not errors: they return
 * 0. Errors are for the caller's own mistakes: -CN_EINVAL (bad peer, empty
 * message), -CN_ELIMIT (message too large, too many in flight), -CN_ENOMEM. */
int net_msg_step(struct net_msg *sm, uint64_t now_ms, const struct net_msg_input *in,
		 struct net_msg_out *out);
const struct net_msg_stats *net_msg_stats(const struct net_msg *sm);
/* Decoder bytes currently reserved for incoming messages from peer. */
uint64_t net_msg_peer_reserved(const struct net_msg *sm, uint32_t peer);
/* Smoothed RTT in use for peer. */
uint64_t net_msg_peer_srtt(const struct net_msg *sm, uint32_t peer);

/* The OTI this layer uses for a message of len bytes: one source block, no
 * sub-blocks, alignment NET_MSG_AL, the smallest symbol size that gives at
 * most k_target symbols, but never above t_max. */
int net_msg_oti_for(uint64_t len, uint16_t t_max, uint32_t k_target, struct rq_oti *oti);

#endif
