/* Block validation: each header check rejected with its own reason and
 * nothing written; export → import reproduces the chain; hostile import
 * files are refused cleanly. */
#include <unistd.h>

#include "helpers.h"

#include "store/store.h"
#include "testutil.h"

static struct tchain T;
static uint8_t sk[4][32], addr[4][20];

static void setup(void)
{
	tchain_new(&T, 0);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(chain_localnet_account(i, sk[i], addr[i]), 0);
}
static void teardown(void) { tchain_free(&T); }

TestSuite(chain_block, .init = setup, .fini = teardown);

static const uint8_t dest[20] = {9, 9, 9};

/* A valid block on the head with n transfers from account 0 (one of them
 * cross-shard), starting at nonce. */
static void make_block(struct block *b, size_t n, uint64_t nonce)
{
	struct tx txs[8];
	cr_assert(n <= 8);
	for (size_t i = 0; i < n; i++) {
		struct u256 v = u256_from_u64(10 + i);
		cr_assert_eq(chain_sign_transfer(&txs[i], chain_params(T.c), 0, i == 1 ? 1 : 0, sk[0],
		                                 nonce + i, dest, &v), 0);
	}
	struct chain_build_opts o = {{1, 2, 3}, 0, 7};
	cr_assert_eq(chain_build(T.c, &o, txs, n, b, NULL), 0);
	cr_assert_eq(b->ntxs, n);
	for (size_t i = 0; i < n; i++)
		tx_free(&txs[i]);
}

static void copy_block(struct block *dst, const struct block *src)
{
	uint8_t *p;
	size_t len;
	cr_assert_eq(block_encode(src, &p, &len), 0);
	cr_assert_eq(block_decode(dst, p, len), 0);
	free(p);
}

/* Inserting b must fail with reason r, leaving the head and db as they were. */
static void expect_reject(const struct block *b, enum chain_reason r, long tx_index)
{
	uint8_t before[32], after[32];
	chain_head_hash(T.c, before);
	struct chain_why w;
	int rc = chain_insert(T.c, b, &w);
	cr_assert_eq(rc, -CN_EINVAL, "wanted '%s', got rc %d", chain_reason_str(r), rc);
	cr_assert_eq(w.reason, r, "wanted '%s', got '%s' (%s)", chain_reason_str(r),
	             chain_reason_str(w.reason), w.msg);
	cr_assert_eq(w.tx_index, tx_index, "%s", w.msg);
	cr_assert(strlen(w.msg) > 0);
	chain_head_hash(T.c, after);
	cr_assert_eq(memcmp(before, after, 32), 0);
	cr_assert_eq(chain_verify_db(T.c, &w), 0, "%s", w.msg);
}

static void retx_root(struct block *b)
{
	cr_assert_eq(block_tx_root(b, b->header.tx_hash), 0);
}

