/* methods.c — the read methods (eth_, net_, web3_, hmy_, hmyv2_) and
 * eth_sendRawTransaction's hand-off to the pool. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"
#include "chain/chain.h"
#include "codec/bech32.h"
#include "codec/rlp.h"
#include "core/core.h"
#include "crypto/crypto.h"
#include "rpc/rpc_int.h"
#include "state/state.h"
#include "store/store.h"

#define CLIENT_VERSION "canon/v0.1.0"

/* keccak256(rlp([])): the uncle hash of a block without uncles. */
static const uint8_t empty_uncles[32] = {
	0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a, 0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
	0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13, 0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47};

static int fail(struct rpc_call *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct rpc_call *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
	c->code = code;
	return -CN_EINVAL;
}

/* ==== parameters ========================================================= */

static size_t nparams(struct rpc_call *c)
{
	return c->params ? json_array_size(c->params) : 0;
}

/* go-ethereum's arity rules: missing optional trailing arguments are fine,
 * extra ones are not. */
static int arity(struct rpc_call *c, size_t required, size_t max)
{
	size_t n = nparams(c);
	if (n > max)
		return fail(c, RPC_E_PARAMS, "too many arguments, want at most %zu", max);
	if (n < required)
		return fail(c, RPC_E_PARAMS, "missing value for required argument %zu", n);
	return 0;
}

static json_t *param(struct rpc_call *c, size_t i)
{
	json_t *p = c->params ? json_array_get(c->params, i) : NULL;
	return p && !json_is_null(p) ? p : NULL;
}

/* A quantity: 0x followed by 1..16 hex digits without leading zeros. */
static int parse_qty(const char *s, size_t len, uint64_t *out, const char **why)
{
	if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
		*why = "hex string without 0x prefix";
		return -1;
	}
	s += 2;
	len -= 2;
	if (len == 0) {
		*why = "hex string \"0x\"";
		return -1;
	}
	if (len > 1 && s[0] == '0') {
		*why = "hex number with leading zero digits";
		return -1;
	}
	if (len > 16) {
		*why = "hex number > 64 bits";
		return -1;
	}
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		int d = hex_digit_value(s[i]);
		if (d < 0) {
			*why = "invalid hex string";
			return -1;
		}
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int head(struct rpc_call *c, uint64_t *number, uint8_t hash[32], struct header *h);

/* A block number or tag. Absent means latest. hmyv2 also takes a plain
 * JSON integer. pending, safe and finalized are the head: a committed
 * block is final under FBFT and canon serves no pending block. */
static int param_block(struct rpc_call *c, size_t i, uint64_t *out)
{
	json_t *p = param(c, i);
	if (!p || (json_is_string(p) && (!strcmp(json_string_value(p), "latest") ||
	                                 !strcmp(json_string_value(p), "pending") ||
	                                 !strcmp(json_string_value(p), "safe") ||
	                                 !strcmp(json_string_value(p), "finalized")))) {
		int rc = head(c, out, NULL, NULL);
		return rc == -CN_ENOTFOUND ? fail(c, RPC_E_SERVER, "no blocks in the database") : rc;
	}
	if (json_is_integer(p)) {
		if (json_integer_value(p) < 0)
			return fail(c, RPC_E_PARAMS, "invalid argument %zu: negative block number", i);
		*out = (uint64_t)json_integer_value(p);
		return 0;
	}
	if (!json_is_string(p))
		return fail(c, RPC_E_PARAMS,
		            "invalid argument %zu: block number must be a hex string or a tag", i);
	if (!strcmp(json_string_value(p), "earliest")) {
		*out = 0;
		return 0;
	}
	const char *why;
	if (parse_qty(json_string_value(p), json_string_length(p), out, &why))
		return fail(c, RPC_E_PARAMS, "invalid argument %zu: %s", i, why);
	return 0;
}

static int param_hex(struct rpc_call *c, size_t i, uint8_t *out, size_t want, const char *type)
{
	json_t *p = param(c, i);
	if (!p)
		return fail(c, RPC_E_PARAMS, "missing value for required argument %zu", i);
	if (!json_is_string(p))
		return fail(c, RPC_E_PARAMS, "invalid argument %zu: %s must be a hex string", i, type);
	const char *s = json_string_value(p);
	size_t len = json_string_length(p);
	if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return fail(c, RPC_E_PARAMS, "invalid argument %zu: hex string without 0x prefix", i);
	if (len - 2 != want * 2)
		return fail(c, RPC_E_PARAMS, "invalid argument %zu: hex string has length %zu, want %zu for %s",
		            i, len - 2, want * 2, type);
	size_t n;
	if (hex_decode(s, len, out, want, &n) || n != want)
		return fail(c, RPC_E_PARAMS, "invalid argument %zu: invalid hex string", i);
	return 0;
}

/* 0x… or one1… */
static int param_addr(struct rpc_call *c, size_t i, uint8_t out[20])
{
	json_t *p = param(c, i);
	if (p && json_is_string(p) && json_string_length(p) >= 4 &&
	    !strncasecmp(json_string_value(p), "one1", 4)) {
		const char *why = NULL;
		if (bech32_one_decode(json_string_value(p), json_string_length(p), out, &why))
			return fail(c, RPC_E_PARAMS, "invalid argument %zu: bad one1 address (%s)", i,
			            why ? why : "malformed");
		return 0;
	}
	return param_hex(c, i, out, 20, "common.Address");
}

static int param_bool(struct rpc_call *c, size_t i, int *out)
{
	json_t *p = param(c, i);
	*out = 0;
	if (!p)
		return 0;
	if (json_is_boolean(p)) {
		*out = json_is_true(p);
		return 0;
	}
	/* hmyv2 takes an options object {fullTx: bool, ...}. */
	if (c->ns == RPC_NS_HMYV2 && json_is_object(p)) {
		json_t *f = json_object_get(p, "fullTx");
		if (f && !json_is_boolean(f))
			return fail(c, RPC_E_PARAMS, "invalid argument %zu: fullTx must be a boolean", i);
		*out = f && json_is_true(f);
		return 0;
	}
	return fail(c, RPC_E_PARAMS, "invalid argument %zu: expected a boolean", i);
}

/* ==== reads ============================================================== */

static int read_header(struct rpc_call *c, const uint8_t hash[32], struct header *h)
{
	const uint8_t *v;
	size_t len;
	int rc = store_get(c->t, STORE_HEADERS, hash, 32, &v, &len);
	return rc ? rc : header_decode(h, v, len);
}

static int head(struct rpc_call *c, uint64_t *number, uint8_t hash[32], struct header *h)
{
	struct header tmp;
	memset(&tmp, 0, sizeof tmp);
	uint8_t hh[32];
	int rc = chain_txn_head_hash(c->t, hh);
	if (rc)
		return rc;
	if (hash)
		memcpy(hash, hh, 32);
	if ((rc = read_header(c, hh, &tmp)))
		return rc;
	*number = tmp.number;
	if (h)
		*h = tmp;
	else
		header_free(&tmp);
	return 0;
}

/* Finds a block by number; 1 if there is none. */
static int hash_at(struct rpc_call *c, uint64_t number, uint8_t hash[32])
{
	int rc = store_canon_get(c->t, number, hash);
	return rc == -CN_ENOTFOUND ? 1 : rc;
}

static size_t rlp_list_header_len(size_t payload)
{
	size_t n = 1;
	if (payload >= 56)
		for (size_t v = payload; v; v >>= 8)
			n++;
	return n;
}

/* The length of the block's encoding (Go's Block.Size()), from the stored
 * pieces without re-encoding: the body is ["HmnyTgd", "v2", [txs, stxs,
 * uncles, incoming]] and the block the same with the header first in the
 * inner list. 0 if the body is not of that shape. */
static size_t block_size(const uint8_t *hv, size_t hl, const uint8_t *bv, size_t bl)
{
	struct rlp_item outer, marker, ver, inner;
	struct rlp_cursor cur;
	if (rlp_decode_one(bv, bl, &outer) || rlp_enter(&outer, &cur) || rlp_next(&cur, &marker) ||
	    rlp_next(&cur, &ver) || rlp_next(&cur, &inner) || !inner.is_list)
		return 0;
	size_t in = hl + inner.len;
	size_t payload = marker.raw_len + ver.raw_len + rlp_list_header_len(in) + in;
	return rlp_list_header_len(payload) + payload;
}

/* The full block; 1 when unknown. */
static int block_by_hash(struct rpc_call *c, const uint8_t hash[32], struct block *b,
                         size_t *size)
{
	const uint8_t *hv, *bv;
	size_t hl, bl;
	memset(b, 0, sizeof *b);
	int rc = store_get(c->t, STORE_HEADERS, hash, 32, &hv, &hl);
	if (rc == -CN_ENOTFOUND)
		return 1;
	if (rc || (rc = header_decode(&b->header, hv, hl)))
		return rc;
	if ((rc = store_get(c->t, STORE_BODIES, hash, 32, &bv, &bl)) ||
	    (rc = block_body_decode(b, bv, bl))) {
		block_free(b);
		return rc;
	}
	if (size)
		*size = block_size(hv, hl, bv, bl);
	return 0;
}

static void receipts_free(struct receipt *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		receipt_free(&r[i]);
	free(r);
}

/* An account at a block: the flat index at the head (one B-tree lookup),
 * the state trie at the block's root otherwise. */
static int account_at(struct rpc_call *c, const uint8_t addr[20], uint64_t number,
                      struct state_account *a)
{
	uint64_t top;
	uint8_t hh[32];
	struct header h;
	int rc = head(c, &top, hh, &h);
	if (rc == -CN_ENOTFOUND)
		return fail(c, RPC_E_SERVER, "no blocks in the database");
	if (rc)
		return rc;
	state_account_init(a);
	if (number > top) {
		header_free(&h);
		return fail(c, RPC_E_SERVER, "header for number %llu not found",
		            (unsigned long long)number);
	}
	uint8_t flat_root[32];
	if (number == top && !state_flat_root(c->t, flat_root) && !memcmp(flat_root, h.root, 32)) {
		header_free(&h);
		rc = state_flat_get(c->t, addr, a);
		return rc == -CN_ENOTFOUND ? 0 : rc;
	}
	uint8_t root[32];
	if (number == top) {
		memcpy(root, h.root, 32);
	} else {
		uint8_t bh[32];
		struct header old;
		if ((rc = hash_at(c, number, bh)) || (rc = read_header(c, bh, &old))) {
			header_free(&h);
			return rc < 0 ? rc : fail(c, RPC_E_SERVER, "header not found");
		}
		memcpy(root, old.root, 32);
		header_free(&old);
	}
	header_free(&h);
	struct state *st;
	if ((rc = state_open(&st, c->t, root)))
		return rc;
	rc = state_get_account(st, addr, a);
	state_free(st);
	if (rc == -CN_ENOTFOUND) {
		state_account_init(a);
		return 0;
	}
	if (rc == -CN_EVERIFY)
		return fail(c, RPC_E_SERVER, "missing trie node (state at block %llu is not stored)",
		            (unsigned long long)number);
	return rc;
}

/* ==== rendering ========================================================== */

static int hex_ns(const struct rpc_call *c)
{
	return c->ns != RPC_NS_HMYV2;
}

static void num(struct rpc_call *c, uint64_t v)
{
	hex_ns(c) ? rpc_jw_qty(c->w, v) : rpc_jw_u64(c->w, v);
}

static void big(struct rpc_call *c, const struct u256 *v)
{
	hex_ns(c) ? rpc_jw_qty256(c->w, v) : rpc_jw_dec256(c->w, v);
}

static void addr(struct rpc_call *c, const uint8_t a[20])
{
	if (c->ns == RPC_NS_ETH || c->ns == RPC_NS_OTHER) {
		rpc_jw_data(c->w, a, 20);
	} else {
		char s[BECH32_ONE_ADDR_LEN + 1];
		bech32_one_encode(a, s);
		rpc_jw_str(c->w, s);
	}
}

