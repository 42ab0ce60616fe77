/* net.h — canon's transport, first layer: identities, locator records and
 * encrypted UDP sessions.
 *
 * Nodes are named by keys, not addresses (identifier/locator split). A node's
 * identity is an Ed25519 host key; its node ID is BLAKE2b-256 of the public
 * key. Where a node can be reached is said by a locator record: a signed,
 * sequence-numbered list of UDP addresses that anyone can check against the
 * node ID, and that a newer sequence number replaces.
 *
 * Sessions are a Noise-IK-style 1-RTT handshake over X25519 (static keys are
 * the Ed25519 host keys converted to Curve25519), then ChaCha20-Poly1305 data
 * packets with 64-bit counters, a 2048-packet replay window, rekeying after a
 * message or time budget, and WireGuard's cookie mechanism against handshake
 * floods. The wire format and the timers are described in docs/net.md.
 *
 * struct net_endpoint is one node's side of all its sessions, a sans-I/O state
 * machine: net_endpoint_step() takes the time and one input (a datagram came
 * from an address, the timer fired, the application wants to send to a node,
 * announce a new locator record, close a session) and appends actions to a
 * struct net_out (send these bytes to that address, deliver this plaintext,
 * a session was established or closed, a peer announced a new locator record,
 * arm the timer for this instant). It never touches sockets, clocks or files;
 * randomness comes from libsodium unless the config supplies a source. Only
 * the identity file helpers touch the disk. */
#ifndef CANON_NET_NET_H
#define CANON_NET_NET_H

#include <stddef.h>
#include <stdint.h>

struct cn_metrics;

#define NET_PK_LEN 32
#define NET_NODE_ID_LEN 32
#define NET_SIG_LEN 64
#define NET_TAG_CHARS 8           /* hex characters of the node ID in logs */
#define NET_LOCATOR_MAX_ADDRS 8
#define NET_LOCATOR_MAX_LEN (1 + 32 + 8 + 1 + NET_LOCATOR_MAX_ADDRS * 19 + 64)
#define NET_MAX_DATAGRAM 1472     /* 1500-byte MTU minus IPv4 and UDP headers */
#define NET_MAX_PAYLOAD 1400      /* application bytes per data packet */

/* ---- identity --------------------------------------------------------------- */

struct net_identity {
	uint8_t pk[NET_PK_LEN];          /* Ed25519 public key */
	uint8_t sk[64];                  /* Ed25519 secret key (seed || pk), libsodium form */
	uint8_t node_id[NET_NODE_ID_LEN];
	uint8_t x_pk[32], x_sk[32];      /* the same key as an X25519 static pair */
};

/* Fresh host key from the OS CSPRNG. */
int net_identity_generate(struct net_identity *id);
/* Host key from a 32-byte Ed25519 seed (tests, simulator). */
int net_identity_from_seed(struct net_identity *id, const uint8_t seed[32]);
void net_identity_wipe(struct net_identity *id);

/* node ID = BLAKE2b-256(Ed25519 public key). */
void net_node_id(const uint8_t pk[NET_PK_LEN], uint8_t out[NET_NODE_ID_LEN]);
/* First NET_TAG_CHARS hex characters of a node ID plus NUL: short name for logs. */
void net_node_tag(const uint8_t node_id[NET_NODE_ID_LEN], char out[NET_TAG_CHARS + 1]);

/* <datadir>/p2p/hostkey. -CN_ERANGE if it does not fit in cap. */
int net_identity_path(const char *datadir, char *out, size_t cap);
/* Writes the key file (two text lines, see docs/net.md) with mode 0600,
 * creating missing parent directories (0700). Refuses to overwrite: -CN_EEXIST. */
int net_identity_save(const struct net_identity *id, const char *path);
/* Reads a key file; -CN_ENOTFOUND, -CN_EIO, or -CN_EINVAL for a malformed
 * file or one readable by group or others (-CN_EVERIFY). */
int net_identity_load(struct net_identity *id, const char *path);

/* ---- locator records -------------------------------------------------------- */

struct net_addr {
	uint8_t family;                  /* 4 or 6 */
	uint8_t ip[16];                  /* IPv4 uses the first 4 bytes; the rest are zero */
	uint16_t port;
};

int net_addr_equal(const struct net_addr *a, const struct net_addr *b);
void net_addr_v4(struct net_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3, uint16_t port);
/* "1.2.3.4:30000" or "[::1]:30000" into out (needs 48 bytes). */
void net_addr_format(const struct net_addr *a, char *out, size_t cap);

struct net_locator {
	uint8_t pk[NET_PK_LEN];          /* whose record: node ID = BLAKE2b-256(pk) */
	uint64_t seq;                    /* newer records have larger numbers */
	uint8_t n_addrs;                 /* 1..NET_LOCATOR_MAX_ADDRS, in preference order */
	struct net_addr addrs[NET_LOCATOR_MAX_ADDRS];
	uint8_t sig[NET_SIG_LEN];
};

