/* rlp.c — RLP encoder (two-pass list headers) and strict zero-copy decoder. */
#include "codec/rlp.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

/* ---- encoder ------------------------------------------------------------ */

static unsigned be_len(uint64_t v)
{
	unsigned n = 0;
	for (; v; v >>= 8)
		n++;
	return n;
}

static void put_be(uint8_t *out, uint64_t v, unsigned n)
{
	for (unsigned i = n; i-- > 0; v >>= 8)
		out[i] = (uint8_t)v;
}

/* Header of a string (base 0x80) or list (base 0xc0) with this payload. */
static size_t header_size(size_t payload)
{
	return payload < 56 ? 1 : 1 + be_len(payload);
}

static size_t write_header(uint8_t *out, size_t payload, uint8_t base)
{
	if (payload < 56) {
		out[0] = (uint8_t)(base + payload);
		return 1;
	}
	unsigned n = be_len(payload);
	out[0] = (uint8_t)(base + 55 + n);
	put_be(out + 1, payload, n);
	return 1 + n;
}

size_t rlp_bytes_size(const uint8_t *data, size_t len)
{
	if (len == 1 && data[0] < 0x80)
		return 1;
	return header_size(len) + len;
}

size_t rlp_write_bytes(uint8_t *out, const uint8_t *data, size_t len)
{
	if (len == 1 && data[0] < 0x80) {
		out[0] = data[0];
		return 1;
	}
	size_t h = write_header(out, len, 0x80);
	if (len)
		memcpy(out + h, data, len);
	return h + len;
}

size_t rlp_list_header_size(size_t payload)
{
	return header_size(payload);
}

size_t rlp_write_list_header(uint8_t *out, size_t payload)
{
	return write_header(out, payload, 0xc0);
}

void rlp_enc_init(struct rlp_enc *e)
{
	memset(e, 0, sizeof *e);
}

void rlp_enc_free(struct rlp_enc *e)
{
	free(e->str);
	free(e->lh);
	free(e->open);
	memset(e, 0, sizeof *e);
}

void rlp_enc_reset(struct rlp_enc *e)
{
	e->len = 0;
	e->nlh = 0;
	e->lhsize = 0;
	e->nopen = 0;
	e->err = 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return -CN_ENOMEM;
		n *= 2;
	}
	void *q = realloc(*p, n * elem);
	if (!q)
		return -CN_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* Reserves n more bytes of str; NULL after (or on) an allocation failure. */
static uint8_t *reserve(struct rlp_enc *e, size_t n)
{
	if (e->err)
		return NULL;
	if (n > SIZE_MAX - e->len || grow((void **)&e->str, &e->cap, e->len + n, 1)) {
		e->err = -CN_ENOMEM;
		return NULL;
	}
	return e->str + e->len;
}

void rlp_put_bytes(struct rlp_enc *e, const void *data, size_t len)
{
	uint8_t *o = len <= SIZE_MAX - 9 ? reserve(e, 9 + len) : NULL;
	if (len > SIZE_MAX - 9)
		e->err = -CN_ENOMEM;
	if (o)
		e->len += rlp_write_bytes(o, data, len);
}

void rlp_put_u64(struct rlp_enc *e, uint64_t v)
{
	uint8_t *o = reserve(e, 9);
	if (!o)
		return;
	if (v && v < 0x80) {
		o[0] = (uint8_t)v;
		e->len++;
		return;
	}
	unsigned n = be_len(v);
	o[0] = (uint8_t)(0x80 + n);
	put_be(o + 1, v, n);
	e->len += 1 + n;
}

void rlp_put_uint_be(struct rlp_enc *e, const uint8_t *be, size_t len)
{
	while (len && be[0] == 0) {
		be++;
		len--;
	}
	rlp_put_bytes(e, be, len);
}

void rlp_put_raw(struct rlp_enc *e, const void *rlp, size_t len)
{
	uint8_t *o = reserve(e, len);
	if (o && len) {
		memcpy(o, rlp, len);
		e->len += len;
	}
}

void rlp_list_begin(struct rlp_enc *e)
{
	if (e->err)
		return;
	if (grow((void **)&e->lh, &e->caplh, e->nlh + 1, sizeof *e->lh) ||
	    grow((void **)&e->open, &e->capopen, e->nopen + 1, sizeof *e->open)) {
		e->err = -CN_ENOMEM;
		return;
	}
	/* size temporarily holds the header bytes already counted before this
	 * list opened, so that rlp_list_end() can subtract them. */
	e->lh[e->nlh] = (struct rlp_lhead){ .offset = e->len, .size = e->lhsize };
	e->open[e->nopen++] = e->nlh++;
}

