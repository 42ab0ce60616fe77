/* rt_host.h — one node's whole transport on a libuv loop.
 *
 * A host owns one UDP socket and everything above it: the host key
 * (<datadir>/p2p/hostkey, created if missing), the encrypted sessions
 * (net_endpoint through rt_net), RaptorQ-coded messages (net_msg through
 * rt_msg), gossip on topics (net/gossip.h), request/response streams
 * (net/stream.h), multicast to a group (net/mcast.h) and the bootnode
 * protocol (net/boot.h), as a client and, with serve_bootnode, as a bootnode.
 * Every message net_msg delivers is routed by its first byte: 0x21..0x2f to
 * gossip, 0x31..0x3f to streams, 0x41..0x4f to the bootnode code; the
 * multicast layer has its own payload types (0x11/0x12, next to net_msg's).
 *
 * Peers are found through the bootnodes: the host registers its locator
 * record and its topics with each bootnode, looks the topics up (every 2 s
 * while it has fewer peers than it wants, else every 30 s) and opens
 * sessions to the nodes it learns of. A session that comes up is a gossip
 * peer; a peer whose gossip score falls below the threshold is disconnected
 * and refused until its cooldown ends.
 *
 * The host installs no signal handlers: the process that embeds it does.
 * rt_host_close() closes every handle; uv_run() then returns and
 * rt_host_free() releases the rest. */
#ifndef CANON_RUNTIME_RT_HOST_H
#define CANON_RUNTIME_RT_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/gossip.h"
#include "net/net.h"

struct cn_metrics;

struct rt_host_config {
	const char *datadir;            /* host key at <datadir>/p2p/hostkey, created (0600) if missing */
	struct net_addr bind;           /* port 0: ephemeral */
	const char *const *bootnodes;   /* "<ed25519 public key hex>@ip:port" each */
	size_t n_bootnodes;
	int serve_bootnode;             /* act as a bootnode: keep the locator table, answer lookups */
	uint32_t max_peers;             /* 0: 64 (a bootnode: 1024) */
	double test_drop;               /* test-only: drop this fraction of datagrams both ways (0 = off);
					 * CANON_TEST_DROP in the environment sets it when this is 0 */
	struct cn_metrics *metrics;     /* may be NULL: else registers net metrics (peers, bytes, loss, rtt...) */
	uint32_t gossip_fanout;         /* 0: gossip's default (6); eager-push peers per message */
};

struct rt_host_callbacks {
	/* A gossip message from a peer, before it is relayed or delivered (NULL: accept all). */
	enum gossip_verdict (*validate)(void *ctx, const char *topic, const uint8_t from[32],
					const uint8_t *data, size_t len);
	/* An accepted message on a subscribed topic, exactly once per message id. */
	void (*deliver)(void *ctx, const char *topic, const uint8_t from[32], const uint8_t *data,
			size_t len);
	void (*peer)(void *ctx, const uint8_t id[32], int up);   /* may be NULL */
	/* A multicast message from group member `from` (may be NULL). */
	void (*mcast_deliver)(void *ctx, const uint8_t from[32], const uint8_t *data, size_t len);
};

struct rt_host;

/* Loads or creates the host key, binds the socket, registers with the
 * bootnodes. -CN_EINVAL (bad bootnode string, no datadir), -CN_EIO (bind,
 * key file), -CN_ENOMEM. On error nothing is left open. */
int rt_host_start(struct rt_host **out, uv_loop_t *loop, const struct rt_host_config *cfg,
		  const struct rt_host_callbacks *cb, void *ctx);

/* Subscribes and registers the topic with the bootnodes; the host then looks
 * up the topic's other nodes (every 2 s while it has fewer than the wanted
 * peers, else every 30 s) and connects. */
int rt_host_subscribe(struct rt_host *h, const char *topic);
/* Gossips data on topic (subscribed or not). -CN_EEXIST: the same bytes were
 * already published or seen on that topic. */
int rt_host_publish(struct rt_host *h, const char *topic, const uint8_t *data, size_t len);

