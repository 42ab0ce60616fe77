/* fuzz/rlp.c — the RLP decoder on arbitrary bytes.
 *
 * Whatever rlp_validate() accepts must decode item by item and re-encode to
 * exactly the input (a canonical decoder accepts one form per value), and the
 * typed readers must never read outside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/rlp.h"

static void walk(struct rlp_enc *e, const struct rlp_item *it)
{
	uint64_t v;
	uint8_t u[32];
	const uint8_t *p;
	size_t n;
	if (!it->is_list) {
		(void)rlp_item_u64(it, &v);
		(void)rlp_item_u256(it, u);
		if (rlp_item_bytes(it, &p, &n) != 0)
			abort();
		rlp_put_bytes(e, p, n);
		return;
	}
	struct rlp_cursor c;
	if (rlp_enter(it, &c) != 0)
		abort();    /* validate() already entered every list */
	rlp_list_begin(e);
	struct rlp_item sub;
	while (!rlp_at_end(&c)) {
		if (rlp_next(&c, &sub) != 0)
			abort();
		walk(e, &sub);
	}
	rlp_list_end(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The cursor must also survive raw item-by-item reads of junk. */
	struct rlp_cursor c;
	struct rlp_item it;
	rlp_cursor_init(&c, data, size);
	while (rlp_next(&c, &it) == 0) {
		size_t cnt;
		(void)rlp_list_count(&it, &cnt);
	}

	if (rlp_validate(data, size) != 0)
		return 0;
	if (rlp_decode_one(data, size, &it) != 0)
		abort();
	struct rlp_enc e;
	rlp_enc_init(&e);
	walk(&e, &it);
	uint8_t *out;
	size_t len;
	if (rlp_enc_finish(&e, &out, &len) != 0)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	free(out);
	rlp_enc_free(&e);
	return 0;
}