void rlp_list_end(struct rlp_enc *e)
{
	if (e->err)
		return;
	if (e->nopen == 0) {
		e->err = -CN_ESTATE;
		return;
	}
	struct rlp_lhead *h = &e->lh[e->open[--e->nopen]];
	h->size = e->len + e->lhsize - h->offset - h->size;
	e->lhsize += header_size(h->size);
}

size_t rlp_enc_size(const struct rlp_enc *e)
{
	return e->len + e->lhsize;
}

int rlp_enc_write(const struct rlp_enc *e, uint8_t *out)
{
	if (e->err)
		return e->err;
	if (e->nopen)
		return -CN_ESTATE;
	size_t pos = 0;
	for (size_t i = 0; i < e->nlh; i++) {
		const struct rlp_lhead *h = &e->lh[i];
		size_t n = h->offset - pos;
		if (n) {
			memcpy(out, e->str + pos, n);
			out += n;
		}
		pos = h->offset;
		out += write_header(out, h->size, 0xc0);
	}
	if (e->len > pos)
		memcpy(out, e->str + pos, e->len - pos);
	return 0;
}

int rlp_enc_finish(const struct rlp_enc *e, uint8_t **out, size_t *out_len)
{
	if (e->err)
		return e->err;
	if (e->nopen)
		return -CN_ESTATE;
	size_t n = rlp_enc_size(e);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return -CN_ENOMEM;
	rlp_enc_write(e, buf);
	*out = buf;
	*out_len = n;
	return 0;
}

int rlp_encode_bytes(const void *data, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *buf = malloc(len + 9);
	if (!buf)
		return -CN_ENOMEM;
	*out_len = rlp_write_bytes(buf, data, len);
	*out = buf;
	return 0;
}

/* ---- decoder ------------------------------------------------------------ */

void rlp_cursor_init(struct rlp_cursor *c, const uint8_t *data, size_t len)
{
	c->p = data;
	c->end = data + len;
	c->depth = 0;
}

int rlp_at_end(const struct rlp_cursor *c)
{
	return c->p >= c->end;
}

int rlp_next(struct rlp_cursor *c, struct rlp_item *it)
{
	const uint8_t *p = c->p;
	size_t avail = (size_t)(c->end - p);
	if (avail == 0)
		return -CN_ENOTFOUND;
	uint8_t b = p[0];
	size_t hlen, plen;
	int is_list = b >= 0xc0;

	if (b < 0x80) {
		hlen = 0;
		plen = 1;
	} else if (b < 0xb8 || (b >= 0xc0 && b < 0xf8)) {
		hlen = 1;
		plen = b - (is_list ? 0xc0 : 0x80);
		/* A single byte below 0x80 is its own encoding. */
		if (!is_list && plen == 1) {
			if (avail < 2)
				return -CN_ETRUNC;
			if (p[1] < 0x80)
				return -CN_ENONCANON;
		}
	} else {
		unsigned n = b - (is_list ? 0xf7 : 0xb7);
		if (avail < 1 + (size_t)n)
			return -CN_ETRUNC;
		if (p[1] == 0)
			return -CN_ENONCANON;    /* leading zero in the length */
		/* Lengths over 8 bytes cannot fit in memory anyway; with n <= 8
		 * the value fits in 64 bits, then the bound check below rejects
		 * anything the input cannot hold. */
		uint64_t v = 0;
		for (unsigned i = 0; i < n; i++)
			v = (v << 8) | p[1 + i];
		if (v < 56)
			return -CN_ENONCANON;    /* the short form would have fit */
		hlen = 1 + n;
		if (v > avail - hlen)
			return -CN_ETRUNC;
		plen = (size_t)v;
	}
	if (plen > avail - hlen)
		return -CN_ETRUNC;
	it->raw = p;
	it->raw_len = hlen + plen;
	it->ptr = p + hlen;
	it->len = plen;
	it->is_list = is_list;
	it->depth = c->depth;
	c->p = p + hlen + plen;
	return 0;
}

int rlp_enter(const struct rlp_item *list, struct rlp_cursor *inner)
{
	if (!list->is_list)
		return -CN_EINVAL;
	if (list->depth + 1 > RLP_MAX_DEPTH)
		return -CN_ELIMIT;
	inner->p = list->ptr;
	inner->end = list->ptr + list->len;
	inner->depth = list->depth + 1;
	return 0;
}

