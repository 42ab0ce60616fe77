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
	/* the vote form (uncompressed) converts both ways and sums the same */
	cr_assert_eq(c->vote_sig_len, 192);
	uint8_t votes[3 * 192], back[96], agg2[96];
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert_eq(c->to_vote(c->ctx, sigs + 96 * i, votes + 192 * i), 0);
		cr_assert_eq(c->from_vote(c->ctx, votes + 192 * i, back), 0);
		cr_assert(memcmp(back, sigs + 96 * i, 96) == 0);
	}
	cr_assert_eq(c->aggregate_votes(c->ctx, votes, 3, agg2), 0);
	cr_assert(memcmp(agg, agg2, 96) == 0);
	votes[192 + 191] ^= 1; /* off the curve */
	cr_assert_neq(c->from_vote(c->ctx, votes + 192, back), 0);
	cr_assert_neq(c->aggregate_votes(c->ctx, votes, 3, agg2), 0);
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

/* A vote message from key k with signature sig (uncompressed, 192 bytes). */
static size_t vote_bytes(uint32_t nkeys, uint8_t type, uint32_t k, const uint8_t hash[32], const uint8_t *sig,
                         uint8_t *buf, size_t cap)
{
	struct fbft_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.sig_len = BLS_SIG_UNCOMPRESSED_LEN;
	m.bitmap_len = (uint16_t)((nkeys + 7) / 8);
	m.height = 1;
	memcpy(m.hash, hash, 32);
	m.bitmap[k >> 3] |= (uint8_t)(1u << (k & 7));
	memcpy(m.sig, sig, BLS_SIG_UNCOMPRESSED_LEN);
	size_t len;
	cr_assert_eq(fbft_msg_encode(&m, buf, cap, &len), 0);
	return len;
}

static void honest_sig(const struct ring *r, uint8_t type, uint32_t k, const uint8_t hash[32],
                       uint8_t sig[BLS_SIG_UNCOMPRESSED_LEN])
{
	uint8_t pl[49];
	size_t n = type == FBFT_PREPARE ? fbft_prepare_payload(1, 0, hash, pl) : fbft_commit_payload(1, 0, hash, pl);
	struct bls_signature s;
	bls_sign(&r->sk[k], pl, n, &s);
	bls_sig_to_bytes_uncompressed(&s, sig);
}

static const struct fbft_action *find_act(const struct fbft_out *o, int kind)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->act[i].kind == kind)
			return &o->act[i];
	return NULL;
}

/* Feeds one vote to the leader; returns the certificate it broadcasts, if any. */
static int feed(struct fbft *ls, struct fbft_out *lo, const uint8_t *buf, size_t len, struct fbft_msg *cert)
{
	struct fbft_input in = {.kind = FBFT_IN_MSG, .data = buf, .len = len};
	cr_assert_eq(fbft_step(ls, 200, &in, lo), 0, "a bad vote is dropped, not an error");
	const struct fbft_action *a = find_act(lo, FBFT_ACT_BROADCAST);
	if (!a)
		return 0;
	cr_assert_eq(fbft_msg_decode(a->data, a->len, cert), 0);
	return 1;
}

/* The leader aggregates votes without checking each signature's subgroup:
 * a vote whose signature is on E2 but outside G2 (or not on the curve at
 * all) must be dropped by the per-vote fallback, must not be an error, and
 * must not keep the honest votes from making a quorum. */