Test(chain_block, every_header_check)
{
	struct block good, b;
	struct chain_why w;
	make_block(&good, 3, 0);
	cr_assert_eq(chain_insert(T.c, &good, &w), 0, "%s", w.msg);
	block_free(&good);
	make_block(&good, 3, 3);

#define MUTATE(stmt, reason)              \
	do {                                  \
		copy_block(&b, &good);            \
		stmt;                             \
		expect_reject(&b, reason, -1);    \
		block_free(&b);                   \
	} while (0)
	MUTATE(b.header.shard_id = 1, CHAIN_R_SHARD);
	MUTATE(b.header.number++, CHAIN_R_NUMBER);
	MUTATE(b.header.number--, CHAIN_R_NUMBER);
	MUTATE(b.header.parent_hash[5] ^= 1, CHAIN_R_PARENT);
	MUTATE(b.header.epoch++, CHAIN_R_EPOCH);
	MUTATE(b.header.time = 1, CHAIN_R_TIME);
	MUTATE(b.header.gas_limit--, CHAIN_R_GAS_LIMIT);
	MUTATE(b.header.gas_used++, CHAIN_R_GAS_USED);
	MUTATE(b.header.gas_used = b.header.gas_limit + 1, CHAIN_R_GAS_USED);
	MUTATE(b.header.tx_hash[0] ^= 1, CHAIN_R_TX_ROOT);
	MUTATE(b.header.receipt_hash[0] ^= 1, CHAIN_R_RECEIPT_ROOT);
	MUTATE(b.header.bloom[100] = 1, CHAIN_R_BLOOM);
	MUTATE(b.header.outgoing_receipt_hash[31] ^= 1, CHAIN_R_OUT_ROOT);
	MUTATE(b.header.incoming_receipt_hash[31] ^= 1, CHAIN_R_IN_ROOT);
	MUTATE(b.header.root[3] ^= 1, CHAIN_R_STATE_ROOT);
	MUTATE((b.header.shard_state.p = malloc(1), b.header.shard_state.p[0] = 0xc0,
	        b.header.shard_state.len = 1), CHAIN_R_UNSUPPORTED);
	/* A tx dropped with the tx root fixed: gas used no longer matches. */
	MUTATE((tx_free(&b.txs[2]), b.ntxs = 2, retx_root(&b)), CHAIN_R_GAS_USED);

	/* Txs out of nonce order: the first is rejected by execution. */
	copy_block(&b, &good);
	struct tx t0 = b.txs[0];
	b.txs[0] = b.txs[2];
	b.txs[2] = t0;
	retx_root(&b);
	expect_reject(&b, CHAIN_R_NONCE_HIGH, 0);
	block_free(&b);
	/* A changed value: the signature now recovers another, fresh sender,
	 * whose nonce is 0, not the tx's 4. */
	copy_block(&b, &good);
	b.txs[1].value.w[0]++;
	retx_root(&b);
	expect_reject(&b, CHAIN_R_NONCE_HIGH, 1);
	block_free(&b);
	/* A tx already in the chain, replayed in the next block. */
	struct block first;
	cr_assert_eq(chain_block_at(T.c, 1, &first), 0);
	copy_block(&b, &good);
	tx_free(&b.txs[0]);
	uint8_t *p;
	size_t len;
	cr_assert_eq(tx_encode(&first.txs[0], &p, &len), 0);
	cr_assert_eq(tx_decode(&b.txs[0], p, len), 0);
	free(p);
	block_free(&first);
	retx_root(&b);
	expect_reject(&b, CHAIN_R_DUPLICATE_TX, 0);
	block_free(&b);

	/* After all of that, the good block still goes in. */
	cr_assert_eq(chain_insert(T.c, &good, &w), 0, "%s", w.msg);
	cr_assert_eq(chain_head(T.c)->number, 2);
	/* And cannot go in twice. */
	expect_reject(&good, CHAIN_R_NUMBER, -1);
	block_free(&good);
	cr_assert_eq(chain_verify_db(T.c, &w), 0, "%s", w.msg);
}

/* Writes blocks from..to of T into path. */
static void export_to(const char *path, uint64_t from, uint64_t to)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	for (uint64_t n = from; n <= to; n++) {
		uint8_t *p;
		size_t len;
		cr_assert_eq(chain_block_rlp_at(T.c, n, &p, &len), 0);
		cr_assert_eq(fwrite(p, 1, len, f), len);
		free(p);
	}
	cr_assert_eq(fclose(f), 0);
}

static int import_from(struct tchain *t, const char *path, struct chain_import_stats *st,
                       struct chain_why *w)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f);
	int rc = chain_import(t->c, f, st, w);
	fclose(f);
	return rc;
}

