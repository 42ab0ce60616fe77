/* chain_validate: the same verdicts as chain_insert, and no trace left;
 * seals stored with chain_insert_sealed. */
#include "helpers.h"

#include "base/bytes.h"
#include "store/store.h"

static struct tchain T;
static uint8_t sk[CHAIN_LOCALNET_ACCOUNTS][32], addr[CHAIN_LOCALNET_ACCOUNTS][20];
static const uint8_t dest[20] = {0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19};

static void setup(void)
{
	tchain_new(&T, 1);
	for (unsigned i = 0; i < CHAIN_LOCALNET_ACCOUNTS; i++)
		cr_assert_eq(chain_localnet_account(i, sk[i], addr[i]), 0);
}
static void teardown(void) { tchain_free(&T); }

TestSuite(chain_validate, .init = setup, .fini = teardown);

/* A block of n transfers from account 0 starting at nonce. */
static void build(struct block *b, unsigned n, uint64_t nonce)
{
	struct tx txs[8];
	cr_assert(n <= 8);
	for (unsigned i = 0; i < n; i++) {
		struct u256 v = u256_from_u64(1000 + i);
		cr_assert_eq(chain_sign_transfer(&txs[i], chain_params(T.c), 1, 1, sk[0], nonce + i, dest, &v), 0);
	}
	struct chain_build_opts o = {{0}, 0, 0};
	cr_assert_eq(chain_build(T.c, &o, txs, n, b, NULL), 0);
	cr_assert_eq(b->ntxs, n);
	for (unsigned i = 0; i < n; i++)
		tx_free(&txs[i]);
}

static size_t count(int db)
{
	size_t n;
	cr_assert_eq(chain_count(T.c, db, &n), 0);
	return n;
}

Test(chain_validate, valid_block_leaves_no_trace)
{
	struct block b;
	build(&b, 3, 0);
	uint8_t head[32], head2[32];
	chain_head_hash(T.c, head);
	size_t trie = count(STORE_TRIE), lookups = count(STORE_TXLOOKUP);
	struct chain_why why;
	for (int rep = 0; rep < 3; rep++)
		cr_assert_eq(chain_validate(T.c, &b, &why), 0, "%s", why.msg);
	chain_head_hash(T.c, head2);
	cr_assert_arr_eq(head, head2, 32);
	cr_assert_eq(chain_head(T.c)->number, 0);
	cr_assert_eq(count(STORE_TRIE), trie);
	cr_assert_eq(count(STORE_TXLOOKUP), lookups);
	uint64_t nonce;
	cr_assert_eq(chain_nonce(T.c, addr[0], &nonce), 0);
	cr_assert_eq(nonce, 0);
	/* still insertable, and the inserted state is the validated one */
	cr_assert_eq(chain_insert(T.c, &b, &why), 0, "%s", why.msg);
	cr_assert_eq(chain_nonce(T.c, addr[0], &nonce), 0);
	cr_assert_eq(nonce, 3);
	cr_assert_arr_eq(chain_head(T.c)->root, b.header.root, 32);
	/* the same block again no longer extends the head */
	cr_assert_eq(chain_validate(T.c, &b, &why), -CN_EINVAL);
	cr_assert_eq(why.reason, CHAIN_R_NUMBER);
	block_free(&b);
}

/* Validation between inserts must not disturb the chain's cached head
 * state: a block validated then refused, then a good one inserted. */
