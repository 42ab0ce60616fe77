/* fuzz/keyfile.c — the key file parser and decryptor on hostile bytes.
 *
 * Input: one mode byte, then the file. Mode bit 0 asks the harness to fix up
 * the trailing checksum first, as a deliberate forger would; otherwise almost
 * every mutation would stop at the checksum and the fields behind it would
 * never be reached. The passphrase is fixed ("fuzz", the seeds use it), and
 * the policy admits only tiny Argon2id costs so that each run stays fast —
 * the production policy is exercised by the unit tests. The raw decryptor
 * and the BLS layer (scalar and public key checks) both run on every input. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/bls.h"
#include "crypto/keyfile.h"

static const struct keyfile_policy fuzz_policy = {
	.ops_min = 1, .ops_max = 2, .mem_min = 8192, .mem_max = 65536,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t mode = data[0];
	data++;
	size--;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	if ((mode & 1) && size >= KEYFILE_SIZE) {
		if (sodium_init() < 0)
			abort();
		crypto_generichash(buf + KEYFILE_SIZE - KEYFILE_SUM_LEN, KEYFILE_SUM_LEN, buf,
		                   KEYFILE_SIZE - KEYFILE_SUM_LEN, NULL, 0);
	}

	struct keyfile_header h;
	const char *why = NULL;
	int perr = keyfile_parse(buf, size, &fuzz_policy, &h, &why);
	if ((perr == 0) != (why == NULL))
		abort();

	uint8_t secret[KEYFILE_SECRET_LEN];
	int err = keyfile_open(buf, size, "fuzz", 4, &fuzz_policy, secret, &h, &why);
	/* Opening can only fail where parsing did, or later at the tag. */
	if (perr != 0 && err != perr)
		abort();
	if (err != 0 && why == NULL)
		abort();
	if (err == 0 && size != KEYFILE_SIZE)
		abort();
	if (err != 0) {
		static const uint8_t zero[KEYFILE_SECRET_LEN];
		if (memcmp(secret, zero, sizeof zero) != 0)
			abort();   /* failure must not leave key material behind */
	}
	sodium_memzero(secret, sizeof secret);

	/* The BLS layer on top: it may only fail where the raw open failed, or
	 * at its own two checks (scalar range, public key match). */
	struct bls_secret_key sk;
	uint8_t pub[KEYFILE_PUBKEY_LEN];
	int berr = keyfile_bls_open(buf, size, "fuzz", 4, &fuzz_policy, &sk, pub, &why);
	if (err != 0 && berr != err)
		abort();
	if (err == 0 && berr != 0 && berr != -CN_EINVAL && berr != -CN_EVERIFY)
		abort();
	if (berr == 0 && memcmp(pub, h.pubkey, sizeof pub) != 0)
		abort();
	sodium_memzero(&sk, sizeof sk);
	free(buf);
	return 0;
}