Test(chain_block, export_import_reproduces_head)
{
	struct chain_why w;
	cr_assert_eq(chain_gen_blocks(T.c, 6, 40, 20, 42, &w), 0, "%s", w.msg);
	cr_assert_eq(chain_head(T.c)->number, 6);
	char path[300];
	snprintf(path, sizeof path, "%s/export.rlp", T.dir);
	export_to(path, 1, 6);

	struct tchain U;
	tchain_new(&U, 0);
	struct chain_import_stats st;
	cr_assert_eq(import_from(&U, path, &st, &w), 0, "%s", w.msg);
	cr_assert_eq(st.imported, 6);
	uint8_t a[32], b[32];
	chain_head_hash(T.c, a);
	chain_head_hash(U.c, b);
	cr_assert_eq(memcmp(a, b, 32), 0);
	cr_assert_eq(memcmp(chain_head(T.c)->root, chain_head(U.c)->root, 32), 0);
	cr_assert_eq(chain_verify_db(U.c, &w), 0, "%s", w.msg);
	/* Importing again skips every block. */
	cr_assert_eq(import_from(&U, path, &st, &w), 0, "%s", w.msg);
	cr_assert_eq(st.imported, 0);
	cr_assert_eq(st.skipped, 6);
	/* Survives close and reopen. */
	tchain_close(&U);
	tchain_open_at(&U, U.dir, 0, 0);
	chain_head_hash(U.c, b);
	cr_assert_eq(memcmp(a, b, 32), 0);
	cr_assert_eq(chain_verify_db(U.c, &w), 0, "%s", w.msg);
	tchain_free(&U);
}

/* Imports a file made of the first `keep` bytes of blocks 1..n, then
 * arbitrary tail bytes. */