static void kq(struct rpc_call *c, const char *k, uint64_t v)
{
	rpc_jw_key(c->w, k);
	num(c, v);
}

static void kdata(struct rpc_call *c, const char *k, const uint8_t *p, size_t n)
{
	rpc_jw_key(c->w, k);
	rpc_jw_data(c->w, p, n);
}

/* The hash a namespace shows for a transaction. */
static int shown_tx_hash(const struct rpc_call *c, const struct tx *tx, uint8_t out[32])
{
	return c->ns == RPC_NS_ETH ? tx_eth_hash(tx, out) : tx_hash(tx, out);
}

static int write_tx(struct rpc_call *c, const struct tx *tx, const uint8_t bhash[32],
                    uint64_t number, uint32_t index, uint64_t time)
{
	uint8_t from[20], h[32], eh[32];
	int rc;
	if ((rc = tx_hash(tx, h)) || (rc = tx_eth_hash(tx, eh)))
		return rc;
	int have_from = tx_sender(tx, from) == 0;
	struct rpc_jw *w = c->w;
	rpc_jw_obj(w);
	kdata(c, "blockHash", bhash, 32);
	kq(c, "blockNumber", number);
	rpc_jw_key(w, "from");
	if (have_from)
		addr(c, from);
	else
		rpc_jw_null(w);
	kq(c, "gas", tx->gas_limit);
	rpc_jw_key(w, "gasPrice");
	big(c, &tx->gas_price);
	kdata(c, "hash", c->ns == RPC_NS_ETH ? eh : h, 32);
	kdata(c, "input", tx->data, tx->data_len);
	kq(c, "nonce", tx->nonce);
	rpc_jw_key(w, "to");
	if (tx->has_to)
		addr(c, tx->to);
	else
		rpc_jw_null(w);
	kq(c, "transactionIndex", index);
	rpc_jw_key(w, "value");
	big(c, &tx->value);
	kq(c, "type", 0);
	if (c->ns == RPC_NS_ETH) {
		kq(c, "chainId", tx->chain_id);
	} else {
		kq(c, "shardID", tx->shard_id);
		kq(c, "toShardID", tx->to_shard_id);
		kq(c, "timestamp", time);
		kdata(c, "ethHash", eh, 32);
	}
	rpc_jw_key(w, "v");
	big(c, &tx->v);
	rpc_jw_key(w, "r");
	rpc_jw_qty256(w, &tx->r);
	rpc_jw_key(w, "s");
	rpc_jw_qty256(w, &tx->s);
	rpc_jw_obj_end(w);
	return 0;
}

static int write_block(struct rpc_call *c, const struct block *b, const uint8_t hash[32],
                       size_t size, int full)
{
	const struct header *h = &b->header;
	struct rpc_jw *w = c->w;
	static const uint8_t zero8[8];
	int rc;
	rpc_jw_obj(w);
	kq(c, "number", h->number);
	kdata(c, "hash", hash, 32);
	kdata(c, "parentHash", h->parent_hash, 32);
	kdata(c, "nonce", zero8, 8);
	kdata(c, "mixHash", h->mix_digest, 32);
	kdata(c, "sha3Uncles", empty_uncles, 32);
	kdata(c, "logsBloom", h->bloom, CORE_BLOOM_LEN);
	kdata(c, "transactionsRoot", h->tx_hash, 32);
	kdata(c, "stateRoot", h->root, 32);
	kdata(c, "receiptsRoot", h->receipt_hash, 32);
	rpc_jw_key(w, "miner");
	addr(c, h->coinbase);
	kq(c, "difficulty", 0);
	kq(c, "totalDifficulty", 0);
	kdata(c, "extraData", h->extra.p, h->extra.len);
	kq(c, "size", size);
	kq(c, "gasLimit", h->gas_limit);
	kq(c, "gasUsed", h->gas_used);
	kq(c, "timestamp", h->time);
	if (c->ns != RPC_NS_ETH) {
		kq(c, "viewID", h->view_id);
		kq(c, "epoch", h->epoch);
		kq(c, "shardID", h->shard_id);
		kdata(c, "vrf", h->vrf.p, h->vrf.len);
		kdata(c, "vrfProof", h->vdf.p, h->vdf.len);
	}
	rpc_jw_key(w, "transactions");
	rpc_jw_arr(w);
	for (size_t i = 0; i < b->ntxs; i++) {
		if (full) {
			if ((rc = write_tx(c, &b->txs[i], hash, h->number, (uint32_t)i, h->time)))
				return rc;
		} else {
			uint8_t th[32];
			if ((rc = shown_tx_hash(c, &b->txs[i], th)))
				return rc;
			rpc_jw_data(w, th, 32);
		}
	}
	rpc_jw_arr_end(w);
	if (c->ns != RPC_NS_ETH) {
		rpc_jw_key(w, "transactionsInEthHash");
		rpc_jw_arr(w);
		for (size_t i = 0; i < b->ntxs; i++) {
			uint8_t th[32];
			if ((rc = tx_eth_hash(&b->txs[i], th)))
				return rc;
			rpc_jw_data(w, th, 32);
		}
		rpc_jw_arr_end(w);
		rpc_jw_key(w, "stakingTransactions");
		rpc_jw_arr(w);
		for (size_t i = 0; i < b->nstxs; i++) {
			uint8_t th[32];
			if ((rc = stx_hash(&b->stxs[i], th)))
				return rc;
			rpc_jw_data(w, th, 32);
		}
		rpc_jw_arr_end(w);
	}
	rpc_jw_key(w, "uncles");
	rpc_jw_arr(w);
	rpc_jw_arr_end(w);
	rpc_jw_obj_end(w);
	return 0;
}

/* eth_ answers null for an unknown block, hmy_ an error (reference §11.3). */
static int unknown_block(struct rpc_call *c)
{
	if (c->ns == RPC_NS_ETH) {
		rpc_jw_null(c->w);
		return 0;
	}
	return fail(c, RPC_E_SERVER, "block not found");
}

/* ==== methods ============================================================ */

static int m_chain_id(struct rpc_call *c)
{
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	num(c, netparams_eth_chain_id(c->h->np, c->h->shard));
	return 0;
}

static int m_block_number(struct rpc_call *c)
{
	uint64_t n;
	int rc = arity(c, 0, 0);
	if (rc || (rc = param_block(c, 0, &n)))
		return rc;
	num(c, n);
	return 0;
}

static int m_get_balance(struct rpc_call *c)
{
	uint8_t a[20];
	uint64_t n;
	struct state_account acc;
	int rc = arity(c, 1, 2);
	if (rc || (rc = param_addr(c, 0, a)) || (rc = param_block(c, 1, &n)) ||
	    (rc = account_at(c, a, n, &acc)))
		return rc;
	big(c, &acc.balance);
	return 0;
}

static int m_tx_count(struct rpc_call *c)
{
	uint8_t a[20];
	uint64_t n;
	struct state_account acc;
	int rc = arity(c, 1, 2);
	if (rc || (rc = param_addr(c, 0, a)) || (rc = param_block(c, 1, &n)) ||
	    (rc = account_at(c, a, n, &acc)))
		return rc;
	num(c, acc.nonce);
	return 0;
}

/* hmy_getAccountNonce(address, block): the nonce as a plain JSON number in
 * both Harmony namespaces (Go returns a uint64); the Harmony SDK asks it
 * before signing. */
static int m_account_nonce(struct rpc_call *c)
{
	uint8_t a[20];
	uint64_t n;
	struct state_account acc;
	int rc = arity(c, 1, 2);
	if (rc || (rc = param_addr(c, 0, a)) || (rc = param_block(c, 1, &n)) ||
	    (rc = account_at(c, a, n, &acc)))
		return rc;
	rpc_jw_u64(c->w, acc.nonce);
	return 0;
}

static int get_block(struct rpc_call *c, const uint8_t hash[32], int full)
{
	struct block b;
	size_t size;
	int rc = block_by_hash(c, hash, &b, &size);
	if (rc)
		return rc < 0 ? rc : unknown_block(c);
	rc = write_block(c, &b, hash, size, full);
	block_free(&b);
	return rc;
}

static int m_block_by_number(struct rpc_call *c)
{
	uint64_t n;
	int full;
	uint8_t hash[32];
	int rc = arity(c, 1, 2);
	if (rc || (rc = param_block(c, 0, &n)) || (rc = param_bool(c, 1, &full)))
		return rc;
	if ((rc = hash_at(c, n, hash)))
		return rc < 0 ? rc : unknown_block(c);
	return get_block(c, hash, full);
}

static int m_block_by_hash(struct rpc_call *c)
{
	int full;
	uint8_t hash[32];
	int rc = arity(c, 1, 2);
	if (rc || (rc = param_hex(c, 0, hash, 32, "common.Hash")) || (rc = param_bool(c, 1, &full)))
		return rc;
	return get_block(c, hash, full);
}

static int tx_count_of(struct rpc_call *c, const uint8_t hash[32])
{
	struct block b;
	int rc = block_by_hash(c, hash, &b, NULL);
	if (rc)
		return rc < 0 ? rc : unknown_block(c);
	num(c, b.ntxs);
	block_free(&b);
	return 0;
}

static int m_count_by_number(struct rpc_call *c)
{
	uint64_t n;
	uint8_t hash[32];
	int rc = arity(c, 1, 1);
	if (rc || (rc = param_block(c, 0, &n)))
		return rc;
	if ((rc = hash_at(c, n, hash)))
		return rc < 0 ? rc : unknown_block(c);
	return tx_count_of(c, hash);
}

static int m_count_by_hash(struct rpc_call *c)
{
	uint8_t hash[32];
	int rc = arity(c, 1, 1);
	if (rc || (rc = param_hex(c, 0, hash, 32, "common.Hash")))
		return rc;
	return tx_count_of(c, hash);
}

/* The tx at index of a block; null when either is unknown. */
static int tx_in_block(struct rpc_call *c, const uint8_t hash[32], uint64_t index)
{
	struct block b;
	int rc = block_by_hash(c, hash, &b, NULL);
	if (rc < 0)
		return rc;
	if (rc || index >= b.ntxs) {
		if (!rc)
			block_free(&b);
		rpc_jw_null(c->w);
		return 0;
	}
	rc = write_tx(c, &b.txs[index], hash, b.header.number, (uint32_t)index, b.header.time);
	block_free(&b);
	return rc;
}

static int param_index(struct rpc_call *c, size_t i, uint64_t *out)
{
	json_t *p = param(c, i);
	if (p && json_is_integer(p) && json_integer_value(p) >= 0) {
		*out = (uint64_t)json_integer_value(p);
		return 0;
	}
	if (!p || !json_is_string(p))
		return fail(c, RPC_E_PARAMS, "invalid argument %zu: index must be a hex quantity", i);
	const char *why;
	if (parse_qty(json_string_value(p), json_string_length(p), out, &why))
		return fail(c, RPC_E_PARAMS, "invalid argument %zu: %s", i, why);
	return 0;
}

static int m_tx_by_number_index(struct rpc_call *c)
{
	uint64_t n, idx;
	uint8_t hash[32];
	int rc = arity(c, 2, 2);
	if (rc || (rc = param_block(c, 0, &n)) || (rc = param_index(c, 1, &idx)))
		return rc;
	if ((rc = hash_at(c, n, hash))) {
		if (rc < 0)
			return rc;
		rpc_jw_null(c->w);
		return 0;
	}
	return tx_in_block(c, hash, idx);
}

