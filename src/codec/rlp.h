/* rlp.h — Ethereum's Recursive Length Prefix encoding.
 *
 * RLP encodes two kinds of items: byte strings and lists of items. Everything
 * canon hashes or signs (transactions, headers, receipts, trie nodes) is RLP,
 * so both directions must be exact: the encoder always writes the one
 * canonical form, and the decoder rejects every other form, because two
 * encodings of one value would give two hashes for one object.
 *
 * Encoder: struct rlp_enc is a growable writer. Strings are appended as they
 * come; a list's header depends on its payload size, which is unknown when the
 * list opens, so rlp_list_begin() only records where the list starts and
 * rlp_list_end() its size. rlp_enc_finish() then interleaves the headers with
 * the payload in one pass (the approach of go-ethereum's encbuf), so nesting
 * costs no memmove per level. Allocation failures are sticky: calls after a
 * failure do nothing and rlp_enc_finish() reports -CN_ENOMEM.
 *
 * Decoder: zero-copy. struct rlp_cursor walks a byte slice; rlp_next() yields
 * a struct rlp_item whose payload points into the input. Headers are checked
 * for canonical form as they are read (no 0x81 before a byte < 0x80, no long
 * form where the short form fits, no leading zeros in a length, no length past
 * the enclosing slice). rlp_enter() opens a list item as a new cursor bounded
 * by the list's payload, so a list whose items do not exactly fill it fails
 * when the last item is read. Nesting deeper than RLP_MAX_DEPTH is refused.
 * Typed readers add the value rules: integers without leading zeros, strings
 * of a fixed size. rlp_validate() checks a whole input: exactly one item, no
 * trailing bytes, every nested list well formed. */
#ifndef CANON_CODEC_RLP_H
#define CANON_CODEC_RLP_H

#include <stddef.h>
#include <stdint.h>

/* At most this many lists nested in one another; deeper input is refused (hostile input
 * must not drive unbounded recursion in callers that walk the tree). */
#define RLP_MAX_DEPTH 64

/* ---- encoder ------------------------------------------------------------ */

struct rlp_lhead {
	size_t offset;  /* payload offset in str where the header goes */
	size_t size;    /* payload size (headers of nested lists included) */
};

struct rlp_enc {
	uint8_t *str;           /* payload bytes and string headers */
	size_t len, cap;
	struct rlp_lhead *lh;   /* list headers in the order the lists opened */
	size_t nlh, caplh;
	size_t lhsize;          /* total bytes of list headers closed so far */
	size_t *open;           /* indexes into lh of lists still open */
	size_t nopen, capopen;
	int err;                /* first error (sticky), 0 if none */
};

void rlp_enc_init(struct rlp_enc *e);
void rlp_enc_free(struct rlp_enc *e);
/* Empties the writer but keeps its memory for reuse. */
void rlp_enc_reset(struct rlp_enc *e);

/* A byte string (0x00..0x7f alone, else header + bytes). */
void rlp_put_bytes(struct rlp_enc *e, const void *data, size_t len);
/* An unsigned integer: minimal big-endian bytes, zero is the empty string. */
void rlp_put_u64(struct rlp_enc *e, uint64_t v);
/* A big-endian unsigned integer of any width (e.g. a 32-byte u256); leading
 * zero bytes are stripped so the result is canonical. */
void rlp_put_uint_be(struct rlp_enc *e, const uint8_t *be, size_t len);
/* Already-encoded RLP, appended verbatim (the caller vouches for it). */
void rlp_put_raw(struct rlp_enc *e, const void *rlp, size_t len);
void rlp_list_begin(struct rlp_enc *e);
void rlp_list_end(struct rlp_enc *e);

/* Size of the final encoding (valid once every list is closed). */
size_t rlp_enc_size(const struct rlp_enc *e);
/* Writes the final encoding into out (rlp_enc_size() bytes). -CN_ESTATE if a
 * list is still open, -CN_ENOMEM after an allocation failure. */
