/* model_test.c — the pool against a naive reference model over random
 * operations on many accounts, invariants under tight limits, and
 * concurrent use from several threads. */
#include "tp_helpers.h"

#include "base/prng.h"
#include "testutil.h"

/* ---- the reference model ------------------------------------------------
 * Per account: the state nonce and balance, and at most one transaction
 * per nonce (arrays indexed by nonce - base). Pending = the run from the
 * state nonce. No limits are modelled: the pool runs with limits far above
 * what the test can reach. */

#define M_ACCTS 12
#define M_NONCES 64

struct m_tx {
	int used;
	uint8_t hash[32];
	struct u256 price, cost;
};

struct m_acct {
	uint64_t nonce;
	struct u256 bal;
	struct m_tx tx[M_NONCES];   /* by absolute nonce (< M_NONCES) */
};

static struct m_acct model[M_ACCTS];
static struct mock_state mst;

static int m_find_hash(const uint8_t h[32], unsigned *acct, uint64_t *nonce)
{
	for (unsigned a = 0; a < M_ACCTS; a++)
		for (uint64_t n = 0; n < M_NONCES; n++)
			if (model[a].tx[n].used && !memcmp(model[a].tx[n].hash, h, 32)) {
				*acct = a;
				*nonce = n;
				return 1;
			}
	return 0;
}

/* What the pool must answer to adding this tx. */
static enum txpool_reason m_add(unsigned a, const struct tx *t, const uint8_t h[32],
                                const struct u256 *cost)
{
	unsigned fa;
	uint64_t fn;
	if (m_find_hash(h, &fa, &fn))
		return TXPOOL_ERR_KNOWN;
	struct m_acct *m = &model[a];
	if (t->nonce < m->nonce)
		return TXPOOL_ERR_NONCE_TOO_LOW;
	if (u256_cmp(cost, &m->bal) > 0)
		return TXPOOL_ERR_INSUFFICIENT_FUNDS;
	struct m_tx *slot = &m->tx[t->nonce];
	if (slot->used) {
		/* new > old and new >= old * 110 / 100 */
		struct u256 thr, f = u256_from_u64(110), h100 = u256_from_u64(100);
		u256_mul(&thr, &slot->price, &f);
		u256_divmod(&thr, NULL, &thr, &h100);
		if (u256_cmp(&t->gas_price, &slot->price) <= 0 || u256_cmp(&t->gas_price, &thr) < 0)
			return TXPOOL_ERR_REPLACE_UNDERPRICED;
	}
	slot->used = 1;
	memcpy(slot->hash, h, 32);
	slot->price = t->gas_price;
	slot->cost = *cost;
	return TXPOOL_OK;
}

static void m_reset(void)
{
	for (unsigned a = 0; a < M_ACCTS; a++) {
		struct m_acct *m = &model[a];
		for (uint64_t n = 0; n < M_NONCES; n++) {
			struct m_tx *x = &m->tx[n];
			if (x->used && (n < m->nonce || u256_cmp(&x->cost, &m->bal) > 0))
				x->used = 0;
		}
	}
}

static size_t m_run(unsigned a)
{
	size_t k = 0;
	while (model[a].nonce + k < M_NONCES && model[a].tx[model[a].nonce + k].used)
		k++;
	return k;
}

/* The pool's pending and queued sets equal the model's. */
static void compare(struct txpool *p, size_t step)
{
	size_t want_p = 0, want_q = 0;
	for (unsigned a = 0; a < M_ACCTS; a++) {
		size_t run = m_run(a), all = 0;
		for (uint64_t n = 0; n < M_NONCES; n++)
			all += model[a].tx[n].used;
		want_p += run;
		want_q += all - run;
	}
	size_t np, nq;
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np, want_p, "step %zu: pending %zu, model %zu", step, np, want_p);
	cr_assert_eq(nq, want_q, "step %zu: queued %zu, model %zu", step, nq, want_q);

	struct txpool_tx **v;
	size_t n;
	for (int pass = 0; pass < 2; pass++) {
		cr_assert_eq(txpool_content(p, pass ? TXPOOL_QUEUED : TXPOOL_PENDING, &v, &n), 0);
		cr_assert_eq(n, pass ? want_q : want_p);
		for (size_t i = 0; i < n; i++) {
			unsigned a;
			uint64_t nonce;
			cr_assert(m_find_hash(v[i]->hash, &a, &nonce), "step %zu: pool holds an unknown tx", step);
			cr_assert_eq(nonce, v[i]->tx.nonce);
			int is_pending = nonce - model[a].nonce < m_run(a);
			cr_assert_eq(is_pending, !pass, "step %zu: account %u nonce %llu pending %d", step, a,
			             (unsigned long long)nonce, is_pending);
		}
		txpool_txs_release(v, n);
	}
}

