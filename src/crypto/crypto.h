/* crypto.h — hashing and ECDSA for canon.
 *
 * Keccak-256 is Ethereum's hash: the Keccak-f[1600] permutation (nettle's
 * sha3_permute) with the original Keccak padding (0x01 … 0x80), not SHA3-256's
 * (0x06 … 0x80). The streaming context absorbs any number of updates.
 *
 * secp256k1 (libsecp256k1 with its recovery module) gives recoverable ECDSA
 * signatures; an account address is the last 20 bytes of Keccak-256 of the
 * 64-byte uncompressed public key (without its 0x04 prefix). */
#ifndef CANON_CRYPTO_H
#define CANON_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define KECCAK256_LEN 32
#define KECCAK256_RATE 136

struct keccak256 {
	uint64_t a[25];     /* sponge state, as nettle's struct sha3_state */
	uint8_t buf[KECCAK256_RATE];
	size_t fill;        /* bytes waiting in buf */
};

void keccak256_init(struct keccak256 *k);
void keccak256_update(struct keccak256 *k, const void *data, size_t len);
void keccak256_final(struct keccak256 *k, uint8_t out[KECCAK256_LEN]);
/* One-shot convenience. */
void keccak256(const void *data, size_t len, uint8_t out[KECCAK256_LEN]);

/* ---- secp256k1 ECDSA ------------------------------------------------------
 *
 * One process-wide libsecp256k1 context is created on first use (pthread_once)
 * and randomized with libsodium's randombytes as blinding against side
 * channels; every function below may be called from any thread.
 *
 * Formats: a secret is a 32-byte big-endian scalar in [1, n-1]; a public key
 * is the 64-byte X || Y (uncompressed, without the 0x04 prefix); a signature is
 * the 65-byte r || s || v where v is the recovery id 0 or 1 (yParity; not 27/28
 * and not 35+2*chainId — callers translate their wire form).
 *
 * Which signatures are accepted follows Ethereum:
 *   - r and s must lie in [1, n-1], v must be 0 or 1. libsecp256k1 can also
 *     produce ids 2 and 3 (r's x coordinate overflowed n, probability ~2^-127);
 *     Ethereum has no encoding for them, so they are rejected.
 *   - secp_recover and secp_verify also demand low s (s <= n/2), as transaction
 *     signatures must since Homestead (EIP-2). secp_recover_any accepts high s,
 *     as the ecrecover precompile (address 0x01) does.
 * Signing uses libsecp256k1's default nonce (RFC 6979) and always yields low s,
 * so signatures are deterministic and match other Ethereum tools byte for byte.
 *
 * Secret scalars and their intermediate copies are wiped before returning. */
#define SECP_SECRET_LEN 32
#define SECP_PUBKEY_LEN 64
#define SECP_SIG_LEN 65

/* Fresh random secret from the OS CSPRNG. -CN_ENOMEM if the context cannot be
 * created. */
int secp_keygen(uint8_t secret[SECP_SECRET_LEN]);
/* 0 if secret is a valid scalar in [1, n-1], else -CN_EINVAL. */
int secp_secret_check(const uint8_t secret[SECP_SECRET_LEN]);
int secp_pubkey_from_secret(const uint8_t secret[SECP_SECRET_LEN], uint8_t pub[SECP_PUBKEY_LEN]);
/* Checks that pub is a point on the curve: 0 or -CN_EINVAL. */
int secp_pubkey_check(const uint8_t pub[SECP_PUBKEY_LEN]);
int secp_sign_recoverable(const uint8_t secret[SECP_SECRET_LEN], const uint8_t hash[32],
                          uint8_t sig[SECP_SIG_LEN]);
/* Public key that produced sig over hash. -CN_EINVAL for values out of range
 * (r, s, v, high s), -CN_EVERIFY when no key recovers. */
int secp_recover(const uint8_t hash[32], const uint8_t sig[SECP_SIG_LEN], uint8_t pub[SECP_PUBKEY_LEN]);
/* As secp_recover but accepts high s (ecrecover precompile rules). */
int secp_recover_any(const uint8_t hash[32], const uint8_t sig[SECP_SIG_LEN], uint8_t pub[SECP_PUBKEY_LEN]);
/* Verifies the 64-byte r || s against pub. 0 if valid; -CN_EINVAL for
 * malformed input (bad key, r/s out of range, high s); -CN_EVERIFY if the
 * signature does not match. */
int secp_verify(const uint8_t hash[32], const uint8_t sig64[64], const uint8_t pub[SECP_PUBKEY_LEN]);

/* ---- account addresses ----------------------------------------------------
 *
 * address = the last 20 bytes of keccak256(pub64). Its text form is 0x plus 40
 * hex digits in EIP-55 mixed case: a letter digit is upper case when the
 * matching nibble of keccak256(lower-case hex, without 0x) is >= 8. */
#define ADDR_LEN 20
#define ADDR_HEX_LEN 42 /* "0x" + 40 digits, without the NUL */

void addr_from_pubkey(const uint8_t pub[SECP_PUBKEY_LEN], uint8_t addr[ADDR_LEN]);
int addr_from_secret(const uint8_t secret[SECP_SECRET_LEN], uint8_t addr[ADDR_LEN]);
/* Writes the EIP-55 form plus NUL (ADDR_HEX_LEN + 1 bytes). */
void addr_to_hex(const uint8_t addr[ADDR_LEN], char out[ADDR_HEX_LEN + 1]);
/* Parses 0x + 40 hex digits (the 0x is required). All-lower and all-upper
 * digits are accepted as unchecksummed; mixed case must match EIP-55.
 * -CN_EPARSE for a bad length, prefix or digit, -CN_EVERIFY for a mixed-case
 * text whose checksum does not match. */
int addr_from_hex(const char *text, size_t len, uint8_t addr[ADDR_LEN]);

#endif
