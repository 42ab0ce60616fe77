/* harness.h — several node cores of one shard in one process.
 *
 * Each node has its own temporary datadir. A fake gossip delivers every
 * publish to every other live node after a fixed latency, through one
 * queue ordered by (time, sequence), so a run is deterministic; each node
 * sees a message id (topic + bytes) once, as with the real gossip layer,
 * and runs node_validate before node_deliver. Sync requests go to the live
 * peer with the highest head. Time is virtual: the loop jumps to the next
 * message or node wake-up. Signatures are real BLS. */
#ifndef CANON_TESTS_NODE_HARNESS_H
#define CANON_TESTS_NODE_HARNESS_H

#include <stdint.h>

#include "node/node.h"

struct cn_metrics;
struct fbft_bls;

#define H_MAX 8
#define H_LAT_MS 5
#define H_T0 1800000000000ull

struct hmsg {
	uint64_t t, seq;
	int to, from;
	int kind;               /* 0 gossip, 1 sync request, 2 sync response */
	int topic;
	uint8_t *data;
	size_t len;
	uint32_t gen;           /* the receiver's incarnation it was meant for */
};

struct hnode {
	struct node *n;
	char dir[256];
	int up, silenced;
	enum node_role role;
	unsigned keys[2];
	unsigned nkeys;
	uint32_t gen;
	uint64_t wake;
	uint8_t (*seen)[32];    /* message ids delivered (dedup) */
	size_t nseen, capseen;
	unsigned long rejected; /* REJECT verdicts */
	struct cn_metrics *metrics; /* passed to node_open (may be NULL) */
	int corrupt;            /* Byzantine: its proposals carry a wrong state root, re-signed */
	struct fbft_bls *bls;   /* its keys, for re-signing */
	unsigned long corrupted;
	uint8_t (*announced)[32];  /* hashes of on_gossip_tx, in order */
	size_t nannounced, capannounced;
};

struct harness {
	struct hnode nd[H_MAX];
	int nn;
	uint64_t now, seq;
	struct hmsg *q;
	size_t nq, capq;
	uint64_t block_time_ms;
	/* every consensus message published, for replay tests */
	struct hmsg *rec;
	size_t nrec, caprec;
	int record;
	/* network faults (0: none): gossip copies lost, extra random delay,
	 * sync requests failing; drawn from rng, so runs stay deterministic */
	unsigned loss_pct, jitter_ms, sync_fail_pct;
	uint64_t rng;
};

void h_init(struct harness *h, uint64_t block_time_ms);
/* Adds node i: validator with the localnet keys given, or a full node. Not started. */
void h_add(struct harness *h, enum node_role role, const unsigned *keys, unsigned nkeys);
/* Opens (again) and starts node i on its datadir. */
void h_up(struct harness *h, int i);
/* Closes node i as a crash would: nothing more is written, its pending
 * messages are lost. */
void h_kill(struct harness *h, int i);
/* Runs until time t or until every node's head reached height (0: no
 * height condition). Returns the lowest head among live nodes. */
uint64_t h_run(struct harness *h, uint64_t until_ms, uint64_t height);
/* Lowest / highest head among live nodes (full nodes included). */
uint64_t h_min_height(struct harness *h);
uint64_t h_max_height(struct harness *h);
/* Every live node has the same hash at every height both have. */
void h_assert_no_fork(struct harness *h);
/* The node running localnet key k (-1: none). */
int h_node_of_key(struct harness *h, unsigned k);
/* Delivers bytes to node i as if a peer had gossiped them: returns the
 * verdict, delivering when accepted. */
enum node_verdict h_inject(struct harness *h, int i, int topic, const uint8_t *data, size_t len);
void h_free(struct harness *h);

#endif
