/* consensus.c — CPU cost of FBFT per finalized block, with real BLS12-381.
 *
 * One height is run between a leader state machine and one validator state
 * machine; the votes of the other committee keys are signed outside the timed
 * region (uncompressed signatures, the form fbft_bls votes carry) and fed to
 * the leader: for leader_ms_N each key in its own message
 * (the worst case: no multi-key aggregation by the voters), for
 * leader_ms_N_multikey10 ten keys per message (multi-BLS nodes). Timed: every fbft_step of
 * the leader (propose, announce, all incoming votes, prepared, committed) and
 * of the validator (announce, prepare, prepared, commit, committed). Block
 * execution is excluded: the validity callback answers at once.
 *
 * consensus/sim_finality_ms is virtual time from announce until every node
 * has the block final, in the simulator's "none" scenario with 25 keys on 10
 * nodes: per-link latency uniform in 10..60 ms, jitter 0..20 ms, no loss,
 * block period 100 ms (median over blocks and seeds). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "consensus/fbft.h"
#include "consensus/fbft_bls.h"
#include "crypto/bls.h"
#include "sim/sim.h"

struct committee {
	uint32_t n;
	struct bls_secret_key *sk;
	uint8_t (*pk)[BLS_PK_LEN];
};

static void committee_init(struct committee *c, uint32_t n)
{
	c->n = n;
	c->sk = calloc(n, sizeof *c->sk);
	c->pk = calloc(n, sizeof *c->pk);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ikm[32] = {0};
		memcpy(ikm, &i, sizeof i);
		ikm[31] = 0xc5;
		if (bls_keygen(ikm, sizeof ikm, NULL, 0, &c->sk[i]))
			abort();
		struct bls_public_key pk;
		bls_sk_to_pk(&c->sk[i], &pk);
		bls_pk_to_bytes(&pk, c->pk[i]);
	}
}

static struct fbft *make_node(const struct committee *c, uint32_t key, struct fbft_bls **b)
{
	if (fbft_bls_new((const uint8_t(*)[BLS_PK_LEN])c->pk, c->n, b) || fbft_bls_add_secret(*b, key, &c->sk[key]))
		abort();
	struct fbft_config cfg = {.nkeys = c->n, .own_keys = &key, .n_own = 1, .blocks_per_leader = 1,
	                          .block_period_ms = 100, .phase_timeout_ms = 60000, .viewchange_timeout_ms = 60000};
	uint8_t genesis[32] = {0};
	struct fbft *sm;
	if (fbft_new(&cfg, fbft_bls_crypto(*b), NULL, genesis, &sm))
		abort();
	return sm;
}

static const struct fbft_action *find(const struct fbft_out *o, int kind)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->act[i].kind == kind)
			return &o->act[i];
	return NULL;
}

static double cpu_step(struct fbft *sm, uint64_t now, const struct fbft_input *in, struct fbft_out *out)
{
	double t0 = bench_cpu_s();
	if (fbft_step(sm, now, in, out))
		abort();
	return bench_cpu_s() - t0;
}

/* A vote message of keys [key, key+cnt), signed outside the timed region. */
static size_t vote_msg(const struct committee *c, uint8_t type, uint32_t key, uint32_t cnt, const uint8_t hash[32],
                       uint8_t *buf)
{
	uint8_t pl[49];
	size_t n = type == FBFT_PREPARE ? fbft_prepare_payload(1, 0, hash, pl) : fbft_commit_payload(1, 0, hash, pl);
	struct fbft_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.sig_len = BLS_SIG_UNCOMPRESSED_LEN; /* votes carry uncompressed signatures */
	m.bitmap_len = (uint16_t)((c->n + 7) / 8);
	m.height = 1;
	memcpy(m.hash, hash, 32);
	for (uint32_t k = key; k < key + cnt; k++)
		m.bitmap[k >> 3] |= (uint8_t)(1u << (k & 7));
	struct bls_signature s;
	if (bls_sign_multi(&c->sk[key], cnt, pl, n, &s))
		abort();
	bls_sig_to_bytes_uncompressed(&s, m.sig);
	size_t len;
	if (fbft_msg_encode(&m, buf, 1024, &len))
		abort();
	return len;
}