int rlp_decode_one(const uint8_t *data, size_t len, struct rlp_item *it)
{
	struct rlp_cursor c;
	rlp_cursor_init(&c, data, len);
	int rc = rlp_next(&c, it);
	if (rc == -CN_ENOTFOUND)
		return -CN_ETRUNC;
	if (rc)
		return rc;
	return rlp_at_end(&c) ? 0 : -CN_ETRAILING;
}

int rlp_validate(const uint8_t *data, size_t len)
{
	struct rlp_item top;
	int rc = rlp_decode_one(data, len, &top);
	if (rc)
		return rc;
	if (!top.is_list)
		return 0;
	/* Iterative walk with an explicit stack of open lists. */
	struct rlp_cursor stack[RLP_MAX_DEPTH + 1];
	size_t sp = 0;
	if ((rc = rlp_enter(&top, &stack[0])))
		return rc;
	sp = 1;
	while (sp) {
		struct rlp_cursor *c = &stack[sp - 1];
		if (rlp_at_end(c)) {
			sp--;
			continue;
		}
		struct rlp_item it;
		if ((rc = rlp_next(c, &it)))
			return rc;
		if (it.is_list) {
			if ((rc = rlp_enter(&it, &stack[sp])))
				return rc;
			sp++;
		}
	}
	return 0;
}

int rlp_list_count(const struct rlp_item *list, size_t *count)
{
	struct rlp_cursor c;
	int rc = rlp_enter(list, &c);
	if (rc)
		return rc;
	size_t n = 0;
	struct rlp_item it;
	while (!rlp_at_end(&c)) {
		if ((rc = rlp_next(&c, &it)))
			return rc;
		n++;
	}
	*count = n;
	return 0;
}

int rlp_item_bytes(const struct rlp_item *it, const uint8_t **p, size_t *len)
{
	if (it->is_list)
		return -CN_EINVAL;
	*p = it->ptr;
	*len = it->len;
	return 0;
}

int rlp_item_fixed(const struct rlp_item *it, uint8_t *out, size_t n)
{
	if (it->is_list || it->len != n)
		return -CN_EINVAL;
	memcpy(out, it->ptr, n);
	return 0;
}

int rlp_item_uint_bytes(const struct rlp_item *it, size_t max, const uint8_t **p, size_t *len)
{
	if (it->is_list)
		return -CN_EINVAL;
	if (it->len > max)
		return -CN_ERANGE;
	/* Zero is the empty string; 0x00 or 0x0001 are not integers. */
	if (it->len && it->ptr[0] == 0)
		return -CN_ENONCANON;
	*p = it->ptr;
	*len = it->len;
	return 0;
}

int rlp_item_u64(const struct rlp_item *it, uint64_t *v)
{
	const uint8_t *p;
	size_t n;
	int rc = rlp_item_uint_bytes(it, 8, &p, &n);
	if (rc)
		return rc;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++)
		x = (x << 8) | p[i];
	*v = x;
	return 0;
}

int rlp_item_u256(const struct rlp_item *it, uint8_t out[32])
{
	const uint8_t *p;
	size_t n;
	int rc = rlp_item_uint_bytes(it, 32, &p, &n);
	if (rc)
		return rc;
	memset(out, 0, 32 - n);
	if (n)
		memcpy(out + 32 - n, p, n);
	return 0;
}

int rlp_read_bytes(struct rlp_cursor *c, const uint8_t **p, size_t *len)
{
	struct rlp_item it;
	int rc = rlp_next(c, &it);
	return rc ? rc : rlp_item_bytes(&it, p, len);
}

int rlp_read_fixed(struct rlp_cursor *c, uint8_t *out, size_t n)
{
	struct rlp_item it;
	int rc = rlp_next(c, &it);
	return rc ? rc : rlp_item_fixed(&it, out, n);
}

int rlp_read_u64(struct rlp_cursor *c, uint64_t *v)
{
	struct rlp_item it;
	int rc = rlp_next(c, &it);
	return rc ? rc : rlp_item_u64(&it, v);
}

int rlp_read_u256(struct rlp_cursor *c, uint8_t out[32])
{
	struct rlp_item it;
	int rc = rlp_next(c, &it);
	return rc ? rc : rlp_item_u256(&it, out);
}

int rlp_read_list(struct rlp_cursor *c, struct rlp_cursor *inner)
{
	struct rlp_item it;
	int rc = rlp_next(c, &it);
	return rc ? rc : rlp_enter(&it, inner);
}

int rlp_expect_end(const struct rlp_cursor *c)
{
	return rlp_at_end(c) ? 0 : -CN_ETRAILING;
}
