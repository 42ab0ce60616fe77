/* bytes.h — hex text and small byte helpers.
 *
 * Hex decoding accepts an optional 0x/0X prefix and upper or lower case; it
 * never reads past the given length. Encoding writes lower case and a NUL. */
#ifndef CANON_BASE_BYTES_H
#define CANON_BASE_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* Decodes hex (optional 0x prefix, even number of digits) into out[cap].
 * *out_len gets the byte count. -CN_EINVAL on a bad digit or odd length,
 * -CN_ERANGE if it does not fit. */
int hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t cap, size_t *out_len);

/* Like hex_decode into a fresh malloc'd buffer (never NULL on success, even
 * for zero bytes). The caller frees *out. */
int hex_decode_alloc(const char *hex, size_t hex_len, uint8_t **out, size_t *out_len);

/* The value of one hex digit (either case), or -1 for any other character. */
int hex_digit_value(int c);

/* Writes 2*len lower-case digits plus NUL into out (needs 2*len+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);

/* Constant-time equality of two buffers of the same length. */
int bytes_equal_ct(const void *a, const void *b, size_t len);

/* Wipes memory in a way the compiler will not remove (for secrets). */
void bytes_wipe(void *p, size_t len);

static inline uint64_t load_be64(const uint8_t *p)
{
	return ((uint64_t)p[0] << 56) | ((uint64_t)p[1] << 48) | ((uint64_t)p[2] << 40) |
	       ((uint64_t)p[3] << 32) | ((uint64_t)p[4] << 24) | ((uint64_t)p[5] << 16) |
	       ((uint64_t)p[6] << 8) | (uint64_t)p[7];
}
static inline void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}
static inline uint32_t load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
static inline void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

#endif
