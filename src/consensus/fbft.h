/* fbft.h — FBFT consensus (announce / prepare / commit, view change) as a
 * sans-I/O state machine.
 *
 * One struct fbft drives one node's part in one shard's consensus. It never
 * touches sockets, clocks or disks: the driver (src/runtime or src/sim) feeds
 * it events through fbft_step() — a message arrived, the wake-up time passed,
 * the application validated a block or built a proposal, sync fetched a
 * certified block — and carries out the actions it returns in order: send or
 * broadcast bytes, persist the vote state, ask the application to validate or
 * build a block, deliver a final block with its commit certificate.
 *
 * Heights are decided one at a time. Views count from 0 at every height; the
 * leader of (height, view) is committee key (height / blocks_per_leader + view)
 * mod n, so every view change moves to the next key. Signed payloads always
 * bind height and view. Safety is PBFT/HotStuff-style locking on prepared
 * certificates (see docs/consensus.md for the argument and the differences
 * from Harmony's wire format).
 *
 * Signatures go through struct fbft_crypto, so that the node uses BLS12-381
 * (fbft_bls.c) while the simulator uses a fast deterministic stand-in. */
#ifndef CANON_CONSENSUS_FBFT_H
#define CANON_CONSENSUS_FBFT_H

#include <stddef.h>
#include <stdint.h>

#define FBFT_HASH_LEN 32
#define FBFT_MAX_KEYS 1024
#define FBFT_BITMAP_MAX (FBFT_MAX_KEYS / 8)
#define FBFT_SIG_MAX 96
#define FBFT_VOTE_SIG_MAX 192
#define FBFT_MAX_BLOCK (4u << 20)
#define FBFT_OUT_MAX 32
#define FBFT_EVIDENCE_MAX 16

enum fbft_msg_type {
	FBFT_ANNOUNCE = 1,
	FBFT_PREPARE = 2,
	FBFT_PREPARED = 3,
	FBFT_COMMIT = 4,
	FBFT_COMMITTED = 5,
	FBFT_VIEWCHANGE = 6,
	FBFT_NEWVIEW = 7,
};

/* The signature scheme, seen through key indices of the committee. Every
 * signature (single or aggregate) is sig_len bytes. sign() only works for
 * keys this node holds. Functions return 0 or a negative -CN_E… code. */
struct fbft_crypto {
	void *ctx;
	size_t sig_len;
	int (*sign)(void *ctx, uint32_t key, const uint8_t *msg, size_t len, uint8_t *sig);
	int (*verify)(void *ctx, uint32_t key, const uint8_t *msg, size_t len, const uint8_t *sig);
	/* out = aggregate of n signatures stored back to back. */
	int (*aggregate)(void *ctx, const uint8_t *sigs, size_t n, uint8_t *out);
	/* Every key whose bit is set in bitmap signed msg and agg aggregates them. */
	int (*fast_aggregate_verify)(void *ctx, const uint8_t *bitmap, uint32_t nkeys,
	                             const uint8_t *msg, size_t len, const uint8_t *agg);
	/* Optional form of the signature that PREPARE and COMMIT votes carry,
	 * vote_sig_len bytes (0: votes carry the sig_len-byte form). The leader
	 * sums up to a quorum of votes per phase, and a form that is cheaper to
	 * decode than sig_len bytes pays off there (BLS: uncompressed points, no
	 * square root). to_vote converts a signature, from_vote converts back
	 * (failing on a malformed vote), aggregate_votes sums n votes stored back
	 * to back into a sig_len-byte aggregate (failing if any does not decode
	 * or the sum is not a valid signature value). All three are required
	 * when vote_sig_len is set. */
	size_t vote_sig_len;
	int (*to_vote)(void *ctx, const uint8_t *sig, uint8_t *vote);
	int (*from_vote)(void *ctx, const uint8_t *vote, uint8_t *sig);
	int (*aggregate_votes)(void *ctx, const uint8_t *votes, size_t n, uint8_t *out);
};

/* A quorum certificate: the keys in bitmap signed the prepare (or commit)
 * payload of (height, view, hash); sig is their aggregate. */
struct fbft_cert {
	uint64_t height, view;
	uint8_t hash[FBFT_HASH_LEN];
	uint8_t bitmap[FBFT_BITMAP_MAX];
	uint8_t sig[FBFT_SIG_MAX];
};

