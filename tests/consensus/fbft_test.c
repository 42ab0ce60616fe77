/* fbft_test.c — unit tests of the FBFT messages, quorum rules and the leader's
 * vote checking, driving a few state machines by hand with the simulator's
 * stand-in signatures. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/fbft.h"
#include "crypto/crypto.h"
#include "sim/sim.h"
#include "testutil.h"

static struct fbft_msg sample(uint8_t type)
{
	static const uint8_t blk[5] = {1, 2, 3, 4, 5};
	struct fbft_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.sig_len = 32;
	m.bitmap_len = 2;
	m.height = 7;
	m.view = 3;
	m.sender = 9;
	memset(m.hash, 0xab, 32);
	m.bitmap[0] = 0x0f;
	memset(m.sig, 0x11, 32);
	memset(m.msg_sig, 0x22, 32);
	if (type != FBFT_PREPARE && type != FBFT_COMMIT && type != FBFT_COMMITTED) {
		m.block = blk;
		m.block_len = sizeof blk;
	}
	if (type == FBFT_ANNOUNCE || type == FBFT_VIEWCHANGE || type == FBFT_NEWVIEW) {
		m.has_cert = 1;
		m.cert.height = 6;
		m.cert.view = 2;
		memset(m.cert.hash, 0xcd, 32);
		m.cert.bitmap[1] = 0x03;
		memset(m.cert.sig, 0x33, 32);
	}
	return m;
}

Test(fbft_msg, roundtrip_and_truncation)
{
	size_t count = 0;
	for (uint8_t t = FBFT_ANNOUNCE; t <= FBFT_NEWVIEW; t++) {
		struct fbft_msg m = sample(t), d;
		uint8_t buf[2048];
		size_t len;
		cr_assert_eq(fbft_msg_encode(&m, buf, sizeof buf, &len), 0);
		cr_assert_eq(fbft_msg_decode(buf, len, &d), 0, "type %u", t);
		cr_assert_eq(d.type, t);
		cr_assert_eq(d.height, 7);
		cr_assert_eq(d.view, 3);
		cr_assert_eq(d.block_len, m.block_len);
		if (m.block_len)
			cr_assert_eq(memcmp(d.block, m.block, m.block_len), 0);
		cr_assert_eq(d.has_cert, m.has_cert);
		if (m.has_cert)
			cr_assert_eq(memcmp(&d.cert, &m.cert, sizeof m.cert), 0);
		uint8_t again[2048];
		size_t len2;
		cr_assert_eq(fbft_msg_encode(&d, again, sizeof again, &len2), 0);
		cr_assert_eq(len2, len);
		cr_assert_eq(memcmp(again, buf, len), 0);
		for (size_t cut = 0; cut < len; cut++)
			cr_assert_neq(fbft_msg_decode(buf, cut, &d), 0, "type %u accepted at %zu of %zu bytes", t, cut, len);
		buf[len] = 0;
		cr_assert_eq(fbft_msg_decode(buf, len + 1, &d), -CN_ETRAILING);
		cr_assert_eq(fbft_msg_encode(&m, buf, len - 1, &len2), -CN_ERANGE);
		count++;
	}
	tu_report("fbft message types round-tripped", count);
}

Test(fbft_msg, rejects_bad_headers)
{
	struct fbft_msg m = sample(FBFT_PREPARE), d;
	uint8_t buf[512];
	size_t len;
	cr_assert_eq(fbft_msg_encode(&m, buf, sizeof buf, &len), 0);
	uint8_t b2[512];
	memcpy(b2, buf, len);
	b2[0] ^= 1;
	cr_assert_neq(fbft_msg_decode(b2, len, &d), 0);
	memcpy(b2, buf, len);
	b2[2] = 99; /* type */
	cr_assert_neq(fbft_msg_decode(b2, len, &d), 0);
	memcpy(b2, buf, len);
	b2[3] = FBFT_SIG_MAX + 1;
	cr_assert_neq(fbft_msg_decode(b2, len, &d), 0);
	memcpy(b2, buf, len);
	b2[4] = 0xff; /* bitmap length 0x00ff > max? no: 255 > 128 */
	cr_assert_neq(fbft_msg_decode(b2, len, &d), 0);
	/* a block length far past the end */
	struct fbft_msg a = sample(FBFT_PREPARED);
	cr_assert_eq(fbft_msg_encode(&a, buf, sizeof buf, &len), 0);
	size_t off = 22 + 4 + 32 + 2 + 32;
	buf[off + 3] = 0x7f;
	cr_assert_neq(fbft_msg_decode(buf, len, &d), 0);
}

