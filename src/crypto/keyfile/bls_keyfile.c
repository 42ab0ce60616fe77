/* bls_keyfile.c — key files holding BLS12-381 secret keys (see crypto/keyfile.h). */
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/bls.h"
#include "crypto/keyfile.h"

_Static_assert(KEYFILE_SECRET_LEN == BLS_SK_LEN, "a key file holds one BLS scalar");
_Static_assert(KEYFILE_PUBKEY_LEN == BLS_PK_LEN, "a key file names one G1 key");

int keyfile_bls_seal(const struct bls_secret_key *sk, const char *pass, size_t pass_len,
                     const struct keyfile_kdf *kdf, uint8_t out[KEYFILE_SIZE],
                     uint8_t pubkey[KEYFILE_PUBKEY_LEN])
{
	struct bls_public_key pk;
	uint8_t pkb[BLS_PK_LEN], skb[BLS_SK_LEN];
	bls_sk_to_pk(sk, &pk);
	bls_pk_to_bytes(&pk, pkb);
	bls_sk_to_bytes(sk, skb);
	int err = keyfile_seal(skb, pkb, pass, pass_len, kdf, out);
	bytes_wipe(skb, sizeof skb);
	if (err == 0 && pubkey)
		memcpy(pubkey, pkb, BLS_PK_LEN);
	return err;
}

int keyfile_bls_open(const uint8_t *buf, size_t len, const char *pass, size_t pass_len,
                     const struct keyfile_policy *pol, struct bls_secret_key *sk,
                     uint8_t pubkey[KEYFILE_PUBKEY_LEN], const char **why)
{
	struct keyfile_header h;
	uint8_t skb[BLS_SK_LEN];
	memset(sk, 0, sizeof *sk);
	int err = keyfile_open(buf, len, pass, pass_len, pol, skb, &h, why);
	if (err)
		return err;
	err = bls_sk_from_bytes(skb, sk);
	bytes_wipe(skb, sizeof skb);
	if (err) {
		bytes_wipe(sk, sizeof *sk);
		if (why)
			*why = "sealed secret is not a valid BLS secret key";
		return -CN_EINVAL;
	}
	/* The header's key is authenticated, so a mismatch means the file was
	 * made wrongly (or by someone holding the passphrase), not damaged; a
	 * node must not sign under a key other than the one it announces. */
	struct bls_public_key pk;
	uint8_t pkb[BLS_PK_LEN];
	bls_sk_to_pk(sk, &pk);
	bls_pk_to_bytes(&pk, pkb);
	if (memcmp(pkb, h.pubkey, BLS_PK_LEN) != 0) {
		bytes_wipe(sk, sizeof *sk);
		if (why)
			*why = "secret key does not match the public key in the file";
		return -CN_EVERIFY;
	}
	if (pubkey)
		memcpy(pubkey, pkb, BLS_PK_LEN);
	return 0;
}

int keyfile_check_name(const char *path, const uint8_t pubkey[KEYFILE_PUBKEY_LEN])
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char want[KEYFILE_NAME_LEN + 1];
	keyfile_name(pubkey, want);
	return strcmp(base, want) == 0 ? 0 : -CN_EVERIFY;
}

int keyfile_bls_save(const char *dir, const struct bls_secret_key *sk, const char *pass,
                     size_t pass_len, const struct keyfile_kdf *kdf, char *path, size_t path_cap,
                     uint8_t pubkey[KEYFILE_PUBKEY_LEN])
{
	uint8_t file[KEYFILE_SIZE], pkb[KEYFILE_PUBKEY_LEN];
	int err = keyfile_bls_seal(sk, pass, pass_len, kdf, file, pkb);
	if (err)
		return err;
	char name[KEYFILE_NAME_LEN + 1], full[4096];
	keyfile_name(pkb, name);
	size_t dlen = strlen(dir);
	int n = snprintf(full, sizeof full, "%s%s%s", dir, dlen && dir[dlen - 1] == '/' ? "" : "/",
	                 name);
	if (n < 0 || (size_t)n >= sizeof full || (path && (size_t)n >= path_cap))
		return -CN_ERANGE;
	err = keyfile_write(full, file);
	if (err)
		return err;
	if (path)
		memcpy(path, full, (size_t)n + 1);
	if (pubkey)
		memcpy(pubkey, pkb, KEYFILE_PUBKEY_LEN);
	return 0;
}

int keyfile_bls_load(const char *path, const char *pass, size_t pass_len,
                     const struct keyfile_policy *pol, struct bls_secret_key *sk,
                     uint8_t pubkey[KEYFILE_PUBKEY_LEN], const char **why)
{
	uint8_t buf[KEYFILE_SIZE + 1];
	size_t len;
	struct keyfile_header h;
	memset(sk, 0, sizeof *sk);
	if (why)
		*why = NULL;
	int err = keyfile_read(path, buf, sizeof buf, &len);
	if (err) {
		if (why)
			*why = err == -CN_ENOTFOUND ? "no such key file" : "cannot read key file";
		return err;
	}
	err = keyfile_parse(buf, len, pol, &h, why);
	if (err)
		return err;
	if (keyfile_check_name(path, h.pubkey) != 0) {
		if (why)
			*why = "file name does not match the public key in the file";
		return -CN_EVERIFY;
	}
	return keyfile_bls_open(buf, len, pass, pass_len, pol, sk, pubkey, why);
}
