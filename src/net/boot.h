/* boot.h — the bootnode (rendezvous) protocol: a sans-I/O core for the
 * server side and encoders/decoders for clients (boot_).
 *
 * A bootnode is where nodes meet. A node REGISTERs its signed locator record
 * together with the topics it follows (a shard's gossip topics, say); the
 * bootnode keeps one entry per node ID (a newer sequence number replaces the
 * record, entries expire unless refreshed, the table is bounded) and answers
 * OBSERVED with the address it sees the node from, which tells a node behind
 * a NAT its public address. Anyone can then LOOKUP_ID (one node's record) or
 * LOOKUP_TOPIC (up to n records of nodes registered on a topic). CONNECT asks
 * the bootnode to tell a target that the requester wants a session: the
 * bootnode forwards CONNECT_FROM (the requester's record and observed
 * address) so that both sides initiate at once, the base of hole punching.
 *
 * Every frame is carried by the driver as one reliable net_msg message over
 * an authenticated session, so the core is told the sender's node ID and the
 * address its session runs on, and trusts both; the frame bytes themselves
 * are hostile and are parsed with bounds everywhere. A node may only register
 * its own record (the record's key must be the session's key).
 *
 * Wire format (integers big-endian; addr = family(1) 4|6, ip(16), port(2)):
 *   0x41 REGISTER      loclen(2) locator | ntopics(1) | ntopics x (len(1) topic)
 *   0x42 OBSERVED      addr | ttl_ms(4)                 answer to REGISTER
 *   0x43 LOOKUP_ID     req(4) | node_id(32)
 *   0x44 LOOKUP_TOPIC  req(4) | max(1) | len(1) topic
 *   0x45 RESULT        req(4) | n(1) | n x (loclen(2) locator | addr observed)
 *   0x46 CONNECT       target node_id(32)
 *   0x47 CONNECT_FROM  addr observed | loclen(2) locator  (the requester)
 *   0x48 CONNECT_FAIL  target node_id(32)               target not registered
 * Frames carry no trailing bytes. Topics are 1..BOOT_TOPIC_MAX printable
 * ASCII bytes. */
#ifndef CANON_NET_BOOT_H
#define CANON_NET_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

#define BOOT_TOPIC_MAX 64             /* bytes of a topic name */
#define BOOT_MAX_TOPICS 16            /* topics one node may register */
#define BOOT_MAX_RESULTS 16           /* records in one RESULT */
#define BOOT_ADDR_LEN 19
/* Largest frame: a RESULT full of maximal records. */
#define BOOT_FRAME_MAX (1 + 4 + 1 + BOOT_MAX_RESULTS * (2 + NET_LOCATOR_MAX_LEN + BOOT_ADDR_LEN))

enum boot_type {
	BOOT_T_REGISTER = 0x41,
	BOOT_T_OBSERVED = 0x42,
	BOOT_T_LOOKUP_ID = 0x43,
	BOOT_T_LOOKUP_TOPIC = 0x44,
	BOOT_T_RESULT = 0x45,
	BOOT_T_CONNECT = 0x46,
	BOOT_T_CONNECT_FROM = 0x47,
	BOOT_T_CONNECT_FAIL = 0x48,
};

/* One node as a bootnode knows it. */
struct boot_entry {
	struct net_locator loc;
	struct net_addr observed;
};

/* Any frame, decoded. Which fields mean something depends on type. */
struct boot_msg {
	enum boot_type type;
	uint32_t req;                     /* LOOKUP_*, RESULT */
	uint8_t id[NET_NODE_ID_LEN];      /* LOOKUP_ID, CONNECT, CONNECT_FAIL */
	struct net_addr addr;             /* OBSERVED, CONNECT_FROM */
	uint32_t ttl_ms;                  /* OBSERVED */
	struct net_locator loc;           /* REGISTER, CONNECT_FROM */
	uint8_t max;                      /* LOOKUP_TOPIC */
	size_t n_topics;                  /* REGISTER: n; LOOKUP_TOPIC: 1 */
	char topics[BOOT_MAX_TOPICS][BOOT_TOPIC_MAX + 1];
	size_t n_results;                 /* RESULT */
	struct boot_entry results[BOOT_MAX_RESULTS];
};