/* Checks txpool_select against a naive greedy pick over the model. */
static void check_select(struct txpool *p)
{
	struct txpool_tx **v;
	size_t n;
	cr_assert_eq(txpool_select(p, 30000000, 100000, &v, &n), 0);
	size_t next[M_ACCTS] = {0}, run[M_ACCTS];
	size_t total = 0;
	for (unsigned a = 0; a < M_ACCTS; a++)
		total += run[a] = m_run(a);
	cr_assert_eq(n, total);
	for (size_t i = 0; i < n; i++) {
		/* The best price among heads; ties go by arrival, which the
		 * model does not know, so only the price is compared. */
		struct u256 best = u256_from_u64(0);
		for (unsigned a = 0; a < M_ACCTS; a++)
			if (next[a] < run[a]) {
				struct m_tx *x = &model[a].tx[model[a].nonce + next[a]];
				if (u256_cmp(&x->price, &best) > 0)
					best = x->price;
			}
		cr_assert(u256_eq(&v[i]->tx.gas_price, &best), "selection %zu is not the best head", i);
		unsigned a;
		uint64_t nonce;
		cr_assert(m_find_hash(v[i]->hash, &a, &nonce));
		cr_assert_eq(nonce, model[a].nonce + next[a], "selection %zu out of nonce order", i);
		next[a]++;
	}
	txpool_txs_release(v, n);
}

static void run_model(uint64_t seed, size_t steps)
{
	static const uint64_t prices[] = {100, 104, 105, 110, 111, 121, 150, 300};
	static const uint64_t values[] = {0, 1, 3, 6};
	struct cn_prng rng;
	cn_prng_seed(&rng, seed);
	ms_init(&mst);
	memset(model, 0, sizeof model);
	for (unsigned a = 0; a < M_ACCTS; a++) {
		model[a].nonce = cn_prng_uniform(&rng, 3);
		model[a].bal = ether(1 + cn_prng_uniform(&rng, 12));
		ms_set(&mst, a, model[a].nonce, model[a].bal);
	}
	struct txpool_config c;
	txpool_config_default(&c, tp_mainnet(), 0);
	c.global_slots = c.global_queue = c.account_queue = 100000;
	struct txpool_state_reader r = ms_reader(&mst);
	struct txpool *p;
	cr_assert_eq(txpool_new(&p, &c, &r), 0);

	size_t counts[TXPOOL_REASON_COUNT] = {0};
	for (size_t step = 0; step < steps; step++) {
		uint64_t op = cn_prng_uniform(&rng, 100);
		if (op < 75) {
			unsigned a = (unsigned)cn_prng_uniform(&rng, M_ACCTS);
			uint64_t lo = model[a].nonce ? model[a].nonce - 1 : 0;
			uint64_t nonce = lo + cn_prng_uniform(&rng, 7);
			if (nonce >= M_NONCES)
				continue;
			struct tx t = tp_signed(a, nonce, prices[cn_prng_uniform(&rng, 8)],
			                        ether(values[cn_prng_uniform(&rng, 4)]));
			uint8_t h[32];
			cr_assert_eq(tx_hash(&t, h), 0);
			struct u256 cost, gl = u256_from_u64(t.gas_limit);
			u256_mul(&cost, &gl, &t.gas_price);
			u256_add(&cost, &cost, &t.value);
			enum txpool_reason want = m_add(a, &t, h, &cost);
			struct txpool_result res;
			int rc = txpool_add(p, &t, &res);
			cr_assert_eq(res.reason, want, "step %zu: pool says %s, model %s", step, res.msg,
			             txpool_reason_str(want));
			cr_assert_eq(rc == 0, want == TXPOOL_OK);
			counts[want]++;
			tx_free(&t);
		} else if (op < 88) {
			/* A block: some accounts advance and pay. */
			for (unsigned a = 0; a < M_ACCTS; a++) {
				if (cn_prng_uniform(&rng, 3))
					continue;
				/* Nonces stop short of the model's table so that long
				 * runs keep adding. */
				if (model[a].nonce + 16 < M_NONCES)
					model[a].nonce += cn_prng_uniform(&rng, 3);
				model[a].bal = ether(cn_prng_uniform(&rng, 12));
				ms_set(&mst, a, model[a].nonce, model[a].bal);
			}
			cr_assert_eq(txpool_reset(p, 0), 0);
			m_reset();
		} else if (op < 96) {
			/* Remove a random held transaction. */
			unsigned a = (unsigned)cn_prng_uniform(&rng, M_ACCTS);
			for (uint64_t n = 0; n < M_NONCES; n++) {
				if (!model[a].tx[n].used)
					continue;
				cr_assert_eq(txpool_remove(p, model[a].tx[n].hash), 0);
				model[a].tx[n].used = 0;
				break;
			}
		} else {
			check_select(p);
		}
		compare(p, step);
	}
	check_select(p);
	txpool_free(p);
	cr_assert(counts[TXPOOL_OK] > steps / 10, "too few admissions to mean anything");
	cr_assert(counts[TXPOOL_ERR_REPLACE_UNDERPRICED] && counts[TXPOOL_ERR_NONCE_TOO_LOW] &&
	          counts[TXPOOL_ERR_INSUFFICIENT_FUNDS], "every model path was taken");
}

