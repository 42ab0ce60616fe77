/* Account state: account RLP, state roots against ethereum/tests and against
 * @ethereumjs/trie, journal and nested reverts, persistence across reopening
 * the LMDB environment, atomicity with the caller's transaction, and the flat
 * account index agreeing with the trie. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "crypto/crypto.h"
#include "state/state.h"
#include "store/store.h"
#include "trie/trie.h"
#include "testutil.h"

static char tmpdir[256];

static void mk_tmp(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/canon-state-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(state, .init = mk_tmp, .fini = rm_tmp);

static struct store *open_store(void)
{
	struct store *st;
	cr_assert_eq(store_open(&st, tmpdir, NULL), 0);
	return st;
}

static struct store_txn *begin(struct store *st, int write)
{
	struct store_txn *t;
	cr_assert_eq(store_begin(st, write, &t), 0);
	return t;
}

static void addr_n(uint8_t a[20], uint64_t n)
{
	memset(a, 0, 20);
	store_be64(a + 12, n);
	a[0] = 0xaa;
}

static void slot_n(uint8_t s[32], uint64_t n)
{
	memset(s, 0, 32);
	store_be64(s + 24, n);
}

static void hexto(const char *hex, uint8_t *out, size_t n)
{
	size_t got;
	cr_assert_eq(hex_decode(hex, strlen(hex), out, n, &got), 0);
	cr_assert_eq(got, n, "%s", hex);
}

static int is_zero(const uint8_t v[32])
{
	for (int i = 0; i < 32; i++)
		if (v[i])
			return 0;
	return 1;
}

static struct u256 U(uint64_t v)
{
	return u256_from_u64(v);
}

/* ---- account encoding --------------------------------------------------- */

Test(state, account_rlp)
{
	struct state_account a, b;
	uint8_t buf[STATE_ACCOUNT_RLP_MAX], want[70];
	size_t n;

	/* The empty account: [0x80, 0x80, emptyRoot, emptyCodeHash]. */
	state_account_init(&a);
	n = state_account_encode(&a, buf);
	hexto("f8448080a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
	      "a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", want, 70);
	cr_assert_eq(n, 70);
	cr_assert(memcmp(buf, want, n) == 0);
	cr_assert_eq(state_account_decode(buf, n, &b), 0);
	cr_assert(memcmp(&a, &b, sizeof a) == 0);

	/* Largest values take the longest form. */
	a.nonce = UINT64_MAX;
	u256_not(&a.balance, &a.balance);
	n = state_account_encode(&a, buf);
	cr_assert_eq(n, 2 + 9 + 33 + 33 + 33);
	cr_assert_leq(n, STATE_ACCOUNT_RLP_MAX);
	cr_assert_eq(state_account_decode(buf, n, &b), 0);
	cr_assert(memcmp(&a, &b, sizeof a) == 0);

	/* Non-canonical or malformed encodings are refused. */
	uint8_t bad[80];
	memcpy(bad, want, 70);
	bad[2] = 0x00; /* nonce 0 written as a 0x00 byte */
	cr_assert_neq(state_account_decode(bad, 70, &b), 0);
	memcpy(bad, want, 70);
	bad[70] = 0x80; /* trailing byte */
	cr_assert_neq(state_account_decode(bad, 71, &b), 0);
	cr_assert_neq(state_account_decode(want, 69, &b), 0);
	/* Three items, five items, a 31-byte root, a string instead of a list. */
	const char *cases[] = {
		"e38080a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
		"f845808080a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
		"a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
		"f8438080"
		"9f56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b4"
		"a0c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
		"8180",
		"c0",
		"",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t l;
		uint8_t *p = tu_hex(cases[i], &l);
		cr_assert_neq(state_account_decode(p, l, &b), 0, "case %zu accepted", i);
		free(p);
	}
}

Test(state, empty_state_root)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	uint8_t root[32];
	cr_assert_eq(state_open(&s, t, NULL), 0);
	cr_assert_eq(state_root(s, root), 0);
	cr_assert(memcmp(root, trie_empty_root, 32) == 0);
	/* Reading absent accounts changes nothing. */
	uint8_t a[20];
	addr_n(a, 1);
	struct u256 b;
	int ex;
	cr_assert_eq(state_get_balance(s, a, &b), 0);
	cr_assert(u256_is_zero(&b));
	cr_assert_eq(state_exists(s, a, &ex), 0);
	cr_assert_eq(ex, 0);
	cr_assert_eq(state_commit(s, root), 0);
	cr_assert(memcmp(root, trie_empty_root, 32) == 0);
	cr_assert_eq(state_flat_root(t, root), 0);
	cr_assert(memcmp(root, trie_empty_root, 32) == 0);
	/* A state needs a transaction. */
	struct state *s2;
	cr_assert_eq(state_open(&s2, NULL, NULL), -CN_EINVAL);
	state_free(s);
	cr_assert_eq(store_commit(t), 0);
	store_close(st);
}

/* ---- known Ethereum state roots ----------------------------------------- */

/* ethereum/tests, BlockchainTests/ValidBlocks/bcExample/shanghaiExample.json,
 * test shanghaiExample_Cancun (commit 07f85aafbf29): the genesis allocation
 * ("pre", genesis stateRoot c9f38211…) and the state after block 1
 * ("postState", block 1 stateRoot a328ab2b…). Both roots come from the
 * fixture's block headers, computed by evmone/retesteth. */
struct vacct {
	const char *addr, *nonce, *balance, *code;
	const char *slots[2][2];
};

static const char beacon_roots_code[] =
	"3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762"
	"001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f3590"
	"62001fff015500";

