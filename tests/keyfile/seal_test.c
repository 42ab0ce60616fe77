/* The encryption layer of key files on raw 32-byte secrets: round trips,
 * wrong passphrases, damaged and altered files, recorded KDF parameters and
 * the policy that bounds them. Cheap Argon2id settings keep this fast. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/keyfile.h"
#include "testutil.h"

static const struct keyfile_kdf cheap = {1, 8192};
static const char pass[] = "correct horse battery staple";

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

static void seal_cheap(uint8_t secret[32], uint8_t pub[48], uint8_t file[KEYFILE_SIZE])
{
	fill(secret, 32, 1);
	fill(pub, 48, 100);
	cr_assert_eq(keyfile_seal(secret, pub, pass, strlen(pass), &cheap, file), 0);
}

/* Recomputes the trailing checksum, as someone who edits a file on purpose
 * would, so that the edit reaches the checks behind it. */
static void resum(uint8_t file[KEYFILE_SIZE])
{
	crypto_generichash(file + KEYFILE_SIZE - KEYFILE_SUM_LEN, KEYFILE_SUM_LEN, file,
	                   KEYFILE_SIZE - KEYFILE_SUM_LEN, NULL, 0);
}

Test(keyfile_seal, round_trip)
{
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], got[32];
	seal_cheap(secret, pub, file);
	cr_assert(memcmp(file, "CNBLSKEY", 8) == 0);
	cr_assert_eq(file[8], KEYFILE_VERSION);
	/* The secret must not appear in the clear. */
	cr_assert(memmem(file, sizeof file, secret, 32) == NULL);

	struct keyfile_header h;
	const char *why = "unset";
	cr_assert_eq(keyfile_open(file, sizeof file, pass, strlen(pass), &keyfile_policy_test, got, &h,
	                          &why), 0);
	cr_assert_null(why);
	cr_assert(memcmp(got, secret, 32) == 0);
	cr_assert(memcmp(h.pubkey, pub, 48) == 0);
	cr_assert_eq(h.kdf.opslimit, cheap.opslimit);
	cr_assert_eq(h.kdf.memlimit, cheap.memlimit);
	cr_assert_eq(h.version, 1);
}

Test(keyfile_seal, fresh_salt_and_nonce_each_time)
{
	uint8_t secret[32], pub[48], a[KEYFILE_SIZE], b[KEYFILE_SIZE];
	seal_cheap(secret, pub, a);
	cr_assert_eq(keyfile_seal(secret, pub, pass, strlen(pass), &cheap, b), 0);
	cr_assert(memcmp(a + 28, b + 28, 16) != 0, "salt repeated");
	cr_assert(memcmp(a + 44, b + 44, 24) != 0, "nonce repeated");
	cr_assert(memcmp(a + 116, b + 116, 48) != 0, "ciphertext repeated");
}

Test(keyfile_seal, empty_and_binary_passphrases)
{
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], got[32];
	struct keyfile_header h;
	fill(secret, 32, 9);
	fill(pub, 48, 3);
	cr_assert_eq(keyfile_seal(secret, pub, NULL, 0, &cheap, file), 0);
	cr_assert_eq(keyfile_open(file, sizeof file, "", 0, &keyfile_policy_test, got, &h, NULL), 0);
	cr_assert(memcmp(got, secret, 32) == 0);
	cr_assert_eq(keyfile_open(file, sizeof file, " ", 1, &keyfile_policy_test, got, &h, NULL),
	             -CN_EPASS);

	/* The length, not a NUL, ends the passphrase. */
	static const char bin[] = {'a', 0, 'b'};
	cr_assert_eq(keyfile_seal(secret, pub, bin, 3, &cheap, file), 0);
	cr_assert_eq(keyfile_open(file, sizeof file, bin, 1, &keyfile_policy_test, got, &h, NULL),
	             -CN_EPASS);
	cr_assert_eq(keyfile_open(file, sizeof file, bin, 3, &keyfile_policy_test, got, &h, NULL), 0);
	cr_assert(memcmp(got, secret, 32) == 0);
}

