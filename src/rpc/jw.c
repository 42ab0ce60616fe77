/* jw.c — the streaming JSON writer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rpc/rpc.h"

void rpc_jw_init(struct rpc_jw *w)
{
	memset(w, 0, sizeof *w);
}

void rpc_jw_free(struct rpc_jw *w)
{
	free(w->p);
	memset(w, 0, sizeof *w);
}

void rpc_jw_reset(struct rpc_jw *w)
{
	w->len = 0;
	w->err = 0;
	w->depth = 0;
	w->after_key = 0;
	memset(w->has_item, 0, sizeof w->has_item);
	if (w->p)
		w->p[0] = 0;
}

static void put(struct rpc_jw *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n + 1)
			cap *= 2;
		char *p = realloc(w->p, cap);
		if (!p) {
			w->err = -CN_ENOMEM;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = 0;
}

/* Every value and key goes through here: a comma unless it is the first
 * item of its container or the value right after a key. */
static void sep(struct rpc_jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (w->has_item[w->depth - 1])
			put(w, ",", 1);
		w->has_item[w->depth - 1] = 1;
	}
}

static void open(struct rpc_jw *w, char c)
{
	sep(w);
	if (w->depth >= RPC_JW_MAX_DEPTH) {
		w->err = -CN_ELIMIT;
		return;
	}
	put(w, &c, 1);
	w->has_item[w->depth++] = 0;
}

static void close_(struct rpc_jw *w, char c)
{
	if (w->depth == 0) {
		w->err = -CN_ESTATE;
		return;
	}
	w->depth--;
	put(w, &c, 1);
}

void rpc_jw_obj(struct rpc_jw *w) { open(w, '{'); }
void rpc_jw_obj_end(struct rpc_jw *w) { close_(w, '}'); }
void rpc_jw_arr(struct rpc_jw *w) { open(w, '['); }
void rpc_jw_arr_end(struct rpc_jw *w) { close_(w, ']'); }

/* Length of the valid UTF-8 sequence at s[0..len) (overlongs, surrogates
 * and values above U+10FFFF refused), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned c = s[0];
	size_t n;
	unsigned min, v;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; min = 0x80; v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; min = 0x800; v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; min = 0x10000; v = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return n;
}

static void str_body(struct rpc_jw *w, const char *s, size_t len)
{
	static const char hx[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	put(w, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = u[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x7f) {
			i++;
			continue;
		}
		size_t n = c >= 0x80 ? utf8_seq(u + i, len - i) : 0;
		if (n) {         /* valid UTF-8 passes through unchanged */
			i += n;
			continue;
		}
		put(w, s + run, i - run);
		char e[7];
		switch (c) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		default:
			if (c >= 0x80) {
				/* A byte that is not UTF-8 (JSON text must be):
				 * the replacement character, as Go's encoder does. */
				put(w, "\\ufffd", 6);
				break;
			}
			e[0] = '\\'; e[1] = 'u'; e[2] = '0'; e[3] = '0';
			e[4] = hx[c >> 4]; e[5] = hx[c & 15];
			put(w, e, 6);
		}
		i++;
		run = i;
	}
	put(w, s + run, len - run);
	put(w, "\"", 1);
}

void rpc_jw_key(struct rpc_jw *w, const char *k)
{
	sep(w);
	str_body(w, k, strlen(k));
	put(w, ":", 1);
	w->after_key = 1;
}

void rpc_jw_strn(struct rpc_jw *w, const char *s, size_t len)
{
	sep(w);
	str_body(w, s, len);
}

void rpc_jw_str(struct rpc_jw *w, const char *s) { rpc_jw_strn(w, s, strlen(s)); }

void rpc_jw_raw(struct rpc_jw *w, const char *s, size_t len)
{
	sep(w);
	put(w, s, len);
}

void rpc_jw_null(struct rpc_jw *w) { rpc_jw_raw(w, "null", 4); }
void rpc_jw_bool(struct rpc_jw *w, int v) { v ? rpc_jw_raw(w, "true", 4) : rpc_jw_raw(w, "false", 5); }

void rpc_jw_u64(struct rpc_jw *w, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof b, "%" PRIu64, v);
	rpc_jw_raw(w, b, (size_t)n);
}

void rpc_jw_qty(struct rpc_jw *w, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof b, "\"0x%" PRIx64 "\"", v);
	rpc_jw_raw(w, b, (size_t)n);
}

void rpc_jw_qty256(struct rpc_jw *w, const struct u256 *v)
{
	char b[80];
	b[0] = '"';
	size_t n = u256_format_hex(v, b + 1);
	b[n + 1] = '"';
	rpc_jw_raw(w, b, n + 2);
}

void rpc_jw_dec256(struct rpc_jw *w, const struct u256 *v)
{
	char b[96];
	size_t n = u256_format_dec(v, b);
	rpc_jw_raw(w, b, n);
}

void rpc_jw_data(struct rpc_jw *w, const uint8_t *p, size_t len)
{
	static const char hx[] = "0123456789abcdef";
	sep(w);
	put(w, "\"0x", 3);
	char buf[128];
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		buf[k++] = hx[p[i] >> 4];
		buf[k++] = hx[p[i] & 15];
		if (k == sizeof buf) {
			put(w, buf, k);
			k = 0;
		}
	}
	put(w, buf, k);
	put(w, "\"", 1);
}