static const struct vacct shanghai_pre[] = {
	{"000f3df6d732807ef1319fb7b8bb8522d0beac02", "01", "00", beacon_roots_code, {{"03b6", "03b6"}}},
	{"a94f5374fce5edbc8e2a8697c15331677e6ebf0b", "00", "016345785d8a0000", "", {{0}}},
};
static const struct vacct shanghai_post[] = {
	{"000f3df6d732807ef1319fb7b8bb8522d0beac02", "01", "00", beacon_roots_code,
	 {{"03b6", "03b6"}, {"079e", "079e"}}},
	{"2adc25665018aa1fe0e6bc666dac8fc2697ff9ba", "00", "239148", "", {{0}}},
	{"6295ee1b4f6dd65047762f924ecd367c17eabf8f", "01", "00", "", {{"01", "01"}}},
	{"a94f5374fce5edbc8e2a8697c15331677e6ebf0b", "01", "016345785d5c1b40", "", {{0}}},
	{"c94f5374fce5edbc8e2a8697c15331677e6ebf0b", "00", "09184e72a000", "", {{0}}},
};

/* Big-endian hex of any even length into 32 bytes, right-aligned. */
static void be32(const char *hex, uint8_t out[32])
{
	uint8_t tmp[32];
	size_t n;
	cr_assert_eq(hex_decode(hex, strlen(hex), tmp, 32, &n), 0);
	memset(out, 0, 32);
	memcpy(out + 32 - n, tmp, n);
}

static void apply_vacct(struct state *s, const struct vacct *v)
{
	uint8_t a[20], b[32], k[32], val[32];
	struct u256 bal;
	uint64_t nonce;

	hexto(v->addr, a, 20);
	be32(v->balance, b);
	u256_from_be32(&bal, b);
	be32(v->nonce, b);
	nonce = load_be64(b + 24);
	cr_assert_eq(state_set_balance(s, a, &bal), 0);
	cr_assert_eq(state_set_nonce(s, a, nonce), 0);
	size_t cl = strlen(v->code) / 2;
	uint8_t *code = malloc(cl + 1);
	hexto(v->code, code, cl);
	cr_assert_eq(state_set_code(s, a, code, cl), 0);
	free(code);
	for (int i = 0; i < 2 && v->slots[i][0]; i++) {
		be32(v->slots[i][0], k);
		be32(v->slots[i][1], val);
		cr_assert_eq(state_set_storage(s, a, k, val), 0);
	}
}

Test(state, ethereum_tests_roots)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	uint8_t root[32], want[32];

	cr_assert_eq(state_open(&s, t, NULL), 0);
	for (size_t i = 0; i < 2; i++)
		apply_vacct(s, &shanghai_pre[i]);
	cr_assert_eq(state_commit(s, root), 0);
	hexto("c9f38211bd47d18248e2bd461131b4b454dde6dd63ab70d57e157d2fe058b342", want, 32);
	cr_assert(memcmp(root, want, 32) == 0);

	/* Block 1 as an update of the committed genesis state. */
	for (size_t i = 0; i < 5; i++)
		apply_vacct(s, &shanghai_post[i]);
	cr_assert_eq(state_commit(s, root), 0);
	hexto("a328ab2b4b2e0195194262a116e904f804eef0d336b8114fc4106925e0326ffd", want, 32);
	cr_assert(memcmp(root, want, 32) == 0);
	state_free(s);

	/* And from scratch, in another order. */
	cr_assert_eq(state_open(&s, t, NULL), 0);
	for (size_t i = 5; i-- > 0;)
		apply_vacct(s, &shanghai_post[i]);
	cr_assert_eq(state_root(s, root), 0);
	cr_assert(memcmp(root, want, 32) == 0);
	state_free(s);
	store_abort(t);
	store_close(st);
	tu_report("state ethereum/tests roots", 3);
}

/* ---- journal ------------------------------------------------------------ */