/* A decoded message. block points into the decoded buffer. */
struct fbft_msg {
	uint8_t type;
	uint8_t sig_len;
	uint16_t bitmap_len;
	uint64_t height, view;
	uint32_t sender;                    /* leader key: ANNOUNCE, PREPARED, COMMITTED, NEWVIEW */
	uint8_t hash[FBFT_HASH_LEN];
	uint8_t bitmap[FBFT_BITMAP_MAX];    /* signers of sig */
	uint8_t sig[FBFT_VOTE_SIG_MAX];     /* vote (vote form) / aggregate / view-change signature */
	int has_cert;                       /* ANNOUNCE: parent commit; VIEWCHANGE: lock; NEWVIEW: justify */
	struct fbft_cert cert;
	const uint8_t *block;
	uint32_t block_len;
	uint8_t msg_sig[FBFT_SIG_MAX];      /* ANNOUNCE, NEWVIEW: sender's signature */
};

/* Encodes m (bitmap_len and sig_len taken from m). -CN_ERANGE if cap is too
 * small. For ANNOUNCE and NEWVIEW the message signature is the last sig_len
 * bytes and covers keccak256 of everything before it. */
int fbft_msg_encode(const struct fbft_msg *m, uint8_t *buf, size_t cap, size_t *len);
/* Decodes hostile bytes; never reads outside buf. */
int fbft_msg_decode(const uint8_t *buf, size_t len, struct fbft_msg *m);
/* Encodes and signs (ANNOUNCE / NEWVIEW) with the given key. */
int fbft_msg_encode_signed(const struct fbft_crypto *c, uint32_t key, struct fbft_msg *m,
                           uint8_t *buf, size_t cap, size_t *len);
/* Signed payloads: prepare = 0x02 ‖ height LE8 ‖ hash ‖ view LE8 (49 bytes),
 * commit = height LE8 ‖ hash ‖ view LE8 (48, Harmony's staking-epoch commit
 * payload), view change M3 = 0x06 ‖ height LE8 ‖ view LE8 (17). */
size_t fbft_prepare_payload(uint64_t height, uint64_t view, const uint8_t hash[32], uint8_t out[49]);
size_t fbft_commit_payload(uint64_t height, uint64_t view, const uint8_t hash[32], uint8_t out[48]);
size_t fbft_viewchange_payload(uint64_t height, uint64_t view, uint8_t out[17]);

/* Test-only defects, used to prove that the simulator's checkers catch them. */
enum {
	FBFT_BUG_DOUBLE_VOTE = 1, /* votes for every proposal seen in a view */
	FBFT_BUG_NO_LOCK = 2,     /* ignores its lock when voting */
};

struct fbft_config {
	uint32_t nkeys;                 /* committee size, 1..FBFT_MAX_KEYS */
	const uint64_t *power;          /* voting power per key; NULL = one per key */
	const uint32_t *own_keys;       /* committee indices this node signs with */
	uint32_t n_own;
	uint32_t blocks_per_leader;     /* rotation period (>= 1) */
	uint64_t block_period_ms;       /* leader waits this long after a commit */
	uint64_t phase_timeout_ms;      /* a view that does not commit in time ends */
	uint64_t viewchange_timeout_ms; /* a view change that does not end in time moves on */
	uint64_t max_timeout_ms;        /* cap of the doubling timeouts */
	/* Block hash; NULL = keccak256 of the bytes. */
	void (*block_hash)(void *app, const uint8_t *block, size_t len, uint8_t out[FBFT_HASH_LEN]);
	void *app;
	unsigned bugs;                  /* FBFT_BUG_* — tests only */
};

/* What must survive a crash: written out by FBFT_ACT_PERSIST before any vote
 * that depends on it is sent. */
struct fbft_persist {
	uint64_t height;                 /* next height to decide */
	uint64_t view;
	uint8_t head_hash[FBFT_HASH_LEN];
	int has_head_cert;
	struct fbft_cert head_cert;      /* commit certificate of height-1 */
	int has_pvote, has_cvote, has_proposed;
	uint64_t pvote_view, cvote_view, proposed_view;
	uint8_t pvote_hash[FBFT_HASH_LEN], cvote_hash[FBFT_HASH_LEN];
	int has_lock;
	struct fbft_cert lock;           /* highest prepared certificate at this height */
	const uint8_t *lock_block;       /* the locked block's bytes (owned by the action) */
	uint32_t lock_block_len;
};