Test(keyfile_seal, wrong_passphrase)
{
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], got[32];
	seal_cheap(secret, pub, file);
	struct keyfile_header h;
	const char *why = NULL;
	static const char *wrong[] = {"correct horse battery stapl", "correct horse battery staple ",
	                              "Correct horse battery staple", ""};
	for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
		memset(got, 0xaa, sizeof got);
		cr_assert_eq(keyfile_open(file, sizeof file, wrong[i], strlen(wrong[i]),
		                          &keyfile_policy_test, got, &h, &why), -CN_EPASS, "%s", wrong[i]);
		cr_assert_str_eq(why, "wrong passphrase");
		static const uint8_t zero[32];
		cr_assert(memcmp(got, zero, 32) == 0, "secret buffer not wiped on failure");
	}
	cr_assert_str_eq(cn_strerror(-CN_EPASS), "wrong passphrase");
}

/* Every single-bit change anywhere in the file is caught; without a fixed-up
 * checksum as damage, with one by the check that guards that field. */
Test(keyfile_seal, every_bit_flip_is_rejected)
{
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], got[32];
	seal_cheap(secret, pub, file);
	struct keyfile_header h;
	size_t n = 0;
	for (size_t i = 0; i < KEYFILE_SIZE; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t t[KEYFILE_SIZE];
			memcpy(t, file, sizeof t);
			t[i] ^= (uint8_t)(1 << bit);
			const char *why = NULL;
			int err = keyfile_open(t, sizeof t, pass, strlen(pass), &keyfile_policy_test, got, &h,
			                       &why);
			cr_assert_neq(err, 0, "byte %zu bit %d accepted", i, bit);
			cr_assert_not_null(why);
			if (i < 8)
				cr_assert_eq(err, -CN_EPARSE, "byte %zu", i);
			else if (i == 8)
				cr_assert_eq(err, -CN_EUNSUPPORTED, "byte %zu", i);
			else
				cr_assert_eq(err, -CN_EVERIFY, "byte %zu bit %d: %s", i, bit, why);
			if (i >= 8 && i < KEYFILE_SIZE - KEYFILE_SUM_LEN) {
				resum(t);
				err = keyfile_open(t, sizeof t, pass, strlen(pass), &keyfile_policy_test, got, &h,
				                   &why);
				int want;
				if (i == 8 || i == 9 || i == 10)
					want = -CN_EUNSUPPORTED;       /* version, KDF, AEAD ids */
				else if (i == 11)
					want = -CN_EINVAL;             /* reserved */
				else if (i < 28)
					/* KDF params: out of range, out of policy, or a
					 * different cost that derives another key. */
					want = err == -CN_EINVAL || err == -CN_ELIMIT || err == -CN_EPASS ? err : 1;
				else
					want = -CN_EPASS;              /* salt, nonce, pubkey, ciphertext, tag */
				cr_assert_eq(err, want, "byte %zu bit %d with checksum: %d %s", i, bit, err,
				             why ? why : "");
			}
			n++;
		}
	}
	cr_assert_eq(n, KEYFILE_SIZE * 8);
}

/* Changing the recorded KDF cost to another value inside the policy must break
 * the tag: the parameters are bound, not advisory. */
Test(keyfile_seal, kdf_parameters_are_authenticated)
{
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], got[32];
	seal_cheap(secret, pub, file);
	struct keyfile_header h;
	uint8_t t[KEYFILE_SIZE];
	memcpy(t, file, sizeof t);
	store_be64(t + 12, 2);
	resum(t);
	cr_assert_eq(keyfile_open(t, sizeof t, pass, strlen(pass), &keyfile_policy_test, got, &h, NULL),
	             -CN_EPASS);
	memcpy(t, file, sizeof t);
	store_be64(t + 20, 16384);
	resum(t);
	cr_assert_eq(keyfile_open(t, sizeof t, pass, strlen(pass), &keyfile_policy_test, got, &h, NULL),
	             -CN_EPASS);
}

Test(keyfile_seal, truncated_and_oversized)
{
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE + 8], got[32];
	seal_cheap(secret, pub, file);
	struct keyfile_header h;
	for (size_t len = 0; len < KEYFILE_SIZE; len++) {
		const char *why = NULL;
		int err = keyfile_open(file, len, pass, strlen(pass), &keyfile_policy_test, got, &h, &why);
		cr_assert_eq(err, len < 8 ? -CN_EPARSE : -CN_ETRUNC, "length %zu: %d", len, err);
		cr_assert_not_null(why);
	}
	memset(file + KEYFILE_SIZE, 0, 8);
	for (size_t extra = 1; extra <= 8; extra++)
		cr_assert_eq(keyfile_open(file, KEYFILE_SIZE + extra, pass, strlen(pass),
		                          &keyfile_policy_test, got, &h, NULL), -CN_ETRAILING);
}