Test(state, journal_nested)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	uint8_t a[20], k1[32], k2[32], v[32], got[32], ch[32];
	const uint8_t *code;
	size_t cl;
	struct u256 b;
	uint64_t n;
	int ex;

	addr_n(a, 7);
	slot_n(k1, 1);
	slot_n(k2, 2);
	cr_assert_eq(state_open(&s, t, NULL), 0);
	int s0 = state_snapshot(s);
	cr_assert_geq(s0, 0);
	b = U(100);
	cr_assert_eq(state_set_balance(s, a, &b), 0);
	int s1 = state_snapshot(s);
	b = U(50);
	cr_assert_eq(state_add_balance(s, a, &b), 0);
	slot_n(v, 9);
	cr_assert_eq(state_set_storage(s, a, k1, v), 0);
	int s2 = state_snapshot(s);
	cr_assert_eq(state_set_code(s, a, (const uint8_t *)"\x60\x00", 2), 0);
	cr_assert_eq(state_set_nonce(s, a, 5), 0);
	slot_n(v, 10);
	cr_assert_eq(state_set_storage(s, a, k1, v), 0);
	cr_assert_eq(state_set_storage(s, a, k2, v), 0);
	b = U(30);
	cr_assert_eq(state_sub_balance(s, a, &b), 0);

	cr_assert_eq(state_get_balance(s, a, &b), 0);
	cr_assert(u256_eq(&b, &(struct u256){{120}}));
	cr_assert_eq(state_get_code(s, a, &code, &cl), 0);
	cr_assert_eq(cl, 2);

	cr_assert_eq(state_revert(s, s2), 0);
	cr_assert_eq(state_get_balance(s, a, &b), 0);
	cr_assert(u256_eq(&b, &(struct u256){{150}}));
	cr_assert_eq(state_get_nonce(s, a, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(state_get_code(s, a, &code, &cl), 0);
	cr_assert_eq(cl, 0);
	cr_assert_eq(state_get_code_hash(s, a, ch), 0);
	cr_assert(memcmp(ch, state_empty_code_hash, 32) == 0);
	cr_assert_eq(state_get_storage(s, a, k1, got), 0);
	slot_n(v, 9);
	cr_assert(memcmp(got, v, 32) == 0);
	cr_assert_eq(state_get_storage(s, a, k2, got), 0);
	cr_assert(is_zero(got));
	/* s2 is consumed; s1 still stands. A new snapshot never takes a
	 * consumed id. */
	cr_assert_eq(state_revert(s, s2), -CN_ESTATE);
	int s3 = state_snapshot(s);
	cr_assert(s3 != s0 && s3 != s1 && s3 != s2);
	cr_assert_eq(state_revert(s, s2), -CN_ESTATE);
	cr_assert_eq(state_revert(s, s1), 0);
	cr_assert_eq(state_get_balance(s, a, &b), 0);
	cr_assert(u256_eq(&b, &(struct u256){{100}}));
	cr_assert_eq(state_get_storage(s, a, k1, got), 0);
	cr_assert(is_zero(got));
	cr_assert_eq(state_revert(s, s0), 0);
	cr_assert_eq(state_exists(s, a, &ex), 0);
	cr_assert_eq(ex, 0, "the account created after s0 is gone again");
	cr_assert_eq(state_revert(s, -1), -CN_ESTATE);
	cr_assert_eq(state_revert(s, 99), -CN_ESTATE);

	uint8_t root[32];
	cr_assert_eq(state_root(s, root), 0);
	cr_assert(memcmp(root, trie_empty_root, 32) == 0);
	state_free(s);
	store_abort(t);
	store_close(st);
}

Test(state, balance_limits)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	uint8_t a[20];
	struct u256 max, b, one = U(1);
	int ex;

	addr_n(a, 3);
	cr_assert_eq(state_open(&s, t, NULL), 0);
	b = U(5);
	cr_assert_eq(state_sub_balance(s, a, &b), -CN_ERANGE);
	cr_assert_eq(state_exists(s, a, &ex), 0);
	cr_assert_eq(ex, 0, "a refused debit creates nothing");
	b = U(0);
	cr_assert_eq(state_sub_balance(s, a, &b), 0);
	cr_assert_eq(state_exists(s, a, &ex), 0);
	cr_assert_eq(ex, 0, "a zero debit creates nothing");
	cr_assert_eq(state_add_balance(s, a, &b), 0);
	cr_assert_eq(state_exists(s, a, &ex), 0);
	cr_assert_eq(ex, 1, "a zero credit creates the account");
	cr_assert_eq(state_delete_account(s, a), 0);
	memset(&max, 0xff, sizeof max);
	cr_assert_eq(state_set_balance(s, a, &max), 0);
	cr_assert_eq(state_add_balance(s, a, &one), -CN_ERANGE);
	cr_assert_eq(state_get_balance(s, a, &b), 0);
	cr_assert(u256_eq(&b, &max));
	cr_assert_eq(state_sub_balance(s, a, &max), 0);
	cr_assert_eq(state_get_balance(s, a, &b), 0);
	cr_assert(u256_is_zero(&b));
	cr_assert_eq(state_sub_balance(s, a, &one), -CN_ERANGE);
	/* Exists but is empty (EIP-161). */
	cr_assert_eq(state_exists(s, a, &ex), 0);
	cr_assert_eq(ex, 1);
	cr_assert_eq(state_empty(s, a, &ex), 0);
	cr_assert_eq(ex, 1);
	cr_assert_eq(state_set_nonce(s, a, 1), 0);
	cr_assert_eq(state_empty(s, a, &ex), 0);
	cr_assert_eq(ex, 0);
	state_free(s);
	store_abort(t);
	store_close(st);
}

/* Create and delete move the whole account aside; revert brings it back,
 * code and committed storage included. */