/* One height; adds the leader's and the validator's CPU seconds. */
static void one_block(const struct committee *c, uint32_t per_msg, double *leader_s, double *val_s)
{
	struct fbft_bls *lb, *vb;
	const uint32_t L = 1, V = 2; /* fbft_leader(1, 0) == 1 */
	struct fbft *ls = make_node(c, L, &lb), *vs = make_node(c, V, &vb);
	struct fbft_out lo, vo;
	fbft_out_init(&lo);
	fbft_out_init(&vo);
	double lt = 0, vt = 0;
	struct fbft_input in = {.kind = FBFT_IN_START};
	lt += cpu_step(ls, 1, &in, &lo);
	vt += cpu_step(vs, 1, &in, &vo);
	in.kind = FBFT_IN_TIMER;
	lt += cpu_step(ls, 101, &in, &lo);
	if (!find(&lo, FBFT_ACT_PROPOSE))
		abort();
	uint8_t block[512];
	memset(block, 0x42, sizeof block);
	in = (struct fbft_input){.kind = FBFT_IN_PROPOSAL, .height = 1, .view = 0, .data = block, .len = sizeof block};
	lt += cpu_step(ls, 102, &in, &lo);
	const struct fbft_action *a = find(&lo, FBFT_ACT_BROADCAST);
	uint8_t *announce = malloc(a->len);
	size_t alen = a->len;
	memcpy(announce, a->data, alen);
	struct fbft_msg m;
	fbft_msg_decode(announce, alen, &m);
	uint8_t hash[32];
	memcpy(hash, m.hash, 32);

	in = (struct fbft_input){.kind = FBFT_IN_MSG, .data = announce, .len = alen};
	vt += cpu_step(vs, 110, &in, &vo);
	in = (struct fbft_input){.kind = FBFT_IN_VALIDATED, .height = 1, .view = 0, .ok = 1};
	memcpy(in.hash, hash, 32);
	vt += cpu_step(vs, 111, &in, &vo);
	a = find(&vo, FBFT_ACT_SEND);
	uint8_t vvote[1024];
	size_t vlen = a->len;
	memcpy(vvote, a->data, vlen);

	uint32_t quorum = 2 * c->n / 3 + 1;
	uint8_t (*votes)[1024] = malloc((size_t)c->n * 1024);
	size_t *vl = calloc(c->n, sizeof *vl);
	for (int phase = 0; phase < 2; phase++) {
		uint8_t type = phase ? FBFT_COMMIT : FBFT_PREPARE;
		/* keys 0, 1 (leader), 2 (validator) vote on their own; the rest in
		 * messages of per_msg keys, until the quorum is certainly reached */
		uint32_t nv = 0, got = 2;
		vl[nv] = vote_msg(c, type, 0, 1, hash, votes[nv]), nv++, got++;
		for (uint32_t k = 3; k < c->n && got < quorum + per_msg; k += per_msg) {
			uint32_t cnt = k + per_msg <= c->n ? per_msg : c->n - k;
			vl[nv] = vote_msg(c, type, k, cnt, hash, votes[nv]), nv++, got += cnt;
		}
		in = (struct fbft_input){.kind = FBFT_IN_MSG, .data = vvote, .len = vlen};
		lt += cpu_step(ls, 120, &in, &lo);
		const struct fbft_action *done = NULL;
		for (uint32_t i = 0; i < nv && !done; i++) {
			in = (struct fbft_input){.kind = FBFT_IN_MSG, .data = votes[i], .len = vl[i]};
			lt += cpu_step(ls, 121, &in, &lo);
			done = find(&lo, FBFT_ACT_BROADCAST);
		}
		if (!done)
			abort();
		uint8_t *cert = malloc(done->len);
		size_t clen = done->len;
		memcpy(cert, done->data, clen);
		if (phase == 1 && !find(&lo, FBFT_ACT_DELIVER))
			abort();
		in = (struct fbft_input){.kind = FBFT_IN_MSG, .data = cert, .len = clen};
		vt += cpu_step(vs, 130, &in, &vo);
		if (phase == 0) {
			a = find(&vo, FBFT_ACT_SEND);
			if (!a)
				abort();
			vlen = a->len;
			memcpy(vvote, a->data, vlen);
		} else if (!find(&vo, FBFT_ACT_DELIVER)) {
			abort();
		}
		free(cert);
	}
	*leader_s += lt;
	*val_s += vt;
	free(votes);
	free(vl);
	free(announce);
	fbft_out_clear(&lo);
	fbft_out_clear(&vo);
	fbft_free(ls);
	fbft_free(vs);
	fbft_bls_free(lb);
	fbft_bls_free(vb);
}

static void bench_size(uint32_t n, uint32_t per_msg, const char *suffix)
{
	struct committee c;
	committee_init(&c, n);
	int runs = bench_runs();
	if (n >= 1000 && runs > 3)
		runs = 3; /* signing the other keys' votes dominates the wall time */
	double l[1000], v[1000];
	for (int r = 0; r < runs; r++) {
		l[r] = v[r] = 0;
		one_block(&c, per_msg, &l[r], &v[r]);
	}
	char name[64];
	snprintf(name, sizeof name, "leader_ms_%u%s", n, suffix);
	bench_report("consensus", name, bench_median(l, runs) * 1e3, "ms");
	if (per_msg == 1) {
		snprintf(name, sizeof name, "validator_ms_%u", n);
		bench_report("consensus", name, bench_median(v, runs) * 1e3, "ms");
	}
	free(c.sk);
	free(c.pk);
}

int main(void)
{
	bench_size(25, 1, "");
	bench_size(250, 1, "");
	bench_size(1000, 1, "");
	/* Harmony nodes run several keys (multi-BLS) and send one aggregated vote:
	 * the leader then decodes one signature per node, not per key */
	bench_size(250, 10, "_multikey10");
	bench_size(1000, 10, "_multikey10");
	double f[64];
	int nf = 0;
	for (uint64_t seed = 1; seed <= 9; seed++) {
		struct sim_config cfg;
		struct sim_result res;
		if (sim_scenario("none", 25, seed, &cfg) || sim_run(&cfg, &res) || res.violation)
			abort();
		f[nf++] = res.finality_ms;
	}
	bench_report("consensus", "sim_finality_ms", bench_median(f, nf), "ms");
	return 0;
}
