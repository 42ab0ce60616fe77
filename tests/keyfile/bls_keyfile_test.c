/* BLS key files: a sealed secret must come back as the same key, signing as
 * the shared vectors say, and files whose name, header key or scalar do not
 * fit together are refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/bls.h"
#include "crypto/keyfile.h"
#include "testutil.h"

static const struct keyfile_kdf cheap = {1, 8192};
static const char pass[] = "hunter2";

static void make_key(uint8_t seed, struct bls_secret_key *sk)
{
	uint8_t ikm[32];
	memset(ikm, seed, sizeof ikm);
	cr_assert_eq(bls_keygen(ikm, sizeof ikm, NULL, 0, sk), 0);
}

static char *tmpdir(void)
{
	static char dir[64];
	snprintf(dir, sizeof dir, "/tmp/canon-blskf-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static void cleanup(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(keyfile_bls, save_load_sign)
{
	struct bls_secret_key sk, back;
	make_key(1, &sk);
	char *dir = tmpdir();
	char path[4096];
	uint8_t pub[48], pub2[48];
	cr_assert_eq(keyfile_bls_save(dir, &sk, pass, strlen(pass), &cheap, path, sizeof path, pub), 0);

	struct bls_public_key pk;
	uint8_t want[48];
	bls_sk_to_pk(&sk, &pk);
	bls_pk_to_bytes(&pk, want);
	cr_assert(memcmp(pub, want, 48) == 0);
	char name[KEYFILE_NAME_LEN + 1];
	keyfile_name(want, name);
	cr_assert_str_eq(strrchr(path, '/') + 1, name);

	const char *why = "unset";
	cr_assert_eq(keyfile_bls_load(path, pass, strlen(pass), &keyfile_policy_test, &back, pub2, &why),
	             0);
	cr_assert(memcmp(pub2, want, 48) == 0);
	uint8_t a[32], b[32];
	bls_sk_to_bytes(&sk, a);
	bls_sk_to_bytes(&back, b);
	cr_assert(memcmp(a, b, 32) == 0);

	struct bls_signature sig;
	bls_sign(&back, (const uint8_t *)"vote", 4, &sig);
	cr_assert_eq(bls_verify(&pk, (const uint8_t *)"vote", 4, &sig), 0);

	/* The same key again: never replaced. */
	cr_assert_eq(keyfile_bls_save(dir, &sk, pass, strlen(pass), &cheap, NULL, 0, NULL), -CN_EEXIST);
	/* A node uses the production policy, which refuses this cheap file. */
	cr_assert_eq(keyfile_bls_load(path, pass, strlen(pass), &keyfile_policy_default, &back, NULL,
	                              &why), -CN_ELIMIT);
	cleanup(dir);
}

Test(keyfile_bls, wrong_passphrase)
{
	struct bls_secret_key sk, back;
	make_key(2, &sk);
	char *dir = tmpdir();
	char path[4096];
	cr_assert_eq(keyfile_bls_save(dir, &sk, pass, strlen(pass), &cheap, path, sizeof path, NULL), 0);
	const char *why = NULL;
	cr_assert_eq(keyfile_bls_load(path, "hunter3", 7, &keyfile_policy_test, &back, NULL, &why),
	             -CN_EPASS);
	cr_assert_str_eq(why, "wrong passphrase");
	struct bls_secret_key zero;
	memset(&zero, 0, sizeof zero);
	cr_assert(memcmp(&back, &zero, sizeof zero) == 0, "no key material left on failure");
	cleanup(dir);
}