Test(state, create_delete_revert)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	uint8_t a[20], k[32], v[32], got[32], root0[32], root[32];
	const uint8_t *code;
	size_t cl;
	struct u256 b;
	uint64_t n;
	int ex;

	addr_n(a, 9);
	slot_n(k, 4);
	slot_n(v, 44);
	cr_assert_eq(state_open(&s, t, NULL), 0);
	b = U(1000);
	cr_assert_eq(state_set_balance(s, a, &b), 0);
	cr_assert_eq(state_set_nonce(s, a, 3), 0);
	cr_assert_eq(state_set_code(s, a, (const uint8_t *)"\x60\x01\x60\x02", 4), 0);
	cr_assert_eq(state_set_storage(s, a, k, v), 0);
	cr_assert_eq(state_commit(s, root0), 0);
	state_free(s);

	/* Reopen so that storage and code come from the store. */
	cr_assert_eq(state_open(&s, t, root0), 0);
	int id = state_snapshot(s);
	cr_assert_eq(state_delete_account(s, a), 0);
	cr_assert_eq(state_exists(s, a, &ex), 0);
	cr_assert_eq(ex, 0);
	cr_assert_eq(state_get_storage(s, a, k, got), 0);
	cr_assert(is_zero(got));
	cr_assert_eq(state_revert(s, id), 0);
	cr_assert_eq(state_get_storage(s, a, k, got), 0);
	cr_assert(memcmp(got, v, 32) == 0);
	cr_assert_eq(state_get_code(s, a, &code, &cl), 0);
	cr_assert_eq(cl, 4);
	cr_assert(memcmp(code, "\x60\x01\x60\x02", 4) == 0);

	id = state_snapshot(s);
	cr_assert_eq(state_create_account(s, a), 0);
	cr_assert_eq(state_get_balance(s, a, &b), 0);
	cr_assert(u256_eq(&b, &(struct u256){{1000}}), "create keeps the balance");
	cr_assert_eq(state_get_nonce(s, a, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(state_get_code(s, a, &code, &cl), 0);
	cr_assert_eq(cl, 0);
	cr_assert_eq(state_get_storage(s, a, k, got), 0);
	cr_assert(is_zero(got));
	/* Writes into the fresh storage vanish with the revert too. */
	cr_assert_eq(state_set_storage(s, a, k, k), 0);
	cr_assert_eq(state_revert(s, id), 0);
	cr_assert_eq(state_root(s, root), 0);
	cr_assert(memcmp(root, root0, 32) == 0);

	/* Delete for real, then the root is the empty root again. */
	cr_assert_eq(state_delete_account(s, a), 0);
	cr_assert_eq(state_commit(s, root), 0);
	cr_assert(memcmp(root, trie_empty_root, 32) == 0);
	struct state_account acct;
	cr_assert_eq(state_flat_get(t, a, &acct), -CN_ENOTFOUND);
	state_free(s);
	store_abort(t);
	store_close(st);
}

/* Random operations with a random revert: the root must equal that of a
 * second state that only ever saw the operations that were kept. */
enum { POOL = 24 };

static void random_op(struct state *s, struct cn_prng *r, int allow_delete)
{
	uint8_t a[20], k[32], v[32];
	struct u256 b;
	addr_n(a, cn_prng_uniform(r, POOL));
	switch (cn_prng_uniform(r, allow_delete ? 8 : 7)) {
	case 0:
	case 1:
		b = U(cn_prng_uniform(r, 1000000));
		cr_assert_eq(state_set_balance(s, a, &b), 0);
		break;
	case 2:
		b = U(cn_prng_uniform(r, 1000));
		cr_assert_eq(state_add_balance(s, a, &b), 0);
		break;
	case 3:
		cr_assert_eq(state_set_nonce(s, a, cn_prng_next_u64(r) >> cn_prng_uniform(r, 64)), 0);
		break;
	case 4:
	case 5:
		slot_n(k, cn_prng_uniform(r, 8));
		memset(v, 0, 32);
		if (cn_prng_uniform(r, 4))
			cn_prng_fill(r, v + cn_prng_uniform(r, 32), 1);
		cr_assert_eq(state_set_storage(s, a, k, v), 0);
		break;
	case 6: {
		uint8_t code[40];
		size_t n = cn_prng_uniform(r, sizeof code);
		cn_prng_fill(r, code, n);
		cr_assert_eq(state_set_code(s, a, code, n), 0);
		break;
	}
	default:
		if (cn_prng_uniform(r, 2))
			cr_assert_eq(state_delete_account(s, a), 0);
		else
			cr_assert_eq(state_create_account(s, a), 0);
		break;
	}
}

Test(state, revert_matches_replay)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	uint8_t base[32];

	/* A committed base state so that reverts meet stored data too. */
	struct cn_prng r;
	cn_prng_seed(&r, 42);
	struct state *s;
	cr_assert_eq(state_open(&s, t, NULL), 0);
	for (int i = 0; i < 200; i++)
		random_op(s, &r, 1);
	cr_assert_eq(state_commit(s, base), 0);
	state_free(s);

	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct state *x, *y;
		struct cn_prng rx, ry;
		uint8_t rootx[32], rooty[32];
		cr_assert_eq(state_open(&x, t, base), 0);
		cr_assert_eq(state_open(&y, t, base), 0);
		cn_prng_seed(&rx, seed);
		int nops = 1 + (int)cn_prng_uniform(&rx, 30);
		int kept = (int)cn_prng_uniform(&rx, (uint64_t)nops + 1);
		uint64_t sub = cn_prng_next_u64(&rx);
		/* x: kept ops, snapshot, more ops (with nested snapshots), revert. */
		struct cn_prng ops = rx;
		for (int i = 0; i < kept; i++)
			random_op(x, &ops, 1);
		int id = state_snapshot(x);
		struct cn_prng extra;
		cn_prng_seed(&extra, sub);
		for (int i = 0; i < nops; i++) {
			if (i % 5 == 0)
				cr_assert_geq(state_snapshot(x), 0);
			random_op(x, &extra, 1);
		}
		cr_assert_eq(state_revert(x, id), 0);
		cr_assert_eq(state_root(x, rootx), 0);
		/* y: only the kept ops. */
		ry = rx;
		for (int i = 0; i < kept; i++)
			random_op(y, &ry, 1);
		cr_assert_eq(state_root(y, rooty), 0);
		cr_assert(memcmp(rootx, rooty, 32) == 0, "seed %llu", (unsigned long long)seed);
		state_free(x);
		state_free(y);
	}
	store_abort(t);
	store_close(st);
}

/* ---- flat index --------------------------------------------------------- */

struct flatcheck {
	struct store_txn *t;
	size_t n;
};

static int count_flat(void *ctx, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	(void)key, (void)klen, (void)val, (void)vlen;
	((struct flatcheck *)ctx)->n++;
	return 0;
}

/* Every account of the trie at root is in the flat index with the same
 * bytes, and the index holds nothing else. */
static void check_flat(struct store_txn *t, const uint8_t root[32])
{
	struct trie_db db = {t, store_trie_get, store_trie_put};
	struct trie tr;
	struct trie_iter it;
	uint8_t froot[32], key[3 + 32];
	size_t n = 0;
	const uint8_t *v;
	size_t vl;

	cr_assert_eq(state_flat_root(t, froot), 0);
	cr_assert(memcmp(froot, root, 32) == 0);
	cr_assert_eq(trie_init(&tr, &db, root, TRIE_SECURE), 0);
	trie_iter_init(&it, &tr);
	while (trie_iter_next(&it) == 0) {
		cr_assert_eq(it.klen, 32);
		memcpy(key, STATE_FLAT_PREFIX, 3);
		memcpy(key + 3, it.key, 32);
		cr_assert_eq(store_get(t, STORE_META, key, sizeof key, &v, &vl), 0);
		cr_assert_eq(vl, it.vlen);
		cr_assert(memcmp(v, it.val, vl) == 0);
		n++;
	}
	trie_iter_free(&it);
	trie_free(&tr);
	struct flatcheck fc = {t, 0};
	cr_assert_eq(store_iterate(t, STORE_META, STATE_FLAT_PREFIX, 3, count_flat, &fc), 0);
	cr_assert_eq(fc.n, n);
}

