/* netparams.c — the networks canon knows (docs/core.md explains each value). */
#include "core/core_int.h"

#define GWEI 1000000000ull

/* The instance in force today on each network (internal/configs/sharding):
 * mainnet and testnet shrank to 2 shards at their HIP-30 forks. Epoch
 * schedules of the past (mainnet's 16 384-block epochs before epoch 366,
 * testnet's 38-block epochs 0–1, localnet's 5-block epoch 0) matter only to
 * a node that replays Go history and are not modelled. */
static const struct netparams networks[] = {
	{"mainnet", 1, 1666600000, 2, 32768, 2000, 100 * GWEI, 30000000, "harmony"},
	{"testnet", 2, 1666700000, 2, 8192, 2000, 100 * GWEI, 30000000, "hmy/testnet"},
	{"partner", 4, 1666900000, 2, 900, 2000, 100 * GWEI, 30000000, "hmy/partner"},
	{"localnet", 2, 1666700000, 2, 16, 2000, 100 * GWEI, 30000000, "hmy/local"},
};

int netparams_get(const char *name, const struct netparams **out)
{
	for (size_t i = 0; i < sizeof networks / sizeof networks[0]; i++) {
		if (!strcmp(networks[i].name, name)) {
			*out = &networks[i];
			return 0;
		}
	}
	*out = NULL;
	return -CN_ENOTFOUND;
}

uint64_t netparams_eth_chain_id(const struct netparams *np, uint32_t shard)
{
	return np->eth_chain_id_base + shard;
}

int netparams_accepts_chain_id(const struct netparams *np, uint32_t shard, uint64_t chain_id)
{
	return chain_id == np->chain_id || chain_id == netparams_eth_chain_id(np, shard);
}

uint64_t netparams_epoch_of(const struct netparams *np, uint64_t number)
{
	return number / np->blocks_per_epoch;
}
