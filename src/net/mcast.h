/* mcast.h — multicast of one message to a group by signed, relayed RaptorQ
 * symbols (net_mcast_).
 *
 * A group has n members (indices 0..n-1, each with an Ed25519 public key),
 * up to k of which may be faulty. The sender is a member; the other n-1 each
 * get a distinct share of s symbols, chosen so that the shares of the n-1-k
 * receivers that are honest already hold K + cp symbols (K = (n-1-k)s - cp):
 * silent or lying members cannot stop the others from decoding, and the
 * sender uploads about (n-1)/(n-1-k) times the message instead of n-1 times.
 * Each member relays the symbols the sender gave it to every other member and
 * decodes once it holds K valid symbols.
 *
 * Authentication: every symbol carries the sender's Ed25519 signature over
 * BLAKE2b-256(domain, group id, sender index, msg id, OTI, payload ID,
 * BLAKE2b-256(symbol)). One signature per symbol costs 64 bytes per 1200-byte
 * datagram; a Merkle root signed once would need a path of log2(#symbols)
 * hashes per datagram (352 bytes for 2000 symbols) and could not cover repair
 * symbols made later without another signature, so per-symbol signatures are
 * both smaller on the wire and simpler here. A member checks a symbol before
 * relaying or decoding it; a forged or tampered one is dropped and the peer
 * that handed it over gets a strike (net_mcast_peer_strikes). After a member
 * has decoded it stops checking relays for that message at all.
 *
 * The sender keeps adding repair symbols, each to a random member (who
 * relays it), first three smoothed RTTs after the send (the sender cannot
 * hear of a quorum before a hop to the members, a relay hop and a hop back,
 * 1.5 RTT; the rest is margin for transmission and decoding), then every
 * half RTT with exponential backoff (up to 8x), until the application
 * reports that a quorum has the message (NET_MCAST_IN_QUORUM) or the
 * deadline passes. A round adds K/8 + 1 symbols (at least cp).
 *
 * Actions use struct net_msg_out from msg.h; "peer" is a member index. */
#ifndef CANON_NET_MCAST_H
#define CANON_NET_MCAST_H

#include <stddef.h>
#include <stdint.h>

#include "net/msg.h"

#define NET_MCAST_MAX_MEMBERS 1024
#define NET_MCAST_SIG_LEN 64
#define NET_MCAST_HDR (1 + 8 + 2 + 8 + RQ_OTI_LEN + RQ_PAYLOAD_ID_LEN + NET_MCAST_SIG_LEN)
#define NET_MCAST_T_MAX ((NET_MSG_MTU - NET_MCAST_HDR) / NET_MSG_AL * NET_MSG_AL)

struct net_mcast_config {
	uint64_t group_id;
	uint32_t n;                    /* members, 2..NET_MCAST_MAX_MEMBERS */
	uint32_t k;                    /* faulty members tolerated, k < n - 1 */
	uint32_t cp;                   /* spare symbols beyond K among honest shares (default 2) */
	uint32_t self;                 /* our index */
	const uint8_t (*pks)[32];      /* n Ed25519 public keys (copied) */
	const uint8_t *sk;             /* our 64-byte libsodium secret key (copied), NULL: receive only */
	uint32_t max_incoming;         /* concurrent partial messages per sender (default 16,
					* as many as max_outgoing lets a sender have) */
	uint64_t sender_mem_cap;       /* decoder bytes per sender (default: one max message) */
	uint32_t max_outgoing;         /* our messages in flight (default 16) */
	uint32_t dedup_window;         /* delivered ids remembered per sender (default 256) */
	uint64_t rtt_ms;               /* initial smoothed RTT (default 200) */
	uint64_t incoming_timeout_ms;  /* default 30000 */
	uint64_t seed;                 /* picks repair targets and the first message id */
	uint64_t pace_bytes_per_ms;    /* uplink rate (0: unknown), as in net_msg_config */
};

struct net_mcast_stats {
	uint64_t sent_msgs, quorum_msgs, failed_msgs, delivered;
	uint64_t datagrams_out, bytes_out, relayed, repair_symbols;
	uint64_t datagrams_in, verified;
	uint64_t drop_malformed, drop_oversize, drop_inconsistent, drop_wrong_group;
	uint64_t drop_forged;          /* bad signature (a strike for the peer) */
	uint64_t drop_not_sender;      /* DIRECT from someone other than the sender (strike) */
	uint64_t drop_duplicate, drop_after_decode;
	uint64_t refused_busy, refused_memory, expired_incoming;
};

enum net_mcast_input_kind {
	NET_MCAST_IN_SEND = 1,  /* multicast data/len before deadline_ms; msg_id written back */
	NET_MCAST_IN_DATAGRAM,  /* payload from member peer */
	NET_MCAST_IN_TIMER,
	NET_MCAST_IN_QUORUM,    /* the application knows a quorum has msg_id: stop repairing */
	NET_MCAST_IN_RTT,       /* a new RTT estimate for the group; nonzero rate_bytes_per_ms updates the pace */
};

struct net_mcast_input {
	enum net_mcast_input_kind kind;
	uint32_t peer;
	const uint8_t *data;
	size_t len;
	uint64_t deadline_ms;
	uint64_t rtt_ms;
	uint64_t rate_bytes_per_ms;
	uint64_t msg_id;        /* QUORUM */
	uint64_t *msg_id_out;   /* SEND (may be NULL) */
};

struct net_mcast;

int net_mcast_new(const struct net_mcast_config *cfg, struct net_mcast **out);
void net_mcast_free(struct net_mcast *sm);
/* Actions: SEND (peer = member), DELIVER (peer = sender index), SENT (quorum
 * reported), FAILED (deadline). Errors as net_msg_step. */
int net_mcast_step(struct net_mcast *sm, uint64_t now_ms, const struct net_mcast_input *in,
		   struct net_msg_out *out);
const struct net_mcast_stats *net_mcast_stats(const struct net_mcast *sm);
/* Forged, tampered or misaddressed symbols received from this member. */
uint64_t net_mcast_peer_strikes(const struct net_mcast *sm, uint32_t peer);
uint64_t net_mcast_sender_reserved(const struct net_mcast *sm, uint32_t sender);
/* The coding a group uses for len bytes: symbols per member s and the OTI. */
int net_mcast_plan(uint32_t n, uint32_t k, uint32_t cp, uint64_t len, uint32_t *s, struct rq_oti *oti);

#endif