/* Per address: the flat index and a state opened at root agree. */
static void check_flat_addrs(struct store_txn *t, const uint8_t root[32])
{
	struct state *s;
	cr_assert_eq(state_open(&s, t, root), 0);
	for (uint64_t i = 0; i < POOL; i++) {
		uint8_t a[20];
		struct state_account x, y;
		addr_n(a, i);
		int rx = state_get_account(s, a, &x);
		int ry = state_flat_get(t, a, &y);
		cr_assert_eq(rx, ry);
		if (rx == 0)
			cr_assert(memcmp(&x, &y, sizeof x) == 0);
	}
	state_free(s);
}

Test(state, flat_index_agrees)
{
	struct store *st = open_store();
	struct cn_prng r;
	uint8_t roots[12][32];
	struct state *s;
	struct store_txn *t = begin(st, 1);

	cn_prng_seed(&r, 7);
	cr_assert_eq(state_open(&s, t, NULL), 0);
	for (int blk = 0; blk < 12; blk++) {
		int nops = 1 + (int)cn_prng_uniform(&r, 60);
		for (int i = 0; i < nops; i++)
			random_op(s, &r, 1);
		if (blk % 3 == 1) {
			/* A revert inside the block. */
			int id = state_snapshot(s);
			random_op(s, &r, 1);
			random_op(s, &r, 1);
			cr_assert_eq(state_revert(s, id), 0);
		}
		cr_assert_eq(state_commit(s, roots[blk]), 0);
		cr_assert_eq(store_commit(t), 0);
		t = begin(st, 0);
		check_flat(t, roots[blk]);
		check_flat_addrs(t, roots[blk]);
		store_abort(t);
		t = begin(st, 1);
		state_set_txn(s, t);
	}
	state_free(s);

	/* A state opened at an older root (a reorganisation): the commit
	 * rebuilds the index for the new branch. */
	cr_assert_eq(state_open(&s, t, roots[4]), 0);
	for (int i = 0; i < 20; i++)
		random_op(s, &r, 1);
	uint8_t fork[32];
	cr_assert_eq(state_commit(s, fork), 0);
	check_flat(t, fork);
	check_flat_addrs(t, fork);
	state_free(s);
	cr_assert_eq(store_commit(t), 0);
	store_close(st);
}

/* ---- persistence and atomicity ------------------------------------------ */

Test(state, persist_reopen_and_abort)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	uint8_t a[20], c[20], k[32], v[32], got[32], r1[32], r2[32], fr[32];
	struct u256 b;
	const uint8_t *code;
	size_t cl;

	addr_n(a, 1);
	addr_n(c, 2);
	slot_n(k, 77);
	memset(v, 0xee, 32);
	cr_assert_eq(state_open(&s, t, NULL), 0);
	b = U(123456789);
	cr_assert_eq(state_set_balance(s, a, &b), 0);
	cr_assert_eq(state_set_nonce(s, a, 17), 0);
	cr_assert_eq(state_set_code(s, c, (const uint8_t *)"\x5f\x5f\xf3", 3), 0);
	cr_assert_eq(state_set_storage(s, c, k, v), 0);
	cr_assert_eq(state_commit(s, r1), 0);
	cr_assert_eq(store_commit(t), 0);

	/* Block 2 is written into its transaction, which is then aborted. */
	t = begin(st, 1);
	state_set_txn(s, t);
	b = U(1);
	cr_assert_eq(state_add_balance(s, a, &b), 0);
	cr_assert_eq(state_set_storage(s, c, k, k), 0);
	cr_assert_eq(state_commit(s, r2), 0);
	cr_assert(memcmp(r1, r2, 32) != 0);
	store_abort(t);
	state_free(s);
	store_close(st);

	st = open_store();
	t = begin(st, 0);
	cr_assert_eq(state_flat_root(t, fr), 0);
	cr_assert(memcmp(fr, r1, 32) == 0, "the aborted block left no trace in the index");
	cr_assert_eq(state_open(&s, t, r1), 0);
	cr_assert_eq(state_get_balance(s, a, &b), 0);
	cr_assert(u256_eq(&b, &(struct u256){{123456789}}));
	uint64_t n;
	cr_assert_eq(state_get_nonce(s, a, &n), 0);
	cr_assert_eq(n, 17);
	cr_assert_eq(state_get_code(s, c, &code, &cl), 0);
	cr_assert_eq(cl, 3);
	cr_assert(memcmp(code, "\x5f\x5f\xf3", 3) == 0);
	cr_assert_eq(state_get_storage(s, c, k, got), 0);
	cr_assert(memcmp(got, v, 32) == 0);
	struct state_account acct;
	cr_assert_eq(state_flat_get(t, a, &acct), 0);
	cr_assert_eq(acct.nonce, 17);
	state_free(s);
	/* The aborted block's root was never stored. */
	cr_assert_eq(state_open(&s, t, r2), 0);
	cr_assert_eq(state_get_balance(s, a, &b), -CN_EVERIFY);
	state_free(s);
	store_abort(t);
	check_flat(t = begin(st, 0), r1);
	store_abort(t);
	store_close(st);
}

/* ---- independent root: @ethereumjs/trie --------------------------------- */

