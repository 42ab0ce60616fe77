/* keccak.c — streaming Keccak-256 on nettle's Keccak-f[1600].
 *
 * Whole 136-byte blocks are XORed straight from the caller's buffer into the
 * state, so long inputs cost only the permutation; only a partial block is
 * copied. The state words are little-endian lanes, as nettle expects. */
#include "crypto/crypto.h"

#include <nettle/sha3.h>
#include <string.h>

#include "base/bytes.h"

_Static_assert(sizeof(struct sha3_state) == sizeof(uint64_t[25]), "nettle sha3_state layout");

/* A lane is a little-endian 64-bit word. On little-endian machines a memcpy
 * is one unaligned load; the portable byte-by-byte form costs about 5% of the
 * throughput on long inputs (measured by bench/keccak.c), which is most of
 * the gap to nettle's own SHA3-256 on the same permutation. */
static inline uint64_t lane(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
#else
	return load_le64(p);
#endif
}

static void absorb_block(struct keccak256 *k, const uint8_t *block)
{
	for (int i = 0; i < KECCAK256_RATE / 8; i++)
		k->a[i] ^= lane(block + 8 * i);
	sha3_permute((struct sha3_state *)k->a);
}

void keccak256_init(struct keccak256 *k)
{
	memset(k, 0, sizeof *k);
}

void keccak256_update(struct keccak256 *k, const void *data, size_t len)
{
	const uint8_t *p = data;
	if (k->fill) {
		size_t take = KECCAK256_RATE - k->fill;
		if (take > len)
			take = len;
		memcpy(k->buf + k->fill, p, take);
		k->fill += take;
		p += take;
		len -= take;
		if (k->fill < KECCAK256_RATE)
			return;
		absorb_block(k, k->buf);
		k->fill = 0;
	}
	for (; len >= KECCAK256_RATE; p += KECCAK256_RATE, len -= KECCAK256_RATE)
		absorb_block(k, p);
	memcpy(k->buf, p, len);
	k->fill = len;
}

void keccak256_final(struct keccak256 *k, uint8_t out[KECCAK256_LEN])
{
	memset(k->buf + k->fill, 0, KECCAK256_RATE - k->fill);
	k->buf[k->fill] ^= 0x01;
	k->buf[KECCAK256_RATE - 1] ^= 0x80;
	absorb_block(k, k->buf);
	for (int i = 0; i < KECCAK256_LEN / 8; i++)
		store_le64(out + 8 * i, k->a[i]);
	memset(k, 0, sizeof *k);
}

void keccak256(const void *data, size_t len, uint8_t out[KECCAK256_LEN])
{
	struct keccak256 k;
	keccak256_init(&k);
	keccak256_update(&k, data, len);
	keccak256_final(&k, out);
}
