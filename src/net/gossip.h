/* gossip.h — topic-based publish/subscribe over direct peers (gossip_).
 *
 * Each node tells its peers which topics it subscribes to (SUB and UNSUB
 * frames). A message published on a topic travels from peer to peer: a node
 * that accepts a new message pushes it whole to at most `fanout` randomly
 * chosen peers subscribed to the topic (eager push) and announces only its id
 * to the other subscribed peers (IHAVE); a peer that has not seen that id
 * asks for it (IWANT) and gets it from a short-lived message cache. Eager
 * push gives low latency with bounded upload; the announcements make
 * delivery certain along every path of honest nodes, where push alone to a
 * random subset would miss a node now and then.
 *
 * A message's id is the first 20 bytes of BLAKE2b-256(topic length byte ||
 * topic || data), computed by every receiver (never trusted from the wire),
 * so identical bytes published by several nodes are one message. A dedup
 * cache (bounded entry count and TTL) makes each node deliver and relay a
 * message at most once.
 *
 * Before relaying or delivering a message from a peer, the application's
 * validate hook decides: ACCEPT (deliver, relay), IGNORE (drop quietly) or
 * REJECT (drop; the peer's score falls). Per-peer token buckets limit
 * frames and bytes per second; frames over the limit are dropped and also
 * cost score. A score below the threshold disconnects the peer (an action
 * for the driver) and cools it down: its frames are ignored until the
 * cooldown ends. Scores drift back towards zero over time so that rare
 * mishaps of an honest peer do not add up. Malformed frames are dropped,
 * counted and cost the same as a REJECT.
 *
 * Sans-I/O, like msg.h: peers are indices 0..max_peers-1 that the driver maps
 * to node IDs; every frame the core emits is one message for net_msg
 * (reliable, whole), and every received frame is hostile. Frame types are
 * 0x21..0x2f so a driver demultiplexes on the first byte. The wire format is
 * in docs/net-gossip.md. */
#ifndef CANON_NET_GOSSIP_H
#define CANON_NET_GOSSIP_H

#include <stddef.h>
#include <stdint.h>

#define GOSSIP_TOPIC_MAX 64       /* topic bytes (printable ASCII 0x21..0x7e) */
#define GOSSIP_ID_LEN 20
#define GOSSIP_IDS_MAX 64         /* ids in one IHAVE or IWANT frame */

enum gossip_frame_type {
	GOSSIP_T_SUB = 0x21,
	GOSSIP_T_UNSUB = 0x22,
	GOSSIP_T_MSG = 0x23,
	GOSSIP_T_IHAVE = 0x24,
	GOSSIP_T_IWANT = 0x25,
};

enum gossip_verdict {
	GOSSIP_ACCEPT = 0,  /* deliver and relay */
	GOSSIP_IGNORE,      /* no relay, no penalty */
	GOSSIP_REJECT,      /* no relay, the sending peer's score falls */
};

typedef enum gossip_verdict (*gossip_validate_fn)(void *ctx, const char *topic, uint32_t from_peer,
						  const uint8_t *data, size_t len);

/* Zero fields take the defaults in parentheses. */
struct gossip_config {
	uint32_t max_peers;            /* peer indices are < max_peers (required) */
	uint32_t fanout;               /* eager-push peers per message (6) */
	uint32_t dedup_entries;        /* ids remembered (16384) */
	uint64_t dedup_ttl_ms;         /* how long an id is remembered (120000) */
	uint64_t mcache_ms;            /* whole messages kept for IWANT (5000) */
	uint64_t mcache_bytes;         /* and at most this many bytes of them (64 MiB) */
	uint64_t iwant_timeout_ms;     /* ask another announcer after this (1000) */
	uint32_t max_wants;            /* ids being asked for at once (4096) */
	uint32_t max_wants_per_peer;   /* of them waiting on one peer (256) */
	size_t max_msg_size;           /* data bytes of one message (8 MiB) */
	uint32_t max_topics;           /* distinct topics peers can make us hold (1024); ours always fit */
	uint32_t max_topics_per_peer;  /* subscriptions a peer may hold (64) */
	uint32_t msgs_per_s;           /* frames per second per peer (1000) */
	uint32_t msgs_burst;           /* (2000) */
	uint64_t bytes_per_s;          /* frame bytes per second per peer (64 MiB) */
	uint64_t bytes_burst;          /* (2 * bytes_per_s) */
	int32_t score_invalid;         /* per REJECT or malformed frame (-10) */
	int32_t score_ratelimited;     /* per frame over the rate limit (-1) */
	int32_t score_threshold;       /* below this: disconnect (-50) */
	uint32_t score_recover_ms;     /* a negative score rises by 1 this often (1000) */
	uint64_t cooldown_ms;          /* refuse a disconnected peer this long (60000) */
	uint64_t seed;                 /* fan-out PRNG */
	gossip_validate_fn validate;   /* NULL: accept everything */
	void *ctx;
};

