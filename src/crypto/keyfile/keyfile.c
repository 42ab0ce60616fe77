/* keyfile.c — passphrase-encrypted BLS secret key files (format in crypto/keyfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/err.h"
#include "crypto/keyfile.h"

#define OFF_VERSION 8
#define OFF_KDF 9
#define OFF_AEAD 10
#define OFF_RESERVED 11
#define OFF_OPS 12
#define OFF_MEM 20
#define OFF_SALT 28
#define OFF_NONCE 44
#define OFF_PUBKEY 68
#define OFF_SEALED 116
#define OFF_SUM 164

#define KDF_ARGON2ID13 1
#define AEAD_XCHACHA20POLY1305 1

static const uint8_t magic[8] = {'C', 'N', 'B', 'L', 'S', 'K', 'E', 'Y'};

_Static_assert(OFF_SEALED == KEYFILE_AD_LEN, "associated data ends where the sealed secret starts");
_Static_assert(OFF_SUM + KEYFILE_SUM_LEN == KEYFILE_SIZE, "layout adds up");
_Static_assert(KEYFILE_SALT_LEN == crypto_pwhash_argon2id_SALTBYTES, "Argon2id salt size");
_Static_assert(KEYFILE_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(KEYFILE_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(KEYFILE_SUM_LEN >= crypto_generichash_BYTES_MIN, "BLAKE2b output size");

const struct keyfile_kdf keyfile_kdf_interactive = {
	crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
const struct keyfile_kdf keyfile_kdf_moderate = {
	crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
const struct keyfile_kdf keyfile_kdf_sensitive = {
	crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE};

const struct keyfile_policy keyfile_policy_default = {
	.ops_min = crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	.ops_max = 16,
	.mem_min = crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
	.mem_max = crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE,
};
const struct keyfile_policy keyfile_policy_test = {
	.ops_min = crypto_pwhash_argon2id_OPSLIMIT_MIN,
	.ops_max = 3,
	.mem_min = crypto_pwhash_argon2id_MEMLIMIT_MIN,
	.mem_max = 1 << 20,
};

int keyfile_kdf_by_name(const char *name, struct keyfile_kdf *out)
{
	if (!strcmp(name, "interactive"))
		*out = keyfile_kdf_interactive;
	else if (!strcmp(name, "moderate"))
		*out = keyfile_kdf_moderate;
	else if (!strcmp(name, "sensitive"))
		*out = keyfile_kdf_sensitive;
	else
		return -CN_EINVAL;
	return 0;
}

/* libsodium wants sodium_init() once before its randomness and Argon2id;
 * it is idempotent and thread-safe, so every entry point just calls it. */
static int ensure_sodium(void)
{
	return sodium_init() < 0 ? -CN_ENOMEM : 0;
}

static int kdf_valid(const struct keyfile_kdf *kdf)
{
	/* memlimit is counted in KiB by Argon2; a value that is not a whole
	 * number of KiB would be rounded silently, so the file would not say
	 * exactly what was run. */
	return kdf->opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
	       kdf->opslimit <= crypto_pwhash_argon2id_OPSLIMIT_MAX &&
	       kdf->memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
	       kdf->memlimit <= crypto_pwhash_argon2id_MEMLIMIT_MAX &&
	       kdf->memlimit % 1024 == 0;
}

static void checksum(const uint8_t *buf, uint8_t out[KEYFILE_SUM_LEN])
{
	crypto_generichash(out, KEYFILE_SUM_LEN, buf, OFF_SUM, NULL, 0);
}

static int derive(uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES], const char *pass,
                  size_t pass_len, const uint8_t salt[KEYFILE_SALT_LEN],
                  const struct keyfile_kdf *kdf)
{
	/* crypto_pwhash fails only when it cannot allocate memlimit bytes (the
	 * parameters were checked before). */
	if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, pass_len, salt,
	                  kdf->opslimit, (size_t)kdf->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -CN_ENOMEM;
	return 0;
}

int keyfile_seal(const uint8_t secret[KEYFILE_SECRET_LEN], const uint8_t pubkey[KEYFILE_PUBKEY_LEN],
                 const char *pass, size_t pass_len, const struct keyfile_kdf *kdf,
                 uint8_t out[KEYFILE_SIZE])
{
	int err = ensure_sodium();
	if (err)
		return err;
	if (!kdf_valid(kdf) || (pass == NULL && pass_len != 0))
		return -CN_EINVAL;

	memset(out, 0, KEYFILE_SIZE);
	memcpy(out, magic, sizeof magic);
	out[OFF_VERSION] = KEYFILE_VERSION;
	out[OFF_KDF] = KDF_ARGON2ID13;
	out[OFF_AEAD] = AEAD_XCHACHA20POLY1305;
	out[OFF_RESERVED] = 0;
	store_be64(out + OFF_OPS, kdf->opslimit);
	store_be64(out + OFF_MEM, kdf->memlimit);
	randombytes_buf(out + OFF_SALT, KEYFILE_SALT_LEN);
	randombytes_buf(out + OFF_NONCE, KEYFILE_NONCE_LEN);
	memcpy(out + OFF_PUBKEY, pubkey, KEYFILE_PUBKEY_LEN);

	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	err = derive(key, pass ? pass : "", pass_len, out + OFF_SALT, kdf);
	if (err == 0) {
		unsigned long long clen = 0;
		crypto_aead_xchacha20poly1305_ietf_encrypt(out + OFF_SEALED, &clen, secret,
		                                           KEYFILE_SECRET_LEN, out, KEYFILE_AD_LEN,
		                                           NULL, out + OFF_NONCE, key);
		checksum(out, out + OFF_SUM);
	}
	sodium_memzero(key, sizeof key);
	if (err)
		sodium_memzero(out, KEYFILE_SIZE);
	return err;
}

