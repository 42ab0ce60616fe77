/* genesis.c — the first block of each network's shards (docs/chain.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "chain/chain_int.h"
#include "crypto/bls.h"
#include "crypto/crypto.h"

/* 10^10 ONE = 10^28 atto, what Go's localnet gives its test accounts. */
static const char localnet_funding[] = "10000000000000000000000000000";
/* The test account every Go localnet shard funds (core/genesis.go). */
static const char go_test_account[] = "A5241513DA9F4463F1d4874b548dFBAC29D91f34";

int chain_localnet_account(unsigned i, uint8_t secret[32], uint8_t addr[CORE_ADDR_LEN])
{
	if (i >= CHAIN_LOCALNET_ACCOUNTS)
		return -CN_ERANGE;
	char seed[64];
	int n = snprintf(seed, sizeof seed, "canon-localnet-account-%u", i);
	keccak256(seed, (size_t)n, secret);
	int rc = secp_secret_check(secret);
	return rc ? rc : addr_from_secret(secret, addr);
}

int chain_localnet_bls(uint32_t shard, unsigned i, struct bls_secret_key *sk)
{
	if (i >= CHAIN_LOCALNET_VALIDATORS)
		return -CN_ERANGE;
	char seed[64];
	uint8_t ikm[32];
	int n = snprintf(seed, sizeof seed, "canon-localnet-bls-%u-%u", shard, i);
	keccak256(seed, (size_t)n, ikm);
	int rc = bls_keygen(ikm, sizeof ikm, NULL, 0, sk);
	bytes_wipe(ikm, sizeof ikm);
	return rc;
}

void chain_genesis_free(struct chain_genesis *g)
{
	free(g->alloc);
	shard_state_free(&g->committee);
	memset(g, 0, sizeof *g);
}

static int localnet(struct chain_genesis *g)
{
	int rc;
	struct u256 fund;
	if ((rc = u256_parse_dec(&fund, localnet_funding, strlen(localnet_funding))))
		return rc;
	g->alloc = calloc(CHAIN_LOCALNET_ACCOUNTS + 1, sizeof *g->alloc);
	if (!g->alloc)
		return -CN_ENOMEM;
	for (unsigned i = 0; i < CHAIN_LOCALNET_ACCOUNTS; i++) {
		uint8_t sk[32];
		rc = chain_localnet_account(i, sk, g->alloc[i].addr);
		bytes_wipe(sk, sizeof sk);
		if (rc)
			return rc;
		g->alloc[i].balance = fund;
	}
	size_t n;
	hex_decode(go_test_account, 40, g->alloc[CHAIN_LOCALNET_ACCOUNTS].addr, CORE_ADDR_LEN, &n);
	g->alloc[CHAIN_LOCALNET_ACCOUNTS].balance = fund;
	g->nalloc = CHAIN_LOCALNET_ACCOUNTS + 1;

	/* Epoch 0 committee of every shard: validator i of shard s is funded
	 * account s*V + i with BLS key chain_localnet_bls(s, i). */
	struct shard_state *ss = &g->committee;
	ss->committees = calloc(g->np->num_shards, sizeof *ss->committees);
	if (!ss->committees)
		return -CN_ENOMEM;
	ss->ncommittees = g->np->num_shards;
	for (uint32_t s = 0; s < g->np->num_shards; s++) {
		struct shard_committee *c = &ss->committees[s];
		c->shard_id = s;
		c->slots = calloc(CHAIN_LOCALNET_VALIDATORS, sizeof *c->slots);
		if (!c->slots)
			return -CN_ENOMEM;
		c->nslots = CHAIN_LOCALNET_VALIDATORS;
		for (unsigned i = 0; i < CHAIN_LOCALNET_VALIDATORS; i++) {
			unsigned acct = s * CHAIN_LOCALNET_VALIDATORS + i;
			if (acct >= CHAIN_LOCALNET_ACCOUNTS)
				return -CN_ERANGE;
			memcpy(c->slots[i].addr, g->alloc[acct].addr, CORE_ADDR_LEN);
			struct bls_secret_key sk;
			struct bls_public_key pk;
			if ((rc = chain_localnet_bls(s, i, &sk)))
				return rc;
			bls_sk_to_pk(&sk, &pk);
			bytes_wipe(&sk, sizeof sk);
			bls_pk_to_bytes(&pk, c->slots[i].bls_key);
		}
	}
	return 0;
}

int chain_genesis_default(struct chain_genesis *g, const char *network, uint32_t shard)
{
	memset(g, 0, sizeof *g);
	int rc = netparams_get(network, &g->np);
	if (rc)
		return rc;
	if (shard >= g->np->num_shards)
		return -CN_ERANGE;
	g->shard = shard;
	g->time = 0;
	if (!strcmp(network, "localnet") && (rc = localnet(g)))
		chain_genesis_free(g);
	return rc;
}