/* The file states its Argon2id cost, and the stated cost is what was run:
 * re-deriving the key independently with libsodium from the recorded values
 * opens the sealed secret. */
Test(keyfile_seal, parameters_recorded_and_used)
{
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], got[32];
	fill(secret, 32, 77);
	fill(pub, 48, 78);
	const struct keyfile_kdf kdf = {3, 65536};
	cr_assert_eq(keyfile_seal(secret, pub, pass, strlen(pass), &kdf, file), 0);
	cr_assert_eq(load_be64(file + 12), 3);
	cr_assert_eq(load_be64(file + 20), 65536);
	cr_assert_eq(file[9], 1);
	cr_assert_eq(file[10], 1);

	uint8_t key[32];
	cr_assert_eq(crypto_pwhash(key, sizeof key, pass, strlen(pass), file + 28, 3, 65536,
	                           crypto_pwhash_ALG_ARGON2ID13), 0);
	unsigned long long mlen;
	cr_assert_eq(crypto_aead_xchacha20poly1305_ietf_decrypt(got, &mlen, NULL, file + 116, 48, file,
	                                                        116, file + 44, key), 0);
	cr_assert_eq(mlen, 32);
	cr_assert(memcmp(got, secret, 32) == 0);

	/* With other costs the derived key differs and the tag fails. */
	cr_assert_eq(crypto_pwhash(key, sizeof key, pass, strlen(pass), file + 28, 2, 65536,
	                           crypto_pwhash_ALG_ARGON2ID13), 0);
	cr_assert_neq(crypto_aead_xchacha20poly1305_ietf_decrypt(got, &mlen, NULL, file + 116, 48, file,
	                                                         116, file + 44, key), 0);
}

Test(keyfile_seal, policy_bounds)
{
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], got[32];
	seal_cheap(secret, pub, file);
	struct keyfile_header h;
	const char *why;

	/* A cheap file is refused by the policy real nodes use, before any
	 * Argon2id work. */
	cr_assert_eq(keyfile_parse(file, sizeof file, &keyfile_policy_default, &h, &why), -CN_ELIMIT);
	cr_assert_str_eq(why, "Argon2id parameters are weaker than allowed");
	cr_assert_eq(keyfile_open(file, sizeof file, pass, strlen(pass), &keyfile_policy_default, got,
	                          &h, NULL), -CN_ELIMIT);

	struct keyfile_policy pol = keyfile_policy_test;
	pol.mem_max = 4096;
	pol.mem_min = 1024;
	cr_assert_eq(keyfile_parse(file, sizeof file, &pol, &h, &why), -CN_ELIMIT);
	cr_assert_str_eq(why, "Argon2id parameters are costlier than allowed");
	pol = keyfile_policy_test;
	pol.ops_min = 2;
	cr_assert_eq(keyfile_parse(file, sizeof file, &pol, &h, NULL), -CN_ELIMIT);
	cr_assert_eq(keyfile_parse(file, sizeof file, &keyfile_policy_test, &h, NULL), 0);

	/* A hostile file asking for 64 GiB is refused without trying. */
	uint8_t t[KEYFILE_SIZE];
	memcpy(t, file, sizeof t);
	store_be64(t + 20, 64ull << 30);
	resum(t);
	cr_assert_eq(keyfile_parse(t, sizeof t, &keyfile_policy_default, &h, &why), -CN_ELIMIT);
	/* Not a whole number of KiB, or no passes at all: invalid whatever the policy. */
	store_be64(t + 20, 8192 + 1);
	resum(t);
	cr_assert_eq(keyfile_parse(t, sizeof t, &keyfile_policy_test, &h, NULL), -CN_EINVAL);
	memcpy(t, file, sizeof t);
	store_be64(t + 12, 0);
	resum(t);
	cr_assert_eq(keyfile_parse(t, sizeof t, &keyfile_policy_test, &h, NULL), -CN_EINVAL);
}

Test(keyfile_seal, interactive_level_passes_default_policy)
{
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], got[32];
	fill(secret, 32, 5);
	fill(pub, 48, 6);
	cr_assert_eq(keyfile_seal(secret, pub, pass, strlen(pass), &keyfile_kdf_interactive, file), 0);
	struct keyfile_header h;
	cr_assert_eq(keyfile_open(file, sizeof file, pass, strlen(pass), &keyfile_policy_default, got,
	                          &h, NULL), 0);
	cr_assert(memcmp(got, secret, 32) == 0);
	cr_assert_eq(h.kdf.opslimit, 2);
	cr_assert_eq(h.kdf.memlimit, 64u << 20);
}