Test(keyfile_bls, name_must_match_key)
{
	struct bls_secret_key sk, other, back;
	make_key(3, &sk);
	make_key(4, &other);
	char *dir = tmpdir();
	char path[4096], renamed[4200];
	cr_assert_eq(keyfile_bls_save(dir, &sk, pass, strlen(pass), &cheap, path, sizeof path, NULL), 0);

	/* Renamed to another key's name. */
	struct bls_public_key opk;
	uint8_t ob[48];
	bls_sk_to_pk(&other, &opk);
	bls_pk_to_bytes(&opk, ob);
	char name[KEYFILE_NAME_LEN + 1];
	keyfile_name(ob, name);
	snprintf(renamed, sizeof renamed, "%s/%s", dir, name);
	cr_assert_eq(rename(path, renamed), 0);
	const char *why = NULL;
	cr_assert_eq(keyfile_bls_load(renamed, pass, strlen(pass), &keyfile_policy_test, &back, NULL,
	                              &why), -CN_EVERIFY);
	cr_assert_str_eq(why, "file name does not match the public key in the file");

	/* Upper-case hex is not the canonical name either. */
	char upper[4200];
	snprintf(upper, sizeof upper, "%s", path);
	for (char *c = strrchr(upper, '/') + 1; *c != '.'; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	cr_assert_eq(rename(renamed, upper), 0);
	cr_assert_eq(keyfile_bls_load(upper, pass, strlen(pass), &keyfile_policy_test, &back, NULL,
	                              &why), -CN_EVERIFY);
	/* Back under its own name it loads. */
	cr_assert_eq(rename(upper, path), 0);
	cr_assert_eq(keyfile_bls_load(path, pass, strlen(pass), &keyfile_policy_test, &back, NULL,
	                              &why), 0);
	cleanup(dir);
}

Test(keyfile_bls, check_name)
{
	uint8_t pub[48];
	for (int i = 0; i < 48; i++)
		pub[i] = (uint8_t)(0x90 + i);
	char name[KEYFILE_NAME_LEN + 1], path[256];
	keyfile_name(pub, name);
	cr_assert_eq(keyfile_check_name(name, pub), 0);
	snprintf(path, sizeof path, "/some/dir/%s", name);
	cr_assert_eq(keyfile_check_name(path, pub), 0);
	snprintf(path, sizeof path, "/some/dir/0x%s", name);
	cr_assert_eq(keyfile_check_name(path, pub), -CN_EVERIFY);
	snprintf(path, sizeof path, "/some/dir/%s.bak", name);
	cr_assert_eq(keyfile_check_name(path, pub), -CN_EVERIFY);
	name[0] = (char)(name[0] - 'a' + 'A');
	cr_assert_eq(keyfile_check_name(name, pub), -CN_EVERIFY);
}

/* A file made by someone with the passphrase whose header names another
 * key: it opens, but the node must not use it. */
Test(keyfile_bls, header_key_must_be_the_secrets)
{
	struct bls_secret_key a, b, back;
	make_key(5, &a);
	make_key(6, &b);
	uint8_t askb[32], bpk[48], file[KEYFILE_SIZE];
	struct bls_public_key pk;
	bls_sk_to_bytes(&a, askb);
	bls_sk_to_pk(&b, &pk);
	bls_pk_to_bytes(&pk, bpk);
	cr_assert_eq(keyfile_seal(askb, bpk, pass, strlen(pass), &cheap, file), 0);
	const char *why = NULL;
	cr_assert_eq(keyfile_bls_open(file, sizeof file, pass, strlen(pass), &keyfile_policy_test, &back,
	                              NULL, &why), -CN_EVERIFY);
	cr_assert_str_eq(why, "secret key does not match the public key in the file");
}

Test(keyfile_bls, sealed_scalar_out_of_range)
{
	static const char *bad[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", /* r */
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	};
	uint8_t pub[48] = {0xc0}, file[KEYFILE_SIZE];
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		size_t n;
		uint8_t *s = tu_hex(bad[i], &n);
		cr_assert_eq(keyfile_seal(s, pub, pass, strlen(pass), &cheap, file), 0);
		struct bls_secret_key back;
		const char *why = NULL;
		cr_assert_eq(keyfile_bls_open(file, sizeof file, pass, strlen(pass), &keyfile_policy_test,
		                              &back, NULL, &why), -CN_EINVAL, "%s", bad[i]);
		cr_assert_str_eq(why, "sealed secret is not a valid BLS secret key");
		free(s);
	}
}

/* Interop: every secret key of the shared sign vectors, sealed and opened
 * again, signs each vector's message to exactly the vector's signature
 * (computed by blst and noble). */
Test(keyfile_bls, vectors_survive_the_file)
{
	json_t *j = tu_load_json("bls/bls_vectors.json");
	json_t *vs = json_object_get(j, "sign");
	cr_assert(json_array_size(vs) > 0);
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(vs, i, v) {
		json_t *in = json_object_get(v, "input");
		json_t *out = json_object_get(v, "output");
		size_t sklen, mlen, siglen;
		uint8_t *skb = tu_hex(json_string_value(json_object_get(in, "privkey")), &sklen);
		uint8_t *msg = tu_hex(json_string_value(json_object_get(in, "message")), &mlen);
		struct bls_secret_key sk, back;
		if (json_is_null(out)) {
			/* A key that must be rejected cannot be put in a file. */
			cr_assert(sklen != 32 || bls_sk_from_bytes(skb, &sk) != 0);
			free(skb);
			free(msg);
			n++;
			continue;
		}
		cr_assert_eq(sklen, 32);
		cr_assert_eq(bls_sk_from_bytes(skb, &sk), 0);
		uint8_t file[KEYFILE_SIZE], pub[48];
		cr_assert_eq(keyfile_bls_seal(&sk, pass, strlen(pass), &cheap, file, pub), 0);
		cr_assert_eq(keyfile_bls_open(file, sizeof file, pass, strlen(pass), &keyfile_policy_test,
		                              &back, NULL, NULL), 0);
		struct bls_signature sig;
		uint8_t got[96];
		bls_sign(&back, msg, mlen, &sig);
		bls_sig_to_bytes(&sig, got);
		uint8_t *want = tu_hex(json_string_value(out), &siglen);
		cr_assert_eq(siglen, 96);
		cr_assert(memcmp(got, want, 96) == 0, "vector %zu", i);
		free(skb);
		free(msg);
		free(want);
		n++;
	}
	json_decref(j);
	tu_report("bls sign through key files", n);
}
