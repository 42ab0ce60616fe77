/* bench/keyfile.c — what opening a key file costs at each Argon2id level.
 *
 * Opening is dominated by Argon2id, so these figures are what one password
 * guess costs an attacker (on this machine) and how long a node waits per key
 * at start-up. The checksum rejection of a damaged file is measured too: it
 * must stay microseconds, since it runs before the KDF. */
#include <string.h>

#include "bench.h"
#include "crypto/keyfile.h"

struct ctx {
	uint8_t file[KEYFILE_SIZE];
	const struct keyfile_policy *pol;
};

static void open_once(void *arg)
{
	struct ctx *c = arg;
	uint8_t secret[KEYFILE_SECRET_LEN];
	struct keyfile_header h;
	if (keyfile_open(c->file, sizeof c->file, "bench passphrase", 16, c->pol, secret, &h, NULL))
		abort();
}

static void reject_once(void *arg)
{
	struct ctx *c = arg;
	uint8_t secret[KEYFILE_SECRET_LEN];
	struct keyfile_header h;
	if (keyfile_open(c->file, sizeof c->file, "bench passphrase", 16, c->pol, secret, &h, NULL) == 0)
		abort();
}

static void bench_level(const char *name, const struct keyfile_kdf *kdf, long iters)
{
	struct ctx c = {.pol = &keyfile_policy_default};
	uint8_t secret[KEYFILE_SECRET_LEN] = {1}, pub[KEYFILE_PUBKEY_LEN] = {2};
	if (keyfile_seal(secret, pub, "bench passphrase", 16, kdf, c.file))
		abort();
	bench_report("keyfile", name, bench_time_per_iter(open_once, &c, iters) * 1e3, "ms");
}

int main(void)
{
	bench_level("open_interactive", &keyfile_kdf_interactive, 2);
	bench_level("open_moderate", &keyfile_kdf_moderate, 1);

	struct ctx c = {.pol = &keyfile_policy_default};
	uint8_t secret[KEYFILE_SECRET_LEN] = {1}, pub[KEYFILE_PUBKEY_LEN] = {2};
	if (keyfile_seal(secret, pub, "bench passphrase", 16, &keyfile_kdf_interactive, c.file))
		abort();
	c.file[130] ^= 1;
	bench_report("keyfile", "reject_corrupted", bench_time_per_iter(reject_once, &c, 10000) * 1e6,
	             "us");
	return 0;
}