/* Parses one frame (checks every locator's signature). -CN_EINVAL (unknown
 * type, bad topic, bad address, bad record), -CN_ETRUNC, -CN_ETRAILING,
 * -CN_ELIMIT (too many topics or results). */
int boot_decode(const uint8_t *in, size_t len, struct boot_msg *m);

/* Encoders; each writes one frame into out (cap bytes, BOOT_FRAME_MAX is
 * always enough) and its length to *len. -CN_EINVAL for an invalid topic,
 * record or address, -CN_ERANGE if cap is too small. */
int boot_encode_register(const struct net_locator *loc, const char *const *topics, size_t n,
			 uint8_t *out, size_t cap, size_t *len);
int boot_encode_observed(const struct net_addr *a, uint32_t ttl_ms, uint8_t *out, size_t cap,
			 size_t *len);
int boot_encode_lookup_id(uint32_t req, const uint8_t id[NET_NODE_ID_LEN], uint8_t *out, size_t cap,
			  size_t *len);
int boot_encode_lookup_topic(uint32_t req, const char *topic, uint8_t max, uint8_t *out, size_t cap,
			     size_t *len);
int boot_encode_result(uint32_t req, const struct boot_entry *e, size_t n, uint8_t *out, size_t cap,
		       size_t *len);
int boot_encode_connect(const uint8_t target[NET_NODE_ID_LEN], uint8_t *out, size_t cap, size_t *len);
int boot_encode_connect_from(const struct net_locator *loc, const struct net_addr *observed,
			     uint8_t *out, size_t cap, size_t *len);
int boot_encode_connect_fail(const uint8_t target[NET_NODE_ID_LEN], uint8_t *out, size_t cap,
			     size_t *len);

/* 1 if s is a valid topic name (1..BOOT_TOPIC_MAX printable ASCII bytes). */
int boot_topic_valid(const char *s);
/* 1 if the first byte is a bootnode frame type (0x41..0x4f). */
int boot_is_frame(const uint8_t *p, size_t len);

/* ---- server --------------------------------------------------------------- */

struct boot_config {
	uint32_t max_entries;             /* default 4096 */
	uint32_t ttl_ms;                  /* an entry lives this long after its last REGISTER (default 120000) */
	uint64_t seed;                    /* where a topic lookup starts in the table (spreads load) */
};

/* A frame for node `to` (the driver sends it as one message). */
struct boot_action {
	uint8_t to[NET_NODE_ID_LEN];
	uint8_t *data;
	size_t len;
};

struct boot_out {
	struct boot_action *a;
	size_t n, cap;
};

void boot_out_init(struct boot_out *o);
void boot_out_reset(struct boot_out *o);   /* frees the frames, keeps the array */
void boot_out_free(struct boot_out *o);

struct boot_stats {
	uint64_t registered;              /* new entries */
	uint64_t refreshed;               /* REGISTER of a known node (same or newer record) */
	uint64_t stale;                   /* REGISTER with an older sequence number */
	uint64_t equivocation;            /* same sequence, different record */
	uint64_t not_owner;               /* record of another key than the session's */
	uint64_t evicted;                 /* live entries pushed out by a full table */
	uint64_t expired;
	uint64_t lookups;
	uint64_t connects, connect_unknown;
	uint64_t malformed;               /* frames that did not parse */
	uint64_t unexpected;              /* well-formed answers sent to the bootnode */
};

struct boot_server;

int boot_server_new(const struct boot_config *cfg, struct boot_server **out);
void boot_server_free(struct boot_server *s);
/* One frame from node `from` whose session runs on address `seen`. Hostile
 * bytes are counted, not errors; errors are -CN_ENOMEM only. */
int boot_server_receive(struct boot_server *s, uint64_t now_ms, const uint8_t from[NET_NODE_ID_LEN],
			const struct net_addr *seen, const uint8_t *frame, size_t len,
			struct boot_out *out);
/* Drops expired entries; returns when the next one expires (UINT64_MAX: none). */
uint64_t boot_server_timer(struct boot_server *s, uint64_t now_ms);
/* The live entry of node id: -CN_ENOTFOUND. */
int boot_server_get(const struct boot_server *s, uint64_t now_ms, const uint8_t id[NET_NODE_ID_LEN],
		    struct boot_entry *e);
size_t boot_server_count(const struct boot_server *s);
const struct boot_stats *boot_server_stats(const struct boot_server *s);

#endif