#define FAIL(code, text) do { if (why) *why = (text); return (code); } while (0)

int keyfile_parse(const uint8_t *buf, size_t len, const struct keyfile_policy *pol,
                  struct keyfile_header *h, const char **why)
{
	if (why)
		*why = NULL;
	if (len < sizeof magic || memcmp(buf, magic, sizeof magic) != 0)
		FAIL(-CN_EPARSE, "not a canon BLS key file (bad magic)");
	if (len <= OFF_VERSION)
		FAIL(-CN_ETRUNC, "key file is truncated");
	if (buf[OFF_VERSION] != KEYFILE_VERSION)
		FAIL(-CN_EUNSUPPORTED, "unsupported key file version");
	if (len < KEYFILE_SIZE)
		FAIL(-CN_ETRUNC, "key file is truncated");
	if (len > KEYFILE_SIZE)
		FAIL(-CN_ETRAILING, "key file has trailing bytes");

	uint8_t sum[KEYFILE_SUM_LEN];
	checksum(buf, sum);
	if (memcmp(sum, buf + OFF_SUM, KEYFILE_SUM_LEN) != 0)
		FAIL(-CN_EVERIFY, "key file is corrupted (checksum mismatch)");

	if (buf[OFF_KDF] != KDF_ARGON2ID13)
		FAIL(-CN_EUNSUPPORTED, "unsupported key derivation function");
	if (buf[OFF_AEAD] != AEAD_XCHACHA20POLY1305)
		FAIL(-CN_EUNSUPPORTED, "unsupported cipher");
	if (buf[OFF_RESERVED] != 0)
		FAIL(-CN_EINVAL, "reserved header byte is set");

	struct keyfile_kdf kdf = {load_be64(buf + OFF_OPS), load_be64(buf + OFF_MEM)};
	if (!kdf_valid(&kdf))
		FAIL(-CN_EINVAL, "invalid Argon2id parameters");
	if (kdf.opslimit < pol->ops_min || kdf.memlimit < pol->mem_min)
		FAIL(-CN_ELIMIT, "Argon2id parameters are weaker than allowed");
	if (kdf.opslimit > pol->ops_max || kdf.memlimit > pol->mem_max)
		FAIL(-CN_ELIMIT, "Argon2id parameters are costlier than allowed");

	h->version = buf[OFF_VERSION];
	h->kdf = kdf;
	memcpy(h->salt, buf + OFF_SALT, KEYFILE_SALT_LEN);
	memcpy(h->nonce, buf + OFF_NONCE, KEYFILE_NONCE_LEN);
	memcpy(h->pubkey, buf + OFF_PUBKEY, KEYFILE_PUBKEY_LEN);
	return 0;
}

int keyfile_open(const uint8_t *buf, size_t len, const char *pass, size_t pass_len,
                 const struct keyfile_policy *pol, uint8_t secret[KEYFILE_SECRET_LEN],
                 struct keyfile_header *h, const char **why)
{
	sodium_memzero(secret, KEYFILE_SECRET_LEN);
	int err = ensure_sodium();
	if (err)
		FAIL(err, "libsodium failed to initialise");
	if (pass == NULL && pass_len != 0)
		FAIL(-CN_EINVAL, "no passphrase");
	err = keyfile_parse(buf, len, pol, h, why);
	if (err)
		return err;

	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	err = derive(key, pass ? pass : "", pass_len, h->salt, &h->kdf);
	if (err) {
		sodium_memzero(key, sizeof key);
		FAIL(err, "out of memory for Argon2id");
	}
	unsigned long long mlen = 0;
	int bad = crypto_aead_xchacha20poly1305_ietf_decrypt(
		secret, &mlen, NULL, buf + OFF_SEALED, KEYFILE_SECRET_LEN + KEYFILE_TAG_LEN, buf,
		KEYFILE_AD_LEN, h->nonce, key);
	sodium_memzero(key, sizeof key);
	if (bad || mlen != KEYFILE_SECRET_LEN) {
		sodium_memzero(secret, KEYFILE_SECRET_LEN);
		FAIL(-CN_EPASS, "wrong passphrase");
	}
	return 0;
}

void keyfile_name(const uint8_t pubkey[KEYFILE_PUBKEY_LEN], char out[KEYFILE_NAME_LEN + 1])
{
	hex_encode(pubkey, KEYFILE_PUBKEY_LEN, out);
	memcpy(out + 2 * KEYFILE_PUBKEY_LEN, ".key", 5);
}

int keyfile_read(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -CN_ENOTFOUND : -CN_EIO;
	size_t want = cap < KEYFILE_SIZE + 1 ? cap : KEYFILE_SIZE + 1;
	size_t got = 0;
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -CN_EIO;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return 0;
}

int keyfile_write(const char *path, const uint8_t buf[KEYFILE_SIZE])
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EEXIST ? -CN_EEXIST : errno == ENOENT ? -CN_ENOTFOUND : -CN_EIO;
	size_t off = 0;
	while (off < KEYFILE_SIZE) {
		ssize_t n = write(fd, buf + off, KEYFILE_SIZE - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	/* A key that was reported as saved but lost in a crash cannot be
	 * recovered, so the data must reach the disk before we say it did. */
	int ok = off == KEYFILE_SIZE && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok) {
		unlink(path);
		return -CN_EIO;
	}
	/* The new directory entry must be durable too. */
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	if (slash && dlen == 0)
		dlen = 1;                      /* a file in / */
	if (dlen < sizeof dir) {
		if (slash)
			memcpy(dir, path, dlen);
		else
			dir[dlen++] = '.';
		dir[dlen] = 0;
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return 0;
}