static void hex_out(FILE *f, const uint8_t *p, size_t n)
{
	fputs("\"0x", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
	fputc('"', f);
}

/* What the test meant the state to be, kept apart from struct state. */
struct model {
	uint8_t addr[20], bal[32];
	uint64_t nonce;
	uint8_t code[200];
	size_t cl;
	uint8_t slot[16][2][32];
	int nslots, deleted;
};

static void model_slot(struct model *m, const uint8_t k[32], const uint8_t v[32])
{
	int i = 0;
	while (i < m->nslots && memcmp(m->slot[i][0], k, 32) != 0)
		i++;
	cr_assert_lt(i, 16);
	if (i == m->nslots)
		m->nslots++;
	memcpy(m->slot[i][0], k, 32);
	memcpy(m->slot[i][1], v, 32);
}

#ifndef NODE_SCRIPT
#define NODE_SCRIPT "tests/clients/state_root.mjs"
#endif

static void ethereumjs_compare(int N, uint64_t seed)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	struct cn_prng r;
	struct model *m = calloc((size_t)N, sizeof *m);
	uint8_t root[32];

	cr_assert(m);
	cn_prng_seed(&r, seed);
	cr_assert_eq(state_open(&s, t, NULL), 0);
	/* Random addresses, balances of every width, nonces, some code and
	 * storage (small and random slots, values of every width). */
	for (int i = 0; i < N; i++) {
		struct model *a = &m[i];
		cn_prng_fill(&r, a->addr, 20);
		size_t w = cn_prng_uniform(&r, 33);
		cn_prng_fill(&r, a->bal + 32 - w, w);
		struct u256 b;
		u256_from_be32(&b, a->bal);
		cr_assert_eq(state_set_balance(s, a->addr, &b), 0);
		a->nonce = cn_prng_next_u64(&r) >> cn_prng_uniform(&r, 64);
		cr_assert_eq(state_set_nonce(s, a->addr, a->nonce), 0);
		if (i % 5 == 0) {
			a->cl = 1 + cn_prng_uniform(&r, sizeof a->code);
			cn_prng_fill(&r, a->code, a->cl);
			cr_assert_eq(state_set_code(s, a->addr, a->code, a->cl), 0);
			int ns = (int)cn_prng_uniform(&r, 12);
			for (int j = 0; j < ns; j++) {
				uint8_t k[32], v[32] = {0};
				if (j % 2)
					cn_prng_fill(&r, k, 32);
				else
					slot_n(k, (uint64_t)j);
				size_t vw = 1 + cn_prng_uniform(&r, 32);
				cn_prng_fill(&r, v + 32 - vw, vw);
				cr_assert_eq(state_set_storage(s, a->addr, k, v), 0);
				model_slot(a, k, v);
			}
		}
	}
	cr_assert_eq(state_commit(s, root), 0);
	/* A second block deletes accounts, zeroes and adds slots, debits. */
	for (int i = 0; i < N; i += 7) {
		struct model *a = &m[i];
		if (i % 3 == 0) {
			cr_assert_eq(state_delete_account(s, a->addr), 0);
			a->deleted = 1;
			continue;
		}
		uint8_t k[32], z[32] = {0};
		slot_n(k, 0);
		cr_assert_eq(state_set_storage(s, a->addr, k, z), 0);
		model_slot(a, k, z);
		slot_n(k, 2);
		cr_assert_eq(state_set_storage(s, a->addr, k, k), 0);
		model_slot(a, k, k);
		struct u256 b, one = U(1);
		u256_from_be32(&b, a->bal);
		if (!u256_is_zero(&b)) {
			cr_assert_eq(state_sub_balance(s, a->addr, &one), 0);
			u256_sub(&b, &b, &one);
			u256_to_be32(&b, a->bal);
		}
	}
	cr_assert_eq(state_commit(s, root), 0);
	state_free(s);
	store_abort(t);
	store_close(st);

	char path[300], cmd[700], out[200] = {0};
	snprintf(path, sizeof path, "%s/accounts.json", tmpdir);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "{\"accounts\":[");
	int first = 1;
	for (int i = 0; i < N; i++) {
		struct model *a = &m[i];
		if (a->deleted)
			continue;
		uint8_t nb[8];
		store_be64(nb, a->nonce);
		fprintf(f, "%s{\"address\":", first ? "" : ",");
		first = 0;
		hex_out(f, a->addr, 20);
		fprintf(f, ",\"nonce\":");
		hex_out(f, nb, 8);
		fprintf(f, ",\"balance\":");
		hex_out(f, a->bal, 32);
		fprintf(f, ",\"code\":");
		hex_out(f, a->code, a->cl);
		fprintf(f, ",\"storage\":{");
		for (int j = 0; j < a->nslots; j++) {
			fprintf(f, "%s", j ? "," : "");
			hex_out(f, a->slot[j][0], 32);
			fputc(':', f);
			hex_out(f, a->slot[j][1], 32);
		}
		fprintf(f, "}}");
	}
	fprintf(f, "]}\n");
	cr_assert_eq(fclose(f), 0);

	/* No node or no npm packages is a failure, not a skip: deps.sh
	 * installs both. */
	snprintf(cmd, sizeof cmd, "node %s '%s' 2>&1", NODE_SCRIPT, path);
	FILE *p = popen(cmd, "r");
	cr_assert(p, "cannot run node");
	size_t got = fread(out, 1, sizeof out - 1, p);
	out[got] = 0;
	cr_assert_eq(pclose(p), 0, "node failed: %s", out);
	char mine[67];
	mine[0] = '0', mine[1] = 'x';
	hex_encode(root, 32, mine + 2);
	cr_assert(strncmp(out, mine, 66) == 0 && (out[66] == '\n' || out[66] == 0),
	          "ours %s, ethereumjs %s", mine, out);
	free(m);
	tu_report("state root vs @ethereumjs/trie (accounts)", (size_t)N);
}