static int m_tx_by_hash_index(struct rpc_call *c)
{
	uint64_t idx;
	uint8_t hash[32];
	int rc = arity(c, 2, 2);
	if (rc || (rc = param_hex(c, 0, hash, 32, "common.Hash")) || (rc = param_index(c, 1, &idx)))
		return rc;
	return tx_in_block(c, hash, idx);
}

/* Finds a tx by either hash; 1 when unknown. */
static int lookup(struct rpc_call *c, const uint8_t txh[32], uint8_t bh[32], uint64_t *number,
                  uint32_t *index)
{
	int rc = store_txlookup_get(c->t, txh, bh, number, index);
	return rc == -CN_ENOTFOUND ? 1 : rc;
}

static int m_tx_by_hash(struct rpc_call *c)
{
	uint8_t txh[32], bh[32];
	uint64_t number;
	uint32_t index;
	int rc = arity(c, 1, 1);
	if (rc || (rc = param_hex(c, 0, txh, 32, "common.Hash")))
		return rc;
	if ((rc = lookup(c, txh, bh, &number, &index))) {
		if (rc < 0)
			return rc;
		rpc_jw_null(c->w);
		return 0;
	}
	return tx_in_block(c, bh, index);
}

static void write_log(struct rpc_call *c, const struct core_log *l, const uint8_t bh[32],
                      uint64_t number, const uint8_t txh[32], uint32_t txi, uint64_t logi)
{
	struct rpc_jw *w = c->w;
	rpc_jw_obj(w);
	rpc_jw_key(w, "address");
	addr(c, l->addr);
	rpc_jw_key(w, "topics");
	rpc_jw_arr(w);
	for (size_t i = 0; i < l->ntopics; i++)
		rpc_jw_data(w, l->topics[i], 32);
	rpc_jw_arr_end(w);
	kdata(c, "data", l->data, l->data_len);
	kq(c, "blockNumber", number);
	kdata(c, "transactionHash", txh, 32);
	kq(c, "transactionIndex", txi);
	kdata(c, "blockHash", bh, 32);
	kq(c, "logIndex", logi);
	rpc_jw_key(w, "removed");
	rpc_jw_bool(w, 0);
	rpc_jw_obj_end(w);
}

/* Decodes only transaction index of the stored body of block hash: a
 * receipt needs one transaction, and decoding the whole block cost more
 * than the rest of the receipt (bench/rpc.c). 1 when the block or the
 * index is unknown. */
static int tx_of_block(struct rpc_call *c, const uint8_t hash[32], uint32_t index, struct tx *tx)
{
	const uint8_t *bv;
	size_t bl;
	struct rlp_item outer, marker, ver, inner, txs, it;
	struct rlp_cursor cur, in, tc;
	int rc = store_get(c->t, STORE_BODIES, hash, 32, &bv, &bl);
	if (rc)
		return rc == -CN_ENOTFOUND ? 1 : rc;
	if (rlp_decode_one(bv, bl, &outer) || rlp_enter(&outer, &cur) || rlp_next(&cur, &marker) ||
	    rlp_next(&cur, &ver) || rlp_next(&cur, &inner) || !inner.is_list ||
	    rlp_enter(&inner, &in) || rlp_next(&in, &txs) || !txs.is_list || rlp_enter(&txs, &tc))
		return -CN_EINVAL;
	for (uint32_t i = 0; i <= index; i++)
		if ((rc = rlp_next(&tc, &it)))
			return 1;
	if (!it.is_list || (rc = tx_decode(tx, it.raw, it.raw_len)))
		return rc ? rc : -CN_EINVAL;
	if (tx->type != TX_HARMONY) {
		tx_free(tx);
		return -CN_EINVAL;   /* blocks store the Harmony form */
	}
	return 0;
}

/* The sender and both hashes of a transaction, through the handler's
 * cache keyed by the hash the caller looked it up by: the two hashes
 * re-encode the transaction and, for blocks stored without senders,
 * recovery was three quarters of a receipt's cost, while clients poll the
 * same receipt until it appears. */
static int cached_tx_info(struct rpc_call *c, const uint8_t txh[32], const struct tx *tx,
                          uint8_t from[20], int *have_from, uint8_t hmy[32], uint8_t eth[32])
{
	struct rpc_handler *h = c->h;
	size_t slot = ((size_t)txh[0] | (size_t)txh[1] << 8) % RPC_SENDER_SLOTS;
	struct rpc_sender_slot *e = &h->senders[slot];
	pthread_mutex_lock(&h->senders_mu);
	int hit = e->used && !memcmp(e->hash, txh, 32);
	if (hit) {
		memcpy(from, e->from, 20);
		*have_from = e->have_from;
		memcpy(hmy, e->hmy, 32);
		memcpy(eth, e->eth, 32);
	}
	pthread_mutex_unlock(&h->senders_mu);
	if (hit)
		return 0;
	int rc;
	if ((rc = tx_hash(tx, hmy)) || (rc = tx_eth_hash(tx, eth)))
		return rc;
	/* src/chain stores the sender it recovered at insert with the lookup
	 * record; older records have none and cost a recovery. */
	*have_from = store_txlookup_sender(c->t, txh, from) == 0 || tx_sender(tx, from) == 0;
	if (!*have_from)
		memset(from, 0, 20);
	pthread_mutex_lock(&h->senders_mu);
	memcpy(e->hash, txh, 32);
	memcpy(e->from, from, 20);
	memcpy(e->hmy, hmy, 32);
	memcpy(e->eth, eth, 32);
	e->have_from = *have_from;
	e->used = 1;
	pthread_mutex_unlock(&h->senders_mu);
	return 0;
}

/* Decodes only receipt index of block hash's stored receipts: one lookup
 * of a 50-transfer block used to decode (and free) all 50. What the rest
 * of the receipt needs from the earlier ones — the previous cumulative gas
 * and how many logs came before — is read off their RLP without decoding.
 * 1 when the block has no receipt at index. */
static int receipt_of_block(struct rpc_call *c, const uint8_t hash[32], uint32_t index,
                            struct receipt *r, uint64_t *prev_gas, uint64_t *logs_before)
{
	const uint8_t *v;
	size_t len;
	struct rlp_item list, it;
	struct rlp_cursor cur;
	int rc = store_get(c->t, STORE_RECEIPTS, hash, 32, &v, &len);
	if (rc)
		return rc == -CN_ENOTFOUND ? 1 : rc;
	if ((rc = rlp_decode_one(v, len, &list)) || (rc = rlp_enter(&list, &cur)))
		return rc;
	*prev_gas = 0;
	*logs_before = 0;
	for (uint32_t i = 0;; i++) {
		if ((rc = rlp_next(&cur, &it)))
			return rc == -CN_ENOTFOUND ? 1 : rc;
		if (i == index)
			return receipt_decode(r, it.raw, it.raw_len);
		/* [statusOrRoot, cumulativeGas, bloom, logs] */
		struct rlp_item f0, gas, bloom, logs;
		struct rlp_cursor rc_;
		size_t nlogs;
		if ((rc = rlp_enter(&it, &rc_)) || (rc = rlp_next(&rc_, &f0)) ||
		    (rc = rlp_next(&rc_, &gas)) || (rc = rlp_item_u64(&gas, prev_gas)) ||
		    (rc = rlp_next(&rc_, &bloom)) || (rc = rlp_next(&rc_, &logs)) ||
		    (rc = rlp_list_count(&logs, &nlogs)))
			return rc;
		*logs_before += nlogs;
	}
}

static int m_receipt(struct rpc_call *c)
{
	uint8_t txh[32], bh[32];
	uint64_t number;
	uint32_t index;
	int rc = arity(c, 1, 1);
	if (rc || (rc = param_hex(c, 0, txh, 32, "common.Hash")))
		return rc;
	if ((rc = lookup(c, txh, bh, &number, &index))) {
		if (rc < 0)
			return rc;
		rpc_jw_null(c->w);
		return 0;
	}
	struct tx txv;
	struct receipt rv;
	uint64_t prev, logi;
	memset(&txv, 0, sizeof txv);
	memset(&rv, 0, sizeof rv);
	if ((rc = tx_of_block(c, bh, index, &txv)))
		return rc < 0 ? rc : fail(c, RPC_E_INTERNAL, "tx index %u beyond its block", index);
	if ((rc = receipt_of_block(c, bh, index, &rv, &prev, &logi))) {
		if (rc > 0)
			rc = fail(c, RPC_E_INTERNAL, "tx index %u beyond its receipts", index);
		goto out;
	}
	const struct tx *tx = &txv;
	const struct receipt *re = &rv;
	uint8_t hmy[32], eth[32], from[20];
	int have_from;
	if ((rc = cached_tx_info(c, txh, tx, from, &have_from, hmy, eth)))
		goto out;
	const uint8_t *shown = c->ns == RPC_NS_ETH ? eth : hmy;
	struct rpc_jw *w = c->w;
	rpc_jw_obj(w);
	kdata(c, "blockHash", bh, 32);
	kq(c, "blockNumber", number);
	rpc_jw_key(w, "contractAddress");
	rpc_jw_null(w);
	kq(c, "cumulativeGasUsed", re->cumulative_gas);
	rpc_jw_key(w, "effectiveGasPrice");
	big(c, &tx->gas_price);
	rpc_jw_key(w, "from");
	if (have_from)
		addr(c, from);
	else
		rpc_jw_null(w);
	kq(c, "gasUsed", re->cumulative_gas >= prev ? re->cumulative_gas - prev : 0);
	rpc_jw_key(w, "logs");
	rpc_jw_arr(w);
	for (size_t i = 0; i < re->nlogs; i++)
		write_log(c, &re->logs[i], bh, number, shown, index, logi + i);
	rpc_jw_arr_end(w);
	kdata(c, "logsBloom", re->bloom, CORE_BLOOM_LEN);
	if (re->has_post_state)
		kdata(c, "root", re->post_state, 32);
	else
		kq(c, "status", (uint64_t)re->status);
	rpc_jw_key(w, "to");
	if (tx->has_to)
		addr(c, tx->to);
	else
		rpc_jw_null(w);
	kdata(c, "transactionHash", shown, 32);
	kq(c, "transactionIndex", index);
	kq(c, "type", 0);
	if (c->ns != RPC_NS_ETH) {
		kq(c, "shardID", tx->shard_id);
		kq(c, "toShardID", tx->to_shard_id);
	}
	rpc_jw_obj_end(w);
out:
	receipt_free(&rv);
	tx_free(&txv);
	return rc;
}

static int json_hex(struct rpc_call *c, json_t *v, uint8_t *out, size_t want, const char *what);

/* ==== eth_call, eth_estimateGas ======================================== */

/* The parts of a call object canon can act on without an EVM. */
struct call_args {
	int has_from, has_to, has_gas;
	uint8_t from[20], to[20];
	struct u256 value;
	uint64_t gas;
	uint8_t *data;
	size_t data_len;
};