Test(chain_validate, refusals_match_insert)
{
	struct block b;
	struct chain_why vw, iw;
	build(&b, 2, 0);
	static const struct {
		int field;
		enum chain_reason r;
	} cases[] = {{0, CHAIN_R_STATE_ROOT}, {1, CHAIN_R_RECEIPT_ROOT}, {2, CHAIN_R_GAS_USED},
	             {3, CHAIN_R_PARENT},     {4, CHAIN_R_TX_ROOT},      {5, CHAIN_R_BLOOM}};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct block c;
		uint8_t *enc;
		size_t len;
		cr_assert_eq(block_encode(&b, &enc, &len), 0);
		cr_assert_eq(block_decode(&c, enc, len), 0);
		free(enc);
		switch (cases[k].field) {
		case 0: c.header.root[0] ^= 1; break;
		case 1: c.header.receipt_hash[5] ^= 1; break;
		case 2: c.header.gas_used += 1; break;
		case 3: c.header.parent_hash[0] ^= 1; break;
		case 4: tx_free(&c.txs[1]); c.ntxs = 1; break;
		case 5: c.header.bloom[7] ^= 0x10; break;
		}
		cr_assert_eq(chain_validate(T.c, &c, &vw), -CN_EINVAL, "case %zu", k);
		cr_assert_eq(vw.reason, cases[k].r, "case %zu: %s", k, vw.msg);
		cr_assert_eq(chain_insert(T.c, &c, &iw), -CN_EINVAL);
		cr_assert_eq(iw.reason, vw.reason, "case %zu", k);
		block_free(&c);
	}
	cr_assert_eq(chain_head(T.c)->number, 0);
	cr_assert_eq(chain_validate(T.c, &b, &vw), 0, "%s", vw.msg);
	cr_assert_eq(chain_insert(T.c, &b, &iw), 0, "%s", iw.msg);
	block_free(&b);
	/* the next block validates on the new head */
	struct block d;
	build(&d, 1, 2);
	cr_assert_eq(chain_validate(T.c, &d, &vw), 0, "%s", vw.msg);
	block_free(&d);
}

Test(chain_validate, seal_stored_with_block)
{
	struct block b;
	struct chain_why why;
	uint8_t *s;
	size_t sl;
	build(&b, 1, 0);
	static const uint8_t seal[] = "commit certificate bytes";
	cr_assert_eq(chain_seal_at(T.c, 1, &s, &sl), -CN_ENOTFOUND);
	/* a refused block leaves no seal */
	b.header.root[0] ^= 1;
	cr_assert_eq(chain_insert_sealed(T.c, &b, seal, sizeof seal, &why), -CN_EINVAL);
	cr_assert_eq(chain_seal_at(T.c, 1, &s, &sl), -CN_ENOTFOUND);
	b.header.root[0] ^= 1;
	cr_assert_eq(chain_insert_sealed(T.c, &b, seal, sizeof seal, &why), 0, "%s", why.msg);
	cr_assert_eq(chain_seal_at(T.c, 1, &s, &sl), 0);
	cr_assert_eq(sl, sizeof seal);
	cr_assert_arr_eq(s, seal, sl);
	free(s);
	cr_assert_eq(chain_seal_at(T.c, 0, &s, &sl), -CN_ENOTFOUND);
	block_free(&b);
	struct chain_why vw;
	cr_assert_eq(chain_verify_db(T.c, &vw), 0, "%s", vw.msg);
}

static unsigned lookups, hits;

/* Knows account 0's txs (the only sender in these blocks) every other call. */
static int lookup(void *ctx, const uint8_t h[32], uint8_t sender[20])
{
	(void)h;
	lookups++;
	if (lookups % 2)
		return -CN_ENOTFOUND;
	hits++;
	memcpy(sender, ctx, 20);
	return 0;
}

Test(chain_validate, sender_lookup_used_by_build_validate_insert)
{
	chain_set_sender_lookup(T.c, lookup, addr[0]);
	struct block b;
	struct chain_why why;
	build(&b, 4, 0);
	cr_assert_eq(lookups, 4);
	cr_assert_eq(chain_validate(T.c, &b, &why), 0, "%s", why.msg);
	cr_assert_eq(lookups, 8);
	cr_assert_eq(chain_insert(T.c, &b, &why), 0, "%s", why.msg);
	cr_assert_eq(lookups, 12);
	cr_assert_eq(hits, 6);
	/* the sender it gives is believed: a wrong one shows up in the state */
	struct block c;
	struct tx tx;
	struct u256 v = u256_from_u64(5);
	struct chain_build_opts o = {{0}, 0, 0};
	enum chain_reason r;
	cr_assert_eq(chain_sign_transfer(&tx, chain_params(T.c), 1, 1, sk[0], 4, dest, &v), 0);
	lookups = 1;   /* next call hits */
	chain_set_sender_lookup(T.c, lookup, addr[1]);
	cr_assert_eq(chain_build(T.c, &o, &tx, 1, &c, &r), 0);
	cr_assert_eq(c.ntxs, 0, "tx with nonce 4 applied as account 1's (nonce 0)");
	cr_assert_eq(r, CHAIN_R_NONCE_HIGH);
	tx_free(&tx);
	block_free(&c);
	chain_set_sender_lookup(T.c, NULL, NULL);
	build(&c, 1, 4);
	cr_assert_eq(c.ntxs, 1);
	block_free(&c);
	block_free(&b);
}