/* The level new files get by default (256 MiB): only under make test-long. */
Test(keyfile_seal, moderate_level_round_trip)
{
	if (!tu_long())
		return;
	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], got[32];
	fill(secret, 32, 15);
	fill(pub, 48, 16);
	cr_assert_eq(keyfile_seal(secret, pub, pass, strlen(pass), &keyfile_kdf_moderate, file), 0);
	struct keyfile_header h;
	cr_assert_eq(keyfile_open(file, sizeof file, pass, strlen(pass), &keyfile_policy_default, got,
	                          &h, NULL), 0);
	cr_assert(memcmp(got, secret, 32) == 0);
	cr_assert_eq(h.kdf.memlimit, 256u << 20);
	cr_assert_eq(keyfile_open(file, sizeof file, "x", 1, &keyfile_policy_default, got, &h, NULL),
	             -CN_EPASS);
}

Test(keyfile_seal, seal_rejects_bad_kdf)
{
	uint8_t secret[32] = {1}, pub[48] = {2}, file[KEYFILE_SIZE];
	const struct keyfile_kdf bad[] = {{0, 8192}, {1, 4096}, {1, 8193}};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(keyfile_seal(secret, pub, pass, strlen(pass), &bad[i], file), -CN_EINVAL);
}

Test(keyfile_seal, kdf_names)
{
	struct keyfile_kdf k;
	cr_assert_eq(keyfile_kdf_by_name("interactive", &k), 0);
	cr_assert_eq(k.opslimit, 2);
	cr_assert_eq(keyfile_kdf_by_name("moderate", &k), 0);
	cr_assert_eq(k.memlimit, 256u << 20);
	cr_assert_eq(keyfile_kdf_by_name("sensitive", &k), 0);
	cr_assert_eq(k.memlimit, 1u << 30);
	cr_assert_eq(keyfile_kdf_by_name("cheap", &k), -CN_EINVAL);
}

Test(keyfile_seal, file_name)
{
	uint8_t pub[48];
	for (int i = 0; i < 48; i++)
		pub[i] = (uint8_t)(0xa0 + i);
	char name[KEYFILE_NAME_LEN + 1];
	keyfile_name(pub, name);
	cr_assert_eq(strlen(name), 100);
	cr_assert(strncmp(name, "a0a1a2a3", 8) == 0);
	cr_assert_str_eq(name + 96, ".key");
}

Test(keyfile_seal, write_and_read)
{
	char dir[] = "/tmp/canon-keyfile-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/k.key", dir);

	uint8_t secret[32], pub[48], file[KEYFILE_SIZE], back[KEYFILE_SIZE + 1];
	seal_cheap(secret, pub, file);
	cr_assert_eq(keyfile_write(path, file), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "a key file must be private");
	cr_assert_eq(st.st_size, KEYFILE_SIZE);
	/* Never replaces a key. */
	cr_assert_eq(keyfile_write(path, file), -CN_EEXIST);

	size_t len;
	cr_assert_eq(keyfile_read(path, back, sizeof back, &len), 0);
	cr_assert_eq(len, KEYFILE_SIZE);
	cr_assert(memcmp(back, file, KEYFILE_SIZE) == 0);

	/* An oversized file is read only one byte past the format's size. */
	FILE *f = fopen(path, "ab");
	cr_assert_not_null(f);
	for (int i = 0; i < 5000; i++)
		fputc(0, f);
	fclose(f);
	cr_assert_eq(keyfile_read(path, back, sizeof back, &len), 0);
	cr_assert_eq(len, KEYFILE_SIZE + 1);
	struct keyfile_header h;
	cr_assert_eq(keyfile_parse(back, len, &keyfile_policy_test, &h, NULL), -CN_ETRAILING);

	char missing[300];
	snprintf(missing, sizeof missing, "%s/none.key", dir);
	cr_assert_eq(keyfile_read(missing, back, sizeof back, &len), -CN_ENOTFOUND);
	snprintf(missing, sizeof missing, "%s/no/such/dir/k.key", dir);
	cr_assert_eq(keyfile_write(missing, file), -CN_ENOTFOUND);

	unlink(path);
	rmdir(dir);
}