enum fbft_in_kind {
	FBFT_IN_START = 1,  /* first step after init */
	FBFT_IN_MSG,        /* data/len: bytes from the network */
	FBFT_IN_TIMER,      /* the wake-up time passed */
	FBFT_IN_VALIDATED,  /* height/view/hash: app verdict in ok */
	FBFT_IN_PROPOSAL,   /* height/view, data/len: block the app built */
	FBFT_IN_SYNC_BLOCK, /* data/len: block; cert: its commit certificate */
};

struct fbft_input {
	int kind;
	const uint8_t *data;
	size_t len;
	uint64_t height, view;
	uint8_t hash[FBFT_HASH_LEN];
	int ok;
	const struct fbft_cert *cert;
};

enum fbft_act_kind {
	FBFT_ACT_SEND = 1,   /* data to the node holding key to_key */
	FBFT_ACT_BROADCAST,  /* data to every committee node */
	FBFT_ACT_PERSIST,    /* persist: save before carrying out later actions */
	FBFT_ACT_VALIDATE,   /* validate block (data) at height on parent hash */
	FBFT_ACT_PROPOSE,    /* build a block at height on parent hash; cert = parent's commit */
	FBFT_ACT_DELIVER,    /* block (data) is final; cert = its commit certificate */
	FBFT_ACT_SYNC,       /* fetch certified blocks from `height` on */
	FBFT_ACT_EVIDENCE,   /* evidence: a key signed two conflicting messages */
};

struct fbft_evidence {
	uint8_t type;                    /* FBFT_PREPARE, FBFT_COMMIT or FBFT_ANNOUNCE */
	uint32_t key;
	uint64_t height, view;
	uint8_t hash_a[FBFT_HASH_LEN], hash_b[FBFT_HASH_LEN];
	uint8_t bitmap_a[FBFT_BITMAP_MAX], bitmap_b[FBFT_BITMAP_MAX];
	uint8_t sig_a[FBFT_SIG_MAX], sig_b[FBFT_SIG_MAX];
};

struct fbft_action {
	int kind;
	uint32_t to_key;
	uint8_t *data;                   /* owned by the out struct */
	size_t len;
	uint64_t height, view;
	uint8_t hash[FBFT_HASH_LEN];     /* VALIDATE/PROPOSE: parent hash; DELIVER: block hash */
	struct fbft_cert cert;
	struct fbft_persist persist;
	struct fbft_evidence evidence;
};

struct fbft_out {
	struct fbft_action act[FBFT_OUT_MAX];
	size_t n;
	uint64_t wake_ms;                /* call again with FBFT_IN_TIMER at this time (0: none) */
};

struct fbft;

/* persist: state saved before a crash, or NULL for a fresh start at height 1
 * on genesis_hash. The config arrays are copied. */
int fbft_new(const struct fbft_config *cfg, const struct fbft_crypto *crypto,
             const struct fbft_persist *persist, const uint8_t genesis_hash[FBFT_HASH_LEN],
             struct fbft **out);
void fbft_free(struct fbft *sm);

/* Processes one input at time now_ms. out is cleared first; its actions stay
 * valid until the next fbft_out_clear / fbft_step with the same out. Bad
 * messages are dropped (return 0); errors mean misuse or out of memory. */
int fbft_step(struct fbft *sm, uint64_t now_ms, const struct fbft_input *in, struct fbft_out *out);
void fbft_out_init(struct fbft_out *out);
void fbft_out_clear(struct fbft_out *out);

/* Leader key of (height, view). */
uint32_t fbft_leader(const struct fbft *sm, uint64_t height, uint64_t view);
uint64_t fbft_height(const struct fbft *sm);
uint64_t fbft_view(const struct fbft *sm);
int fbft_in_viewchange(const struct fbft *sm);
/* Commit certificate of the last final block (what the next block header
 * carries as lastCommitSig/Bitmap); -CN_ENOTFOUND before the first. */
int fbft_last_commit(const struct fbft *sm, struct fbft_cert *out);
/* Evidence of double signing seen so far (bounded; oldest kept). */
size_t fbft_evidence_count(const struct fbft *sm);
const struct fbft_evidence *fbft_evidence_get(const struct fbft *sm, size_t i);

/* Quorum test: the power of the keys in bitmap is strictly more than 2/3 of
 * the total. */
int fbft_quorum(const struct fbft *sm, const uint8_t *bitmap);
/* Verifies a certificate (prepare if type == FBFT_PREPARE, else commit). */
int fbft_cert_verify(const struct fbft *sm, int type, const struct fbft_cert *cert);

#endif
