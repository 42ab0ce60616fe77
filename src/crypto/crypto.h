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

#endif