static int call_parse(struct rpc_call *c, struct call_args *a)
{
	json_t *o = param(c, 0);
	memset(a, 0, sizeof *a);
	if (!o)
		return fail(c, RPC_E_PARAMS, "missing value for required argument 0");
	if (!json_is_object(o))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: the call must be an object");
	int rc;
	json_t *v;
	if ((v = json_object_get(o, "from")) && !json_is_null(v)) {
		if ((rc = json_hex(c, v, a->from, 20, "from")))
			return rc;
		a->has_from = 1;
	}
	if ((v = json_object_get(o, "to")) && !json_is_null(v)) {
		if ((rc = json_hex(c, v, a->to, 20, "to")))
			return rc;
		a->has_to = 1;
	}
	if ((v = json_object_get(o, "value")) && !json_is_null(v) &&
	    (!json_is_string(v) || u256_parse_hex(&a->value, json_string_value(v), json_string_length(v))))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: value must be a hex quantity");
	if ((v = json_object_get(o, "gas")) && !json_is_null(v)) {
		const char *why;
		if (!json_is_string(v) || parse_qty(json_string_value(v), json_string_length(v), &a->gas, &why))
			return fail(c, RPC_E_PARAMS, "invalid argument 0: gas must be a hex quantity");
		a->has_gas = 1;
	}
	/* input is the newer name; geth refuses both when they differ. */
	json_t *in = json_object_get(o, "input"), *d = json_object_get(o, "data");
	if (in && json_is_null(in))
		in = NULL;
	if (d && json_is_null(d))
		d = NULL;
	if (in && d && !json_equal(in, d))
		return fail(c, RPC_E_PARAMS, "both \"data\" and \"input\" are set and not equal");
	if (!in)
		in = d;
	if (in) {
		const char *s = json_is_string(in) ? json_string_value(in) : NULL;
		size_t len = s ? json_string_length(in) : 0, n;
		if (!s || len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || len % 2)
			return fail(c, RPC_E_PARAMS, "invalid argument 0: input must be 0x and an even number of hex digits");
		a->data_len = (len - 2) / 2;
		if (!(a->data = malloc(a->data_len ? a->data_len : 1)))
			return -CN_ENOMEM;
		if (hex_decode(s, len, a->data, a->data_len, &n) || n != a->data_len)
			return fail(c, RPC_E_PARAMS, "invalid argument 0: input is not hex");
	}
	return 0;
}

/* Checks what a plain transfer at block n needs: a target without code
 * and, with a sender, a balance covering the value. */
static int call_check(struct rpc_call *c, const struct call_args *a, uint64_t n)
{
	struct state_account acc;
	int rc;
	if (!a->has_to)
		return fail(c, RPC_E_SERVER, "EVM not available yet: contract creation cannot be run");
	if ((rc = account_at(c, a->to, n, &acc)))
		return rc;
	if (memcmp(acc.code_hash, state_empty_code_hash, 32))
		return fail(c, RPC_E_SERVER, "EVM not available yet: the target account has code");
	if (a->has_from && !u256_is_zero(&a->value)) {
		if ((rc = account_at(c, a->from, n, &acc)))
			return rc;
		if (u256_cmp(&acc.balance, &a->value) < 0)
			return fail(c, RPC_E_SERVER, "insufficient funds for transfer");
	}
	return 0;
}

/* eth_call(call, block): a call to an account without code runs no code
 * and returns nothing. */
static int m_call(struct rpc_call *c)
{
	struct call_args a = {0};
	uint64_t n;
	/* No third argument: state overrides need the EVM's state view. */
	int rc = arity(c, 1, 2);
	static const uint8_t none[1];
	if (!rc && !(rc = call_parse(c, &a)) && !(rc = param_block(c, 1, &n)) &&
	    !(rc = call_check(c, &a, n)))
		rpc_jw_data(c->w, none, 0);
	free(a.data);
	return rc;
}

/* eth_estimateGas(call, block?): a transfer costs its intrinsic gas, the
 * chain's own rule (src/chain), once the checks of call_check pass. */
static int m_estimate_gas(struct rpc_call *c)
{
	struct call_args a = {0};
	uint64_t n;
	/* No third argument: state overrides need the EVM's state view. */
	int rc = arity(c, 1, 2);
	if (!rc && !(rc = call_parse(c, &a)) && !(rc = param_block(c, 1, &n)) &&
	    !(rc = call_check(c, &a, n))) {
		uint64_t g = chain_intrinsic_gas(a.data, a.data_len);
		if (a.has_gas && a.gas < g)
			rc = fail(c, RPC_E_SERVER, "gas required exceeds allowance (%" PRIu64 ")", a.gas);
		else
			num(c, g);
	}
	free(a.data);
	return rc;
}

/* ==== eth_getLogs ====================================================== */

#define LOGS_MAX_ADDRS 64
#define LOGS_MAX_TOPICS 4       /* LOG0..LOG4: at most four topics a log */
#define LOGS_MAX_ALTS 16

/* A filter: a log matches when its address is one of addrs (any when
 * naddrs is 0) and, for each position i < ntopics with alternatives, its
 * topic i is one of them (a position with none is a wildcard). */
struct logs_filter {
	uint8_t addrs[LOGS_MAX_ADDRS][20];
	size_t naddrs;
	uint8_t topics[LOGS_MAX_TOPICS][LOGS_MAX_ALTS][32];
	size_t nalts[LOGS_MAX_TOPICS];
	size_t ntopics;
};

static int json_hex(struct rpc_call *c, json_t *v, uint8_t *out, size_t want, const char *what)
{
	size_t n;
	if (!json_is_string(v))
		return fail(c, RPC_E_PARAMS, "invalid filter: %s must be a hex string", what);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len != 2 + want * 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
	    hex_decode(s, len, out, want, &n) || n != want)
		return fail(c, RPC_E_PARAMS, "invalid filter: %s must be 0x and %zu hex digits", what,
		            want * 2);
	return 0;
}

static int logs_parse(struct rpc_call *c, json_t *o, struct logs_filter *f)
{
	int rc;
	json_t *a = json_object_get(o, "address");
	if (a && json_is_array(a)) {
		if (json_array_size(a) > LOGS_MAX_ADDRS)
			return fail(c, RPC_E_PARAMS, "invalid filter: more than %d addresses",
			            LOGS_MAX_ADDRS);
		for (size_t i = 0; i < json_array_size(a); i++)
			if ((rc = json_hex(c, json_array_get(a, i), f->addrs[f->naddrs++], 20, "address")))
				return rc;
	} else if (a && !json_is_null(a)) {
		if ((rc = json_hex(c, a, f->addrs[f->naddrs++], 20, "address")))
			return rc;
	}
	json_t *t = json_object_get(o, "topics");
	if (t && !json_is_null(t)) {
		if (!json_is_array(t))
			return fail(c, RPC_E_PARAMS, "invalid filter: topics must be an array");
		if (json_array_size(t) > LOGS_MAX_TOPICS)
			return fail(c, RPC_E_PARAMS, "invalid filter: more than %d topic positions",
			            LOGS_MAX_TOPICS);
		f->ntopics = json_array_size(t);
		for (size_t i = 0; i < f->ntopics; i++) {
			json_t *e = json_array_get(t, i);
			if (json_is_null(e))
				continue;
			if (!json_is_array(e)) {
				if ((rc = json_hex(c, e, f->topics[i][f->nalts[i]++], 32, "topic")))
					return rc;
				continue;
			}
			if (json_array_size(e) > LOGS_MAX_ALTS)
				return fail(c, RPC_E_PARAMS, "invalid filter: more than %d alternatives for a topic",
				            LOGS_MAX_ALTS);
			/* [] and [null] are wildcards too, as in go-ethereum. */
			for (size_t k = 0; k < json_array_size(e); k++) {
				json_t *x = json_array_get(e, k);
				if (json_is_null(x)) {
					f->nalts[i] = 0;
					break;
				}
				if ((rc = json_hex(c, x, f->topics[i][f->nalts[i]++], 32, "topic")))
					return rc;
			}
		}
	}
	return 0;
}

/* Whether the block bloom may hold a match: some address and, per
 * constrained position, some alternative must be in it. */
static int logs_bloom_may(const struct logs_filter *f, const uint8_t bloom[CORE_BLOOM_LEN])
{
	int any = !f->naddrs;
	for (size_t i = 0; i < f->naddrs && !any; i++)
		any = bloom_test(bloom, f->addrs[i], 20);
	if (!any)
		return 0;
	for (size_t i = 0; i < f->ntopics; i++) {
		if (!f->nalts[i])
			continue;
		any = 0;
		for (size_t k = 0; k < f->nalts[i] && !any; k++)
			any = bloom_test(bloom, f->topics[i][k], 32);
		if (!any)
			return 0;
	}
	return 1;
}

static int logs_match(const struct logs_filter *f, const struct core_log *l)
{
	int any = !f->naddrs;
	for (size_t i = 0; i < f->naddrs && !any; i++)
		any = !memcmp(l->addr, f->addrs[i], 20);
	if (!any || f->ntopics > l->ntopics)
		return 0;
	for (size_t i = 0; i < f->ntopics; i++) {
		if (!f->nalts[i])
			continue;
		any = 0;
		for (size_t k = 0; k < f->nalts[i] && !any; k++)
			any = !memcmp(l->topics[i], f->topics[i][k], 32);
		if (!any)
			return 0;
	}
	return 1;
}

/* Writes the matching logs of one block. */
static int logs_of_block(struct rpc_call *c, const struct logs_filter *f, const uint8_t bh[32])
{
	struct header hd;
	int rc = read_header(c, bh, &hd);
	if (rc)
		return rc == -CN_ENOTFOUND ? fail(c, RPC_E_INTERNAL, "indexed block missing") : rc;
	int may = logs_bloom_may(f, hd.bloom);
	header_free(&hd);
	if (!may)
		return 0;
	struct block b;
	struct receipt *r = NULL;
	size_t nr = 0;
	if ((rc = block_by_hash(c, bh, &b, NULL)))
		return rc < 0 ? rc : fail(c, RPC_E_INTERNAL, "indexed block missing");
	if ((rc = chain_txn_receipts(c->t, bh, &r, &nr))) {
		if (rc == -CN_ENOTFOUND)
			rc = 0;
		goto out;
	}
	uint64_t logi = 0;
	for (size_t i = 0; i < nr; i++) {
		uint8_t shown[32];
		int have = 0;
		for (size_t k = 0; k < r[i].nlogs; k++, logi++) {
			if (!logs_match(f, &r[i].logs[k]))
				continue;
			if (!have) {
				if (i >= b.ntxs) {
					rc = fail(c, RPC_E_INTERNAL, "receipt %zu beyond its block", i);
					goto out;
				}
				if ((rc = shown_tx_hash(c, &b.txs[i], shown)))
					goto out;
				have = 1;
			}
			if (c->emit)
				rpc_jw_reset(c->w);
			write_log(c, &r[i].logs[k], bh, b.header.number, shown, (uint32_t)i, logi);
			if (c->emit && (rc = c->emit(c->emit_ctx, c->w)))
				goto out;
		}
	}
out:
	receipts_free(r, nr);
	block_free(&b);
	return rc;
}

/* eth_getLogs({fromBlock, toBlock | blockHash, address, topics}). A range
 * longer than the handler's max_log_blocks is refused rather than served
 * slowly: the caller can split it. */