/* Fills rec->pk from id and signs the record. -CN_EINVAL for a bad address
 * list. */
int net_locator_sign(struct net_locator *rec, const struct net_identity *id);
/* Checks the address list and the signature: 0 or -CN_EINVAL/-CN_EVERIFY. */
int net_locator_verify(const struct net_locator *rec);
int net_locator_encode(const struct net_locator *rec, uint8_t *out, size_t cap, size_t *len);
/* Parses exactly one record (no trailing bytes) and verifies its signature. */
int net_locator_decode(struct net_locator *rec, const uint8_t *in, size_t len);
/* Merges a verified incoming record into *have (same key): a larger sequence
 * replaces it (*changed = 1), a smaller one or an identical copy is ignored
 * (*changed = 0), the same sequence with different content is equivocation:
 * -CN_EEXIST and *have is kept. -CN_EINVAL if the keys differ. */
int net_locator_merge(struct net_locator *have, const struct net_locator *incoming, int *changed);

/* ---- endpoint (sessions) ---------------------------------------------------- */

struct net_config {
	uint64_t rekey_after_messages;   /* start a new handshake after this many sends */
	uint64_t reject_after_messages;  /* a keypair never sends more than this */
	uint64_t rekey_after_ms;         /* initiator starts a new handshake after this age */
	uint64_t reject_after_ms;        /* keypairs older than this are unusable */
	uint64_t rekey_timeout_ms;       /* handshake retransmission interval */
	uint64_t keepalive_ms;           /* answer received data with a keepalive after this */
	uint64_t path_timeout_ms;        /* sent data, heard nothing this long: path is dead */
	uint32_t handshake_attempts;     /* initiations before giving up on a peer */
	uint32_t attempts_per_locator;   /* initiations to one address before the next one */
	uint32_t load_threshold;         /* initiations per second above which cookies are required */
	uint32_t handshake_rate;         /* under load: initiations per second per source IP */
	uint32_t handshake_burst;
	uint32_t max_peers;
	uint32_t max_queued;             /* packets held per peer while a handshake runs */
	int accept_unknown;              /* answer initiations from keys not added as peers */
	/* Randomness for ephemeral keys, indices and cookie secrets; NULL means
	 * libsodium's randombytes_buf. */
	void (*random)(void *ctx, uint8_t *buf, size_t len);
	void *random_ctx;
};

void net_config_default(struct net_config *cfg);

enum net_input_kind {
	NET_IN_TIMER,                    /* the armed timer fired (or just "time passed") */
	NET_IN_DATAGRAM,                 /* data/len arrived from `addr` */
	NET_IN_SEND,                     /* send data/len (<= NET_MAX_PAYLOAD) to node `peer` */
	NET_IN_ANNOUNCE,                 /* our new locator record: send to every established peer */
	NET_IN_CLOSE,                    /* forget the session with `peer` */
};

struct net_input {
	enum net_input_kind kind;
	struct net_addr addr;
	const uint8_t *data;
	size_t len;
	const uint8_t *peer;             /* node ID, NET_NODE_ID_LEN bytes */
	const struct net_locator *locator;
};

enum net_action_kind {
	NET_ACT_SEND,                    /* send data to addr */
	NET_ACT_DELIVER,                 /* plaintext data from peer */
	NET_ACT_ESTABLISHED,             /* first session keys with peer are confirmed */
	NET_ACT_CLOSED,                  /* session with peer ended; reason is enum net_close_reason */
	NET_ACT_PEER_LOCATOR,            /* peer announced a newer locator record (data = encoding) */
	NET_ACT_TIMER,                   /* call step again at at_ms (replaces earlier timers);
					  * first among a step's actions, so a driver that
					  * handles them in order and steps again from one of
					  * them ends with the newest deadline */
};

enum net_close_reason {
	NET_CLOSE_HANDSHAKE_TIMEOUT = 1, /* every locator tried, no answer */
	NET_CLOSE_EXPIRED,               /* keys too old and no new handshake succeeded */
	NET_CLOSE_LOCAL,                 /* NET_IN_CLOSE */
};

struct net_action {
	enum net_action_kind kind;
	struct net_addr addr;
	uint8_t peer[NET_NODE_ID_LEN];
	size_t off, len;                 /* bytes in net_out.buf */
	uint64_t at_ms;
	int reason;
};

/* Actions appended by net_endpoint_step(); their bytes live in one growing
 * buffer, so read them through net_action_data() after the step returns. */
struct net_out {
	struct net_action *act;
	size_t n, cap;
	uint8_t *buf;
	size_t used, bufcap;
};

void net_out_init(struct net_out *out);
void net_out_reset(struct net_out *out);
void net_out_free(struct net_out *out);
const uint8_t *net_action_data(const struct net_out *out, const struct net_action *a);