int rlp_enc_write(const struct rlp_enc *e, uint8_t *out);
/* The same into a fresh malloc'd buffer (never NULL on success). */
int rlp_enc_finish(const struct rlp_enc *e, uint8_t **out, size_t *out_len);

/* Low-level helpers for code that encodes fixed shapes itself (trie nodes). */
/* Encoded size of a byte string of this content. */
size_t rlp_bytes_size(const uint8_t *data, size_t len);
/* Writes the encoded string into out (rlp_bytes_size() bytes); returns bytes. */
size_t rlp_write_bytes(uint8_t *out, const uint8_t *data, size_t len);
/* Size of a list header for a payload of this size. */
size_t rlp_list_header_size(size_t payload);
/* Writes a list header; returns its size. */
size_t rlp_write_list_header(uint8_t *out, size_t payload);

/* Convenience: the encoding of one byte string into a malloc'd buffer. */
int rlp_encode_bytes(const void *data, size_t len, uint8_t **out, size_t *out_len);

/* ---- decoder ------------------------------------------------------------ */

struct rlp_item {
	const uint8_t *raw;     /* the whole item, header included */
	size_t raw_len;
	const uint8_t *ptr;     /* payload */
	size_t len;
	int is_list;
	unsigned depth;         /* 0 for a top-level item */
};

struct rlp_cursor {
	const uint8_t *p, *end;
	unsigned depth;         /* depth of the items this cursor yields */
};

/* A cursor over a slice of consecutive items (a whole input, or a list's
 * payload via rlp_enter()). */
void rlp_cursor_init(struct rlp_cursor *c, const uint8_t *data, size_t len);
/* Nonzero when no bytes are left. */
int rlp_at_end(const struct rlp_cursor *c);
/* Reads the next item's header. -CN_ENOTFOUND at the end of the slice,
 * -CN_ETRUNC if the item runs past it, -CN_ENONCANON for a non-canonical
 * header. The payload is not inspected. */
int rlp_next(struct rlp_cursor *c, struct rlp_item *it);
/* Opens a list item. -CN_EINVAL if it is a string, -CN_ELIMIT if too deep. */
int rlp_enter(const struct rlp_item *list, struct rlp_cursor *inner);
/* Decodes exactly one top-level item spanning all of data. */
int rlp_decode_one(const uint8_t *data, size_t len, struct rlp_item *it);
/* Checks that data is exactly one canonical item, all the way down. */
int rlp_validate(const uint8_t *data, size_t len);
/* Number of items in a list (each header checked, payloads not). */
int rlp_list_count(const struct rlp_item *list, size_t *count);

/* Typed views of one item. */
/* A string item: pointer and length of its bytes. */
int rlp_item_bytes(const struct rlp_item *it, const uint8_t **p, size_t *len);
/* A string of exactly n bytes, copied into out. */
int rlp_item_fixed(const struct rlp_item *it, uint8_t *out, size_t n);
/* An unsigned integer of at most 8 bytes without leading zeros (0 is 0x80). */
int rlp_item_u64(const struct rlp_item *it, uint64_t *v);
/* An unsigned integer of at most 32 bytes without leading zeros, written
 * big-endian and left-padded with zeros into out[32]. */
int rlp_item_u256(const struct rlp_item *it, uint8_t out[32]);
/* As above but returns the minimal big-endian bytes in place (len <= max). */
int rlp_item_uint_bytes(const struct rlp_item *it, size_t max, const uint8_t **p, size_t *len);

/* Cursor forms: read the next item and apply the typed view. */
int rlp_read_bytes(struct rlp_cursor *c, const uint8_t **p, size_t *len);
int rlp_read_fixed(struct rlp_cursor *c, uint8_t *out, size_t n);
int rlp_read_u64(struct rlp_cursor *c, uint64_t *v);
int rlp_read_u256(struct rlp_cursor *c, uint8_t out[32]);
/* Reads a list item and opens it. */
int rlp_read_list(struct rlp_cursor *c, struct rlp_cursor *inner);
/* Checks a list cursor has been fully consumed (-CN_ETRAILING if not). */
int rlp_expect_end(const struct rlp_cursor *c);

#endif