static int m_get_logs(struct rpc_call *c)
{
	int rc = arity(c, 1, 1);
	if (rc)
		return rc;
	json_t *o = param(c, 0);
	if (!json_is_object(o))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: the filter must be an object");
	struct logs_filter *f = calloc(1, sizeof *f);
	if (!f)
		return -CN_ENOMEM;
	if ((rc = logs_parse(c, o, f)))
		goto out;
	json_t *bhj = json_object_get(o, "blockHash");
	if (bhj && !json_is_null(bhj)) {
		uint8_t bh[32];
		struct header hd;
		if (json_object_get(o, "fromBlock") || json_object_get(o, "toBlock")) {
			rc = fail(c, RPC_E_PARAMS, "invalid filter: blockHash excludes fromBlock and toBlock");
			goto out;
		}
		if ((rc = json_hex(c, bhj, bh, 32, "blockHash")))
			goto out;
		if ((rc = read_header(c, bh, &hd))) {
			if (rc == -CN_ENOTFOUND)
				rc = fail(c, RPC_E_SERVER, "unknown block");
			goto out;
		}
		header_free(&hd);
		rpc_jw_arr(c->w);
		if (!(rc = logs_of_block(c, f, bh)))
			rpc_jw_arr_end(c->w);
		goto out;
	}
	/* The range bounds are read like block parameters, through a
	 * one-element view of each so param_block's tags and errors apply. */
	uint64_t from, to, top;
	if ((rc = head(c, &top, NULL, NULL))) {
		if (rc == -CN_ENOTFOUND)
			rc = fail(c, RPC_E_SERVER, "no blocks in the database");
		goto out;
	}
	json_t *saved = c->params;
	json_t *fb = json_object_get(o, "fromBlock"), *tb = json_object_get(o, "toBlock");
	json_t *view = json_array();
	if (!view) {
		rc = -CN_ENOMEM;
		goto out;
	}
	c->params = view;
	json_array_append(view, fb && !json_is_null(fb) ? fb : json_null());
	rc = json_is_null(json_array_get(view, 0)) ? (from = top, 0) : param_block(c, 0, &from);
	if (!rc) {
		json_array_set(view, 0, tb && !json_is_null(tb) ? tb : json_null());
		rc = json_is_null(json_array_get(view, 0)) ? (to = top, 0) : param_block(c, 0, &to);
	}
	c->params = saved;
	json_decref(view);
	if (rc)
		goto out;
	if (to > top)
		to = top;
	if (from > to) {
		rpc_jw_arr(c->w);
		rpc_jw_arr_end(c->w);
		goto out;
	}
	uint64_t lim = c->h->lim.max_log_blocks;
	if (to - from >= lim) {
		rc = fail(c, RPC_E_SERVER, "block range too large: %" PRIu64 " blocks, limit %" PRIu64,
		          to - from + 1, lim);
		goto out;
	}
	rpc_jw_arr(c->w);
	for (uint64_t n = from; n <= to; n++) {
		uint8_t bh[32];
		if ((rc = hash_at(c, n, bh)) == 1) {
			rc = 0;
			continue;
		}
		if (rc || (rc = logs_of_block(c, f, bh)))
			goto out;
	}
	rpc_jw_arr_end(c->w);
out:
	free(f);
	return rc;
}

static int m_gas_price(struct rpc_call *c)
{
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	num(c, c->h->np->min_gas_price);
	return 0;
}

static int sync_status(struct rpc_call *c, uint64_t *own, uint64_t *best)
{
	int rc = head(c, own, NULL, NULL);
	if (rc == -CN_ENOTFOUND)
		*own = 0;
	else if (rc)
		return rc;
	*best = *own;
	uint64_t p;
	if (c->h->be.peer_height && !c->h->be.peer_height(c->h->be.ctx, &p) && p > *own)
		*best = p;
	return 0;
}

static int m_syncing(struct rpc_call *c)
{
	uint64_t own, best;
	int rc = arity(c, 0, 0);
	if (rc || (rc = sync_status(c, &own, &best)))
		return rc;
	if (best <= own) {
		rpc_jw_bool(c->w, 0);
		return 0;
	}
	rpc_jw_obj(c->w);
	kq(c, "startingBlock", own);
	kq(c, "currentBlock", own);
	kq(c, "highestBlock", best);
	rpc_jw_obj_end(c->w);
	return 0;
}

static int m_accounts(struct rpc_call *c)
{
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	rpc_jw_arr(c->w);
	rpc_jw_arr_end(c->w);
	return 0;
}

static int m_net_version(struct rpc_call *c)
{
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	char b[24];
	snprintf(b, sizeof b, "%llu",
	         (unsigned long long)netparams_eth_chain_id(c->h->np, c->h->shard));
	rpc_jw_str(c->w, b);
	return 0;
}

static int m_net_listening(struct rpc_call *c)
{
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	rpc_jw_bool(c->w, 1);
	return 0;
}

static int m_peer_count(struct rpc_call *c)
{
	uint64_t n = 0;
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	if (c->h->be.peer_count && c->h->be.peer_count(c->h->be.ctx, &n))
		n = 0;
	rpc_jw_qty(c->w, n);
	return 0;
}

static int m_client_version(struct rpc_call *c)
{
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	rpc_jw_str(c->w, CLIENT_VERSION);
	return 0;
}

static int m_sha3(struct rpc_call *c)
{
	int rc = arity(c, 1, 1);
	if (rc)
		return rc;
	json_t *p = param(c, 0);
	if (!p || !json_is_string(p))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: expected a hex string");
	if (json_string_length(p) < 2 || strncasecmp(json_string_value(p), "0x", 2))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: hex string without 0x prefix");
	uint8_t *data;
	size_t len;
	if (hex_decode_alloc(json_string_value(p), json_string_length(p), &data, &len))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: invalid hex string");
	uint8_t h[32];
	keccak256(data, len, h);
	free(data);
	rpc_jw_data(c->w, h, 32);
	return 0;
}

static void endpoint_url(const struct rpc_handler *h, uint32_t shard, int ws, char *b, size_t cap);

static int m_send_raw(struct rpc_call *c)
{
	int rc = arity(c, 1, 1);
	if (rc)
		return rc;
	json_t *p = param(c, 0);
	if (!p || !json_is_string(p) || json_string_length(p) < 2 ||
	    strncasecmp(json_string_value(p), "0x", 2))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: hex string without 0x prefix");
	uint8_t *raw;
	size_t len;
	if (hex_decode_alloc(json_string_value(p), json_string_length(p), &raw, &len))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: invalid hex string");
	/* Harmony refuses raw transactions of 138 KiB and more before decoding. */
	if (len >= 138u * 1024) {
		free(raw);
		return fail(c, RPC_E_SERVER, "transaction size %zu is too large", len);
	}
	struct tx tx;
	memset(&tx, 0, sizeof tx);
	if ((rc = tx_decode(&tx, raw, len))) {
		free(raw);
		return fail(c, RPC_E_SERVER, "rlp: %s", cn_strerror(rc));
	}
	/* A transaction for another shard of this network is refused here, with
	 * the endpoint that takes it: the Harmony form names its shard, the
	 * Ethereum form through its chain ID (base + shard). */
	const struct netparams *np = c->h->np;
	uint32_t want = c->h->shard;
	if (tx.type == TX_HARMONY)
		want = tx.shard_id;
	else if (tx.chain_id >= np->eth_chain_id_base &&
	         tx.chain_id - np->eth_chain_id_base < np->num_shards)
		want = (uint32_t)(tx.chain_id - np->eth_chain_id_base);
	tx_free(&tx);
	if (want != c->h->shard && want < np->num_shards) {
		char url[128];
		endpoint_url(c->h, want, 0, url, sizeof url);
		free(raw);
		return fail(c, RPC_E_SERVER,
		            "transaction is for shard %u, this node serves shard %u: send it to %s",
		            want, c->h->shard, url);
	}
	if (!c->h->be.submit_tx) {
		free(raw);
		return fail(c, RPC_E_SERVER,
		            "no transaction pool: this server only reads the database (canon rpc)");
	}
	uint8_t hash[32];
	char msg[200] = "";
	void *ctx = c->h->be.submit_ctx ? c->h->be.submit_ctx : c->h->be.ctx;
	rc = c->h->be.submit_tx(ctx, raw, len, c->ns == RPC_NS_ETH, hash, msg, sizeof msg);
	free(raw);
	if (rc)
		return fail(c, RPC_E_SERVER, "%s", msg[0] ? msg : "transaction refused");
	rpc_jw_data(c->w, hash, 32);
	return 0;
}

static int m_protocol_version(struct rpc_call *c)
{
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	num(c, 1);
	return 0;
}

static int m_latest_header(struct rpc_call *c)
{
	uint64_t n;
	uint8_t hash[32];
	struct header h;
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	if ((rc = head(c, &n, hash, &h)))
		return rc == -CN_ENOTFOUND ? fail(c, RPC_E_SERVER, "no blocks in the database") : rc;
	struct rpc_jw *w = c->w;
	rpc_jw_obj(w);
	kdata(c, "blockHash", hash, 32);
	rpc_jw_key(w, "blockNumber");
	rpc_jw_u64(w, h.number);
	rpc_jw_key(w, "shardID");
	rpc_jw_u64(w, h.shard_id);
	rpc_jw_key(w, "leader");
	c->ns = RPC_NS_HMY;
	addr(c, h.coinbase);
	rpc_jw_key(w, "viewID");
	rpc_jw_u64(w, h.view_id);
	rpc_jw_key(w, "epoch");
	rpc_jw_u64(w, h.epoch);
	/* Go prints time.Time as "2006-01-02 15:04:05 +0000 UTC". */
	char ts[64];
	time_t t = (time_t)h.time;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
	rpc_jw_key(w, "timestamp");
	rpc_jw_str(w, ts);
	rpc_jw_key(w, "unixtime");
	rpc_jw_u64(w, h.time);
	rpc_jw_key(w, "lastCommitSig");
	{
		char sig[2 * CORE_BLS_SIG_LEN + 1];
		hex_encode(h.last_commit_sig, CORE_BLS_SIG_LEN, sig);
		rpc_jw_str(w, sig);
	}
	kdata(c, "lastCommitBitmap", h.last_commit_bitmap.p, h.last_commit_bitmap.len);
	kdata(c, "vrf", h.vrf.p, h.vrf.len);
	kdata(c, "vrfProof", h.vdf.p, h.vdf.len);
	rpc_jw_key(w, "crossLinks");
	rpc_jw_arr(w);
	rpc_jw_arr_end(w);
	rpc_jw_obj_end(w);
	header_free(&h);
	return 0;
}

static int public_net(const struct rpc_handler *h)
{
	return !strcmp(h->np->name, "mainnet") || !strcmp(h->np->name, "testnet");
}

/* A shard's port on this machine: localnet's shards sit 2 ports apart
 * from a base (9500, 9800, plus any offset), so they are found from the
 * port this server bound; elsewhere, and without a server, the defaults. */
static unsigned shard_port(const struct rpc_handler *h, uint32_t shard, int ws)
{
	const char *net = h->np->name;
	unsigned own = ws ? h->ws_port : h->http_port;
	if (own && !strcmp(net, "localnet") && own >= 2u * h->shard &&
	    own - 2u * h->shard + 2u * shard <= 65535)
		return own - 2u * h->shard + 2u * shard;
	return ws ? rpc_default_ws_port(net, shard) : rpc_default_port(net, shard);
}

/* A shard's endpoint as hmy_getShardingStructure advertises it. */
static void endpoint_url(const struct rpc_handler *h, uint32_t shard, int ws, char *b, size_t cap)
{
	const char *net = h->np->name;
	const char *scheme = public_net(h) ? (ws ? "wss" : "https") : (ws ? "ws" : "http");
	if (public_net(h))
		snprintf(b, cap, "%s://%s.s%u.%s.hmny.io", scheme, ws ? "ws" : "api", shard,
		         !strcmp(net, "mainnet") ? "t" : "b");
	else
		snprintf(b, cap, "%s://127.0.0.1:%u", scheme, (unsigned)shard_port(h, shard, ws));
}

static void endpoint(struct rpc_call *c, uint32_t shard, int ws)
{
	char b[128];
	endpoint_url(c->h, shard, ws, b, sizeof b);
	rpc_jw_str(c->w, b);
}

static int m_sharding_structure(struct rpc_call *c)
{
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	rpc_jw_arr(c->w);
	for (uint32_t s = 0; s < c->h->np->num_shards; s++) {
		rpc_jw_obj(c->w);
		rpc_jw_key(c->w, "current");
		rpc_jw_bool(c->w, s == c->h->shard);
		rpc_jw_key(c->w, "shardID");
		rpc_jw_u64(c->w, s);
		rpc_jw_key(c->w, "http");
		endpoint(c, s, 0);
		rpc_jw_key(c->w, "ws");
		endpoint(c, s, 1);
		rpc_jw_obj_end(c->w);
	}
	rpc_jw_arr_end(c->w);
	return 0;
}