Test(fbft_msg, payloads_are_distinct)
{
	uint8_t h[32], p[49], c[48], v[17];
	memset(h, 7, 32);
	cr_assert_eq(fbft_prepare_payload(5, 2, h, p), 49);
	cr_assert_eq(fbft_commit_payload(5, 2, h, c), 48);
	cr_assert_eq(fbft_viewchange_payload(5, 2, v), 17);
	/* commit payload: height LE ‖ hash ‖ view LE (Harmony's staking form) */
	cr_assert_eq(c[0], 5);
	cr_assert_eq(memcmp(c + 8, h, 32), 0);
	cr_assert_eq(c[40], 2);
	cr_assert_eq(p[0], FBFT_PREPARE);
}

/* ---- driving state machines by hand ---------------------------------------- */

#define N 4

struct net {
	struct sim_keyring *kr;
	struct sim_signer *sg[N];
	struct fbft *sm[N];
	struct fbft_out out[N];
	uint64_t now;
	/* queued messages: to node, bytes */
	struct qmsg {
		int to;
		uint8_t *d;
		size_t len;
	} q[4096];
	size_t nq;
	uint64_t final[N];
	int drop_from;      /* node whose messages vanish (-1 none) */
	int drop_type;      /* message type that vanishes (0 none) */
	unsigned bugs;
};

static void net_init_bugs(struct net *n, const uint64_t *power, unsigned bugs)
{
	memset(n, 0, sizeof *n);
	n->bugs = bugs;
	n->drop_from = -1;
	cr_assert_eq(sim_keyring_new(N, 42, &n->kr), 0);
	uint8_t genesis[32] = {0};
	for (uint32_t i = 0; i < N; i++) {
		cr_assert_eq(sim_signer_new(n->kr, &i, 1, &n->sg[i]), 0);
		struct fbft_config c = {.nkeys = N, .power = power, .own_keys = &i, .n_own = 1, .blocks_per_leader = 1,
		                        .block_period_ms = 10, .phase_timeout_ms = 1000, .viewchange_timeout_ms = 1000,
		                        .bugs = i == 0 ? n->bugs : 0};
		cr_assert_eq(fbft_new(&c, sim_signer_crypto(n->sg[i]), NULL, genesis, &n->sm[i]), 0);
		fbft_out_init(&n->out[i]);
	}
}

static void net_init(struct net *n, const uint64_t *power) { net_init_bugs(n, power, 0); }

static void net_free(struct net *n)
{
	for (int i = 0; i < N; i++) {
		fbft_free(n->sm[i]);
		fbft_out_clear(&n->out[i]);
		sim_signer_free(n->sg[i]);
	}
	for (size_t i = 0; i < n->nq; i++)
		free(n->q[i].d);
	sim_keyring_free(n->kr);
}

static void enqueue(struct net *n, int to, const uint8_t *d, size_t len)
{
	cr_assert_lt(n->nq, 4096);
	n->q[n->nq].to = to;
	n->q[n->nq].d = malloc(len);
	memcpy(n->q[n->nq].d, d, len);
	n->q[n->nq].len = len;
	n->nq++;
}