Test(fbft_bls, leader_drops_votes_outside_g2)
{
	enum { N = 7 }; /* quorum 5; leader of (1, 0) is key 1 */
	struct ring r;
	ring_init(&r, N, 0x44);
	struct fbft_bls *lb;
	cr_assert_eq(fbft_bls_new((const uint8_t(*)[BLS_PK_LEN])r.pk, N, &lb), 0);
	cr_assert_eq(fbft_bls_add_secret(lb, 1, &r.sk[1]), 0);
	uint32_t own = 1;
	struct fbft_config cfg = {.nkeys = N, .own_keys = &own, .n_own = 1, .blocks_per_leader = 1,
	                          .block_period_ms = 100, .phase_timeout_ms = 60000, .viewchange_timeout_ms = 60000};
	uint8_t genesis[32] = {0}, block[64], hash[32];
	memset(block, 0x17, sizeof block);
	struct fbft *ls;
	cr_assert_eq(fbft_new(&cfg, fbft_bls_crypto(lb), NULL, genesis, &ls), 0);
	cr_assert_eq(fbft_leader(ls, 1, 0), 1);
	struct fbft_out lo;
	fbft_out_init(&lo);
	struct fbft_input in = {.kind = FBFT_IN_START};
	cr_assert_eq(fbft_step(ls, 1, &in, &lo), 0);
	in.kind = FBFT_IN_TIMER;
	cr_assert_eq(fbft_step(ls, 101, &in, &lo), 0);
	cr_assert(find_act(&lo, FBFT_ACT_PROPOSE));
	in = (struct fbft_input){.kind = FBFT_IN_PROPOSAL, .height = 1, .view = 0, .data = block, .len = sizeof block};
	cr_assert_eq(fbft_step(ls, 102, &in, &lo), 0);
	const struct fbft_action *a = find_act(&lo, FBFT_ACT_BROADCAST);
	cr_assert(a);
	struct fbft_msg m;
	cr_assert_eq(fbft_msg_decode(a->data, a->len, &m), 0);
	memcpy(hash, m.hash, 32);

	/* a signature on E2 outside G2, found through the public API, and one
	 * off the curve (a valid point with its y changed) */
	uint8_t bad[BLS_SIG_UNCOMPRESSED_LEN] = {0}, offcurve[BLS_SIG_UNCOMPRESSED_LEN];
	int have_bad = 0;
	for (unsigned x = 1; x < 400 && !have_bad; x++) {
		uint8_t b[BLS_SIG_LEN] = {0x80};
		b[BLS_SIG_LEN - 1] = (uint8_t)x;
		b[BLS_SIG_LEN - 2] = (uint8_t)(x >> 8);
		struct bls_signature s;
		if (bls_sig_from_bytes_unchecked(b, &s) == 0 && bls_sig_check_subgroup(&s) != 0) {
			bls_sig_to_bytes_uncompressed(&s, bad);
			have_bad = 1;
		}
	}
	cr_assert(have_bad);
	honest_sig(&r, FBFT_COMMIT, 0, hash, offcurve);
	offcurve[BLS_SIG_UNCOMPRESSED_LEN - 1] ^= 1;
	struct bls_signature tmp;
	cr_assert_neq(bls_sig_from_bytes_uncompressed_unchecked(bad, &tmp), -CN_EINVAL);
	cr_assert_eq(bls_sig_from_bytes_uncompressed_unchecked(offcurve, &tmp), -CN_EINVAL);

	uint8_t buf[1024], sig[BLS_SIG_UNCOMPRESSED_LEN];
	struct fbft_msg cert;
	{
		/* a vote in the 96-byte compressed form is not a vote here */
		struct bls_signature s;
		struct fbft_msg v;
		honest_sig(&r, FBFT_PREPARE, 6, hash, sig);
		cr_assert_eq(bls_sig_from_bytes_uncompressed(sig, &s), 0);
		size_t len = vote_bytes(N, FBFT_PREPARE, 6, hash, sig, buf, sizeof buf);
		cr_assert_eq(fbft_msg_decode(buf, len, &v), 0);
		v.sig_len = BLS_SIG_LEN;
		bls_sig_to_bytes(&s, v.sig);
		cr_assert_eq(fbft_msg_encode(&v, buf, sizeof buf, &len), 0);
		cr_assert_eq(feed(ls, &lo, buf, len, &cert), 0);
	}
	for (int phase = 0; phase < 2; phase++) {
		uint8_t type = phase ? FBFT_COMMIT : FBFT_PREPARE;
		/* key 0 claims a vote with a non-G2 (prepare) or off-curve (commit)
		 * signature; with 3, 4, 5 the claims reach a quorum, the aggregate
		 * is refused and the per-vote check drops key 0's claim */
		size_t len = vote_bytes(N, type, 0, hash, phase ? offcurve : bad, buf, sizeof buf);
		cr_assert_eq(feed(ls, &lo, buf, len, &cert), 0);
		for (uint32_t k = 3; k <= 5; k++) {
			honest_sig(&r, type, k, hash, sig);
			len = vote_bytes(N, type, k, hash, sig, buf, sizeof buf);
			cr_assert_eq(feed(ls, &lo, buf, len, &cert), 0, "no quorum with the bad vote");
		}
		/* prepare: key 0's honest vote still counts; commit: key 6 */
		uint32_t last = phase ? 6 : 0;
		honest_sig(&r, type, last, hash, sig);
		len = vote_bytes(N, type, last, hash, sig, buf, sizeof buf);
		cr_assert_eq(feed(ls, &lo, buf, len, &cert), 1, "honest votes finalize the phase");
		cr_assert_eq(cert.type, phase ? FBFT_COMMITTED : FBFT_PREPARED);
		cr_assert_eq(cert.bitmap[0], phase ? 0x7a : 0x3b, "signers %02x", cert.bitmap[0]);
		struct fbft_cert c = {.height = 1, .view = 0};
		memcpy(c.hash, hash, 32);
		memcpy(c.bitmap, cert.bitmap, sizeof c.bitmap);
		memcpy(c.sig, cert.sig, BLS_SIG_LEN);
		cr_assert_eq(fbft_cert_verify(ls, type, &c), 0);
		struct bls_signature s;
		cr_assert_eq(bls_sig_from_bytes(cert.sig, &s), 0, "the certificate's aggregate is in G2");
	}
	cr_assert(find_act(&lo, FBFT_ACT_DELIVER), "the block is final");
	cr_assert_eq(fbft_evidence_count(ls), 0);
	fbft_out_clear(&lo);
	fbft_free(ls);
	fbft_bls_free(lb);
}