Test(state, root_matches_ethereumjs)
{
	ethereumjs_compare(300, 20261122);
}

/* make test-long: more accounts, several seeds. */
Test(state, root_matches_ethereumjs_long, .timeout = 600)
{
	if (!tu_long())
		return;
	for (uint64_t seed = 1; seed <= 4; seed++)
		ethereumjs_compare(5000, seed);
}

/* ---- transaction boundaries --------------------------------------------- */

Test(state, finalise_and_committed_storage)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	uint8_t a[20], e[20], k[32], v1[32], v2[32], got[32], root[32];
	struct u256 b;
	int ex;

	addr_n(a, 1);
	addr_n(e, 2);
	slot_n(k, 5);
	slot_n(v1, 11);
	slot_n(v2, 22);
	cr_assert_eq(state_open(&s, t, NULL), 0);
	cr_assert_eq(state_set_nonce(s, a, 1), 0);
	cr_assert_eq(state_set_storage(s, a, k, v1), 0);
	cr_assert_eq(state_get_committed_storage(s, a, k, got), 0);
	cr_assert(is_zero(got), "original value is that of the transaction's start");
	int id = state_snapshot(s);
	cr_assert_geq(id, 0);
	/* Touching e with a zero credit makes an empty account. */
	b = U(0);
	cr_assert_eq(state_add_balance(s, e, &b), 0);
	cr_assert_eq(state_exists(s, e, &ex), 0);
	cr_assert_eq(ex, 1);
	cr_assert_eq(state_finalise(s, 1), 0);
	cr_assert_eq(state_revert(s, id), -CN_ESTATE, "no revert across a boundary");
	cr_assert_eq(state_exists(s, e, &ex), 0);
	cr_assert_eq(ex, 0, "empty touched account deleted (EIP-161)");
	cr_assert_eq(state_exists(s, a, &ex), 0);
	cr_assert_eq(ex, 1, "nonce 1 is not empty");
	cr_assert_eq(state_get_committed_storage(s, a, k, got), 0);
	cr_assert(memcmp(got, v1, 32) == 0);

	/* Next transaction: original stays v1 while the value moves. */
	int id2 = state_snapshot(s);
	cr_assert_neq(id2, id);
	cr_assert_eq(state_set_storage(s, a, k, v2), 0);
	cr_assert_eq(state_get_committed_storage(s, a, k, got), 0);
	cr_assert(memcmp(got, v1, 32) == 0);
	cr_assert_eq(state_get_storage(s, a, k, got), 0);
	cr_assert(memcmp(got, v2, 32) == 0);
	cr_assert_eq(state_revert(s, id2), 0);
	cr_assert_eq(state_get_storage(s, a, k, got), 0);
	cr_assert(memcmp(got, v1, 32) == 0);
	cr_assert_eq(state_commit(s, root), 0);
	state_free(s);

	/* After reopening, the original value is the stored one. */
	cr_assert_eq(state_open(&s, t, root), 0);
	cr_assert_eq(state_set_storage(s, a, k, v2), 0);
	cr_assert_eq(state_get_committed_storage(s, a, k, got), 0);
	cr_assert(memcmp(got, v1, 32) == 0);
	/* Without delete_empty, empty accounts stay. */
	cr_assert_eq(state_add_balance(s, e, &b), 0);
	cr_assert_eq(state_finalise(s, 0), 0);
	cr_assert_eq(state_exists(s, e, &ex), 0);
	cr_assert_eq(ex, 1);
	state_free(s);
	store_abort(t);
	store_close(st);
}

/* A cache limit below the block's size drops the cache after each commit;
 * later blocks must read everything back from the store correctly. */
Test(state, cache_drop_between_blocks)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s, *ref;
	struct cn_prng r1, r2;
	uint8_t root[32], want[32];

	cr_assert_eq(state_open(&s, t, NULL), 0);
	state_set_cache_limit(s, 4);
	cn_prng_seed(&r1, 99);
	for (int blk = 0; blk < 6; blk++) {
		for (int i = 0; i < 40; i++)
			random_op(s, &r1, 1);
		cr_assert_eq(state_commit(s, root), 0);
		cr_assert_leq(state_cached_accounts(s), 4);
	}
	/* The same operations on one state that keeps everything in memory
	 * and never commits. */
	cr_assert_eq(state_open(&ref, t, NULL), 0);
	cn_prng_seed(&r2, 99);
	for (int blk = 0; blk < 6; blk++) {
		for (int i = 0; i < 40; i++)
			random_op(ref, &r2, 1);
		cr_assert_eq(state_finalise(ref, 0), 0);
	}
	cr_assert_eq(state_root(ref, want), 0);
	cr_assert(memcmp(root, want, 32) == 0);
	check_flat(t, root);
	check_flat_addrs(t, root);
	state_free(ref);
	state_free(s);
	store_abort(t);
	store_close(st);
}

/* A database whose trie holds bytes that are not accounts (or slot values)
 * yields errors, never a crash or a made-up account. */
