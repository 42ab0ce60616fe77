/* exec.c — the value-transfer state transition (docs/chain.md, "Execution"). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "chain/chain_int.h"
#include "state/state.h"

static const char *const reason_str[CHAIN_R_COUNT] = {
	[CHAIN_OK] = "ok",
	[CHAIN_R_TX_FORM] = "not a Harmony-form plain transaction",
	[CHAIN_R_OVERSIZE] = "transaction too large",
	[CHAIN_R_CHAIN_ID] = "wrong chain ID",
	[CHAIN_R_BAD_SIG] = "invalid signature",
	[CHAIN_R_WRONG_SHARD] = "shard does not match",
	[CHAIN_R_TO_SHARD] = "invalid destination shard",
	[CHAIN_R_CREATE] = "contract creation not supported",
	[CHAIN_R_NONCE_LOW] = "nonce too low",
	[CHAIN_R_NONCE_HIGH] = "nonce too high",
	[CHAIN_R_GAS_PRICE] = "gas price below minimum",
	[CHAIN_R_INTRINSIC_GAS] = "intrinsic gas too low",
	[CHAIN_R_BLOCK_GAS] = "gas limit reached",
	[CHAIN_R_BALANCE] = "insufficient funds for value + gas * price",
	[CHAIN_R_CODE_CALL] = "call to contract code not supported",
	[CHAIN_R_SHARD] = "block of another shard",
	[CHAIN_R_NUMBER] = "block number is not head + 1",
	[CHAIN_R_PARENT] = "unknown parent",
	[CHAIN_R_EPOCH] = "wrong epoch",
	[CHAIN_R_TIME] = "timestamp before parent's",
	[CHAIN_R_GAS_LIMIT] = "wrong block gas limit",
	[CHAIN_R_GAS_USED] = "wrong gas used",
	[CHAIN_R_TX_ROOT] = "transaction root mismatch",
	[CHAIN_R_RECEIPT_ROOT] = "receipt root mismatch",
	[CHAIN_R_BLOOM] = "bloom mismatch",
	[CHAIN_R_OUT_ROOT] = "outgoing receipt root mismatch",
	[CHAIN_R_IN_ROOT] = "incoming receipt root mismatch",
	[CHAIN_R_STATE_ROOT] = "state root mismatch",
	[CHAIN_R_UNSUPPORTED] = "block content not supported yet",
	[CHAIN_R_TOO_MANY_TXS] = "too many transactions",
	[CHAIN_R_DUPLICATE_TX] = "transaction already in the chain",
	[CHAIN_R_DECODE] = "not a valid block encoding",
};

const char *chain_reason_str(enum chain_reason r)
{
	if ((unsigned)r >= CHAIN_R_COUNT || !reason_str[r])
		return "unknown reason";
	return reason_str[r];
}

int chain_reject(struct chain_why *why, enum chain_reason r, long tx, const char *fmt, ...)
{
	if (why) {
		why->reason = r;
		why->tx_index = tx;
		int n = snprintf(why->msg, sizeof why->msg, "%s", chain_reason_str(r));
		if (fmt && n > 0 && (size_t)n < sizeof why->msg) {
			why->msg[n++] = ':';
			why->msg[n++] = ' ';
			why->msg[n] = 0;
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(why->msg + n, sizeof why->msg - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -CN_EINVAL;
}

uint64_t chain_intrinsic_gas(const uint8_t *data, size_t len)
{
	uint64_t g = CHAIN_TX_GAS;
	for (size_t i = 0; i < len; i++)
		g += data[i] ? CHAIN_TX_DATA_NONZERO_GAS : CHAIN_TX_DATA_ZERO_GAS;
	return g;
}

/* ---- fee collectors (reference §9, internal/configs/sharding) ---------- */

struct collector_src {
	const char *network;
	const char *hex[2];
};
static const struct collector_src collector_src[] = {
	{"mainnet", {"a0c395A83503ad89613E43397e9fE1f8E93B6384", "bdFeE8587d347Cd8df002E6154763325265Fa84c"}},
	{"testnet", {"b728AEaBF60fD01816ee9e756c18bc01dC91ba5D", "b41B6B8d9e68fD44caC8342BC2EEf4D59531d7d7"}},
	{"localnet", {"19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", "1563915e194D8CfBA1943570603F7606A3115508"}},
};
#define N_COLLECTOR_NETS (sizeof collector_src / sizeof collector_src[0])
static struct chain_fee_collector collectors[N_COLLECTOR_NETS][2];
static pthread_once_t collectors_once = PTHREAD_ONCE_INIT;

static void collectors_init(void)
{
	for (size_t i = 0; i < N_COLLECTOR_NETS; i++)
		for (int j = 0; j < 2; j++) {
			size_t n;
			hex_decode(collector_src[i].hex[j], 40, collectors[i][j].addr, CORE_ADDR_LEN, &n);
			collectors[i][j].percent = 50;
		}
}