/* Streams. The serve callback answers synchronously with rt_host_reply(). */
struct rt_host_req;   /* opaque handle valid during the serve callback */
typedef void (*rt_host_serve_fn)(void *ctx, const uint8_t peer[32], const uint8_t *req, size_t len,
				 struct rt_host_req *r);
int rt_host_reply(struct rt_host_req *r, int status, const uint8_t *data, size_t len);
int rt_host_serve(struct rt_host *h, const char *proto, rt_host_serve_fn fn, void *ctx);
/* err is 0 and status/data the server's answer, or err is -CN_EUNSUPPORTED
 * (the peer does not serve proto), -CN_ETIMEDOUT, -CN_ECLOSED, -CN_ENOTFOUND
 * (no way to reach peer)... The callback runs exactly once, never from within
 * rt_host_request itself. */
typedef void (*rt_host_response_fn)(void *ctx, int err, int status, const uint8_t *data, size_t len);
int rt_host_request(struct rt_host *h, const uint8_t peer[32], const char *proto, const uint8_t *req,
		    size_t len, uint64_t timeout_ms, rt_host_response_fn fn, void *ctx);

/* Multicast one message to a group of node IDs of which up to k may be
 * faulty (net/mcast.h). Every member must be a peer whose key the host knows
 * (a session it opened or a record it received). The group is ids (our own
 * ID is added if missing) ordered by ID; members learn of it from a small
 * group announcement sent ahead of the symbols. */
int rt_host_multicast(struct rt_host *h, const uint8_t (*ids)[32], size_t n, size_t k,
		      const uint8_t *data, size_t len, uint64_t deadline_ms);

size_t rt_host_topic_peers(struct rt_host *h, const char *topic, uint8_t (*ids)[32], size_t cap);
/* Peers with an established session. */
size_t rt_host_peer_count(struct rt_host *h);
const uint8_t *rt_host_node_id(const struct rt_host *h);
/* "<pk hex>@ip:port" of this host (what others pass as a bootnode) */
int rt_host_address(const struct rt_host *h, char *out, size_t cap);
/* Opens a session to "<pk hex>@ip:port" without asking a bootnode. */
int rt_host_connect(struct rt_host *h, const char *address);

struct rt_host_stats {
	uint64_t datagrams_in, datagrams_out, bytes_in, bytes_out;
	uint64_t test_dropped;          /* datagrams the test_drop knob ate */
	uint64_t msgs_in, msgs_out;     /* whole net_msg messages */
	uint64_t unroutable;            /* messages with an unknown first byte */
	uint64_t boot_registered;       /* OBSERVED answers received */
	uint64_t boot_results;          /* records learned from lookups */
	uint64_t refused_cooling;       /* sessions refused during a gossip cooldown */
	uint64_t peer_restarts;         /* peers seen again with a new instance (restarted) */
	uint64_t mcast_early;           /* multicast symbols that waited for their group's announcement */
	uint64_t cc_acks_in, cc_acks_out;   /* per-datagram acknowledgements (net_cc RTT samples) */
	uint64_t repair_symbols;        /* net_msg repair symbols sent */
	uint64_t refused_incoming;      /* net_msg: partial messages refused (slots, memory) */
	uint64_t msgs_failed;           /* net_msg messages that missed their deadline */
	uint64_t handshakes;            /* session handshakes completed (incl. rekeys) */
	uint64_t acks_out, acks_in, dup_symbols;   /* net_msg */
	uint64_t gossip_ratelimited, gossip_disconnects, gossip_iwant_out;
	size_t peers;
	size_t boot_entries;            /* serve_bootnode: live entries in the table */
};
void rt_host_stats(const struct rt_host *h, struct rt_host_stats *st);
/* The gossip core's own counters (net/gossip.h). */
const struct gossip_stats *rt_host_gossip_stats(const struct rt_host *h);

void rt_host_close(struct rt_host *h);   /* closes handles; uv_run then returns */
void rt_host_free(struct rt_host *h);    /* after the loop stopped */

/* Parses "<64 hex pk>@ip:port". */
int rt_host_parse_address(const char *s, uint8_t pk[NET_PK_LEN], struct net_addr *addr);

#endif