enum gossip_action_kind {
	GOSSIP_A_SEND = 1,      /* carry frame data/len to peer (one net_msg message) */
	GOSSIP_A_DELIVER,       /* new accepted message on topic from peer: data/len, id */
	GOSSIP_A_DISCONNECT,    /* close peer's session, refuse it until until_ms */
};

struct gossip_action {
	enum gossip_action_kind kind;
	uint32_t peer;
	uint64_t until_ms;
	char topic[GOSSIP_TOPIC_MAX + 1];   /* DELIVER: NUL-terminated */
	uint8_t id[GOSSIP_ID_LEN];          /* DELIVER */
	uint8_t *data;                      /* owned by the out list */
	size_t len;
};

struct gossip_out {
	struct gossip_action *a;
	size_t n, cap;
	uint64_t next_timer_ms;  /* call gossip_timer then; UINT64_MAX: nothing due */
	int oom;                 /* an action could not be recorded */
};

void gossip_out_init(struct gossip_out *out);
/* Frees every action's data and empties the list (keeps the array). */
void gossip_out_reset(struct gossip_out *out);
void gossip_out_free(struct gossip_out *out);

struct gossip_stats {
	uint64_t received;      /* MSG frames accepted for processing */
	uint64_t delivered;     /* DELIVER actions */
	uint64_t duplicates;    /* MSG whose id was already seen */
	uint64_t rejected, ignored;  /* validate verdicts */
	uint64_t ratelimited;   /* frames over a peer's rate limit */
	uint64_t relayed;       /* MSG frames sent to peers (eager push and IWANT answers) */
	uint64_t malformed;     /* frames that do not parse or break a rule */
	uint64_t unsubscribed;  /* MSG on a topic we do not subscribe to */
	uint64_t cooled;        /* frames from a cooled-down peer */
	uint64_t ihave_out, ihave_in, iwant_out, iwant_in;
	uint64_t iwant_refused;  /* IWANT answers over the peer's byte budget */
	uint64_t wants_refused;  /* announced ids not asked for: want table or peer share full */
	uint64_t refused_topics; /* SUB for a new topic while max_topics are known */
	uint64_t disconnects;
	uint64_t published;
};

struct gossip;

int gossip_new(const struct gossip_config *cfg, struct gossip **out);
void gossip_free(struct gossip *g);

/* Every function below appends actions to out (the caller resets it between
 * calls) and sets out->next_timer_ms. Errors are for the caller's own
 * mistakes: -CN_EINVAL (bad topic or peer, empty message), -CN_ELIMIT
 * (message too large), -CN_ENOMEM. Hostile frames are
 * counted, not errors: gossip_receive returns 0 for them. */

/* Tells every connected peer. Subscribing twice is a no-op. */
int gossip_subscribe(struct gossip *g, uint64_t now_ms, const char *topic, struct gossip_out *out);
int gossip_unsubscribe(struct gossip *g, uint64_t now_ms, const char *topic, struct gossip_out *out);
/* A session to peer is up: sends it our subscriptions. -CN_ESTATE while the
 * peer cools down (the driver should not have connected). A frame from a
 * peer that is not up brings it up implicitly. */
int gossip_peer_up(struct gossip *g, uint64_t now_ms, uint32_t peer, struct gossip_out *out);
/* Forgets the peer's subscriptions; its score and cooldown stay. */
int gossip_peer_down(struct gossip *g, uint64_t now_ms, uint32_t peer);
/* Our own message: not validated, not delivered to us. -CN_EEXIST when its id
 * is already in the dedup cache (gossip_msg_id tells the id). */
int gossip_publish(struct gossip *g, uint64_t now_ms, const char *topic, const uint8_t *data, size_t len,
		   struct gossip_out *out);
/* One frame (as carried by one net_msg message) from peer. */
int gossip_receive(struct gossip *g, uint64_t now_ms, uint32_t peer, const uint8_t *frame, size_t len,
		   struct gossip_out *out);
/* Expiry of caches and wants, re-asking for missing messages, cooldown ends. */
int gossip_timer(struct gossip *g, uint64_t now_ms, struct gossip_out *out);

/* Connected peers subscribed to topic (up to cap written); returns the count. */
size_t gossip_topic_peers(const struct gossip *g, const char *topic, uint32_t *peers, size_t cap);
int gossip_subscribed(const struct gossip *g, const char *topic);
/* Current score (0 is neutral), with recovery up to the latest time the
 * core was called with. */
int64_t gossip_peer_score(const struct gossip *g, uint32_t peer);
/* Nonzero while peer is cooled down (frames ignored). */
int gossip_peer_cooling(const struct gossip *g, uint64_t now_ms, uint32_t peer);
const struct gossip_stats *gossip_stats(const struct gossip *g);

/* The id of a message: first 20 bytes of BLAKE2b-256(len(topic) || topic || data).
 * -CN_EINVAL for a bad topic. */
int gossip_msg_id(const char *topic, const uint8_t *data, size_t len, uint8_t id[GOSSIP_ID_LEN]);
/* Whether topic is 1..GOSSIP_TOPIC_MAX printable ASCII bytes. */
int gossip_topic_valid(const char *topic, size_t len);

#endif
