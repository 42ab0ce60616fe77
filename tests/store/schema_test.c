/* Fixed-format records of the chain schema: canonical index, tx lookup,
 * head pointers, and the ordering of (shard, number) keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "store/store.h"

static char dir[256];

static void mk(void)
{
	snprintf(dir, sizeof dir, "/tmp/canon-schema-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store_schema, .init = mk, .fini = rm);

struct walk {
	uint64_t last;
	int n;
};

static int by_height(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	struct walk *w = ctx;
	(void)v;
	(void)vl;
	cr_assert_eq(kl, 12);
	uint64_t num = 0;
	for (int i = 4; i < 12; i++)
		num = num << 8 | k[i];
	if (w->n)
		cr_assert_gt(num, w->last, "keys out of numeric order");
	w->last = num;
	w->n++;
	return 0;
}

Test(store_schema, records_round_trip_and_order)
{
	struct store *s;
	struct store_txn *t;
	cr_assert_eq(store_open(&s, dir, NULL), 0);
	cr_assert_eq(store_begin(s, 1, &t), 0);
	uint8_t h[32], bh[32], got[32];
	memset(h, 0xab, 32);
	memset(bh, 0xcd, 32);
	cr_assert_eq(store_canon_put(t, 7, h), 0);
	cr_assert_eq(store_txlookup_put(t, h, bh, 7, 3), 0);
	cr_assert_eq(store_head_put(t, "head_block", bh), 0);
	cr_assert_eq(store_head_put(t, "", bh), -CN_EINVAL);
	/* Heights chosen so that little-endian or decimal keys would misorder. */
	uint64_t nums[] = {256, 1, 65536, 255, 2, 1ull << 40};
	for (size_t i = 0; i < 6; i++) {
		uint8_t k[12];
		store_key_shard_num(k, 1, nums[i]);
		cr_assert_eq(store_put(t, STORE_CROSSLINKS, k, 12, "x", 1), 0);
		store_key_shard_num(k, 2, nums[i]);
		cr_assert_eq(store_put(t, STORE_CROSSLINKS, k, 12, "y", 1), 0);
	}
	cr_assert_eq(store_commit(t), 0);

	cr_assert_eq(store_begin(s, 0, &t), 0);
	cr_assert_eq(store_canon_get(t, 7, got), 0);
	cr_assert(memcmp(got, h, 32) == 0);
	cr_assert_eq(store_canon_get(t, 8, got), -CN_ENOTFOUND);
	uint64_t num;
	uint32_t idx;
	cr_assert_eq(store_txlookup_get(t, h, got, &num, &idx), 0);
	cr_assert(memcmp(got, bh, 32) == 0);
	cr_assert_eq(num, 7);
	cr_assert_eq(idx, 3);
	cr_assert_eq(store_head_get(t, "head_block", got), 0);
	cr_assert(memcmp(got, bh, 32) == 0);
	cr_assert_eq(store_head_get(t, "head_header", got), -CN_ENOTFOUND);
	uint8_t prefix[4] = {0, 0, 0, 1};
	struct walk w = {0};
	cr_assert_eq(store_iterate(t, STORE_CROSSLINKS, prefix, 4, by_height, &w), 0);
	cr_assert_eq(w.n, 6);
	cr_assert_eq(w.last, 1ull << 40);
	store_abort(t);

	/* A malformed record (wrong length) is an error, not garbage. */
	cr_assert_eq(store_begin(s, 1, &t), 0);
	uint8_t k[8];
	store_key_num(k, 9);
	cr_assert_eq(store_put(t, STORE_CANON, k, 8, "short", 5), 0);
	cr_assert_eq(store_canon_get(t, 9, got), -CN_EINVAL);
	cr_assert_eq(store_canon_del(t, 7), 0);
	cr_assert_eq(store_canon_get(t, 7, got), -CN_ENOTFOUND);
	cr_assert_eq(store_commit(t), 0);
	store_close(s);
}
