/* simnet.h — a seeded, lossy network of whole transport stacks, for
 * simulation tests with tens of nodes.
 *
 * Each node runs what the runtime runs: a net_endpoint (handshakes,
 * encryption, replay window, cookies, roaming, multihoming), one net_msg
 * for RaptorQ unicast and one net_mcast per multicast group it belongs to.
 * The driver glue is the runtime's (src/runtime/rt_msg.c): a table from
 * net_msg peer index to node ID, the first payload to a peer without a
 * session starts the handshake and the rest wait until it is established,
 * a closed session resets the peer's partial messages, and the payloads a
 * session delivers are routed by their first byte (0x01/0x02 net_msg,
 * 0x11/0x12 multicast, the group found by the id in the payload and the
 * member by the session's node ID), and a step's actions are handled in
 * order, stepping again from inside as rt_net's callbacks do.
 *
 * The network carries datagrams between addresses with a base latency,
 * uniform jitter (which reorders), and per-packet loss and duplication from
 * its own PRNG. Addresses can die (multihoming) or move (mobility); a node
 * answers from the local address a peer last reached, as a runtime with one
 * socket per address would, falling back to a live one. A tap sees every
 * datagram offered and may drop, record or rewrite it. Every random choice
 * comes from the seed, so a failing run replays exactly. */
#ifndef CANON_TESTS_NET_SIMNET_H
#define CANON_TESTS_NET_SIMNET_H

#include <stddef.h>
#include <stdint.h>

#include "base/prng.h"
#include "net/mcast.h"
#include "net/msg.h"
#include "net/net.h"

#define SN_MAX_NODES 64
#define SN_MAX_ADDRS 4
#define SN_MAX_ROUTES 96
#define SN_MAX_GROUPS 8
#define SN_MAX_PEERS 96               /* net_msg peer indices per node */
#define SN_NONE UINT64_MAX
#define SN_T0 1700000000000ull        /* the endpoint wants Unix-epoch ms */

struct sn_pkt {
	uint64_t t, seq;
	struct net_addr from, to;
	size_t len;
	uint8_t *d;
};

struct sn_group {
	uint64_t gid;
	uint32_t n, k;
	int node[SN_MAX_NODES];             /* member index -> node */
};

struct sn_held {
	struct sn_held *next;
	uint32_t peer;
	size_t len;
	uint8_t data[];
};

struct sn_net;

struct sn_node {
	struct net_identity id;
	struct net_endpoint *ep;
	struct net_msg *msg;
	struct net_mcast *mc[SN_MAX_GROUPS]; /* NULL: not a member */
	struct cn_prng rng;
	struct net_addr addrs[SN_MAX_ADDRS];
	uint8_t dead[SN_MAX_ADDRS];
	int n_addrs, moves;
	struct {
		struct net_addr remote, local;
	} routes[SN_MAX_ROUTES];
	int n_routes;
	uint64_t ep_timer, msg_timer, mc_timer[SN_MAX_GROUPS];
	uint64_t next;                      /* the earliest of the timers above */
	/* The runtime's peer table (rt_msg): net_msg index -> node ID. */
	uint8_t peer_id[SN_MAX_PEERS][NET_NODE_ID_LEN];
	int peer_node[SN_MAX_PEERS];        /* -1: not one of the simulated nodes */
	uint32_t n_peers;
	uint8_t kicked[SN_MAX_PEERS];
	struct sn_held *held_head, **held_tail;
	size_t held_bytes;
	struct net_locator loc;             /* the record discovery hands out */
	uint64_t loc_seq;
	uint8_t silent[SN_MAX_GROUPS];      /* multicast: receives, never relays */
	/* Sees (and may rewrite in place) every multicast payload this node
	 * emits; return 0 to drop it. */
	int (*mcast_out)(struct sn_net *net, int node, int group, uint32_t to_member, uint8_t *d, size_t len);
	/* counters */
	uint64_t established, closed, peer_locators, locator_seq_seen, ep_delivered;
	uint64_t mcast_nonmember, mcast_unknown_group, unknown_type, peer_table_full, held_total;
	int step_err;                       /* first error a step returned */
};

