/* tp_helpers.h — signed transactions and a mock account state for the
 * txpool tests (static functions, included by each test file). */
#ifndef CANON_TESTS_TP_HELPERS_H
#define CANON_TESTS_TP_HELPERS_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/u256.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "txpool/txpool.h"

#define GWEI 1000000000ull
#define ONE_E18 1000000000000000000ull
#define TP_MAX_ACCTS 512

/* A mock state: a fixed table of accounts, guarded so that the thread test
 * can change it while the pool reads it. */
struct mock_state {
	pthread_mutex_t mu;
	size_t n;
	uint8_t addr[TP_MAX_ACCTS][20];
	uint64_t nonce[TP_MAX_ACCTS];
	struct u256 bal[TP_MAX_ACCTS];
	int fail;                       /* reader returns -CN_EIO */
};

static int ms_find(struct mock_state *m, const uint8_t a[20])
{
	for (size_t i = 0; i < m->n; i++)
		if (!memcmp(m->addr[i], a, 20))
			return (int)i;
	return -1;
}

static int ms_get_nonce(void *ctx, const uint8_t a[20], uint64_t *nonce)
{
	struct mock_state *m = ctx;
	pthread_mutex_lock(&m->mu);
	int i = ms_find(m, a), rc = m->fail ? -CN_EIO : 0;
	*nonce = i >= 0 ? m->nonce[i] : 0;
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int ms_get_balance(void *ctx, const uint8_t a[20], struct u256 *bal)
{
	struct mock_state *m = ctx;
	pthread_mutex_lock(&m->mu);
	int i = ms_find(m, a), rc = m->fail ? -CN_EIO : 0;
	*bal = i >= 0 ? m->bal[i] : u256_from_u64(0);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static void ms_init(struct mock_state *m)
{
	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->mu, NULL);
}

static struct txpool_state_reader ms_reader(struct mock_state *m)
{
	struct txpool_state_reader r = {m, ms_get_nonce, ms_get_balance};
	return r;
}

/* Deterministic secret number i (a valid scalar: top byte 0x42). */
static void tp_key(unsigned i, uint8_t key[32])
{
	memset(key, 0, 32);
	key[0] = 0x42;
	key[29] = (uint8_t)(i >> 16);
	key[30] = (uint8_t)(i >> 8);
	key[31] = (uint8_t)(i + 1);
	key[28] = 0x5a;
}

static void tp_addr(unsigned i, uint8_t addr[20])
{
	uint8_t key[32];
	tp_key(i, key);
	cr_assert_eq(addr_from_secret(key, addr), 0);
}

/* Registers account i in the mock state with a nonce and a balance. */
static void ms_set(struct mock_state *m, unsigned i, uint64_t nonce, struct u256 bal)
{
	uint8_t a[20];
	tp_addr(i, a);
	pthread_mutex_lock(&m->mu);
	int k = ms_find(m, a);
	if (k < 0) {
		cr_assert(m->n < TP_MAX_ACCTS);
		k = (int)m->n++;
		memcpy(m->addr[k], a, 20);
	}
	m->nonce[k] = nonce;
	m->bal[k] = bal;
	pthread_mutex_unlock(&m->mu);
}

static struct u256 gwei(uint64_t g)
{
	struct u256 r = u256_from_u64(g), f = u256_from_u64(GWEI);
	u256_mul(&r, &r, &f);
	return r;
}

static struct u256 ether(uint64_t e)
{
	struct u256 r = u256_from_u64(e), f = u256_from_u64(ONE_E18);
	u256_mul(&r, &r, &f);
	return r;
}

/* An unsigned Harmony-form transfer on mainnet shard 0. */
static struct tx tp_tx(uint64_t nonce, uint64_t price_gwei, struct u256 value)
{
	struct tx t;
	memset(&t, 0, sizeof t);
	t.type = TX_HARMONY;
	t.chain_id = 1;
	t.nonce = nonce;
	t.gas_price = gwei(price_gwei);
	t.gas_limit = 21000;
	t.has_to = 1;
	memset(t.to, 0x77, 20);
	t.value = value;
	return t;
}

static void tp_sign(struct tx *t, unsigned who)
{
	uint8_t key[32];
	tp_key(who, key);
	cr_assert_eq(tx_sign(t, key), 0);
}

/* A signed transfer from account `who`. */
static struct tx tp_signed(unsigned who, uint64_t nonce, uint64_t price_gwei, struct u256 value)
{
	struct tx t = tp_tx(nonce, price_gwei, value);
	tp_sign(&t, who);
	return t;
}

static const struct netparams *tp_mainnet(void)
{
	const struct netparams *np;
	cr_assert_eq(netparams_get("mainnet", &np), 0);
	return np;
}

#endif
