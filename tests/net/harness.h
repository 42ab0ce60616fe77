/* harness.h — a tiny deterministic network for driving net endpoints.
 *
 * Nodes own one or more addresses; packets travel with a fixed latency
 * through one queue ordered by arrival time; a tap sees (and may drop or
 * record) every packet. A node replies from the local address at which it
 * last heard from the destination, as a runtime with one socket per address
 * would. Everything is seeded: a run is the same every time. */
#ifndef CANON_TESTS_NET_HARNESS_H
#define CANON_TESTS_NET_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "base/prng.h"
#include "net/net.h"

#define TN_MAX_NODES 8
#define TN_NONE UINT64_MAX

struct tn_route {
	struct net_addr remote, local;
};

struct tn_node {
	struct net_identity id;
	struct net_endpoint *ep;
	struct cn_prng rng;
	struct net_addr addrs[4];
	int n_addrs;
	struct tn_route routes[16];
	int n_routes;
	uint64_t timer;
	size_t delivered;
	uint8_t last_msg[NET_MAX_PAYLOAD];
	size_t last_len;
	uint8_t last_from[32];
	int established, closed, close_reason, peer_locators;
	int step_err;                       /* first error a step returned */
};

struct tn_pkt {
	uint64_t at;
	struct net_addr from, to;
	size_t len;
	uint8_t data[NET_MAX_DATAGRAM];
};

struct tn_net;
/* Return 0 to drop the packet. */
typedef int (*tn_tap)(struct tn_net *net, const struct tn_pkt *p, void *ctx);

struct tn_net {
	uint64_t now, latency;
	struct tn_node n[TN_MAX_NODES];
	int nn;
	struct tn_pkt *q;
	size_t nq, cap;
	tn_tap tap;
	void *tap_ctx;
	size_t sent, lost;
	/* Faults: extra delay uniform in [0, jitter] ms (reorders), and
	 * per-mille chances to lose or duplicate a packet. */
	uint64_t jitter;
	uint32_t loss_pm, dup_pm;
	struct cn_prng rng;
	/* Sees every delivered message, if set. */
	void (*on_deliver)(struct tn_net *net, int node, const uint8_t *msg, size_t len);
	void *deliver_ctx;
};

/* n nodes, node i at 10.0.0.(i+1):7000 (plus extra addresses added later),
 * each with a seeded identity and the given config (NULL: defaults). */
void tn_init(struct tn_net *net, int n, uint64_t seed, const struct net_config *cfg);
void tn_free(struct tn_net *net);
/* Gives node i another address 10.0.(k+1).(i+1):7000. */
void tn_add_addr(struct tn_net *net, int i);
/* Signed locator record of node i listing all its addresses. */
void tn_locator(struct tn_net *net, int i, uint64_t seq, struct net_locator *rec);
/* Tells node a where node b is (b's locator, sequence 1). */
void tn_introduce(struct tn_net *net, int a, int b);
/* One input to node i now; outputs are applied to the network. */
int tn_step(struct tn_net *net, int i, const struct net_input *in);
int tn_send(struct tn_net *net, int a, int b, const void *msg, size_t len);
/* Injects a raw datagram arriving at node i from `from`. */
int tn_inject(struct tn_net *net, int i, const struct net_addr *from, const uint8_t *p, size_t len);
/* Runs packets and timers until nothing is due before `until`. */
void tn_run(struct tn_net *net, uint64_t until);

#endif
