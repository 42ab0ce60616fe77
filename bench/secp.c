/* bench/secp.c — secp256k1 operations per second (one thread).
 *
 * Recovery is what a node does for every transaction it sees (the sender is
 * not in the transaction), so it is the figure that bounds intake; signing
 * and verification are given next to it. Each operation cycles over a
 * pool of distinct keys and hashes so that no caching flatters the result. */
#include <string.h>

#include "bench.h"
#include "crypto/crypto.h"

#define POOL 64

static uint8_t secret[POOL][SECP_SECRET_LEN];
static uint8_t pub[POOL][SECP_PUBKEY_LEN];
static uint8_t hash[POOL][32];
static uint8_t sig[POOL][SECP_SIG_LEN];
static unsigned next;
static volatile uint8_t sink;

static void do_sign(void *arg)
{
	unsigned i = next++ % POOL;
	uint8_t s[SECP_SIG_LEN];
	if (secp_sign_recoverable(secret[i], hash[i], s) != 0)
		abort();
	sink ^= s[0];
}

static void do_recover(void *arg)
{
	unsigned i = next++ % POOL;
	uint8_t p[SECP_PUBKEY_LEN];
	if (secp_recover(hash[i], sig[i], p) != 0)
		abort();
	sink ^= p[0];
}

static void do_verify(void *arg)
{
	unsigned i = next++ % POOL;
	if (secp_verify(hash[i], sig[i], pub[i]) != 0)
		abort();
}

int main(void)
{
	for (int i = 0; i < POOL; i++) {
		uint8_t seed = (uint8_t)i;
		if (secp_keygen(secret[i]) || secp_pubkey_from_secret(secret[i], pub[i]))
			return 1;
		keccak256(&seed, 1, hash[i]);
		if (secp_sign_recoverable(secret[i], hash[i], sig[i]))
			return 1;
	}
	/* ~0.2 s per run at the speeds of a small machine. */
	bench_report("secp", "recover_per_s", 1.0 / bench_time_per_iter(do_recover, NULL, 4000), "ops/s");
	bench_report("secp", "sign_per_s", 1.0 / bench_time_per_iter(do_sign, NULL, 6000), "ops/s");
	bench_report("secp", "verify_per_s", 1.0 / bench_time_per_iter(do_verify, NULL, 4000), "ops/s");
	return 0;
}
