/* kdf.c — the hash, MAC and key derivation the handshake is built from.
 *
 * BLAKE2b has a keyed mode that is itself a PRF, so HKDF's HMAC is replaced
 * by keyed BLAKE2b-256 (as WireGuard does with BLAKE2s and HMAC); the
 * extract-then-expand structure stays the same. */
#include <string.h>

#include <sodium.h>

#include "base/bytes.h"
#include "net/net_int.h"

void net_hash2(uint8_t out[32], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, a, alen);
	if (blen)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, 32);
}

void net_mac(uint8_t *out, size_t outlen, const uint8_t *key, size_t klen, const uint8_t *in,
	     size_t n)
{
	crypto_generichash(out, outlen, in, n, key, klen);
}

void net_kdf2(const uint8_t ck[32], const uint8_t *input, size_t n, uint8_t t1[32], uint8_t t2[32])
{
	static const uint8_t one = 1;
	uint8_t prk[32], a[33], b[32];
	net_mac(prk, 32, ck, 32, input, n);
	net_mac(a, 32, prk, 32, &one, 1);
	if (t2) {
		a[32] = 2;
		net_mac(b, 32, prk, 32, a, 33);
		memcpy(t2, b, 32);
	}
	if (t1)
		memcpy(t1, a, 32);
	bytes_wipe(prk, sizeof prk);
	bytes_wipe(a, sizeof a);
	bytes_wipe(b, sizeof b);
}
