/* sim.h — canon's deterministic simulator for the FBFT state machine.
 *
 * A discrete-event driver: virtual milliseconds, one seeded PRNG, many
 * nodes' struct fbft in one process. The network model gives every link its
 * own base latency plus jitter, loss, duplication and reordering, and applies
 * scheduled partitions and heals; nodes crash and restart from their persisted
 * vote state and chain; Byzantine nodes are honest state machines whose
 * outputs the driver corrupts (silence, equivocating proposals, double votes,
 * delays and replays, garbage). Checkers run on every event: safety (one final
 * block per height), agreement and continuity of every honest chain, no honest
 * key signing two conflicting messages, and liveness (blocks keep becoming
 * final within a bound once the faults are over). A run is a function of its
 * configuration and seed only, so a failing seed replays exactly.
 *
 * Signatures use a fast stand-in scheme by default (sim_crypto.c): signature
 * = keccak256(secret ‖ msg), aggregate = XOR, checked by an oracle that knows
 * every secret while each node can sign only with its own keys. */
#ifndef CANON_SIM_SIM_H
#define CANON_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "consensus/fbft.h"

enum sim_byz {
	SIM_HONEST = 0,
	SIM_SILENT,       /* sends nothing */
	SIM_EQUIVOCATE,   /* as leader, a different block to each half */
	SIM_DOUBLE_VOTE,  /* signs a conflicting vote next to each real one */
	SIM_REPLAY,       /* delays its messages and replays old ones */
	SIM_GARBAGE,      /* adds random and mutated messages */
	SIM_CRASH_LEADER, /* honest, but crashes right after sending crash_type */
};

#define SIM_MAX_NODES 128
#define SIM_MAX_PARTS 4
#define SIM_MAX_CRASHES 16

struct sim_partition {
	uint64_t start_ms, end_ms;
	uint8_t group[SIM_MAX_NODES];   /* nodes in different groups cannot talk */
};

struct sim_crash {
	uint32_t node;
	uint64_t at_ms, restart_ms;
};

struct sim_config {
	const char *scenario;
	uint64_t seed;
	uint32_t nkeys, nnodes;          /* key k belongs to node k % nnodes */
	int staked;                      /* voting power per key from power[] */
	uint64_t power[FBFT_MAX_KEYS];
	uint64_t lat_min_ms, lat_max_ms; /* per-link base latency, uniform */
	uint64_t jitter_ms;              /* per-message extra delay, uniform */
	double loss, dup, reorder;       /* probabilities per message */
	uint64_t reorder_ms;             /* extra delay of a reordered message */
	uint64_t block_period_ms, phase_timeout_ms, viewchange_timeout_ms;
	uint32_t blocks_per_leader;
	uint8_t byz[SIM_MAX_NODES];      /* enum sim_byz per node */
	uint8_t crash_type;              /* SIM_CRASH_LEADER: message type */
	uint64_t down_ms;                /* SIM_CRASH_LEADER: time until restart */
	struct sim_partition parts[SIM_MAX_PARTS];
	size_t nparts;
	struct sim_crash crashes[SIM_MAX_CRASHES];
	size_t ncrashes;
	uint64_t faults_end_ms;          /* scheduled faults are over by then */
	uint32_t target_blocks;          /* blocks to finalize after faults_end_ms */
	uint64_t liveness_ms;            /* ... within this much virtual time */
	int expect_stall;                /* too many faulty keys: require no progress */
	unsigned bugs;                   /* FBFT_BUG_* for every honest node */
	const struct fbft_crypto *(*crypto_for)(void *ctx, uint32_t node, const uint32_t *keys, uint32_t n);
	void *crypto_ctx;                /* NULL crypto_for: the stand-in scheme */
	FILE *trace;                     /* every event, when set */
};

struct sim_result {
	int violation;                   /* 0: every checker passed */
	char what[256];
	uint64_t min_height, max_height; /* final heights over honest nodes */
	uint64_t end_ms;
	uint64_t messages, events, evidence, view_changes;
	double finality_ms;              /* median announce → final at every honest node */
};

/* Fills cfg for a named scenario (see sim_scenarios) and committee size.
 * -CN_ENOTFOUND for an unknown name. */
int sim_scenario(const char *name, uint32_t nkeys, uint64_t seed, struct sim_config *cfg);
/* NULL-terminated list of scenario names. */
const char *const *sim_scenarios(void);
int sim_run(const struct sim_config *cfg, struct sim_result *res);

/* The stand-in signature scheme. */
struct sim_keyring;
int sim_keyring_new(uint32_t nkeys, uint64_t seed, struct sim_keyring **out);
void sim_keyring_free(struct sim_keyring *kr);
/* A signer that holds only the listed keys (and verifies with the oracle). */
struct sim_signer;
int sim_signer_new(struct sim_keyring *kr, const uint32_t *keys, uint32_t n, struct sim_signer **out);
void sim_signer_free(struct sim_signer *s);
const struct fbft_crypto *sim_signer_crypto(struct sim_signer *s);

/* Real BLS12-381 for a run: set cfg.crypto_for = sim_bls_crypto_for and
 * cfg.crypto_ctx = the struct sim_bls (one per run; free it afterwards). */
struct sim_bls;
int sim_bls_new(uint32_t nkeys, uint64_t seed, struct sim_bls **out);
void sim_bls_free(struct sim_bls *b);
const struct fbft_crypto *sim_bls_crypto_for(void *ctx, uint32_t node, const uint32_t *keys, uint32_t n);

#endif