Test(txpool_model, random_operations_match_the_model)
{
	size_t steps = tu_long() ? 20000 : 1500;
	for (uint64_t seed = 1; seed <= 3; seed++)
		run_model(seed, steps);
	tu_report("txpool model steps", 3 * steps);
}

/* ---- tight limits: invariants only --------------------------------------- */

Test(txpool_model, limits_hold_under_random_load)
{
	struct cn_prng rng;
	cn_prng_seed(&rng, 99);
	ms_init(&mst);
	enum { NA = 40 };
	for (unsigned a = 0; a < NA; a++)
		ms_set(&mst, a, 0, ether(1000));
	struct txpool_config c;
	txpool_config_default(&c, tp_mainnet(), 0);
	c.global_slots = 24;
	c.global_queue = 10;
	c.account_slots = 3;
	c.account_queue = 4;
	struct txpool_state_reader r = ms_reader(&mst);
	struct txpool *p;
	cr_assert_eq(txpool_new(&p, &c, &r), 0);
	uint64_t nonce_hint[NA] = {0};
	size_t steps = tu_long() ? 8000 : 1200;
	for (size_t step = 0; step < steps; step++) {
		unsigned a = (unsigned)cn_prng_uniform(&rng, NA);
		uint64_t nonce = nonce_hint[a] + cn_prng_uniform(&rng, 8);
		struct tx t = tp_signed(a, nonce, 100 + cn_prng_uniform(&rng, 400), ether(0));
		struct txpool_result res;
		txpool_add(p, &t, &res);
		tx_free(&t);
		if (cn_prng_uniform(&rng, 20) == 0) {
			/* Mine: each account's nonce jumps to its pending nonce. */
			for (unsigned b = 0; b < NA; b++) {
				uint8_t addr[20];
				tp_addr(b, addr);
				uint64_t pn;
				cr_assert_eq(txpool_pending_nonce(p, addr, &pn), 0);
				nonce_hint[b] = pn;
				ms_set(&mst, b, pn, ether(1000));
			}
			cr_assert_eq(txpool_reset(p, 0), 0);
		}
		size_t np, nq;
		txpool_stats(p, &np, &nq);
		cr_assert(np + nq <= c.global_slots + c.global_queue);
		cr_assert(nq <= c.global_queue);
		/* Pending may exceed global_slots only while nobody is above
		 * account_slots; each account's queue stays within its cap and
		 * its pending run is contiguous. */
		struct txpool_tx **v;
		size_t n;
		cr_assert_eq(txpool_content(p, TXPOOL_PENDING, &v, &n), 0);
		cr_assert_eq(n, np);
		size_t run = 0, maxrun = 0;
		for (size_t i = 0; i < n; i++) {
			if (i && !memcmp(v[i]->sender, v[i - 1]->sender, 20)) {
				cr_assert_eq(v[i]->tx.nonce, v[i - 1]->tx.nonce + 1);
				run++;
			} else {
				run = 1;
			}
			if (run > maxrun)
				maxrun = run;
		}
		if (np > c.global_slots)
			cr_assert(maxrun <= c.account_slots, "step %zu: %zu pending, an account has %zu", step,
			          np, maxrun);
		txpool_txs_release(v, n);
		cr_assert_eq(txpool_content(p, TXPOOL_QUEUED, &v, &n), 0);
		run = 0;
		for (size_t i = 0; i < n; i++) {
			run = i && !memcmp(v[i]->sender, v[i - 1]->sender, 20) ? run + 1 : 1;
			cr_assert(run <= c.account_queue);
		}
		txpool_txs_release(v, n);
	}
	txpool_free(p);
}