void chain_fee_collectors(const struct netparams *np, const struct chain_fee_collector **out,
                          size_t *n)
{
	pthread_once(&collectors_once, collectors_init);
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < N_COLLECTOR_NETS; i++)
		if (!strcmp(np->name, collector_src[i].network)) {
			*out = collectors[i];
			*n = 2;
		}
}

/* ---- execution --------------------------------------------------------- */

void chain_exec_init(struct chain_exec *x, const struct netparams *np, uint32_t shard,
                     struct state *st, uint64_t gas_limit)
{
	memset(x, 0, sizeof *x);
	x->np = np;
	x->shard = shard;
	x->st = st;
	x->gas_limit = gas_limit;
}

void chain_exec_free(struct chain_exec *x)
{
	for (size_t i = 0; i < x->nreceipts; i++)
		receipt_free(&x->receipts[i]);
	free(x->receipts);
	free(x->cx);
	x->receipts = NULL;
	x->cx = NULL;
	x->nreceipts = x->ncx = x->capreceipts = x->capcx = 0;
}

int chain_check_tx(const struct netparams *np, uint32_t shard, const struct tx *tx,
                   uint8_t sender[CORE_ADDR_LEN], struct chain_why *why)
{
	return chain_check_tx_hint(np, shard, tx, NULL, sender, why);
}

int chain_check_tx_hint(const struct netparams *np, uint32_t shard, const struct tx *tx,
                        const uint8_t *known_sender, uint8_t sender[CORE_ADDR_LEN],
                        struct chain_why *why)
{
	if (tx->type != TX_HARMONY)
		return chain_reject(why, CHAIN_R_TX_FORM, -1, NULL);
	/* Everything but data takes well under 512 bytes, so only a large
	 * payload needs the exact encoded size. */
	if (tx->data_len + 512 > CHAIN_TX_MAX_SIZE) {
		uint8_t *enc;
		size_t len;
		int rc = tx_encode(tx, &enc, &len);
		if (rc)
			return rc;
		free(enc);
		if (len > CHAIN_TX_MAX_SIZE)
			return chain_reject(why, CHAIN_R_OVERSIZE, -1, "%zu bytes, limit %u", len,
			                    CHAIN_TX_MAX_SIZE);
	}
	if (!netparams_accepts_chain_id(np, shard, tx->chain_id))
		return chain_reject(why, CHAIN_R_CHAIN_ID, -1,
		                    "%llu (shard %u accepts %llu and %llu)",
		                    (unsigned long long)tx->chain_id, shard,
		                    (unsigned long long)np->chain_id,
		                    (unsigned long long)netparams_eth_chain_id(np, shard));
	if (tx->shard_id != shard)
		return chain_reject(why, CHAIN_R_WRONG_SHARD, -1, "tx shard %u, chain shard %u",
		                    tx->shard_id, shard);
	if (tx->to_shard_id >= np->num_shards)
		return chain_reject(why, CHAIN_R_TO_SHARD, -1, "%u (network has %u shards)",
		                    tx->to_shard_id, np->num_shards);
	/* An Ethereum chain ID leaves the shard fields unsigned (the Go quirk):
	 * such a tx must stay on the shard its chain ID names, or anyone could
	 * redirect it across shards. */
	if (tx->chain_id != np->chain_id && tx->to_shard_id != shard)
		return chain_reject(why, CHAIN_R_TO_SHARD, -1,
		                    "a tx signed with an Ethereum chain ID cannot be cross-shard");
	if (!tx->has_to)
		return chain_reject(why, CHAIN_R_CREATE, -1, NULL);
	struct u256 min = u256_from_u64(np->min_gas_price);
	if (u256_cmp(&tx->gas_price, &min) < 0) {
		char buf[U256_DEC_MAX];
		u256_format_dec(&tx->gas_price, buf);
		return chain_reject(why, CHAIN_R_GAS_PRICE, -1, "%s < %llu", buf,
		                    (unsigned long long)np->min_gas_price);
	}
	uint64_t ig = chain_intrinsic_gas(tx->data, tx->data_len);
	if (tx->gas_limit < ig)
		return chain_reject(why, CHAIN_R_INTRINSIC_GAS, -1, "gas limit %llu, needs %llu",
		                    (unsigned long long)tx->gas_limit, (unsigned long long)ig);
	if (known_sender) {
		memcpy(sender, known_sender, CORE_ADDR_LEN);
		return 0;
	}
	int rc = tx_sender(tx, sender);
	if (rc == -CN_EINVAL || rc == -CN_EVERIFY)
		return chain_reject(why, CHAIN_R_BAD_SIG, -1, "%s", cn_strerror(rc));
	return rc;
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * size);
	if (!q)
		return -CN_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