struct sn_hooks {
	/* A whole message: group -1 for unicast (from = sending node), else
	 * the group index (from = the multicast sender's node). */
	void (*deliver)(struct sn_net *net, int node, int group, int from, uint64_t msg_id,
			const uint8_t *d, size_t len);
	/* Our message msg_id: unicast peer = receiving node, err 0 when acked;
	 * multicast peer = -1, err 0 once the quorum was reported. */
	void (*result)(struct sn_net *net, int node, int group, int peer, uint64_t msg_id, int err);
	/* Every datagram offered to the network; return 0 to drop it. */
	int (*tap)(struct sn_net *net, struct sn_pkt *p);
	/* Every datagram that reaches node dst, before its endpoint sees it. */
	void (*arrive)(struct sn_net *net, int dst, const struct sn_pkt *p);
	void *ctx;
};

struct sn_net {
	uint64_t now, seq;
	struct cn_prng rng;
	uint64_t latency, jitter;
	double loss, dup;
	struct sn_node *n;
	int nn;
	struct sn_group g[SN_MAX_GROUPS];
	int ng;
	struct sn_pkt *h;                   /* min-heap by (t, seq) */
	size_t nh, caph;
	struct sn_hooks hooks;
	/* counters */
	uint64_t offered, lost, dups, undeliverable, events;
};

/* n nodes with seeded identities, node i at 10.1.0.(i+1):7000, each
 * introduced to every other (as discovery would), using cfg (NULL:
 * defaults) for every endpoint. */
void sn_init(struct sn_net *net, int n, uint64_t seed, const struct net_config *cfg);
void sn_free(struct sn_net *net);
/* Faults: base latency and uniform jitter in ms, loss and duplication as
 * probabilities per datagram. */
void sn_faults(struct sn_net *net, uint64_t latency, uint64_t jitter, double loss, double dup);
/* Gives node i one more address (10.(k+1).0.(i+1):7000 for the k-th). */
void sn_add_addr(struct sn_net *net, int i);
/* Marks node i's k-th address dead (or alive again): datagrams from or to
 * it vanish. */
void sn_set_dead(struct sn_net *net, int i, int k, int dead);
/* Node i's first address moves to a fresh one (10.200.m.(i+1):7100+m);
 * datagrams to the old one are lost from now on. */
void sn_move(struct sn_net *net, int i);
/* Signs node i's locator record (every address it has, next sequence
 * number) and hands it to the endpoint as NET_IN_ANNOUNCE. */
int sn_announce(struct sn_net *net, int i);
/* Tells every member about a multicast group of the given nodes, k faulty
 * tolerated; returns the group index. */
int sn_group(struct sn_net *net, const int *nodes, uint32_t n, uint32_t k, uint64_t gid);
/* Member index of node in group g, or -1. */
int sn_member(const struct sn_net *net, int g, int node);

int sn_send(struct sn_net *net, int a, int b, const uint8_t *d, size_t len, uint64_t deadline_ms,
	    uint64_t *msg_id);
int sn_mcast(struct sn_net *net, int node, int g, const uint8_t *d, size_t len, uint64_t deadline_ms,
	     uint64_t *msg_id);
int sn_quorum(struct sn_net *net, int node, int g, uint64_t msg_id);
/* Sends one raw session payload from node a to node b through the driver
 * (a Byzantine node's own bytes: a forged multicast symbol, say). */
void sn_payload(struct sn_net *net, int a, int b, const uint8_t *d, size_t len);
/* Puts a datagram on the wire from any address (spoofed, replayed) to
 * arrive at `at`; the tap and the faults do not apply. */
void sn_push(struct sn_net *net, const struct net_addr *from, const struct net_addr *to, const uint8_t *d,
	     size_t len, uint64_t at);
/* Hands a raw datagram to node i's endpoint as if it came from `from`. */
int sn_inject(struct sn_net *net, int i, const struct net_addr *from, const uint8_t *d, size_t len);
/* Runs datagrams and timers up to `until`; the clock ends there. */
void sn_run(struct sn_net *net, uint64_t until);
/* Runs in steps of `slice` ms until done(ctx) or `until`; returns done(). */
int sn_run_until(struct sn_net *net, uint64_t until, uint64_t slice, int (*done)(struct sn_net *, void *),
		 void *ctx);

/* Sum of one endpoint counter over every node. */
uint64_t sn_stat(const struct sn_net *net, enum net_stat s);

#endif
