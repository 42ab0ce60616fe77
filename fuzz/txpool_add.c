/* Fuzz target: the transaction pool fed hostile bytes.
 *
 * The input is a sequence of records [len: 2 bytes big-endian][len bytes];
 * each record goes to txpool_add_raw. A record of length 0xffff (no body)
 * is a block: the mock state advances and txpool_reset runs; 0xfffe is a
 * clock tick. Any random r, s usually recovers *some* sender, so random
 * transactions reach the stateful checks. Limits are tiny so eviction,
 * fairness and queue caps run. After every step the pool's totals must
 * match its content and stay within its limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "txpool/txpool.h"

static uint64_t height;

/* Nonce and balance derived from the address and the block height. */
static int f_nonce(void *ctx, const uint8_t a[CORE_ADDR_LEN], uint64_t *n)
{
	*n = (a[0] & 3) + height;
	return 0;
}

static int f_balance(void *ctx, const uint8_t a[CORE_ADDR_LEN], struct u256 *b)
{
	memset(b, 0, sizeof *b);
	if (a[1] & 1)
		b->w[1] = a[2];     /* up to ~4.7e21 atto */
	else
		b->w[0] = (uint64_t)a[2] << 48;
	return 0;
}

static void check(struct txpool *p, const struct txpool_config *c)
{
	size_t np, nq, n1, n2;
	struct txpool_tx **v;
	txpool_stats(p, &np, &nq);
	if (np + nq > c->global_slots + c->global_queue || nq > c->global_queue)
		abort();
	if (txpool_content(p, TXPOOL_PENDING, &v, &n1))
		abort();
	for (size_t i = 1; i < n1; i++)
		if (!memcmp(v[i]->sender, v[i - 1]->sender, 20) && v[i]->tx.nonce != v[i - 1]->tx.nonce + 1)
			abort();
	txpool_txs_release(v, n1);
	if (txpool_content(p, TXPOOL_QUEUED, &v, &n2))
		abort();
	txpool_txs_release(v, n2);
	if (n1 != np || n2 != nq)
		abort();
	if (txpool_select(p, 30000000, 1000, &v, &n1))
		abort();
	for (size_t i = 0; i < n1; i++)
		if (txpool_status(p, v[i]->hash) != TXPOOL_PENDING)
			abort();
	txpool_txs_release(v, n1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct netparams *np;
	if (netparams_get("localnet", &np))
		abort();
	struct txpool_config c;
	txpool_config_default(&c, np, 0);
	c.global_slots = 6;
	c.global_queue = 4;
	c.account_slots = 2;
	c.account_queue = 2;
	c.lifetime_ms = 10;
	struct txpool_state_reader r = {NULL, f_nonce, f_balance};
	struct txpool *p;
	height = 0;
	if (txpool_new(&p, &c, &r))
		abort();
	uint64_t now = 0;
	size_t steps = 0;
	while (size >= 2 && steps++ < 64) {
		size_t len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len == 0xffff) {
			height++;
			txpool_reset(p, 0);
		} else if (len == 0xfffe) {
			txpool_tick(p, now += 7);
		} else {
			if (len > size)
				len = size;
			struct txpool_result res;
			int rc = txpool_add_raw(p, data, len, &res);
			if ((rc == 0) != (res.reason == TXPOOL_OK) || !res.msg[0])
				abort();
			if (rc == 0 && txpool_status(p, res.hash) == TXPOOL_UNKNOWN)
				abort();
			data += len;
			size -= len;
		}
		check(p, &c);
	}
	txpool_free(p);
	return 0;
}