int chain_apply_tx(struct chain_exec *x, const struct tx *tx, const uint8_t sender[CORE_ADDR_LEN],
                   const uint8_t tx_hash[CORE_HASH_LEN], struct chain_why *why)
{
	struct state *st = x->st;
	uint64_t nonce;
	struct u256 bal;
	int rc;
	if ((rc = state_get_nonce(st, sender, &nonce)) || (rc = state_get_balance(st, sender, &bal)))
		return rc;
	if (tx->nonce < nonce)
		return chain_reject(why, CHAIN_R_NONCE_LOW, -1, "tx nonce %llu, account nonce %llu",
		                    (unsigned long long)tx->nonce, (unsigned long long)nonce);
	if (tx->nonce > nonce)
		return chain_reject(why, CHAIN_R_NONCE_HIGH, -1, "tx nonce %llu, account nonce %llu",
		                    (unsigned long long)tx->nonce, (unsigned long long)nonce);
	if (nonce == UINT64_MAX)
		return chain_reject(why, CHAIN_R_NONCE_HIGH, -1, "account nonce at its maximum");
	if (tx->gas_limit > x->gas_limit - x->gas_used)
		return chain_reject(why, CHAIN_R_BLOCK_GAS, -1, "tx gas limit %llu, block has %llu left",
		                    (unsigned long long)tx->gas_limit,
		                    (unsigned long long)(x->gas_limit - x->gas_used));
	struct u256 gl = u256_from_u64(tx->gas_limit), cost;
	if (u256_mul(&cost, &gl, &tx->gas_price) || u256_add(&cost, &cost, &tx->value) ||
	    u256_cmp(&bal, &cost) < 0)
		return chain_reject(why, CHAIN_R_BALANCE, -1, NULL);
	int same_shard = tx->to_shard_id == x->shard;
	if (same_shard) {
		uint8_t ch[STATE_HASH_LEN];
		if ((rc = state_get_code_hash(st, tx->to, ch)))
			return rc;
		if (memcmp(ch, state_empty_code_hash, STATE_HASH_LEN))
			return chain_reject(why, CHAIN_R_CODE_CALL, -1, NULL);
	}

	/* Reserve the outputs first so that nothing below fails after the
	 * state has changed except on a storage error. */
	if ((rc = grow((void **)&x->receipts, &x->capreceipts, x->nreceipts + 1, sizeof *x->receipts)) ||
	    (rc = grow((void **)&x->cx, &x->capcx, x->ncx + 1, sizeof *x->cx)))
		return rc;

	/* No EVM runs, so a transfer uses exactly its intrinsic gas and the
	 * rest of the limit is never charged (buyGas then refund, netted). */
	uint64_t used = chain_intrinsic_gas(tx->data, tx->data_len);
	struct u256 ug = u256_from_u64(used), fee, debit;
	u256_mul(&fee, &ug, &tx->gas_price);          /* <= cost, no overflow */
	u256_add(&debit, &fee, &tx->value);
	int snap = state_snapshot(st);
	if (snap < 0)
		return snap;
	if ((rc = state_sub_balance(st, sender, &debit)) || (rc = state_set_nonce(st, sender, nonce + 1)))
		return rc;
	if (same_shard && !u256_is_zero(&tx->value)) {
		rc = state_add_balance(st, tx->to, &tx->value);
		if (rc == -CN_ERANGE) {
			if ((rc = state_revert(st, snap)))
				return rc;
			return chain_reject(why, CHAIN_R_BALANCE, -1, "recipient balance would overflow");
		}
		if (rc)
			return rc;
	}
	const struct chain_fee_collector *fc;
	size_t nfc;
	chain_fee_collectors(x->np, &fc, &nfc);
	for (size_t i = 0; i < nfc; i++) {
		/* floor(fee * pct / 100) without overflowing the product. */
		struct u256 pct = u256_from_u64(fc[i].percent), hundred = u256_from_u64(100);
		struct u256 q, rem, share;
		u256_divmod(&q, &rem, &fee, &hundred);
		u256_mul(&share, &q, &pct);
		u256_mul(&rem, &rem, &pct);
		u256_divmod(&rem, NULL, &rem, &hundred);
		u256_add(&share, &share, &rem);
		if (u256_is_zero(&share))
			continue;
		rc = state_add_balance(st, fc[i].addr, &share);
		if (rc == -CN_ERANGE) {
			if ((rc = state_revert(st, snap)))
				return rc;
			return chain_reject(why, CHAIN_R_BALANCE, -1, "fee collector balance would overflow");
		}
		if (rc)
			return rc;
	}

	x->gas_used += used;
	struct receipt *r = &x->receipts[x->nreceipts++];
	memset(r, 0, sizeof *r);
	r->status = 1;
	r->cumulative_gas = x->gas_used;
	if (!same_shard) {
		struct cx_receipt *c = &x->cx[x->ncx++];
		memcpy(c->tx_hash, tx_hash, CORE_HASH_LEN);
		memcpy(c->from, sender, CORE_ADDR_LEN);
		memcpy(c->to, tx->to, CORE_ADDR_LEN);
		c->shard_id = x->shard;
		c->to_shard_id = tx->to_shard_id;
		c->amount = tx->value;
	}
	return 0;
}
