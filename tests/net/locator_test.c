/* Locator records and identities: encoding, signatures, the merge rule,
 * hostile bytes, the key file. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "net/net.h"

static void ident(struct net_identity *id, uint8_t b)
{
	uint8_t seed[32];
	memset(seed, b, sizeof seed);
	cr_assert_eq(net_identity_from_seed(id, seed), 0);
}

static void record(struct net_locator *rec, const struct net_identity *id, uint64_t seq, int n)
{
	memset(rec, 0, sizeof *rec);
	rec->seq = seq;
	rec->n_addrs = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		if (i % 2) {
			rec->addrs[i].family = 6;
			rec->addrs[i].ip[0] = 0x20, rec->addrs[i].ip[1] = 0x01;
			rec->addrs[i].ip[15] = (uint8_t)i;
			rec->addrs[i].port = (uint16_t)(9000 + i);
		} else {
			net_addr_v4(&rec->addrs[i], 192, 0, 2, (uint8_t)(i + 1), (uint16_t)(9000 + i));
		}
	}
	cr_assert_eq(net_locator_sign(rec, id), 0);
}

Test(net_locator, roundtrip_and_node_id)
{
	struct net_identity id;
	ident(&id, 7);
	uint8_t want[32];
	crypto_generichash(want, 32, id.pk, 32, NULL, 0);
	cr_assert_arr_eq(id.node_id, want, 32);
	char tag[NET_TAG_CHARS + 1], hex[65];
	net_node_tag(id.node_id, tag);
	sodium_bin2hex(hex, sizeof hex, id.node_id, 32);
	cr_assert_eq(strlen(tag), 8);
	cr_assert_eq(strncmp(tag, hex, 8), 0);

	for (int n = 1; n <= NET_LOCATOR_MAX_ADDRS; n++) {
		struct net_locator rec, back;
		record(&rec, &id, (uint64_t)n * 1000, n);
		uint8_t buf[NET_LOCATOR_MAX_LEN];
		size_t len;
		cr_assert_eq(net_locator_encode(&rec, buf, sizeof buf, &len), 0);
		cr_assert_eq(net_locator_decode(&back, buf, len), 0);
		cr_assert_eq(back.seq, rec.seq);
		cr_assert_eq(back.n_addrs, n);
		for (int i = 0; i < n; i++)
			cr_assert(net_addr_equal(&back.addrs[i], &rec.addrs[i]));
		/* Every truncation, every single-bit flip and any trailing byte is refused. */
		for (size_t k = 0; k < len; k++)
			cr_assert_neq(net_locator_decode(&back, buf, k), 0, "prefix %zu", k);
		for (size_t k = 0; k < len * 8; k++) {
			buf[k / 8] ^= (uint8_t)(1 << (k % 8));
			cr_assert_neq(net_locator_decode(&back, buf, len), 0, "bit %zu", k);
			buf[k / 8] ^= (uint8_t)(1 << (k % 8));
		}
		buf[len] = 0;
		cr_assert_eq(net_locator_decode(&back, buf, len + 1), -CN_ETRAILING);
	}
}

Test(net_locator, bad_address_lists)
{
	struct net_identity id;
	ident(&id, 8);
	struct net_locator rec;
	record(&rec, &id, 1, 2);
	struct net_locator bad = rec;
	bad.n_addrs = 0;
	cr_assert_eq(net_locator_sign(&bad, &id), -CN_EINVAL);
	bad = rec;
	bad.addrs[1] = bad.addrs[0];
	cr_assert_eq(net_locator_sign(&bad, &id), -CN_EINVAL);
	bad = rec;
	bad.addrs[0].port = 0;
	cr_assert_eq(net_locator_sign(&bad, &id), -CN_EINVAL);
	bad = rec;
	bad.addrs[0].family = 5;
	cr_assert_eq(net_locator_sign(&bad, &id), -CN_EINVAL);
	bad = rec;
	bad.n_addrs = NET_LOCATOR_MAX_ADDRS + 1;
	cr_assert_eq(net_locator_sign(&bad, &id), -CN_EINVAL);
	/* Signed by someone else's key. */
	struct net_identity other;
	ident(&other, 9);
	bad = rec;
	memcpy(bad.pk, other.pk, 32);
	cr_assert_eq(net_locator_verify(&bad), -CN_EVERIFY);
}

Test(net_locator, merge_rule)
{
	struct net_identity id, other;
	ident(&id, 1);
	ident(&other, 2);
	struct net_locator r1, r2, r2b, r3, x;
	record(&r1, &id, 5, 1);
	record(&r2, &id, 6, 2);
	record(&r2b, &id, 6, 3);
	record(&r3, &id, 6, 2);
	record(&x, &other, 100, 1);
	struct net_locator have = r1;
	int changed;
	cr_assert_eq(net_locator_merge(&have, &r2, &changed), 0);
	cr_assert_eq(changed, 1);
	cr_assert_eq(have.seq, 6);
	cr_assert_eq(net_locator_merge(&have, &r1, &changed), 0, "older is ignored");
	cr_assert_eq(changed, 0);
	cr_assert_eq(have.seq, 6);
	cr_assert_eq(net_locator_merge(&have, &r3, &changed), 0, "identical copy");
	cr_assert_eq(changed, 0);
	cr_assert_eq(net_locator_merge(&have, &r2b, &changed), -CN_EEXIST, "equivocation");
	cr_assert_eq(have.n_addrs, 2, "first record kept");
	cr_assert_eq(net_locator_merge(&have, &x, &changed), -CN_EINVAL);
}

Test(net_identity, key_file)
{
	char dir[] = "/tmp/canon-net-XXXXXX";
	cr_assert(mkdtemp(dir));
	char path[512];
	cr_assert_eq(net_identity_path(dir, path, sizeof path), 0);
	cr_assert_eq(net_identity_load(&(struct net_identity){0}, path), -CN_ENOTFOUND);
	struct net_identity id, back;
	cr_assert_eq(net_identity_generate(&id), 0);
	cr_assert_eq(net_identity_save(&id, path), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(net_identity_save(&id, path), -CN_EEXIST, "never overwrites a host key");
	cr_assert_eq(net_identity_load(&back, path), 0);
	cr_assert_arr_eq(back.pk, id.pk, 32);
	cr_assert_arr_eq(back.sk, id.sk, 64);
	cr_assert_arr_eq(back.node_id, id.node_id, 32);
	cr_assert_arr_eq(back.x_sk, id.x_sk, 32);

	chmod(path, 0644);
	cr_assert_eq(net_identity_load(&back, path), -CN_EVERIFY, "group/world readable key refused");
	chmod(path, 0600);

	FILE *f = fopen(path, "w");
	fputs("canon-p2p-hostkey-v1\nzz\n", f);
	fclose(f);
	cr_assert_eq(net_identity_load(&back, path), -CN_EINVAL);
	f = fopen(path, "w");
	fputs("canon-p2p-hostkey-v2\n0000000000000000000000000000000000000000000000000000000000000000\n", f);
	fclose(f);
	cr_assert_eq(net_identity_load(&back, path), -CN_EINVAL);
	unlink(path);
	char sub[600];
	snprintf(sub, sizeof sub, "%s/p2p", dir);
	rmdir(sub);
	rmdir(dir);
}