static int m_node_metadata(struct rpc_call *c)
{
	uint64_t own, best;
	int rc = arity(c, 0, 0);
	if (rc || (rc = sync_status(c, &own, &best)))
		return rc;
	const struct netparams *np = c->h->np;
	struct rpc_jw *w = c->w;
	rpc_jw_obj(w);
	rpc_jw_key(w, "version");
	rpc_jw_str(w, CLIENT_VERSION);
	rpc_jw_key(w, "network");
	rpc_jw_str(w, np->name);
	rpc_jw_key(w, "chain-config");
	rpc_jw_obj(w);
	rpc_jw_key(w, "chain-id");
	rpc_jw_u64(w, np->chain_id);
	rpc_jw_key(w, "eth-compatible-chain-id");
	rpc_jw_u64(w, netparams_eth_chain_id(np, c->h->shard));
	rpc_jw_obj_end(w);
	rpc_jw_key(w, "is-leader");
	rpc_jw_bool(w, 0);
	rpc_jw_key(w, "shard-id");
	rpc_jw_u64(w, c->h->shard);
	rpc_jw_key(w, "current-block-number");
	rpc_jw_u64(w, own);
	rpc_jw_key(w, "current-epoch");
	rpc_jw_u64(w, netparams_epoch_of(np, own));
	rpc_jw_key(w, "blocks-per-epoch");
	rpc_jw_u64(w, np->blocks_per_epoch);
	rpc_jw_key(w, "role");
	rpc_jw_str(w, "ExplorerNode");
	rpc_jw_key(w, "is-archival");
	rpc_jw_bool(w, 0);
	rpc_jw_key(w, "is-backup");
	rpc_jw_bool(w, 0);
	rpc_jw_key(w, "sync-peer-height");
	rpc_jw_u64(w, best);
	/* An RPC server holds no validator keys and has no DNS zone. */
	rpc_jw_key(w, "blskey");
	rpc_jw_arr(w);
	rpc_jw_arr_end(w);
	rpc_jw_key(w, "dns-zone");
	rpc_jw_str(w, "");
	rpc_jw_key(w, "node-unix-start-time");
	rpc_jw_u64(w, c->h->start_unix);
	uint64_t peers = 0;
	if (c->h->be.peer_count && c->h->be.peer_count(c->h->be.ctx, &peers))
		peers = 0;
	rpc_jw_key(w, "p2p-connectivity");
	rpc_jw_obj(w);
	rpc_jw_key(w, "total-known-peers");
	rpc_jw_u64(w, peers);
	rpc_jw_key(w, "connected");
	rpc_jw_u64(w, peers);
	rpc_jw_key(w, "not-connected");
	rpc_jw_u64(w, 0);
	rpc_jw_obj_end(w);
	rpc_jw_obj_end(w);
	return 0;
}

static int m_get_epoch(struct rpc_call *c)
{
	uint64_t n;
	struct header h;
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	if ((rc = head(c, &n, NULL, &h)))
		return rc == -CN_ENOTFOUND ? fail(c, RPC_E_SERVER, "no blocks in the database") : rc;
	num(c, h.epoch);
	header_free(&h);
	return 0;
}

static int m_get_shard_id(struct rpc_call *c)
{
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	rpc_jw_u64(c->w, c->h->shard);   /* a plain number in V1 and V2 alike */
	return 0;
}

/* ---- hmy_getBlocks ------------------------------------------------------ */

/* Harmony's getBlocks range limit (rpcGetBlocksLimit). */
#define GET_BLOCKS_LIMIT 1024

/* hmy_getBlocks(from, to, {fullTx, withSigners, inclStaking}): the blocks
 * from..to that exist, as getBlockByNumber renders them; "latest" as the
 * end means the head, and a range wider than 1024 is refused as Harmony
 * does. A boolean third argument is taken as fullTx. */
static int m_get_blocks(struct rpc_call *c)
{
	uint64_t from, to, top;
	int full = 0, rc = arity(c, 2, 3);
	if (rc || (rc = param_block(c, 0, &from)) || (rc = param_block(c, 1, &to)))
		return rc;
	json_t *o = param(c, 2);
	if (o && json_is_object(o)) {
		json_t *f = json_object_get(o, "fullTx");
		if (f && !json_is_boolean(f))
			return fail(c, RPC_E_PARAMS, "invalid argument 2: fullTx must be a boolean");
		full = f && json_is_true(f);
	} else if (o && json_is_boolean(o)) {
		full = json_is_true(o);
	} else if (o) {
		return fail(c, RPC_E_PARAMS, "invalid argument 2: expected {fullTx, ...}");
	}
	if (to >= from && to - from > GET_BLOCKS_LIMIT)
		return fail(c, RPC_E_SERVER, "GetBlocks query must be smaller than size %d",
		            GET_BLOCKS_LIMIT);
	if ((rc = head(c, &top, NULL, NULL)))
		return rc == -CN_ENOTFOUND ? fail(c, RPC_E_SERVER, "no blocks in the database") : rc;
	rpc_jw_arr(c->w);
	for (uint64_t n = from; n <= to && n <= top; n++) {
		uint8_t hash[32];
		if ((rc = hash_at(c, n, hash)) < 0)
			return rc;
		if (rc)
			continue;
		struct block b;
		size_t size;
		if ((rc = block_by_hash(c, hash, &b, &size)) < 0)
			return rc;
		if (rc)
			continue;
		rc = write_block(c, &b, hash, size, full);
		block_free(&b);
		if (rc)
			return rc;
		if (n == UINT64_MAX)
			break;
	}
	rpc_jw_arr_end(c->w);
	return 0;
}

/* ---- cross-shard receipts: the source half ---------------------------- */

/* The CX receipts block number sent to shard `to` (none: *n = 0). */
static int cx_out(struct rpc_call *c, uint32_t to, uint64_t number, struct cx_receipt **out,
                  size_t *n)
{
	uint8_t k[12];
	const uint8_t *v;
	size_t len, count;
	struct rlp_item it, x;
	struct rlp_cursor cur;
	*out = NULL;
	*n = 0;
	store_be32(k, to);
	store_be64(k + 4, number);
	int rc = store_get(c->t, STORE_CX_OUT, k, sizeof k, &v, &len);
	if (rc == -CN_ENOTFOUND)
		return 0;
	if (rc || (rc = rlp_decode_one(v, len, &it)) || (rc = rlp_list_count(&it, &count)) ||
	    (rc = rlp_enter(&it, &cur)))
		return rc;
	struct cx_receipt *r = calloc(count ? count : 1, sizeof *r);
	if (!r)
		return -CN_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		if ((rc = rlp_next(&cur, &x)) || (rc = cx_receipt_decode(&r[i], x.raw, x.raw_len))) {
			free(r);
			return rc;
		}
	}
	*out = r;
	*n = count;
	return 0;
}

static void write_cx(struct rpc_call *c, const struct cx_receipt *r)
{
	struct rpc_jw *w = c->w;
	rpc_jw_obj(w);
	kdata(c, "txHash", r->tx_hash, 32);
	rpc_jw_key(w, "from");
	addr(c, r->from);
	rpc_jw_key(w, "to");
	addr(c, r->to);
	kq(c, "shardID", r->shard_id);
	kq(c, "toShardID", r->to_shard_id);
	rpc_jw_key(w, "amount");
	big(c, &r->amount);
	rpc_jw_obj_end(w);
}

/* hmy_getCXReceiptByHash(txHash). Harmony answers it on the destination
 * shard once the receipt is credited, with the destination block; canon
 * does not deliver CX receipts yet, so this is the source half: a
 * cross-shard transfer of this shard that emitted a CX receipt is shown
 * with the source block that emitted it; anything else is null. */
static int m_cx_receipt_by_hash(struct rpc_call *c)
{
	uint8_t txh[32], bh[32];
	uint64_t number;
	uint32_t index;
	int rc = arity(c, 1, 1);
	if (rc || (rc = param_hex(c, 0, txh, 32, "common.Hash")))
		return rc;
	if ((rc = lookup(c, txh, bh, &number, &index))) {
		if (rc < 0)
			return rc;
		rpc_jw_null(c->w);
		return 0;
	}
	struct tx tx;
	memset(&tx, 0, sizeof tx);
	if ((rc = tx_of_block(c, bh, index, &tx)))
		return rc < 0 ? rc : fail(c, RPC_E_INTERNAL, "tx index %u beyond its block", index);
	uint8_t hh[32];
	struct cx_receipt *r = NULL, *hit = NULL;
	size_t n = 0;
	if (tx.to_shard_id != c->h->shard && !(rc = tx_hash(&tx, hh)) &&
	    !(rc = cx_out(c, tx.to_shard_id, number, &r, &n)))
		for (size_t i = 0; i < n && !hit; i++)
			if (!memcmp(r[i].tx_hash, hh, 32))
				hit = &r[i];
	tx_free(&tx);
	if (rc) {
		free(r);
		return rc;
	}
	if (!hit) {
		rpc_jw_null(c->w);
		free(r);
		return 0;
	}
	struct rpc_jw *w = c->w;
	rpc_jw_obj(w);
	kdata(c, "blockHash", bh, 32);
	kq(c, "blockNumber", number);
	kdata(c, "hash", hit->tx_hash, 32);
	rpc_jw_key(w, "from");
	addr(c, hit->from);
	rpc_jw_key(w, "to");
	addr(c, hit->to);
	kq(c, "shardID", hit->shard_id);
	kq(c, "toShardID", hit->to_shard_id);
	rpc_jw_key(w, "value");
	big(c, &hit->amount);
	rpc_jw_obj_end(w);
	free(r);
	return 0;
}

/* How far back hmy_getPendingCXReceipts looks. */
#define CX_PENDING_BLOCKS 64

/* One CXReceiptsProof as Harmony renders it (receipts, merkleProof,
 * header, commitSig, commitBitmap) for the receipts block number sent to
 * shard d. The commit signature over a block travels in its child's
 * header (lastCommitSig), so a block without a child yet is skipped. */
static int write_cx_proof(struct rpc_call *c, uint64_t number, const uint8_t bh[32],
                          const struct header *hd, const struct header *child, uint32_t d,
                          const struct cx_receipt *r, size_t n)
{
	struct rpc_jw *w = c->w;
	int rc = 0;
	uint32_t shards[64];
	uint8_t roots[64][32];
	size_t ns = 0;
	/* Per-destination roots of every destination this block sent to. */
	for (uint32_t s = 0; s < c->h->np->num_shards && s < 64; s++) {
		struct cx_receipt *rs;
		size_t k;
		if ((rc = cx_out(c, s, number, &rs, &k)))
			return rc;
		if (!k) {
			free(rs);
			continue;
		}
		uint8_t **items = calloc(k, sizeof *items);
		size_t *lens = calloc(k, sizeof *lens);
		if (!items || !lens)
			rc = -CN_ENOMEM;
		for (size_t i = 0; i < k && !rc; i++)
			rc = cx_receipt_encode(&rs[i], &items[i], &lens[i]);
		if (!rc)
			rc = core_derive_sha((const uint8_t *const *)items, lens, k, roots[ns]);
		for (size_t i = 0; items && i < k; i++)
			free(items[i]);
		free(items);
		free(lens);
		free(rs);
		if (rc)
			return rc;
		shards[ns++] = s;
	}
	rpc_jw_obj(w);
	rpc_jw_key(w, "receipts");
	rpc_jw_arr(w);
	for (size_t i = 0; i < n; i++)
		write_cx(c, &r[i]);
	rpc_jw_arr_end(w);
	rpc_jw_key(w, "merkleProof");
	rpc_jw_obj(w);
	kq(c, "blockNum", number);
	kdata(c, "blockHash", bh, 32);
	kq(c, "shardID", hd->shard_id);
	kdata(c, "receiptHash", hd->outgoing_receipt_hash, 32);
	rpc_jw_key(w, "shardIDs");
	rpc_jw_arr(w);
	for (size_t i = 0; i < ns; i++)
		num(c, shards[i]);
	rpc_jw_arr_end(w);
	rpc_jw_key(w, "shardHashes");
	rpc_jw_arr(w);
	for (size_t i = 0; i < ns; i++)
		rpc_jw_data(w, roots[i], 32);
	rpc_jw_arr_end(w);
	rpc_jw_obj_end(w);
	rpc_jw_key(w, "header");
	rpc_jw_obj(w);
	kq(c, "number", hd->number);
	kdata(c, "hash", bh, 32);
	kdata(c, "parentHash", hd->parent_hash, 32);
	kq(c, "shardID", hd->shard_id);
	kq(c, "epoch", hd->epoch);
	kq(c, "viewID", hd->view_id);
	kq(c, "timestamp", hd->time);
	kdata(c, "stateRoot", hd->root, 32);
	kdata(c, "outgoingReceiptsRoot", hd->outgoing_receipt_hash, 32);
	rpc_jw_obj_end(w);
	kdata(c, "commitSig", child->last_commit_sig, CORE_BLS_SIG_LEN);
	kdata(c, "commitBitmap", child->last_commit_bitmap.p, child->last_commit_bitmap.len);
	kq(c, "toShardID", d);
	rpc_jw_obj_end(w);
	return w->err;
}

