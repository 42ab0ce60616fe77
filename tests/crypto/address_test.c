/* EIP-55 address text against ../shared/testdata/tx/secp256k1.json (its eip55
 * list includes the examples printed in EIP-55) and the senders in
 * tx/ethers_transactions.json. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

#include "base/err.h"
#include "crypto/crypto.h"
#include "testutil.h"

static void check_pair(const char *lower, const char *sum)
{
	size_t n;
	uint8_t *want = tu_hex(lower, &n);
	cr_assert_eq(n, ADDR_LEN);
	char text[ADDR_HEX_LEN + 1];
	addr_to_hex(want, text);
	cr_assert_str_eq(text, sum);

	uint8_t a[ADDR_LEN];
	cr_assert_eq(addr_from_hex(sum, strlen(sum), a), 0, "%s", sum);
	cr_assert(memcmp(a, want, ADDR_LEN) == 0);
	cr_assert_eq(addr_from_hex(lower, strlen(lower), a), 0, "%s", lower);
	cr_assert(memcmp(a, want, ADDR_LEN) == 0);

	/* All upper-case digits (with the usual lower-case 0x) carry no checksum. */
	char up[ADDR_HEX_LEN + 1];
	strcpy(up, lower);
	for (int i = 2; i < ADDR_HEX_LEN; i++)
		up[i] = (char)toupper((unsigned char)up[i]);
	cr_assert_eq(addr_from_hex(up, strlen(up), a), 0, "%s", up);
	cr_assert(memcmp(a, want, ADDR_LEN) == 0);

	/* Flipping the case of any one letter of a mixed-case address breaks the
	 * checksum, unless that leaves it all-lower or all-upper. */
	int letters = 0, lowers = 0;
	for (int i = 2; i < ADDR_HEX_LEN; i++) {
		letters += isalpha((unsigned char)sum[i]) != 0;
		lowers += islower((unsigned char)sum[i]) != 0;
	}
	for (int i = 2; i < ADDR_HEX_LEN; i++) {
		if (!isalpha((unsigned char)sum[i]))
			continue;
		char bad[ADDR_HEX_LEN + 1];
		strcpy(bad, sum);
		int was_lower = islower((unsigned char)bad[i]);
		bad[i] = (char)(was_lower ? toupper((unsigned char)bad[i]) : tolower((unsigned char)bad[i]));
		int now_lowers = lowers + (was_lower ? -1 : 1);
		int rc = addr_from_hex(bad, strlen(bad), a);
		if (now_lowers == 0 || now_lowers == letters)
			cr_assert_eq(rc, 0, "%s", bad);
		else
			cr_assert_eq(rc, -CN_EVERIFY, "%s", bad);
	}
	free(want);
}

Test(address, eip55_vectors)
{
	json_t *j = tu_load_json("tx/secp256k1.json");
	size_t i, n = 0;
	json_t *v;
	json_t *list = json_object_get(j, "eip55");
	cr_assert(json_array_size(list) > 0);
	json_array_foreach(list, i, v) {
		check_pair(json_string_value(json_object_get(v, "lower")),
		           json_string_value(json_object_get(v, "checksummed")));
		n++;
	}
	json_array_foreach(json_object_get(j, "vectors"), i, v) {
		check_pair(json_string_value(json_object_get(v, "addressLower")),
		           json_string_value(json_object_get(v, "address")));
		n++;
	}
	json_decref(j);
	tu_report("EIP-55 addresses", n);
}

Test(address, ethers_senders_parse_and_format)
{
	json_t *j = tu_load_json("tx/ethers_transactions.json");
	size_t i, n = 0;
	json_t *t;
	json_array_foreach(json_object_get(j, "transactions"), i, t) {
		const char *sender = json_string_value(json_object_get(t, "sender"));
		size_t kl;
		uint8_t *sk = tu_hex(json_string_value(json_object_get(t, "privateKey")), &kl);
		cr_assert_eq(kl, 32);
		uint8_t a[ADDR_LEN], b[ADDR_LEN];
		cr_assert_eq(addr_from_hex(sender, strlen(sender), a), 0, "%s", sender);
		cr_assert_eq(addr_from_secret(sk, b), 0);
		cr_assert(memcmp(a, b, ADDR_LEN) == 0, "tx %zu", i);
		char text[ADDR_HEX_LEN + 1];
		addr_to_hex(b, text);
		cr_assert_str_eq(text, sender);
		free(sk);
		n++;
	}
	json_decref(j);
	tu_report("ethers senders from private keys", n);
}

Test(address, malformed_text)
{
	uint8_t a[ADDR_LEN];
	const char *ok = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
	cr_assert_eq(addr_from_hex(ok, strlen(ok), a), 0);
	cr_assert_eq(addr_from_hex(ok + 2, 40, a), -CN_EPARSE);           /* no 0x */
	cr_assert_eq(addr_from_hex(ok, 41, a), -CN_EPARSE);               /* short */
	cr_assert_eq(addr_from_hex("", 0, a), -CN_EPARSE);
	cr_assert_eq(addr_from_hex("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00", 44, a), -CN_EPARSE);
	cr_assert_eq(addr_from_hex("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", 42, a), -CN_EPARSE);
	cr_assert_eq(addr_from_hex("1x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", 42, a), -CN_EPARSE);
	cr_assert_eq(addr_from_hex("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1B\0Aed", 42, a), -CN_EPARSE);
	cr_assert_eq(addr_from_hex("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", 42, a), -CN_EVERIFY);
}
