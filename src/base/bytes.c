/* bytes.c — hex text and small byte helpers. */
#include "base/bytes.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int hex_digit_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void strip_prefix(const char **hex, size_t *len)
{
	if (*len >= 2 && (*hex)[0] == '0' && ((*hex)[1] == 'x' || (*hex)[1] == 'X')) {
		*hex += 2;
		*len -= 2;
	}
}

int hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t cap, size_t *out_len)
{
	strip_prefix(&hex, &hex_len);
	if (hex_len % 2)
		return -CN_EINVAL;
	if (hex_len / 2 > cap)
		return -CN_ERANGE;
	for (size_t i = 0; i < hex_len; i += 2) {
		int hi = hex_digit_value(hex[i]), lo = hex_digit_value(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return -CN_EINVAL;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*out_len = hex_len / 2;
	return 0;
}

int hex_decode_alloc(const char *hex, size_t hex_len, uint8_t **out, size_t *out_len)
{
	const char *h = hex;
	size_t n = hex_len;
	strip_prefix(&h, &n);
	uint8_t *buf = malloc(n / 2 + 1);
	if (!buf)
		return -CN_ENOMEM;
	int rc = hex_decode(h, n, buf, n / 2 + 1, out_len);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	return 0;
}

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int bytes_equal_ct(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

void bytes_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}