/* hmy_getPendingCXReceipts(). Harmony lists the proofs a destination
 * received and has not included yet; canon does not receive any until
 * cross-shard delivery lands, so this is the source half: the proofs this
 * shard emitted in its last 64 committed blocks (those with a child, which
 * carries their commit signature), per destination, oldest first. */
static int m_pending_cx(struct rpc_call *c)
{
	uint64_t top;
	int rc = arity(c, 0, 0);
	if (rc)
		return rc;
	if ((rc = head(c, &top, NULL, NULL)))
		return rc == -CN_ENOTFOUND ? fail(c, RPC_E_SERVER, "no blocks in the database") : rc;
	uint64_t first = top > CX_PENDING_BLOCKS ? top - CX_PENDING_BLOCKS : 0;
	rpc_jw_arr(c->w);
	for (uint64_t number = first; number < top && !rc; number++) {
		uint8_t bh[32], ch[32];
		struct header hd, child;
		if ((rc = hash_at(c, number, bh)) || (rc = hash_at(c, number + 1, ch)))
			return rc < 0 ? rc : fail(c, RPC_E_INTERNAL, "canonical index has a gap");
		if ((rc = read_header(c, bh, &hd)))
			return rc;
		if ((rc = read_header(c, ch, &child))) {
			header_free(&hd);
			return rc;
		}
		for (uint32_t d = 0; d < c->h->np->num_shards && !rc; d++) {
			struct cx_receipt *r;
			size_t n;
			if (d == c->h->shard || (rc = cx_out(c, d, number, &r, &n)))
				continue;
			if (n)
				rc = write_cx_proof(c, number, bh, &hd, &child, d, r, n);
			free(r);
		}
		header_free(&hd);
		header_free(&child);
	}
	if (!rc)
		rpc_jw_arr_end(c->w);
	return rc;
}

/* ---- subscriptions (WebSocket only) -------------------------------------- */

void rpc_handler_pending_tx(struct rpc_handler *h, const uint8_t hash[32])
{
	pthread_mutex_lock(&h->pending_mu);
	memcpy(h->pending[h->pending_seq % RPC_PENDING_RING], hash, 32);
	h->pending_seq++;
	pthread_mutex_unlock(&h->pending_mu);
}

static uint64_t pending_seq_now(struct rpc_handler *h)
{
	pthread_mutex_lock(&h->pending_mu);
	uint64_t s = h->pending_seq;
	pthread_mutex_unlock(&h->pending_mu);
	return s;
}

void rpc_session_free(struct rpc_session *s)
{
	for (size_t i = 0; i < s->nsubs; i++)
		free(s->subs[i].filter);
	s->nsubs = 0;
}

/* eth_subscribe(kind, options): newHeads; logs with an optional {address,
 * topics} filter (eth_getLogs's, without a block range: logs of blocks
 * from now on); newPendingTransactions (hashes only). */
static int m_subscribe(struct rpc_call *c)
{
	int rc = arity(c, 1, 2);
	if (rc)
		return rc;
	if (!c->sess)
		return fail(c, -32001, "notifications not supported");
	json_t *p = param(c, 0), *opt = param(c, 1);
	if (!p || !json_is_string(p))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: subscription name must be a string");
	const char *name = json_string_value(p);
	enum rpc_sub_kind kind;
	if (!strcmp(name, "newHeads"))
		kind = RPC_SUB_HEADS;
	else if (!strcmp(name, "logs"))
		kind = RPC_SUB_LOGS;
	else if (!strcmp(name, "newPendingTransactions"))
		kind = RPC_SUB_PENDING;
	else
		return fail(c, RPC_E_SERVER, "no \"%.40s\" subscription in eth namespace", name);
	if (c->sess->nsubs == RPC_MAX_SUBS)
		return fail(c, RPC_E_LIMIT, "too many subscriptions on this connection (limit %d)",
		            RPC_MAX_SUBS);
	struct logs_filter *f = NULL;
	if (kind == RPC_SUB_HEADS && opt)
		return fail(c, RPC_E_PARAMS, "too many arguments, want at most 1");
	if (kind == RPC_SUB_PENDING && opt && !json_is_false(opt))
		return fail(c, RPC_E_PARAMS,
		            "invalid argument 1: only transaction hashes are sent (fullTx false)");
	if (kind == RPC_SUB_LOGS) {
		if (opt && !json_is_object(opt))
			return fail(c, RPC_E_PARAMS, "invalid argument 1: the filter must be an object");
		if (opt && (json_object_get(opt, "fromBlock") || json_object_get(opt, "toBlock") ||
		            json_object_get(opt, "blockHash")))
			return fail(c, RPC_E_PARAMS,
			            "invalid argument 1: a logs subscription takes no block range");
		if (!(f = calloc(1, sizeof *f)))
			return -CN_ENOMEM;
		if (opt && (rc = logs_parse(c, opt, f))) {
			free(f);
			return rc;
		}
	}
	uint64_t top;
	if ((rc = head(c, &top, NULL, NULL)) == -CN_ENOTFOUND) {
		top = 0;
	} else if (rc) {
		free(f);
		return rc;
	}
	struct rpc_sub *sub = &c->sess->subs[c->sess->nsubs];
	uint8_t raw[16];
	randombytes_buf(raw, sizeof raw);
	sub->id[0] = '0';
	sub->id[1] = 'x';
	hex_encode(raw, sizeof raw, sub->id + 2);
	sub->kind = kind;
	sub->last = top;
	sub->seq = pending_seq_now(c->h);
	sub->filter = f;
	c->sess->nsubs++;
	rpc_jw_str(c->w, sub->id);
	return 0;
}

static int m_unsubscribe(struct rpc_call *c)
{
	int rc = arity(c, 1, 1);
	if (rc)
		return rc;
	if (!c->sess)
		return fail(c, -32001, "notifications not supported");
	json_t *p = param(c, 0);
	if (!p || !json_is_string(p))
		return fail(c, RPC_E_PARAMS, "invalid argument 0: subscription id must be a string");
	for (size_t i = 0; i < c->sess->nsubs; i++) {
		if (!strcmp(c->sess->subs[i].id, json_string_value(p))) {
			free(c->sess->subs[i].filter);
			c->sess->subs[i] = c->sess->subs[--c->sess->nsubs];
			rpc_jw_bool(c->w, 1);
			return 0;
		}
	}
	rpc_jw_bool(c->w, 0);
	return 0;
}

/* The envelope of one notification around a result already written. */
struct note {
	struct rpc_jw *out;
	const char *id;
	int (*send)(void *ctx, const char *p, size_t n);
	void *ctx;
};

static void note_open(struct rpc_jw *w, const char *id)
{
	rpc_jw_reset(w);
	rpc_jw_obj(w);
	rpc_jw_key(w, "jsonrpc");
	rpc_jw_str(w, "2.0");
	rpc_jw_key(w, "method");
	rpc_jw_str(w, "eth_subscription");
	rpc_jw_key(w, "params");
	rpc_jw_obj(w);
	rpc_jw_key(w, "subscription");
	rpc_jw_str(w, id);
	rpc_jw_key(w, "result");
}

static int note_close_send(struct note *n)
{
	rpc_jw_obj_end(n->out);
	rpc_jw_obj_end(n->out);
	if (n->out->err)
		return n->out->err;
	return n->send(n->ctx, n->out->p, n->out->len);
}

/* logs_of_block's emit: one log, wrapped and sent. */
static int emit_log(void *ctx, struct rpc_jw *log)
{
	struct note *n = ctx;
	if (log->err)
		return log->err;
	note_open(n->out, n->id);
	rpc_jw_raw(n->out, log->p, log->len);
	return note_close_send(n);
}

/* A subscriber far behind (a burst of blocks) gets the newest 64. */
#define SUB_MAX_BLOCKS 64
/* Pending hashes sent per poll at most; the rest wait for the next. */
#define SUB_MAX_PENDING 256

static int poll_logs(struct rpc_handler *h, struct rpc_sub *sub, uint64_t n, struct note *nt)
{
	struct rpc_jw lw;
	rpc_jw_init(&lw);
	struct rpc_call c = {.h = h, .w = &lw, .ns = RPC_NS_ETH, .emit = emit_log, .emit_ctx = nt};
	uint8_t bh[32];
	int rc = store_begin(h->st, 0, &c.t);
	if (!rc) {
		rc = hash_at(&c, n, bh);
		if (!rc)
			rc = logs_of_block(&c, sub->filter, bh);
		else if (rc > 0)
			rc = -CN_ENOTFOUND;
		store_abort(c.t);
	}
	rpc_jw_free(&lw);
	return rc;
}

int rpc_session_poll(struct rpc_handler *h, struct rpc_session *s, struct rpc_jw *w,
                     int (*send)(void *ctx, const char *p, size_t n), void *ctx)
{
	if (!s->nsubs)
		return 0;
	uint64_t top = 0;
	int have_top = -1;
	for (size_t i = 0; i < s->nsubs; i++) {
		struct rpc_sub *sub = &s->subs[i];
		struct note nt = {.out = w, .id = sub->id, .send = send, .ctx = ctx};
		int rc;
		if (sub->kind == RPC_SUB_PENDING) {
			uint8_t hs[SUB_MAX_PENDING][32];
			size_t k = 0;
			pthread_mutex_lock(&h->pending_mu);
			if (h->pending_seq - sub->seq > RPC_PENDING_RING)
				sub->seq = h->pending_seq - RPC_PENDING_RING;   /* overrun: skip */
			for (; sub->seq < h->pending_seq && k < SUB_MAX_PENDING; sub->seq++, k++)
				memcpy(hs[k], h->pending[sub->seq % RPC_PENDING_RING], 32);
			pthread_mutex_unlock(&h->pending_mu);
			for (size_t j = 0; j < k; j++) {
				note_open(w, sub->id);
				rpc_jw_data(w, hs[j], 32);
				if ((rc = note_close_send(&nt)))
					return rc;
			}
			continue;
		}
		if (have_top < 0)
			have_top = rpc_head_number(h, &top) == 0;
		if (!have_top)
			continue;
		if (top > sub->last + SUB_MAX_BLOCKS)
			sub->last = top - SUB_MAX_BLOCKS;
		while (sub->last < top) {
			uint64_t n = sub->last + 1;
			if (sub->kind == RPC_SUB_HEADS) {
				note_open(w, sub->id);
				if (rpc_write_head(h, n, w))
					break;
				if ((rc = note_close_send(&nt)))
					return rc;
			} else if ((rc = poll_logs(h, sub, n, &nt))) {
				if (rc == -CN_ENOTFOUND)
					break;
				return rc;
			}
			sub->last = n;
		}
	}
	return 0;
}