Test(chain_block, hostile_import_files)
{
	struct chain_why w;
	cr_assert_eq(chain_gen_blocks(T.c, 4, 10, 0, 7, &w), 0, "%s", w.msg);
	char path[300], bad[300];
	snprintf(path, sizeof path, "%s/export.rlp", T.dir);
	snprintf(bad, sizeof bad, "%s/bad.rlp", T.dir);
	export_to(path, 1, 4);
	size_t len;
	uint8_t *all = tu_read_file(path, &len);
	/* Sizes of each block's encoding, to cut inside block 3. */
	size_t off[5] = {0};
	for (uint64_t n = 1; n <= 4; n++) {
		uint8_t *p;
		size_t l;
		cr_assert_eq(chain_block_rlp_at(T.c, n, &p, &l), 0);
		off[n] = off[n - 1] + l;
		free(p);
	}
	cr_assert_eq(off[4], len);

	struct {
		const char *what;
		size_t cut;           /* bytes of the good file kept */
		int flip;             /* flip a byte inside block 3 */
		const char *tail;     /* bytes appended */
		size_t tail_len;
		uint64_t head_after;
		enum chain_reason reason;
	} cases[] = {
		{"garbage first", 0, 0, "hello world", 11, 0, CHAIN_R_DECODE},
		{"truncated in block 3", off[2] + 50, 0, NULL, 0, 2, CHAIN_R_DECODE},
		{"flipped byte in block 3", len, 1, NULL, 0, 2, CHAIN_R_DECODE},
		{"huge length claim", off[1], 0, "\xfb\xff\xff\xff\xff", 5, 1, CHAIN_R_DECODE},
		{"a string, not a list", off[1], 0, "\x83\x01\x02\x03", 4, 1, CHAIN_R_DECODE},
		{"empty list", off[1], 0, "\xc0", 1, 1, CHAIN_R_DECODE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		FILE *f = fopen(bad, "wb");
		cr_assert_not_null(f);
		uint8_t *copy = malloc(len);
		memcpy(copy, all, len);
		if (cases[i].flip)
			copy[off[2] + (off[3] - off[2]) / 2] ^= 0x40;
		fwrite(copy, 1, cases[i].cut, f);
		if (cases[i].tail)
			fwrite(cases[i].tail, 1, cases[i].tail_len, f);
		fclose(f);
		free(copy);
		struct tchain U;
		tchain_new(&U, 0);
		struct chain_import_stats st;
		int rc = import_from(&U, bad, &st, &w);
		cr_assert_neq(rc, 0, "%s accepted", cases[i].what);
		/* A flipped byte may still decode and then fail validation. */
		if (!cases[i].flip)
			cr_assert_eq(w.reason, cases[i].reason, "%s: %s", cases[i].what, w.msg);
		cr_assert_eq(chain_head(U.c)->number, cases[i].head_after, "%s", cases[i].what);
		cr_assert_eq(st.imported, cases[i].head_after);
		cr_assert_eq(chain_verify_db(U.c, &w), 0, "%s: %s", cases[i].what, w.msg);
		/* The rest of the good file still imports afterwards. */
		cr_assert_eq(import_from(&U, path, &st, &w), 0, "%s: %s", cases[i].what, w.msg);
		cr_assert_eq(chain_head(U.c)->number, 4);
		tchain_free(&U);
	}
	/* A valid chain of another shard is refused at its first block. */
	struct tchain V;
	tchain_new(&V, 1);
	struct chain_import_stats st;
	cr_assert_eq(import_from(&V, path, &st, &w), -CN_EINVAL);
	cr_assert_eq(w.reason, CHAIN_R_SHARD, "%s", w.msg);
	cr_assert_eq(st.item, 1);
	cr_assert_eq(chain_head(V.c)->number, 0);
	tchain_free(&V);
	free(all);
}

Test(chain_block, too_many_txs_refused_before_recovery)
{
	struct block b;
	make_block(&b, 1, 0);
	tx_free(&b.txs[0]);
	free(b.txs);
	b.ntxs = CHAIN_MAX_BLOCK_TXS + 1;
	b.txs = calloc(b.ntxs, sizeof *b.txs);   /* zeroed: never signed, never looked at */
	expect_reject(&b, CHAIN_R_TOO_MANY_TXS, -1);
	block_free(&b);
}

/* A genesis account with code: transfers to it need the EVM. */
Test(chain_block, transfer_to_code_refused)
{
	struct tchain U;
	char d[] = "/tmp/canon-chain-XXXXXX";
	cr_assert_not_null(mkdtemp(d));
	snprintf(U.dir, sizeof U.dir, "%s", d);
	cr_assert_eq(store_open_chain(&U.st, U.dir, "localnet", 0, NULL), 0);
	struct chain_genesis g;
	cr_assert_eq(chain_genesis_default(&g, "localnet", 0), 0);
	static const uint8_t code[] = {0x60, 0x00, 0x60, 0x00, 0xf3};   /* RETURN(0, 0) */
	g.alloc = realloc(g.alloc, (g.nalloc + 1) * sizeof *g.alloc);
	memset(&g.alloc[g.nalloc], 0, sizeof g.alloc[0]);
	memcpy(g.alloc[g.nalloc].addr, dest, 20);
	g.alloc[g.nalloc].code = code;
	g.alloc[g.nalloc].code_len = sizeof code;
	g.nalloc++;
	uint8_t h[32];
	cr_assert_eq(chain_init(U.st, &g, h), 0);
	cr_assert_eq(chain_open(&U.c, U.st, g.np, 0), 0);
	struct tx tx;
	struct u256 v = u256_from_u64(1);
	cr_assert_eq(chain_sign_transfer(&tx, g.np, 0, 0, sk[0], 0, dest, &v), 0);
	struct block b;
	struct chain_build_opts o = {{0}, 0, 0};
	enum chain_reason why;
	cr_assert_eq(chain_build(U.c, &o, &tx, 1, &b, &why), 0);
	cr_assert_eq(why, CHAIN_R_CODE_CALL);
	cr_assert_eq(b.ntxs, 0);
	block_free(&b);
	/* Cross-shard to the same address is only a debit here: allowed. */
	tx_free(&tx);
	cr_assert_eq(chain_sign_transfer(&tx, g.np, 0, 1, sk[0], 0, dest, &v), 0);
	cr_assert_eq(chain_build(U.c, &o, &tx, 1, &b, &why), 0);
	cr_assert_eq(why, CHAIN_OK);
	block_free(&b);
	tx_free(&tx);
	chain_genesis_free(&g);
	tchain_free(&U);
}