static void step(struct net *n, int i, const struct fbft_input *in)
{
	cr_assert_eq(fbft_step(n->sm[i], n->now, in, &n->out[i]), 0);
	struct fbft_out *o = &n->out[i];
	/* copy the actions: feeding them back re-enters step on the same node */
	size_t na = o->n;
	struct fbft_action *acts = malloc(sizeof *acts * (na ? na : 1));
	for (size_t k = 0; k < na; k++) {
		acts[k] = o->act[k];
		acts[k].data = NULL;
		if (o->act[k].len) {
			acts[k].data = malloc(o->act[k].len);
			memcpy(acts[k].data, o->act[k].data, o->act[k].len);
		}
	}
	for (size_t k = 0; k < na; k++) {
		struct fbft_action *a = &acts[k];
		if (a->kind == FBFT_ACT_BROADCAST && i != n->drop_from) {
			for (int j = 0; j < N; j++)
				if (j != i)
					enqueue(n, j, a->data, a->len);
		} else if (a->kind == FBFT_ACT_SEND && i != n->drop_from) {
			enqueue(n, (int)a->to_key, a->data, a->len);
		} else if (a->kind == FBFT_ACT_VALIDATE) {
			struct fbft_input v = {.kind = FBFT_IN_VALIDATED, .height = a->height, .view = a->view, .ok = 1};
			keccak256(a->data, a->len, v.hash);
			step(n, i, &v);
		} else if (a->kind == FBFT_ACT_PROPOSE) {
			uint8_t blk[16] = {0};
			blk[0] = (uint8_t)a->height;
			blk[1] = (uint8_t)a->view;
			struct fbft_input p = {.kind = FBFT_IN_PROPOSAL, .height = a->height, .view = a->view, .data = blk,
			                       .len = sizeof blk};
			step(n, i, &p);
		} else if (a->kind == FBFT_ACT_DELIVER) {
			cr_assert_eq(a->height, n->final[i] + 1);
			n->final[i] = a->height;
			cr_assert_eq(fbft_cert_verify(n->sm[i], FBFT_COMMIT, &a->cert), 0);
		}
	}
	for (size_t k = 0; k < na; k++)
		free(acts[k].data);
	free(acts);
}

static void deliver_all(struct net *n)
{
	while (n->nq) {
		struct qmsg m = n->q[0];
		memmove(n->q, n->q + 1, (n->nq - 1) * sizeof *n->q);
		n->nq--;
		if (n->drop_type && m.len > 2 && m.d[2] == n->drop_type) {
			free(m.d);
			continue;
		}
		struct fbft_input in = {.kind = FBFT_IN_MSG, .data = m.d, .len = m.len};
		step(n, m.to, &in);
		free(m.d);
	}
}

static void tick(struct net *n, uint64_t ms)
{
	n->now += ms;
	for (int i = 0; i < N; i++) {
		struct fbft_input in = {.kind = FBFT_IN_TIMER};
		step(n, i, &in);
	}
	deliver_all(n);
}

Test(fbft, four_nodes_finalize_and_rotate)
{
	struct net n;
	net_init(&n, NULL);
	for (int i = 0; i < N; i++) {
		struct fbft_input in = {.kind = FBFT_IN_START};
		step(&n, i, &in);
	}
	for (int t = 0; t < 20; t++)
		tick(&n, 20);
	for (int i = 0; i < N; i++)
		cr_assert_geq(n.final[i], 5, "node %d final %llu", i, (unsigned long long)n.final[i]);
	cr_assert_eq(fbft_leader(n.sm[0], 1, 0), 1);
	cr_assert_eq(fbft_leader(n.sm[0], 2, 0), 2);
	cr_assert_eq(fbft_leader(n.sm[0], 2, 1), 3);
	struct fbft_cert c;
	cr_assert_eq(fbft_last_commit(n.sm[0], &c), 0);
	cr_assert_eq(c.height, fbft_height(n.sm[0]) - 1);
	net_free(&n);
}

Test(fbft, silent_leader_is_replaced_by_view_change)
{
	struct net n;
	net_init(&n, NULL);
	n.drop_from = 1; /* leader of height 1 */
	for (int i = 0; i < N; i++) {
		struct fbft_input in = {.kind = FBFT_IN_START};
		step(&n, i, &in);
	}
	for (int t = 0; t < 100 && n.final[0] < 1; t++)
		tick(&n, 50);
	cr_assert_geq(n.final[0], 1);
	cr_assert_geq(n.final[2], 1);
	cr_assert_geq(n.final[3], 1);
	net_free(&n);
}