int rpc_write_head(struct rpc_handler *h, uint64_t number, struct rpc_jw *w)
{
	struct rpc_call c = {.h = h, .w = w, .ns = RPC_NS_ETH};
	uint8_t hash[32];
	struct header hd;
	int rc = store_begin(h->st, 0, &c.t);
	if (rc)
		return rc;
	if ((rc = hash_at(&c, number, hash)) || (rc = read_header(&c, hash, &hd))) {
		store_abort(c.t);
		return rc < 0 ? rc : -CN_ENOTFOUND;
	}
	store_abort(c.t);
	static const uint8_t zero8[8];
	rpc_jw_obj(w);
	kq(&c, "number", hd.number);
	kdata(&c, "hash", hash, 32);
	kdata(&c, "parentHash", hd.parent_hash, 32);
	kdata(&c, "nonce", zero8, 8);
	kdata(&c, "mixHash", hd.mix_digest, 32);
	kdata(&c, "sha3Uncles", empty_uncles, 32);
	kdata(&c, "logsBloom", hd.bloom, CORE_BLOOM_LEN);
	kdata(&c, "transactionsRoot", hd.tx_hash, 32);
	kdata(&c, "stateRoot", hd.root, 32);
	kdata(&c, "receiptsRoot", hd.receipt_hash, 32);
	rpc_jw_key(w, "miner");
	addr(&c, hd.coinbase);
	kq(&c, "difficulty", 0);
	kdata(&c, "extraData", hd.extra.p, hd.extra.len);
	kq(&c, "gasLimit", hd.gas_limit);
	kq(&c, "gasUsed", hd.gas_used);
	kq(&c, "timestamp", hd.time);
	rpc_jw_obj_end(w);
	header_free(&hd);
	return w->err;
}

/* ==== dispatch =========================================================== */

/* Sorted by name for bsearch. */
static const struct rpc_method methods[] = {
	{"eth_accounts", m_accounts, RPC_NS_ETH},
	{"eth_blockNumber", m_block_number, RPC_NS_ETH},
	{"eth_call", m_call, RPC_NS_ETH},
	{"eth_chainId", m_chain_id, RPC_NS_ETH},
	{"eth_estimateGas", m_estimate_gas, RPC_NS_ETH},
	{"eth_gasPrice", m_gas_price, RPC_NS_ETH},
	{"eth_getBalance", m_get_balance, RPC_NS_ETH},
	{"eth_getBlockByHash", m_block_by_hash, RPC_NS_ETH},
	{"eth_getBlockByNumber", m_block_by_number, RPC_NS_ETH},
	{"eth_getBlockTransactionCountByHash", m_count_by_hash, RPC_NS_ETH},
	{"eth_getBlockTransactionCountByNumber", m_count_by_number, RPC_NS_ETH},
	{"eth_getLogs", m_get_logs, RPC_NS_ETH},
	{"eth_getTransactionByBlockHashAndIndex", m_tx_by_hash_index, RPC_NS_ETH},
	{"eth_getTransactionByBlockNumberAndIndex", m_tx_by_number_index, RPC_NS_ETH},
	{"eth_getTransactionByHash", m_tx_by_hash, RPC_NS_ETH},
	{"eth_getTransactionCount", m_tx_count, RPC_NS_ETH},
	{"eth_getTransactionReceipt", m_receipt, RPC_NS_ETH},
	{"eth_protocolVersion", m_protocol_version, RPC_NS_ETH},
	{"eth_sendRawTransaction", m_send_raw, RPC_NS_ETH},
	{"eth_subscribe", m_subscribe, RPC_NS_ETH},
	{"eth_syncing", m_syncing, RPC_NS_ETH},
	{"eth_unsubscribe", m_unsubscribe, RPC_NS_ETH},
	{"hmy_blockNumber", m_block_number, RPC_NS_HMY},
	{"hmy_chainId", m_chain_id, RPC_NS_HMY},
	{"hmy_gasPrice", m_gas_price, RPC_NS_HMY},
	{"hmy_getAccountNonce", m_account_nonce, RPC_NS_HMY},
	{"hmy_getBalance", m_get_balance, RPC_NS_HMY},
	{"hmy_getBalanceByBlockNumber", m_get_balance, RPC_NS_HMY},
	{"hmy_getBlockByHash", m_block_by_hash, RPC_NS_HMY},
	{"hmy_getBlockByHashNew", m_block_by_hash, RPC_NS_HMY},
	{"hmy_getBlockByNumber", m_block_by_number, RPC_NS_HMY},
	{"hmy_getBlockByNumberNew", m_block_by_number, RPC_NS_HMY},
	{"hmy_getBlockTransactionCountByHash", m_count_by_hash, RPC_NS_HMY},
	{"hmy_getBlockTransactionCountByNumber", m_count_by_number, RPC_NS_HMY},
	{"hmy_getBlocks", m_get_blocks, RPC_NS_HMY},
	{"hmy_getCXReceiptByHash", m_cx_receipt_by_hash, RPC_NS_HMY},
	{"hmy_getEpoch", m_get_epoch, RPC_NS_HMY},
	{"hmy_getNodeMetadata", m_node_metadata, RPC_NS_HMY},
	{"hmy_getPendingCXReceipts", m_pending_cx, RPC_NS_HMY},
	{"hmy_getShardID", m_get_shard_id, RPC_NS_HMY},
	{"hmy_getShardingStructure", m_sharding_structure, RPC_NS_HMY},
	{"hmy_getTransactionByBlockHashAndIndex", m_tx_by_hash_index, RPC_NS_HMY},
	{"hmy_getTransactionByBlockNumberAndIndex", m_tx_by_number_index, RPC_NS_HMY},
	{"hmy_getTransactionByHash", m_tx_by_hash, RPC_NS_HMY},
	{"hmy_getTransactionCount", m_tx_count, RPC_NS_HMY},
	{"hmy_getTransactionReceipt", m_receipt, RPC_NS_HMY},
	{"hmy_latestHeader", m_latest_header, RPC_NS_HMY},
	{"hmy_protocolVersion", m_protocol_version, RPC_NS_HMY},
	{"hmy_sendRawTransaction", m_send_raw, RPC_NS_HMY},
	{"hmy_syncing", m_syncing, RPC_NS_HMY},
	{"hmyv2_blockNumber", m_block_number, RPC_NS_HMYV2},
	{"hmyv2_gasPrice", m_gas_price, RPC_NS_HMYV2},
	{"hmyv2_getAccountNonce", m_account_nonce, RPC_NS_HMYV2},
	{"hmyv2_getBalance", m_get_balance, RPC_NS_HMYV2},
	{"hmyv2_getBalanceByBlockNumber", m_get_balance, RPC_NS_HMYV2},
	{"hmyv2_getBlockByHash", m_block_by_hash, RPC_NS_HMYV2},
	{"hmyv2_getBlockByHashNew", m_block_by_hash, RPC_NS_HMYV2},
	{"hmyv2_getBlockByNumber", m_block_by_number, RPC_NS_HMYV2},
	{"hmyv2_getBlockByNumberNew", m_block_by_number, RPC_NS_HMYV2},
	{"hmyv2_getBlockTransactionCountByHash", m_count_by_hash, RPC_NS_HMYV2},
	{"hmyv2_getBlockTransactionCountByNumber", m_count_by_number, RPC_NS_HMYV2},
	{"hmyv2_getBlocks", m_get_blocks, RPC_NS_HMYV2},
	{"hmyv2_getCXReceiptByHash", m_cx_receipt_by_hash, RPC_NS_HMYV2},
	{"hmyv2_getEpoch", m_get_epoch, RPC_NS_HMYV2},
	{"hmyv2_getNodeMetadata", m_node_metadata, RPC_NS_HMYV2},
	{"hmyv2_getPendingCXReceipts", m_pending_cx, RPC_NS_HMYV2},
	{"hmyv2_getShardID", m_get_shard_id, RPC_NS_HMYV2},
	{"hmyv2_getShardingStructure", m_sharding_structure, RPC_NS_HMYV2},
	{"hmyv2_getTransactionByBlockHashAndIndex", m_tx_by_hash_index, RPC_NS_HMYV2},
	{"hmyv2_getTransactionByBlockNumberAndIndex", m_tx_by_number_index, RPC_NS_HMYV2},
	{"hmyv2_getTransactionByHash", m_tx_by_hash, RPC_NS_HMYV2},
	{"hmyv2_getTransactionCount", m_tx_count, RPC_NS_HMYV2},
	{"hmyv2_getTransactionReceipt", m_receipt, RPC_NS_HMYV2},
	{"hmyv2_latestHeader", m_latest_header, RPC_NS_HMYV2},
	{"hmyv2_protocolVersion", m_protocol_version, RPC_NS_HMYV2},
	{"net_listening", m_net_listening, RPC_NS_OTHER},
	{"net_peerCount", m_peer_count, RPC_NS_OTHER},
	{"net_version", m_net_version, RPC_NS_OTHER},
	{"web3_clientVersion", m_client_version, RPC_NS_OTHER},
	{"web3_sha3", m_sha3, RPC_NS_OTHER},
};

const struct rpc_method *rpc_method_find(const char *name, size_t len)
{
	if (strlen(name) != len)     /* an embedded NUL names no method */
		return NULL;
	size_t lo = 0, hi = sizeof methods / sizeof methods[0];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int d = strcmp(name, methods[mid].name);
		if (!d)
			return &methods[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t rpc_method_index(const struct rpc_method *m)
{
	return (size_t)(m - methods);
}

size_t rpc_method_count(void)
{
	return sizeof methods / sizeof methods[0];
}

const char *rpc_method_name(size_t i)
{
	return i < rpc_method_count() ? methods[i].name : NULL;
}

/* ==== helpers for the server ============================================= */

int rpc_head_number(struct rpc_handler *h, uint64_t *out)
{
	struct rpc_call c = {.h = h};
	int rc = store_begin(h->st, 0, &c.t);
	if (rc)
		return rc;
	rc = head(&c, out, NULL, NULL);
	store_abort(c.t);
	return rc;
}

int rpc_health(struct rpc_handler *h, uint64_t max_lag, struct rpc_jw *w, int *ok)
{
	struct rpc_call c = {.h = h, .w = w};
	uint64_t own, best;
	int rc = store_begin(h->st, 0, &c.t);
	if (rc)
		return rc;
	rc = sync_status(&c, &own, &best);
	store_abort(c.t);
	if (rc)
		return rc;
	uint64_t lag = best - own;
	*ok = lag <= max_lag;
	rpc_jw_reset(w);
	rpc_jw_obj(w);
	rpc_jw_key(w, "healthy");
	rpc_jw_bool(w, *ok);
	rpc_jw_key(w, "height");
	rpc_jw_u64(w, own);
	rpc_jw_key(w, "bestPeerHeight");
	rpc_jw_u64(w, best);
	rpc_jw_key(w, "lag");
	rpc_jw_u64(w, lag);
	rpc_jw_key(w, "maxLag");
	rpc_jw_u64(w, max_lag);
	rpc_jw_key(w, "syncing");
	rpc_jw_bool(w, lag > 0);
	rpc_jw_obj_end(w);
	return w->err;
}

uint16_t rpc_default_port(const char *network, uint32_t shard)
{
	/* Harmony's HTTP RPC port is the node's base port + 500 (9000 + 500);
	 * its localnet advertises 9500 + 2i for shard i (reference §10). */
	if (network && !strcmp(network, "localnet"))
		return (uint16_t)(9500 + 2 * (shard & 0xff));
	return 9500;
}

uint16_t rpc_default_ws_port(const char *network, uint32_t shard)
{
	if (network && !strcmp(network, "localnet"))
		return (uint16_t)(9800 + 2 * (shard & 0xff));
	return 9800;
}
