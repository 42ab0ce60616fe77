/* net_int.h — helpers shared by the net module's files (not public). */
#ifndef CANON_NET_INT_H
#define CANON_NET_INT_H

#include <stddef.h>
#include <stdint.h>

/* BLAKE2b-256 of a || b. */
void net_hash2(uint8_t out[32], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Keyed BLAKE2b (a PRF): outlen 16 or 32, key 16..64 bytes. */
void net_mac(uint8_t *out, size_t outlen, const uint8_t *key, size_t klen, const uint8_t *in,
	     size_t n);
/* HKDF with keyed BLAKE2b-256 in place of HMAC: prk = MAC(ck, input),
 * t1 = MAC(prk, 0x01), t2 = MAC(prk, t1 || 0x02). Either output may be NULL. */
void net_kdf2(const uint8_t ck[32], const uint8_t *input, size_t n, uint8_t t1[32], uint8_t t2[32]);

#endif
