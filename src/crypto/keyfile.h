/* keyfile.h — passphrase-encrypted BLS secret key files.
 *
 * A validator keeps each BLS secret key in its own file, named as Harmony
 * names its key files: the lower-case hex of the 48-byte compressed G1 public
 * key (no 0x) followed by ".key". The 32-byte secret is sealed under a key
 * stretched from the operator's passphrase with Argon2id, so a stolen file
 * costs an attacker one Argon2id run per guess.
 *
 * File layout, version 1 (180 bytes, integers big-endian):
 *
 *   offset size  field
 *        0    8  magic "CNBLSKEY"
 *        8    1  version = 1
 *        9    1  KDF id = 1: Argon2id v1.3 (libsodium crypto_pwhash,
 *                crypto_pwhash_ALG_ARGON2ID13)
 *       10    1  AEAD id = 1: XChaCha20-Poly1305 IETF
 *                (crypto_aead_xchacha20poly1305_ietf)
 *       11    1  reserved, 0
 *       12    8  Argon2id opslimit (passes)
 *       20    8  Argon2id memlimit in bytes (a multiple of 1024)
 *       28   16  salt
 *       44   24  nonce
 *       68   48  public key (compressed G1)
 *      116   48  sealed secret: 32 bytes of ciphertext, then the 16-byte tag
 *      164   16  checksum: unkeyed BLAKE2b-128 of bytes 0..163
 *
 * key = Argon2id(passphrase, salt, opslimit, memlimit) → 32 bytes, and the
 * secret is sealed with that key and the nonce; bytes 0..115 (everything
 * before the sealed secret) are the associated data, so changing the KDF
 * parameters, the salt or the public key breaks the tag. The KDF parameters
 * and salt live in the file so that new files can use stronger settings
 * while old ones stay readable.
 *
 * The checksum is not a security measure (anyone can recompute it); it tells
 * a damaged file (disk error, bad copy) apart from a wrong passphrase before
 * the expensive KDF runs. A file whose checksum holds but whose tag fails is
 * reported as a wrong passphrase: the two cannot be told apart otherwise.
 *
 * A reader accepts KDF parameters only inside a policy: the default policy
 * refuses settings weaker than libsodium's INTERACTIVE level (so nobody can
 * hand a node a file that is cheap to brute-force without noticing) and
 * stronger than its SENSITIVE level (so a hostile file cannot make the reader
 * allocate gigabytes). Tests and the fuzz target pass a policy that allows
 * tiny settings.
 *
 * Everything that touches the secret — the stretched key, decrypted
 * plaintext, copies — is wiped before the functions return.
 *
 * The code lives in src/crypto/keyfile/, a module of its own (as crypto/bls
 * is) so that users of src/crypto/ do not have to link the BLS code this
 * module needs to check a decrypted key. */
#ifndef CANON_CRYPTO_KEYFILE_H
#define CANON_CRYPTO_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#define KEYFILE_SECRET_LEN 32
#define KEYFILE_PUBKEY_LEN 48
#define KEYFILE_SALT_LEN 16
#define KEYFILE_NONCE_LEN 24
#define KEYFILE_TAG_LEN 16
#define KEYFILE_SUM_LEN 16
#define KEYFILE_VERSION 1
#define KEYFILE_SIZE 180
#define KEYFILE_AD_LEN 116           /* header bytes bound by the tag */
#define KEYFILE_NAME_LEN (2 * KEYFILE_PUBKEY_LEN + 4)  /* "<96 hex>.key" */

/* Argon2id cost of one key file. */
struct keyfile_kdf {
	uint64_t opslimit;
	uint64_t memlimit;   /* bytes */
};

/* The KDF settings a reader is willing to run. */
struct keyfile_policy {
	uint64_t ops_min, ops_max;
	uint64_t mem_min, mem_max;
};

/* What a file says about itself, readable without the passphrase. */
struct keyfile_header {
	uint8_t version;
	struct keyfile_kdf kdf;
	uint8_t salt[KEYFILE_SALT_LEN];
	uint8_t nonce[KEYFILE_NONCE_LEN];
	uint8_t pubkey[KEYFILE_PUBKEY_LEN];
};

/* libsodium's INTERACTIVE (2 passes, 64 MiB), MODERATE (3, 256 MiB) and
 * SENSITIVE (4, 1 GiB) levels. New key files use MODERATE by default: a
 * node decrypts its keys once at start-up, so a second of work is cheap for
 * the owner and expensive for a guesser. */
extern const struct keyfile_kdf keyfile_kdf_interactive;
extern const struct keyfile_kdf keyfile_kdf_moderate;
extern const struct keyfile_kdf keyfile_kdf_sensitive;

/* What real key files must satisfy: between INTERACTIVE and SENSITIVE (ops up
 * to 16 passes). */
extern const struct keyfile_policy keyfile_policy_default;
/* For tests and fuzzing only: Argon2id's minimum (1 pass, 8 KiB) up to 3
 * passes and 1 MiB, so that each open costs microseconds. Never use it for
 * files a node loads. */
extern const struct keyfile_policy keyfile_policy_test;

/* Looks up a level by name ("interactive", "moderate", "sensitive").
 * -CN_EINVAL for another name. */
int keyfile_kdf_by_name(const char *name, struct keyfile_kdf *out);

