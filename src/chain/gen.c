/* gen.c — signed transfers and whole blocks of them, for tests and tools. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "base/prng.h"
#include "chain/chain_int.h"

int chain_sign_transfer(struct tx *tx, const struct netparams *np, uint32_t shard,
                        uint32_t to_shard, const uint8_t secret[32], uint64_t nonce,
                        const uint8_t to[CORE_ADDR_LEN], const struct u256 *value)
{
	memset(tx, 0, sizeof *tx);
	tx->type = TX_HARMONY;
	tx->chain_id = np->chain_id;
	tx->nonce = nonce;
	tx->gas_price = u256_from_u64(np->min_gas_price);
	tx->gas_limit = CHAIN_TX_GAS;
	tx->shard_id = shard;
	tx->to_shard_id = to_shard;
	tx->has_to = 1;
	memcpy(tx->to, to, CORE_ADDR_LEN);
	tx->value = *value;
	return tx_sign(tx, secret);
}

int chain_gen_blocks(struct chain *c, unsigned nblocks, unsigned ntxs, unsigned cross_pct,
                     uint64_t seed, struct chain_why *why)
{
	const struct netparams *np = chain_params(c);
	uint32_t shard = chain_shard(c);
	if (strcmp(np->name, "localnet"))
		return -CN_EUNSUPPORTED;
	uint8_t sk[CHAIN_LOCALNET_ACCOUNTS][32], addr[CHAIN_LOCALNET_ACCOUNTS][CORE_ADDR_LEN];
	uint64_t nonce[CHAIN_LOCALNET_ACCOUNTS];
	struct tx *txs = calloc(ntxs ? ntxs : 1, sizeof *txs);
	if (!txs)
		return -CN_ENOMEM;
	int rc = 0;
	for (unsigned i = 0; i < CHAIN_LOCALNET_ACCOUNTS && !rc; i++)
		if (!(rc = chain_localnet_account(i, sk[i], addr[i])))
			rc = chain_nonce(c, addr[i], &nonce[i]);
	struct cn_prng r;
	cn_prng_seed(&r, seed ^ (chain_head(c)->number * 0x9e3779b97f4a7c15ull));
	for (unsigned b = 0; b < nblocks && !rc; b++) {
		for (unsigned i = 0; i < ntxs && !rc; i++) {
			unsigned from = (unsigned)cn_prng_uniform(&r, CHAIN_LOCALNET_ACCOUNTS);
			uint8_t to[CORE_ADDR_LEN];
			cn_prng_fill(&r, to, sizeof to);
			uint32_t to_shard = shard;
			if (np->num_shards > 1 && cn_prng_uniform(&r, 100) < cross_pct)
				to_shard = (shard + 1 + (uint32_t)cn_prng_uniform(&r, np->num_shards - 1)) %
				           np->num_shards;
			struct u256 v = u256_from_u64(1 + cn_prng_uniform(&r, 1000000000000ull));
			rc = chain_sign_transfer(&txs[i], np, shard, to_shard, sk[from], nonce[from]++, to, &v);
		}
		struct block blk;
		struct chain_build_opts o;
		memset(&o, 0, sizeof o);
		if (!rc && !(rc = chain_build(c, &o, txs, ntxs, &blk, NULL))) {
			if (blk.ntxs != ntxs)
				rc = -CN_ESTATE;   /* every generated tx must apply */
			else
				rc = chain_insert(c, &blk, why);
			block_free(&blk);
		}
		for (unsigned i = 0; i < ntxs; i++)
			tx_free(&txs[i]);
	}
	bytes_wipe(sk, sizeof sk);
	free(txs);
	return rc;
}
