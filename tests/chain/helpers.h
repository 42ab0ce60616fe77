/* helpers.h — a fresh localnet chain in a temporary directory for each test. */
#ifndef CANON_TESTS_CHAIN_HELPERS_H
#define CANON_TESTS_CHAIN_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "chain/chain.h"
#include "store/store.h"

struct tchain {
	char dir[256];
	struct store *st;
	struct chain *c;
	uint32_t shard;
};

static inline void tchain_open_at(struct tchain *t, const char *dir, uint32_t shard, int init)
{
	struct chain_genesis g;
	const struct netparams *np;
	t->shard = shard;
	if (dir != t->dir)
		snprintf(t->dir, sizeof t->dir, "%s", dir);
	cr_assert_eq(store_open_chain(&t->st, t->dir, "localnet", shard, NULL), 0);
	if (init) {
		uint8_t h[32];
		cr_assert_eq(chain_genesis_default(&g, "localnet", shard), 0);
		cr_assert_eq(chain_init(t->st, &g, h), 0);
		chain_genesis_free(&g);
	}
	cr_assert_eq(netparams_get("localnet", &np), 0);
	cr_assert_eq(chain_open(&t->c, t->st, np, shard), 0);
}

static inline void tchain_new(struct tchain *t, uint32_t shard)
{
	char d[] = "/tmp/canon-chain-XXXXXX";
	cr_assert_not_null(mkdtemp(d));
	snprintf(t->dir, sizeof t->dir, "%s", d);
	tchain_open_at(t, t->dir, shard, 1);
}

static inline void tchain_close(struct tchain *t)
{
	chain_close(t->c);
	store_close(t->st);
	t->c = NULL;
	t->st = NULL;
}

static inline void tchain_free(struct tchain *t)
{
	tchain_close(t);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
	cr_assert_eq(system(cmd), 0);
}

#endif