/* Seals secret for pubkey under pass with fresh random salt and nonce into
 * out. The caller vouches that pubkey belongs to secret (keyfile_bls_seal
 * derives it). -CN_EINVAL if kdf is outside libsodium's Argon2id range or
 * memlimit is not a multiple of 1024; -CN_ENOMEM if Argon2id cannot get its
 * memory. */
int keyfile_seal(const uint8_t secret[KEYFILE_SECRET_LEN], const uint8_t pubkey[KEYFILE_PUBKEY_LEN],
                 const char *pass, size_t pass_len, const struct keyfile_kdf *kdf,
                 uint8_t out[KEYFILE_SIZE]);

/* Parses and checks a file's bytes without the passphrase: size, magic,
 * version, algorithm ids, reserved byte, checksum, and the KDF parameters
 * against pol. Errors:
 *   -CN_ETRUNC       shorter than KEYFILE_SIZE
 *   -CN_ETRAILING    longer than KEYFILE_SIZE
 *   -CN_EPARSE       not a canon BLS key file (magic)
 *   -CN_EUNSUPPORTED unknown version, KDF or AEAD id
 *   -CN_EVERIFY      checksum mismatch: the file is damaged
 *   -CN_EINVAL       reserved byte set, memlimit not a multiple of 1024
 *   -CN_ELIMIT       KDF parameters outside pol
 * *why (if why is not NULL) gets a short static description of the failure. */
int keyfile_parse(const uint8_t *buf, size_t len, const struct keyfile_policy *pol,
                  struct keyfile_header *h, const char **why);

/* keyfile_parse, then derives the key from pass and opens the sealed
 * secret. Besides keyfile_parse's errors: -CN_EPASS when the tag does not
 * verify (wrong passphrase, or a deliberately altered file), -CN_ENOMEM when
 * Argon2id cannot get its memory. On failure secret is zeroed. */
int keyfile_open(const uint8_t *buf, size_t len, const char *pass, size_t pass_len,
                 const struct keyfile_policy *pol, uint8_t secret[KEYFILE_SECRET_LEN],
                 struct keyfile_header *h, const char **why);

/* Writes the file name for pubkey: 96 lower-case hex digits, ".key" and a
 * NUL (KEYFILE_NAME_LEN + 1 bytes). */
void keyfile_name(const uint8_t pubkey[KEYFILE_PUBKEY_LEN], char out[KEYFILE_NAME_LEN + 1]);

/* Reads a key file from disk into buf (at most KEYFILE_SIZE + 1 bytes are
 * read, so an oversized file is reported as trailing bytes without reading it
 * whole). -CN_ENOTFOUND, -CN_EIO. */
int keyfile_read(const char *path, uint8_t *buf, size_t cap, size_t *len);

/* Creates path with mode 0600 and writes the file, refusing to replace an
 * existing file (-CN_EEXIST); the data is fsync'ed before returning.
 * -CN_ENOTFOUND when the directory does not exist, -CN_EIO otherwise. */
int keyfile_write(const char *path, const uint8_t buf[KEYFILE_SIZE]);

/* ---- BLS keys ---------------------------------------------------------------
 *
 * The functions above treat the secret as 32 opaque bytes. These tie it to
 * BLS12-381 (crypto/bls.h): the sealed bytes are the big-endian scalar, the
 * header holds its compressed public key, and a file that opens must hold a
 * valid scalar whose public key is the one in the header — a key file that
 * would make a node sign under a different key than it announces is
 * rejected. Errors beyond keyfile_open's:
 *   -CN_EINVAL   the sealed scalar is 0 or >= r
 *   -CN_EVERIFY  the scalar's public key differs from the header's, or
 *                (keyfile_bls_load) the file name is not <header key>.key */
struct bls_secret_key;

/* Seals sk with its own public key (written to pubkey if not NULL). */
int keyfile_bls_seal(const struct bls_secret_key *sk, const char *pass, size_t pass_len,
                     const struct keyfile_kdf *kdf, uint8_t out[KEYFILE_SIZE],
                     uint8_t pubkey[KEYFILE_PUBKEY_LEN]);

/* Opens buf and checks the secret against the header's public key. */
int keyfile_bls_open(const uint8_t *buf, size_t len, const char *pass, size_t pass_len,
                     const struct keyfile_policy *pol, struct bls_secret_key *sk,
                     uint8_t pubkey[KEYFILE_PUBKEY_LEN], const char **why);

/* 0 if the last component of path is keyfile_name(pubkey), else -CN_EVERIFY.
 * Cheap: callers run it before asking for a passphrase. */
int keyfile_check_name(const char *path, const uint8_t pubkey[KEYFILE_PUBKEY_LEN]);

/* Seals sk and writes it as dir/<pubkey hex>.key (never replacing a file:
 * -CN_EEXIST). path (path_cap bytes, may be NULL) gets the file's path;
 * -CN_ERANGE if it does not fit. */
int keyfile_bls_save(const char *dir, const struct bls_secret_key *sk, const char *pass,
                     size_t pass_len, const struct keyfile_kdf *kdf, char *path, size_t path_cap,
                     uint8_t pubkey[KEYFILE_PUBKEY_LEN]);

/* Reads path, checks its name against the header, opens it with pass and
 * checks the key: what a node does at start-up with each key file. */
int keyfile_bls_load(const char *path, const char *pass, size_t pass_len,
                     const struct keyfile_policy *pol, struct bls_secret_key *sk,
                     uint8_t pubkey[KEYFILE_PUBKEY_LEN], const char **why);

#endif