Test(fbft, staked_quorum_is_strictly_two_thirds)
{
	struct net n;
	uint64_t power[N] = {100, 100, 100, 300}; /* total 600; 400 is exactly 2/3 */
	net_init(&n, power);
	uint8_t bm[FBFT_BITMAP_MAX] = {0};
	bm[0] = 0x09; /* keys 0 and 3: 400 */
	cr_assert_eq(fbft_quorum(n.sm[0], bm), 0);
	bm[0] = 0x0b; /* 500 */
	cr_assert_eq(fbft_quorum(n.sm[0], bm), 1);
	bm[0] = 0x07; /* 300 */
	cr_assert_eq(fbft_quorum(n.sm[0], bm), 0);
	net_free(&n);
	/* unstaked: floor(2n/3)+1 keys */
	net_init(&n, NULL);
	bm[0] = 0x07;
	cr_assert_eq(fbft_quorum(n.sm[0], bm), 1);
	bm[0] = 0x03;
	cr_assert_eq(fbft_quorum(n.sm[0], bm), 0);
	net_free(&n);
}

/* A forged prepare claiming an honest key arrives first; the leader's
 * aggregate check fails, it finds the bad vote, and the block still commits
 * with the real one. */
Test(fbft, forged_vote_does_not_block_quorum)
{
	struct net n;
	net_init(&n, NULL);
	for (int i = 0; i < N; i++) {
		struct fbft_input in = {.kind = FBFT_IN_START};
		step(&n, i, &in);
	}
	n.now += 20;
	struct fbft_input t = {.kind = FBFT_IN_TIMER};
	step(&n, 1, &t); /* leader proposes; announce queued for 0, 2, 3 */
	/* deliver the announce to node 0 only; intercept its vote */
	struct qmsg keep[64];
	size_t nk = 0;
	for (size_t i = 0; i < n.nq; i++)
		keep[nk++] = n.q[i];
	n.nq = 0;
	uint8_t hash[32] = {0};
	for (size_t i = 0; i < nk; i++) {
		struct fbft_msg m;
		cr_assert_eq(fbft_msg_decode(keep[i].d, keep[i].len, &m), 0);
		memcpy(hash, m.hash, 32);
		if (keep[i].to == 0) {
			/* forge node 2's prepare with a garbage signature, sent first */
			struct fbft_msg f;
			memset(&f, 0, sizeof f);
			f.type = FBFT_PREPARE;
			f.sig_len = 32;
			f.bitmap_len = 1;
			f.height = 1;
			f.view = 0;
			memcpy(f.hash, m.hash, 32);
			f.bitmap[0] = 1 << 2;
			memset(f.sig, 0x5a, 32);
			uint8_t buf[256];
			size_t len;
			cr_assert_eq(fbft_msg_encode(&f, buf, sizeof buf, &len), 0);
			struct fbft_input in = {.kind = FBFT_IN_MSG, .data = buf, .len = len};
			step(&n, 1, &in);
		}
	}
	for (size_t i = 0; i < nk; i++)
		enqueue(&n, keep[i].to, keep[i].d, keep[i].len), free(keep[i].d);
	deliver_all(&n);
	for (int i = 0; i < N; i++)
		cr_assert_eq(n.final[i], 1, "node %d", i);
	net_free(&n);
}

Test(fbft, rejects_bad_config)
{
	struct sim_keyring *kr;
	struct sim_signer *sg;
	cr_assert_eq(sim_keyring_new(4, 1, &kr), 0);
	uint32_t k = 0;
	cr_assert_eq(sim_signer_new(kr, &k, 1, &sg), 0);
	uint8_t g[32] = {0};
	struct fbft *sm;
	struct fbft_config c = {.nkeys = 0, .own_keys = &k, .n_own = 1, .blocks_per_leader = 1, .phase_timeout_ms = 1,
	                        .viewchange_timeout_ms = 1};
	cr_assert_eq(fbft_new(&c, sim_signer_crypto(sg), NULL, g, &sm), -CN_EINVAL);
	c.nkeys = 4;
	uint32_t bad = 4;
	c.own_keys = &bad;
	cr_assert_eq(fbft_new(&c, sim_signer_crypto(sg), NULL, g, &sm), -CN_EINVAL);
	sim_signer_free(sg);
	sim_keyring_free(kr);
}