Test(state, malformed_trie_values)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct trie_db db = {t, store_trie_get, store_trie_put};
	struct trie tr, stt;
	struct state *s;
	uint8_t a[20], c[20], k[32], root[32], sroot[32], got[32], buf[STATE_ACCOUNT_RLP_MAX];
	struct u256 b;

	addr_n(a, 1);
	addr_n(c, 2);
	slot_n(k, 1);
	/* c's storage holds a list where a value belongs. */
	cr_assert_eq(trie_init(&stt, &db, NULL, TRIE_SECURE), 0);
	cr_assert_eq(trie_put(&stt, k, 32, (const uint8_t *)"\xc2\x01\x02", 3), 0);
	cr_assert_eq(trie_commit(&stt, sroot), 0);
	trie_free(&stt);
	struct state_account acct;
	state_account_init(&acct);
	memcpy(acct.root, sroot, 32);
	size_t n = state_account_encode(&acct, buf);

	cr_assert_eq(trie_init(&tr, &db, NULL, TRIE_SECURE), 0);
	cr_assert_eq(trie_put(&tr, a, 20, (const uint8_t *)"\xc3\x80\x80\x80", 4), 0);
	cr_assert_eq(trie_put(&tr, c, 20, buf, n), 0);
	cr_assert_eq(trie_commit(&tr, root), 0);
	trie_free(&tr);

	cr_assert_eq(state_open(&s, t, root), 0);
	int rc = state_get_balance(s, a, &b);
	cr_assert(rc < 0 && rc != -CN_ENOTFOUND, "rc %d", rc);
	cr_assert_eq(state_get_balance(s, c, &b), 0);
	rc = state_get_storage(s, c, k, got);
	cr_assert(rc < 0 && rc != -CN_ENOTFOUND, "rc %d", rc);
	state_free(s);
	rc = state_flat_rebuild(t, root);
	cr_assert(rc < 0, "rebuild accepted a malformed account");
	store_abort(t);
	store_close(st);
}

/* One contract with many slots also trips the cache limit. */
Test(state, cache_drop_by_slots)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	uint8_t a[20], k[32], v[32], got[32], root[32];

	addr_n(a, 5);
	cr_assert_eq(state_open(&s, t, NULL), 0);
	state_set_cache_limit(s, 10);
	for (uint64_t i = 0; i < 10 * STATE_CACHE_SLOTS_PER_ACCOUNT + 1; i++) {
		slot_n(k, i);
		slot_n(v, i + 1000);
		cr_assert_eq(state_set_storage(s, a, k, v), 0);
	}
	cr_assert_eq(state_commit(s, root), 0);
	cr_assert_eq(state_cached_accounts(s), 0);
	for (uint64_t i = 0; i < 10 * STATE_CACHE_SLOTS_PER_ACCOUNT + 1; i += 7) {
		slot_n(k, i);
		slot_n(v, i + 1000);
		cr_assert_eq(state_get_storage(s, a, k, got), 0);
		cr_assert(memcmp(got, v, 32) == 0);
	}
	state_free(s);
	store_abort(t);
	store_close(st);
}

/* Account and storage proofs verify against the root with the trie's
 * verifier, for present and absent keys. */
Test(state, proofs)
{
	struct store *st = open_store();
	struct store_txn *t = begin(st, 1);
	struct state *s;
	struct cn_prng r;
	uint8_t root[32], h[32], enc[STATE_ACCOUNT_RLP_MAX];
	const uint8_t *v;
	size_t vl;

	cn_prng_seed(&r, 5);
	cr_assert_eq(state_open(&s, t, NULL), 0);
	for (int i = 0; i < 200; i++)
		random_op(s, &r, 0);
	cr_assert_eq(state_commit(s, root), 0);
	size_t present = 0, slots = 0;
	for (uint64_t i = 0; i < POOL + 4; i++) {
		uint8_t a[20];
		struct trie_proof p;
		struct state_account acct;
		addr_n(a, i);
		cr_assert_eq(state_prove_account(t, root, a, &p), 0);
		keccak256(a, 20, h);
		int rc = trie_verify_proof(root, h, 32, (const struct trie_blob *)NULL, 0, &v, &vl);
		cr_assert_neq(rc, 0, "an empty proof proves nothing");
		struct trie_blob nodes[64];
		cr_assert_leq(p.n, 64);
		for (size_t j = 0; j < p.n; j++)
			nodes[j] = (struct trie_blob){p.nodes[j], p.lens[j]};
		rc = trie_verify_proof(root, h, 32, nodes, p.n, &v, &vl);
		int ex = state_get_account(s, a, &acct);
		if (ex == -CN_ENOTFOUND) {
			cr_assert_eq(rc, -CN_ENOTFOUND);
			trie_proof_free(&p);
			continue;
		}
		cr_assert_eq(rc, 0);
		size_t n = state_account_encode(&acct, enc);
		cr_assert_eq(vl, n);
		cr_assert(memcmp(v, enc, n) == 0);
		present++;
		trie_proof_free(&p);
		for (uint64_t j = 0; j < 10; j++) {
			uint8_t k[32], val[32], kh[32], want[33];
			slot_n(k, j);
			cr_assert_eq(state_get_storage(s, a, k, val), 0);
			cr_assert_eq(state_prove_storage(t, acct.root, k, &p), 0);
			for (size_t q = 0; q < p.n; q++)
				nodes[q] = (struct trie_blob){p.nodes[q], p.lens[q]};
			keccak256(k, 32, kh);
			rc = trie_verify_proof(acct.root, kh, 32, nodes, p.n, &v, &vl);
			if (is_zero(val)) {
				cr_assert_eq(rc, -CN_ENOTFOUND);
			} else {
				cr_assert_eq(rc, 0);
				size_t z = 0;
				while (val[z] == 0)
					z++;
				size_t wl = 0;
				if (32 - z == 1 && val[31] < 0x80) {
					want[wl++] = val[31];
				} else {
					want[wl++] = (uint8_t)(0x80 + 32 - z);
					memcpy(want + wl, val + z, 32 - z);
					wl += 32 - z;
				}
				cr_assert_eq(vl, wl);
				cr_assert(memcmp(v, want, wl) == 0);
				slots++;
			}
			trie_proof_free(&p);
		}
	}
	cr_assert_gt(present, 10);
	cr_assert_gt(slots, 10);
	state_free(s);
	store_abort(t);
	store_close(st);
}
