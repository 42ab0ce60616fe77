/* Keccak-256 against ../shared/testdata/tx/keccak256.json (ethers, checked with XKCP). */
#include <criterion/criterion.h>
#include <string.h>

#include "crypto/crypto.h"
#include "testutil.h"

Test(keccak, vectors_one_shot_and_streaming)
{
	json_t *j = tu_load_json("tx/keccak256.json");
	json_t *vs = json_object_get(j, "vectors");
	cr_assert(json_array_size(vs) > 0);
	size_t i, n = 0;
	json_t *v;
	json_array_foreach(vs, i, v) {
		size_t len, hlen;
		uint8_t *in = tu_hex(json_string_value(json_object_get(v, "input")), &len);
		uint8_t *want = tu_hex(json_string_value(json_object_get(v, "hash")), &hlen);
		cr_assert_eq(hlen, 32);
		uint8_t got[32];
		keccak256(in, len, got);
		cr_assert(memcmp(got, want, 32) == 0, "length %zu", len);
		/* The same input fed in uneven pieces must give the same hash. */
		struct keccak256 k;
		keccak256_init(&k);
		for (size_t off = 0, step = 1; off < len; off += step, step = step * 3 % 151 + 1)
			keccak256_update(&k, in + off, off + step > len ? len - off : step);
		keccak256_final(&k, got);
		cr_assert(memcmp(got, want, 32) == 0, "streaming, length %zu", len);
		free(in);
		free(want);
		n++;
	}
	json_decref(j);
	tu_report("keccak256", n);
}