/* Node 0 holds a prepared certificate for block B (view 0) but never saw it
 * committed. The leader of view 1 then proposes a fresh block with a valid
 * NEWVIEW but without the certificate as justification. The lock rule says:
 * do not prepare it. With the injected FBFT_BUG_NO_LOCK defect, node 0 does. */
static int prepares_fresh_block_over_lock(unsigned bugs)
{
	struct net n;
	net_init_bugs(&n, NULL, bugs);
	n.drop_type = FBFT_COMMIT; /* B never gets a commit quorum */
	for (int i = 0; i < N; i++) {
		struct fbft_input in = {.kind = FBFT_IN_START};
		step(&n, i, &in);
	}
	tick(&n, 20);
	cr_assert_eq(n.final[0], 0);
	cr_assert_eq(fbft_height(n.sm[0]), 1);
	/* a NEWVIEW for view 1 from key 2 with a quorum of view changes (keys 1-3) */
	uint8_t pl[17], sigs[3 * 32];
	size_t pn = fbft_viewchange_payload(1, 1, pl);
	struct fbft_msg m;
	memset(&m, 0, sizeof m);
	for (uint32_t k = 1; k <= 3; k++) {
		const struct fbft_crypto *c = sim_signer_crypto(n.sg[k]);
		cr_assert_eq(c->sign(c->ctx, k, pl, pn, sigs + 32 * (k - 1)), 0);
		m.bitmap[0] |= (uint8_t)(1u << k);
	}
	const struct fbft_crypto *c2 = sim_signer_crypto(n.sg[2]);
	cr_assert_eq(c2->aggregate(c2->ctx, sigs, 3, m.sig), 0);
	uint8_t fresh[16];
	memset(fresh, 0xee, sizeof fresh);
	m.type = FBFT_NEWVIEW;
	m.sig_len = 32;
	m.bitmap_len = 1;
	m.height = 1;
	m.view = 1;
	m.sender = 2;
	keccak256(fresh, sizeof fresh, m.hash);
	m.block = fresh;
	m.block_len = sizeof fresh;
	uint8_t buf[1024];
	size_t len;
	cr_assert_eq(fbft_msg_encode_signed(c2, 2, &m, buf, sizeof buf, &len), 0);
	n.nq = 0;
	struct fbft_input in = {.kind = FBFT_IN_MSG, .data = buf, .len = len};
	step(&n, 0, &in);
	cr_assert_eq(fbft_view(n.sm[0]), 1, "node 0 accepted the new view");
	int prepared = 0;
	for (size_t i = 0; i < n.nq; i++) {
		struct fbft_msg d;
		if (fbft_msg_decode(n.q[i].d, n.q[i].len, &d) == 0 && d.type == FBFT_PREPARE && d.view == 1)
			prepared = 1;
	}
	net_free(&n);
	return prepared;
}

Test(fbft, lock_blocks_unjustified_proposal)
{
	cr_assert_eq(prepares_fresh_block_over_lock(0), 0, "a locked node prepared a conflicting block");
	cr_assert_eq(prepares_fresh_block_over_lock(FBFT_BUG_NO_LOCK), 1, "the injected defect had no effect");
}

/* Found by the soak: in a staked committee the leader's own keys can hold
 * more than 2/3 of the power, so its own vote completes each quorum. */
Test(fbft, leader_alone_is_a_quorum)
{
	struct net n;
	uint64_t power[N] = {10, 1000, 10, 10}; /* key 1 leads height 1 */
	net_init(&n, power);
	for (int i = 0; i < N; i++) {
		struct fbft_input in = {.kind = FBFT_IN_START};
		step(&n, i, &in);
	}
	tick(&n, 20);
	for (int i = 0; i < N; i++)
		cr_assert_geq(n.final[i], 1, "node %d", i);
	net_free(&n);
}
