/* rt_msg.h — RaptorQ-coded messages (src/net/msg.h) over rt_net sessions.
 *
 * net_msg turns whole messages (up to NET_MSG_MAX_SIZE) into payloads of at
 * most NET_MSG_MTU bytes for a peer index and back; rt_net carries payloads
 * over encrypted UDP sessions to node IDs. This driver joins the two: it
 * keeps the table from peer index to node ID (peers added by the caller, or
 * met when they first send us something), routes every session delivery into
 * net_msg, every net_msg payload into the session, and runs net_msg's timer
 * (repair rounds, deadlines) on its own uv_timer_t.
 *
 * While a peer's handshake runs, the endpoint holds only a few packets
 * (net_config.max_queued), but net_msg emits a message's whole first burst
 * at once, and the symbols lost that way would be recovered only through
 * slow repair rounds (seconds for 1 MB). So the driver lets the first
 * payload through to start the handshake and keeps the rest, up to
 * RT_MSG_HOLD_MAX_BYTES, until the session is established. */
#ifndef CANON_RUNTIME_RT_MSG_H
#define CANON_RUNTIME_RT_MSG_H

#include "net/cc.h"
#include "net/msg.h"
#include "runtime/rt_net.h"

struct rt_msg;

#define RT_MSG_HOLD_MAX_BYTES (16u << 20)

struct rt_msg_callbacks {
	/* A complete message from peer (index; rt_msg_peer_id names it). */
	void (*deliver)(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len);
	/* Our message msg_id reached peer (err 0) or missed its deadline. */
	void (*result)(void *ctx, struct rt_msg *rm, uint32_t peer, uint64_t msg_id, int err);
	/* Session events of rt_net other than deliveries (may be NULL). */
	rt_net_event_fn session;
	/* Session payloads that start with a multicast type (NET_MCAST_T_*),
	 * which are not net_msg's; NULL: they go to net_msg, which drops them. */
	void (*raw)(void *ctx, struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len);
};

struct rt_msg {
	struct rt_net net;
	struct net_msg *msg;
	uv_timer_t timer;
	uint64_t timer_at_ms;
	uint8_t (*ids)[NET_NODE_ID_LEN];
	uint32_t n_peers, max_peers;
	struct rt_msg_callbacks cb;
	void *ctx;
	uint64_t unknown_dropped;      /* deliveries from nodes when the table was full */
	struct rt_held *held_head, **held_tail;   /* payloads waiting for a handshake */
	size_t held_bytes;
	uint8_t *kicked;               /* per peer: a payload already started its handshake */
	uint64_t held_total;           /* payloads that waited for a handshake */
	uint64_t held_dropped;         /* payloads over the hold cap (net_msg repairs them) */
	int use_cc;
	struct rt_cc **cc;             /* per peer, made on first use */
	uint64_t cc_acks_in, cc_acks_out, cc_bad;
};

/* Starts rt_net on bind_addr with a net_msg for up to max_peers peers.
 * -CN_EIO (bind), -CN_ENOMEM, -CN_EINVAL; on error, run the loop once more
 * before closing it (handles may be closing). */
int rt_msg_start(struct rt_msg *rm, uv_loop_t *loop, struct net_endpoint *ep,
		 const struct net_addr *bind_addr, uint32_t max_peers,
		 const struct rt_msg_callbacks *cb, void *ctx);
/* Options of rt_msg_start_opts; zero fields keep rt_msg_start's choices. */
struct rt_msg_opts {
	struct rt_net_opts net;       /* no signal handlers, test loss */
	uint32_t max_outgoing;        /* net_msg messages in flight, all peers (net_msg's default) */
	uint64_t min_rtt_ms;          /* net_msg's RTT floor for repair timing (0: none) */
	/* Number every payload and acknowledge them (CC_DATA/CC_ACK below) so
	 * that a per-peer net_cc measures the RTT of single datagrams, queueing
	 * and scheduling at the receiver included, and its pacing rate; both go
	 * to net_msg (NET_MSG_IN_RTT), which times repairs by them. Both ends
	 * must use it. */
	int cc;
};

/* With opts.cc, payloads travel as 0x05 | pn(8) | payload and the receiver
 * answers every RT_MSG_ACK_EVERY numbered payloads (or after
 * RT_MSG_ACK_MS) with 0x06 | ACK frame (net_cc_ack_encode). */
#define RT_MSG_T_CC_DATA 0x05
#define RT_MSG_T_CC_ACK 0x06
#define RT_MSG_ACK_EVERY 4
#define RT_MSG_ACK_MS 10

struct rt_cc {
	struct net_cc cc;
	struct net_cc_ackset rx;
	uint64_t next_pn;
	uint32_t rx_unacked;
	uint64_t last_ack_ms;
	int attached;                 /* metrics bound */
};
int rt_msg_start_opts(struct rt_msg *rm, uv_loop_t *loop, struct net_endpoint *ep,
		      const struct net_addr *bind_addr, uint32_t max_peers,
		      const struct rt_msg_opts *opts, const struct rt_msg_callbacks *cb, void *ctx);
/* Index of node_id, added if new. -CN_ELIMIT when the table is full. */
int rt_msg_peer(struct rt_msg *rm, const uint8_t node_id[NET_NODE_ID_LEN], uint32_t *index);
const uint8_t *rt_msg_peer_id(const struct rt_msg *rm, uint32_t index);
/* Queues a message for peer, to arrive before deadline_ms (Unix epoch). */
int rt_msg_send(struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len,
		uint64_t deadline_ms, uint64_t *msg_id);
/* One session payload (<= NET_MSG_MTU) to peer outside net_msg (multicast
 * symbols), held like net_msg's while a handshake runs. */
int rt_msg_send_raw(struct rt_msg *rm, uint32_t peer, const uint8_t *data, size_t len);
/* The congestion controller of peer (opts.cc), or NULL. */
struct net_cc *rt_msg_cc(struct rt_msg *rm, uint32_t peer);
/* Tells net_msg a measured RTT to peer and the pace congestion control allows. */
int rt_msg_rtt(struct rt_msg *rm, uint32_t peer, uint64_t rtt_ms, uint64_t rate_bytes_per_ms);
/* Closes every handle. After the loop has stopped (and also after a failed
 * rt_msg_start) release the rest with rt_msg_free. */
void rt_msg_close(struct rt_msg *rm);
void rt_msg_free(struct rt_msg *rm);

#endif