/* ---- threads --------------------------------------------------------------- */

struct worker {
	struct txpool *p;
	unsigned first, count;
	struct tx *txs;
	size_t ntx, admitted;
};

static void *adder(void *arg)
{
	struct worker *w = arg;
	for (size_t i = 0; i < w->ntx; i++) {
		struct txpool_result r;
		if (!txpool_add(w->p, &w->txs[i], &r))
			w->admitted++;
	}
	return NULL;
}

static void *reader(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 200; i++) {
		struct txpool_tx **v;
		size_t n;
		cr_assert_eq(txpool_select(w->p, 30000000, 1000, &v, &n), 0);
		txpool_txs_release(v, n);
		size_t np, nq;
		txpool_stats(w->p, &np, &nq);
		if (i % 20 == 0)
			cr_assert_eq(txpool_reset(w->p, 0), 0);
	}
	return NULL;
}

Test(txpool_model, concurrent_adds_and_reads)
{
	ms_init(&mst);
	enum { THREADS = 4, PER_ACCT = 6, ACCTS = 8 };
	for (unsigned a = 0; a < THREADS * ACCTS; a++)
		ms_set(&mst, a, 0, ether(1000));
	struct txpool_config c;
	txpool_config_default(&c, tp_mainnet(), 0);
	struct txpool_state_reader r = ms_reader(&mst);
	struct txpool *p;
	cr_assert_eq(txpool_new(&p, &c, &r), 0);
	struct worker w[THREADS + 1];
	pthread_t th[THREADS + 1];
	for (unsigned k = 0; k < THREADS; k++) {
		w[k] = (struct worker){.p = p, .first = k * ACCTS, .count = ACCTS};
		w[k].ntx = ACCTS * PER_ACCT;
		w[k].txs = calloc(w[k].ntx, sizeof *w[k].txs);
		/* Nonces in reverse so that promotion happens under contention. */
		for (unsigned a = 0; a < ACCTS; a++)
			for (unsigned n = 0; n < PER_ACCT; n++)
				w[k].txs[a * PER_ACCT + n] = tp_signed(k * ACCTS + a, PER_ACCT - 1 - n, 100, ether(1));
	}
	w[THREADS] = (struct worker){.p = p};
	for (unsigned k = 0; k <= THREADS; k++)
		cr_assert_eq(pthread_create(&th[k], NULL, k < THREADS ? adder : reader, &w[k]), 0);
	for (unsigned k = 0; k <= THREADS; k++)
		pthread_join(th[k], NULL);
	size_t np, nq;
	txpool_stats(p, &np, &nq);
	cr_assert_eq(np, THREADS * ACCTS * PER_ACCT);
	cr_assert_eq(nq, 0);
	for (unsigned k = 0; k < THREADS; k++) {
		cr_assert_eq(w[k].admitted, ACCTS * PER_ACCT);
		for (size_t i = 0; i < w[k].ntx; i++)
			tx_free(&w[k].txs[i]);
		free(w[k].txs);
	}
	txpool_free(p);
}
