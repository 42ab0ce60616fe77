/* sim_scenario.c — named fault scenarios for the simulator.
 *
 * A scenario turns (name, committee size, seed) into a full configuration;
 * everything it draws comes from a PRNG seeded with the same seed, so the
 * triple names a run exactly. Byzantine nodes are chosen so that together
 * they hold fewer than a third of the keys, except in "stall". */
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "sim/sim.h"

static const char *const names[] = {
	"none", "loss", "partition", "crash", "silent", "equivocate", "double-vote", "replay", "garbage",
	"leader-announce", "leader-prepared", "leader-committed", "leader-newview", "mixed", "staked",
	"stall", "bug-double-vote", NULL,
};

const char *const *sim_scenarios(void) { return names; }

static uint32_t nodes_for(uint32_t nkeys)
{
	if (nkeys <= 8)
		return nkeys;
	if (nkeys <= 40)
		return 10;
	return nkeys / 4 < SIM_MAX_NODES ? nkeys / 4 : SIM_MAX_NODES;
}

static uint64_t rng_range(struct cn_prng *r, uint64_t lo, uint64_t hi)
{
	return lo + cn_prng_uniform(r, hi - lo + 1);
}

static uint64_t node_power(const struct sim_config *c, uint32_t node)
{
	uint64_t p = 0;
	for (uint32_t k = node; k < c->nkeys; k += c->nnodes)
		p += c->staked ? c->power[k] : 1;
	return p;
}

/* Marks random nodes with behaviour b while their voting power stays below a
 * third of the total (or, with at_least_third, until it reaches it). */
static uint32_t pick_byz(struct sim_config *c, struct cn_prng *r, uint8_t b, int at_least_third, uint32_t max)
{
	uint32_t order[SIM_MAX_NODES], n = c->nnodes, cnt = 0;
	uint64_t total = 0, bad = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t p = node_power(c, i);
		total += p;
		if (c->byz[i] != SIM_HONEST && c->byz[i] != SIM_CRASH_LEADER)
			bad += p;
	}
	for (uint32_t i = 0; i < n; i++)
		order[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)cn_prng_uniform(r, i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < n && cnt < max; i++) {
		uint32_t node = order[i];
		if (c->byz[node] != SIM_HONEST)
			continue;
		uint64_t p = node_power(c, node);
		if (at_least_third) {
			if (bad * 3 >= total)
				break;
		} else if ((bad + p) * 3 >= total) {
			continue;
		}
		c->byz[node] = b;
		bad += p;
		cnt++;
	}
	return cnt;
}

