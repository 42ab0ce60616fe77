/* fbft_bls_test.c — the FBFT state machine with real BLS12-381 signatures:
 * the adapter's primitives, then a few simulator scenarios on a committee of
 * four (the bulk of the seeds run with the stand-in scheme in tests/sim). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/fbft_bls.h"
#include "sim/sim.h"
#include "testutil.h"

#define MAXK 8

struct ring {
	uint32_t n;
	struct bls_secret_key sk[MAXK];
	uint8_t pk[MAXK][BLS_PK_LEN];
};

static void ring_init(struct ring *r, uint32_t n, uint8_t salt)
{
	memset(r, 0, sizeof *r);
	r->n = n;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t ikm[32];
		memset(ikm, salt, sizeof ikm);
		ikm[0] = (uint8_t)i;
		cr_assert_eq(bls_keygen(ikm, sizeof ikm, NULL, 0, &r->sk[i]), 0);
		struct bls_public_key pk;
		bls_sk_to_pk(&r->sk[i], &pk);
		bls_pk_to_bytes(&pk, r->pk[i]);
	}
}

Test(fbft_bls, adapter_sign_aggregate_verify)
{
	struct ring r;
	ring_init(&r, 4, 0x31);
	struct fbft_bls *b;
	cr_assert_eq(fbft_bls_new((const uint8_t(*)[BLS_PK_LEN])r.pk, 4, &b), 0);
	for (uint32_t i = 0; i < 3; i++)
		cr_assert_eq(fbft_bls_add_secret(b, i, &r.sk[i]), 0);
	cr_assert_eq(fbft_bls_add_secret(b, 3, &r.sk[0]), -CN_EINVAL, "a secret must match its key");
	const struct fbft_crypto *c = fbft_bls_crypto(b);
	cr_assert_eq(c->sig_len, 96);
	uint8_t pl[48], h[32], sigs[3 * 96], agg[96];
	memset(h, 9, 32);
	fbft_commit_payload(3, 1, h, pl);
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert_eq(c->sign(c->ctx, i, pl, 48, sigs + 96 * i), 0);
		cr_assert_eq(c->verify(c->ctx, i, pl, 48, sigs + 96 * i), 0);
	}
	cr_assert_neq(c->sign(c->ctx, 3, pl, 48, agg), 0, "no secret for key 3");
	cr_assert_neq(c->verify(c->ctx, 1, pl, 48, sigs), 0);
	cr_assert_eq(c->aggregate(c->ctx, sigs, 3, agg), 0);
	uint8_t bm[1] = {0x07};
	cr_assert_eq(c->fast_aggregate_verify(c->ctx, bm, 4, pl, 48, agg), 0);
	bm[0] = 0x0f;
	cr_assert_neq(c->fast_aggregate_verify(c->ctx, bm, 4, pl, 48, agg), 0);
	bm[0] = 0x03;
	cr_assert_neq(c->fast_aggregate_verify(c->ctx, bm, 4, pl, 48, agg), 0);
	pl[0] ^= 1;
	bm[0] = 0x07;
	cr_assert_neq(c->fast_aggregate_verify(c->ctx, bm, 4, pl, 48, agg), 0);
	uint8_t bad[96];
	memset(bad, 0xff, sizeof bad);
	cr_assert_neq(c->aggregate(c->ctx, bad, 1, agg), 0);
	fbft_bls_free(b);
	uint8_t badpk[4][BLS_PK_LEN];
	memcpy(badpk, r.pk, sizeof badpk);
	badpk[2][5] ^= 0x40;
	cr_assert_neq(fbft_bls_new((const uint8_t(*)[BLS_PK_LEN])badpk, 4, &b), 0);
}

Test(fbft_bls, simulator_with_real_signatures, .timeout = 240)
{
#ifdef __SANITIZE_ADDRESS__
	static const char *const scen[] = {"none", "silent"};
#else
	static const char *const scen[] = {"none", "silent", "equivocate", "double-vote", "crash", "leader-prepared"};
#endif
	size_t runs = 0;
	for (size_t i = 0; i < sizeof scen / sizeof *scen; i++) {
		uint64_t seed = 500 + i;
		struct sim_bls *b;
		cr_assert_eq(sim_bls_new(4, seed, &b), 0);
		struct sim_config cfg;
		cr_assert_eq(sim_scenario(scen[i], 4, seed, &cfg), 0);
		cfg.crypto_for = sim_bls_crypto_for;
		cfg.crypto_ctx = b;
		cfg.target_blocks = 4;
		struct sim_result res;
		cr_assert_eq(sim_run(&cfg, &res), 0);
		sim_bls_free(b);
		cr_assert_eq(res.violation, 0, "%s\n  replay: ./canon sim run --scenario %s --keys 4 --seed %llu --bls --trace",
		             res.what, scen[i], (unsigned long long)seed);
		cr_assert_geq(res.min_height, 4, "%s", scen[i]);
		runs++;
	}
	tu_report("simulator runs with BLS12-381, committee 4", runs);
}