/* Why datagrams were dropped or what work was done; exported as metrics
 * (canon_net_events_total{event=...}) when a registry is attached. */
enum net_stat {
	NET_STAT_RX,                     /* datagrams received */
	NET_STAT_TX,                     /* datagrams sent */
	NET_STAT_DROP_MALFORMED,         /* bad type, length or reserved bits */
	NET_STAT_DROP_OVERSIZE,
	NET_STAT_DROP_MAC,               /* mac1 or mac2 wrong */
	NET_STAT_DROP_AUTH,              /* AEAD or key check failed */
	NET_STAT_DROP_REPLAY,            /* data counter already seen or left of the window */
	NET_STAT_DROP_HS_REPLAY,         /* initiation timestamp not newer than the last one */
	NET_STAT_DROP_UNKNOWN,           /* no session for this index / peer not accepted */
	NET_STAT_DROP_LIMIT,             /* peer table or queue full */
	NET_STAT_DROP_LOCATOR,           /* bad or equivocating locator record from a peer */
	NET_STAT_COOKIE_SENT,
	NET_STAT_COOKIE_RECEIVED,
	NET_STAT_DH,                     /* X25519 operations */
	NET_STAT_HANDSHAKE_DONE,
	NET_STAT_REKEY,
	NET_STAT_ROAM,                   /* a session moved to a new address */
	NET_STAT_PATH_SWITCH,            /* gave up on an address, tried the next locator */
	NET_STAT_DROP_RATELIMIT,         /* under load, too many initiations from one IP */
	NET_STAT_COUNT
};

const char *net_stat_name(enum net_stat s);

struct net_endpoint;

/* The endpoint keeps a copy of the identity; cfg NULL means defaults. */
int net_endpoint_new(struct net_endpoint **out, const struct net_identity *id,
		     const struct net_config *cfg);
void net_endpoint_free(struct net_endpoint *ep);
/* Registers canon_net_events_total in r and keeps it updated. */
int net_endpoint_attach_metrics(struct net_endpoint *ep, struct cn_metrics *r);
uint64_t net_endpoint_stat(const struct net_endpoint *ep, enum net_stat s);

/* Adds or updates (newer sequence wins) a peer we may initiate to. */
int net_endpoint_add_peer(struct net_endpoint *ep, const struct net_locator *rec);
/* Adds a peer by public key and one address, without a signed record (a
 * configured bootnode "<pk>@ip:port", or the address a bootnode observed a
 * peer at). The handshake proves the key; the address is only where to try
 * first, and an authentic packet from elsewhere moves the session as usual.
 * For a known peer only the address changes (the next initiation goes
 * there). -CN_EINVAL for our own key or a bad address. */
int net_endpoint_add_peer_addr(struct net_endpoint *ep, const uint8_t pk[NET_PK_LEN],
			       const struct net_addr *addr);

/* One input at time now_ms (milliseconds since the Unix epoch: initiation
 * timestamps must keep growing across restarts). Returns 0, or an error for
 * a bad local request (NET_IN_SEND to an unknown peer, too long a payload…);
 * hostile datagrams are dropped and counted, never an error. */
int net_endpoint_step(struct net_endpoint *ep, uint64_t now_ms, const struct net_input *in,
		      struct net_out *out);

enum net_session_state {
	NET_SESSION_NONE,                /* no keys, no handshake running */
	NET_SESSION_HANDSHAKE,           /* initiation sent, no confirmed keys yet */
	NET_SESSION_ESTABLISHED,
};

struct net_session_info {
	enum net_session_state state;
	struct net_addr addr;            /* where packets to this peer go now */
	int have_addr;
	uint64_t send_counter;           /* of the current keypair */
	uint32_t local_index;            /* of the current keypair */
	uint64_t keys_created_ms;
	int handshake_running;
	int have_locator;
	struct net_locator locator;
};

/* -CN_ENOTFOUND if there is no session with that node. */
int net_endpoint_session(const struct net_endpoint *ep, const uint8_t peer[NET_NODE_ID_LEN],
			 struct net_session_info *info);

/* ---- packet inspection (fuzzing, tools) -------------------------------------- */

enum net_packet_type {
	NET_PKT_INITIATION = 1,
	NET_PKT_RESPONSE = 2,
	NET_PKT_COOKIE = 3,
	NET_PKT_DATA = 4,
};

#define NET_INITIATION_LEN 144
#define NET_RESPONSE_LEN 92
#define NET_COOKIE_LEN 64
#define NET_DATA_HEADER_LEN 16
#define NET_DATA_MIN_LEN (NET_DATA_HEADER_LEN + 16)

/* Checks the outer framing only (type, exact length, reserved bytes) and
 * returns the packet type, or -CN_EINVAL / -CN_ELIMIT (oversize). */
int net_packet_classify(const uint8_t *p, size_t len);

#endif