int sim_scenario(const char *name, uint32_t nkeys, uint64_t seed, struct sim_config *c)
{
	const char *const *p = names;
	while (*p && strcmp(*p, name))
		p++;
	if (!*p || nkeys < 1 || nkeys > FBFT_MAX_KEYS)
		return -CN_ENOTFOUND;
	memset(c, 0, sizeof *c);
	c->scenario = *p;
	c->seed = seed;
	c->nkeys = nkeys;
	c->nnodes = nodes_for(nkeys);
	c->lat_min_ms = 10;
	c->lat_max_ms = 60;
	c->jitter_ms = 20;
	c->block_period_ms = 100;
	c->phase_timeout_ms = 1200;
	c->viewchange_timeout_ms = 1200;
	c->blocks_per_leader = 1;
	c->target_blocks = 6;
	c->liveness_ms = 180000; /* runs of Byzantine leaders cost doubling timeouts */
	c->down_ms = 2000;
	struct cn_prng r;
	cn_prng_seed(&r, seed * 0x9E3779B97F4A7C15ULL + nkeys);
	c->blocks_per_leader = (uint32_t)rng_range(&r, 1, 3);

	if (!strcmp(name, "none")) {
		c->target_blocks = 10;
	} else if (!strcmp(name, "loss")) {
		c->loss = 0.05 + 0.25 * cn_prng_double(&r);
		c->dup = 0.05;
		c->reorder = 0.2;
		c->reorder_ms = 300;
		c->target_blocks = 4;
		c->liveness_ms = 240000;
	} else if (!strcmp(name, "partition")) {
		struct sim_partition *pt = &c->parts[c->nparts++];
		pt->start_ms = rng_range(&r, 200, 2000);
		pt->end_ms = pt->start_ms + rng_range(&r, 1000, 6000);
		uint32_t ones = 0;
		for (uint32_t i = 0; i < c->nnodes; i++)
			ones += pt->group[i] = (uint8_t)cn_prng_uniform(&r, 2);
		if (ones == 0 || ones == c->nnodes)
			pt->group[0] ^= 1;
		c->faults_end_ms = pt->end_ms;
	} else if (!strcmp(name, "crash")) {
		c->ncrashes = (size_t)rng_range(&r, 1, 3);
		for (size_t i = 0; i < c->ncrashes; i++) {
			c->crashes[i].node = (uint32_t)cn_prng_uniform(&r, c->nnodes);
			c->crashes[i].at_ms = rng_range(&r, 200, 3000);
			c->crashes[i].restart_ms = c->crashes[i].at_ms + rng_range(&r, 300, 4000);
			if (c->crashes[i].restart_ms > c->faults_end_ms)
				c->faults_end_ms = c->crashes[i].restart_ms;
		}
	} else if (!strcmp(name, "silent")) {
		pick_byz(c, &r, SIM_SILENT, 0, SIM_MAX_NODES);
	} else if (!strcmp(name, "equivocate")) {
		pick_byz(c, &r, SIM_EQUIVOCATE, 0, SIM_MAX_NODES);
	} else if (!strcmp(name, "double-vote")) {
		pick_byz(c, &r, SIM_DOUBLE_VOTE, 0, SIM_MAX_NODES);
	} else if (!strcmp(name, "replay")) {
		pick_byz(c, &r, SIM_REPLAY, 0, SIM_MAX_NODES);
	} else if (!strcmp(name, "garbage")) {
		pick_byz(c, &r, SIM_GARBAGE, 0, SIM_MAX_NODES);
	} else if (!strncmp(name, "leader-", 7)) {
		c->crash_type = !strcmp(name, "leader-announce")  ? FBFT_ANNOUNCE
		                : !strcmp(name, "leader-prepared") ? FBFT_PREPARED
		                : !strcmp(name, "leader-committed") ? FBFT_COMMITTED
		                                                    : FBFT_NEWVIEW;
		if (c->crash_type == FBFT_NEWVIEW)
			pick_byz(c, &r, SIM_SILENT, 0, 1); /* someone must fail for a new view to happen */
		pick_byz(c, &r, SIM_CRASH_LEADER, 0, SIM_MAX_NODES);
		c->down_ms = rng_range(&r, 500, 3000);
		c->faults_end_ms = 8000;
	} else if (!strcmp(name, "mixed")) {
		c->loss = 0.1;
		c->reorder = 0.1;
		c->reorder_ms = 200;
		pick_byz(c, &r, (uint8_t)rng_range(&r, SIM_SILENT, SIM_GARBAGE), 0, SIM_MAX_NODES);
		struct sim_partition *pt = &c->parts[c->nparts++];
		pt->start_ms = rng_range(&r, 500, 3000);
		pt->end_ms = pt->start_ms + rng_range(&r, 500, 3000);
		for (uint32_t i = 0; i < c->nnodes; i++)
			pt->group[i] = (uint8_t)cn_prng_uniform(&r, 2);
		c->faults_end_ms = pt->end_ms;
		c->target_blocks = 4;
		c->liveness_ms = 180000;
	} else if (!strcmp(name, "staked")) {
		/* unequal stakes, and silent or equivocating nodes below a third of
		 * the power (not of the keys) */
		c->staked = 1;
		for (uint32_t k = 0; k < nkeys; k++)
			c->power[k] = rng_range(&r, 1000, 10000);
		c->loss = 0.05;
		pick_byz(c, &r, cn_prng_uniform(&r, 2) ? SIM_SILENT : SIM_EQUIVOCATE, 0, SIM_MAX_NODES);
	} else if (!strcmp(name, "stall")) {
		pick_byz(c, &r, SIM_SILENT, 1, SIM_MAX_NODES);
		c->expect_stall = 1;
		c->liveness_ms = 20000;
	} else if (!strcmp(name, "bug-double-vote")) {
		/* an honest node with the injected defect votes for both of an
		 * equivocating leader's blocks: the checkers must notice */
		pick_byz(c, &r, SIM_EQUIVOCATE, 0, SIM_MAX_NODES);
		c->bugs = FBFT_BUG_DOUBLE_VOTE;
		c->target_blocks = 40;
		c->liveness_ms = 60000;
	}
	return 0;
}
