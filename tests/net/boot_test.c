/* The bootnode core: frame round trips, registration rules (owner only, newer
 * sequence wins, equivocation kept out, expiry, bounded table), lookups by ID
 * and by topic, CONNECT forwarding, and hostile frames. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "net/boot.h"

static void ident(struct net_identity *id, int b)
{
	uint8_t seed[32];
	memset(seed, b, sizeof seed);
	seed[31] = (uint8_t)(b >> 8);
	cr_assert_eq(net_identity_from_seed(id, seed), 0);
}

static void record(struct net_locator *rec, const struct net_identity *id, uint64_t seq, uint16_t port)
{
	memset(rec, 0, sizeof *rec);
	rec->seq = seq;
	rec->n_addrs = 1;
	net_addr_v4(&rec->addrs[0], 10, 0, 0, 1, port);
	cr_assert_eq(net_locator_sign(rec, id), 0);
}

static uint8_t frame[BOOT_FRAME_MAX];
static size_t flen;

static void do_register(struct boot_server *s, uint64_t now, const struct net_identity *id,
			uint64_t seq, uint16_t port, const char *const *topics, size_t n,
			struct boot_out *out)
{
	struct net_locator rec;
	record(&rec, id, seq, port);
	cr_assert_eq(boot_encode_register(&rec, topics, n, frame, sizeof frame, &flen), 0);
	struct net_addr seen;
	net_addr_v4(&seen, 198, 51, 100, 7, port);
	cr_assert_eq(boot_server_receive(s, now, id->node_id, &seen, frame, flen, out), 0);
}

Test(net_boot, frames_roundtrip)
{
	struct net_identity a;
	ident(&a, 1);
	struct net_locator rec;
	record(&rec, &a, 5, 9000);
	const char *topics[] = {"canon/localnet/0/tx", "canon/localnet/beacon"};
	struct boot_msg *m = malloc(sizeof *m);
	cr_assert_eq(boot_encode_register(&rec, topics, 2, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_decode(frame, flen, m), 0);
	cr_assert_eq(m->type, BOOT_T_REGISTER);
	cr_assert_eq(m->loc.seq, 5);
	cr_assert_eq(m->n_topics, 2);
	cr_assert_str_eq(m->topics[1], "canon/localnet/beacon");
	/* Every strict prefix is truncated, one more byte is trailing. */
	for (size_t k = 0; k < flen; k++)
		cr_assert_neq(boot_decode(frame, k, m), 0);
	frame[flen] = 0;
	cr_assert_eq(boot_decode(frame, flen + 1, m), -CN_ETRAILING);

	struct net_addr ad;
	net_addr_v4(&ad, 1, 2, 3, 4, 5);
	cr_assert_eq(boot_encode_observed(&ad, 777, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_decode(frame, flen, m), 0);
	cr_assert(net_addr_equal(&m->addr, &ad));
	cr_assert_eq(m->ttl_ms, 777);

	cr_assert_eq(boot_encode_lookup_topic(42, "t", 9, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_decode(frame, flen, m), 0);
	cr_assert_eq(m->req, 42);
	cr_assert_eq(m->max, 9);
	cr_assert_str_eq(m->topics[0], "t");

	cr_assert_eq(boot_encode_lookup_id(7, a.node_id, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_decode(frame, flen, m), 0);
	cr_assert_arr_eq(m->id, a.node_id, 32);

	struct boot_entry e[BOOT_MAX_RESULTS];
	for (int i = 0; i < BOOT_MAX_RESULTS; i++) {
		struct net_identity x;
		ident(&x, 100 + i);
		e[i].loc.n_addrs = NET_LOCATOR_MAX_ADDRS;
		for (int j = 0; j < NET_LOCATOR_MAX_ADDRS; j++) {
			memset(&e[i].loc.addrs[j], 0, sizeof e[i].loc.addrs[j]);
			e[i].loc.addrs[j].family = 6;
			e[i].loc.addrs[j].ip[15] = (uint8_t)j;
			e[i].loc.addrs[j].port = 1000;
		}
		e[i].loc.seq = 1;
		cr_assert_eq(net_locator_sign(&e[i].loc, &x), 0);
		e[i].observed = ad;
	}
	cr_assert_eq(boot_encode_result(3, e, BOOT_MAX_RESULTS, frame, sizeof frame, &flen), 0);
	cr_assert_leq(flen, BOOT_FRAME_MAX);
	cr_assert_eq(boot_decode(frame, flen, m), 0);
	cr_assert_eq(m->n_results, BOOT_MAX_RESULTS);
	cr_assert_arr_eq(m->results[15].loc.sig, e[15].loc.sig, 64);
	/* A flipped signature byte is refused. */
	frame[flen - BOOT_ADDR_LEN - 1] ^= 1;
	cr_assert_eq(boot_decode(frame, flen, m), -CN_EINVAL);

	cr_assert_eq(boot_encode_connect_from(&rec, &ad, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_decode(frame, flen, m), 0);
	cr_assert_eq(m->type, BOOT_T_CONNECT_FROM);
	cr_assert_eq(m->loc.seq, 5);

	/* Bad topics are refused on both sides. */
	const char *bad[] = {"has space"};
	cr_assert_eq(boot_encode_register(&rec, bad, 1, frame, sizeof frame, &flen), -CN_EINVAL);
	cr_assert_eq(boot_encode_lookup_topic(1, "", 1, frame, sizeof frame, &flen), -CN_EINVAL);
	char long_topic[BOOT_TOPIC_MAX + 2];
	memset(long_topic, 'a', sizeof long_topic - 1);
	long_topic[sizeof long_topic - 1] = 0;
	cr_assert_eq(boot_encode_lookup_topic(1, long_topic, 1, frame, sizeof frame, &flen), -CN_EINVAL);
	cr_assert_eq(boot_encode_lookup_topic(1, "ok", 1, frame, 3, &flen), -CN_ERANGE);
	uint8_t raw[] = {BOOT_T_LOOKUP_TOPIC, 0, 0, 0, 1, 1, 1, ' '};
	cr_assert_eq(boot_decode(raw, sizeof raw, m), -CN_EINVAL);
	uint8_t unknown[] = {0x4f, 0};
	cr_assert_eq(boot_decode(unknown, sizeof unknown, m), -CN_EINVAL);
	free(m);
}

Test(net_boot, register_lookup_connect)
{
	struct boot_server *s;
	struct boot_config cfg = {.ttl_ms = 10000, .seed = 1};
	cr_assert_eq(boot_server_new(&cfg, &s), 0);
	struct boot_out out;
	boot_out_init(&out);
	struct boot_msg *m = malloc(sizeof *m);
	struct net_identity id[5];
	for (int i = 0; i < 5; i++)
		ident(&id[i], 10 + i);
	const char *t0[] = {"shard0"}, *t1[] = {"shard1", "beacon"};
	for (int i = 0; i < 5; i++) {
		boot_out_reset(&out);
		do_register(s, 1000, &id[i], 1, (uint16_t)(9000 + i), i < 3 ? t0 : t1, i < 3 ? 1 : 2, &out);
		cr_assert_eq(out.n, 1);
		cr_assert_arr_eq(out.a[0].to, id[i].node_id, 32);
		cr_assert_eq(boot_decode(out.a[0].data, out.a[0].len, m), 0);
		cr_assert_eq(m->type, BOOT_T_OBSERVED);
		cr_assert_eq(m->addr.ip[0], 198);
		cr_assert_eq(m->addr.port, 9000 + i);
		cr_assert_eq(m->ttl_ms, 10000);
	}
	cr_assert_eq(boot_server_count(s), 5);

	/* Topic lookup: the others on shard0, never the asker. */
	boot_out_reset(&out);
	cr_assert_eq(boot_encode_lookup_topic(9, "shard0", 16, frame, sizeof frame, &flen), 0);
	struct net_addr lo;
	net_addr_v4(&lo, 127, 0, 0, 1, 1);
	cr_assert_eq(boot_server_receive(s, 2000, id[0].node_id, &lo, frame, flen, &out), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_eq(boot_decode(out.a[0].data, out.a[0].len, m), 0);
	cr_assert_eq(m->type, BOOT_T_RESULT);
	cr_assert_eq(m->req, 9);
	cr_assert_eq(m->n_results, 2);
	for (size_t i = 0; i < m->n_results; i++) {
		uint8_t nid[32];
		net_node_id(m->results[i].loc.pk, nid);
		cr_assert(!memcmp(nid, id[1].node_id, 32) || !memcmp(nid, id[2].node_id, 32));
		cr_assert_eq(m->results[i].observed.ip[0], 198);
	}
	/* max bounds the answer. */
	boot_out_reset(&out);
	cr_assert_eq(boot_encode_lookup_topic(10, "beacon", 1, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_server_receive(s, 2000, id[0].node_id, &lo, frame, flen, &out), 0);
	cr_assert_eq(boot_decode(out.a[0].data, out.a[0].len, m), 0);
	cr_assert_eq(m->n_results, 1);

	/* Lookup by ID, known and unknown. */
	boot_out_reset(&out);
	cr_assert_eq(boot_encode_lookup_id(11, id[4].node_id, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_server_receive(s, 2000, id[0].node_id, &lo, frame, flen, &out), 0);
	cr_assert_eq(boot_decode(out.a[0].data, out.a[0].len, m), 0);
	cr_assert_eq(m->n_results, 1);
	cr_assert_arr_eq(m->results[0].loc.pk, id[4].pk, 32);
	boot_out_reset(&out);
	uint8_t nobody[32] = {1};
	cr_assert_eq(boot_encode_lookup_id(12, nobody, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_server_receive(s, 2000, id[0].node_id, &lo, frame, flen, &out), 0);
	cr_assert_eq(boot_decode(out.a[0].data, out.a[0].len, m), 0);
	cr_assert_eq(m->n_results, 0);

	/* CONNECT 0 -> 3: 3 gets CONNECT_FROM with 0's record and address. */
	boot_out_reset(&out);
	cr_assert_eq(boot_encode_connect(id[3].node_id, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_server_receive(s, 2000, id[0].node_id, &lo, frame, flen, &out), 0);
	cr_assert_eq(out.n, 1);
	cr_assert_arr_eq(out.a[0].to, id[3].node_id, 32);
	cr_assert_eq(boot_decode(out.a[0].data, out.a[0].len, m), 0);
	cr_assert_eq(m->type, BOOT_T_CONNECT_FROM);
	cr_assert_arr_eq(m->loc.pk, id[0].pk, 32);
	cr_assert_eq(m->addr.port, 9000);
	/* CONNECT to nobody: CONNECT_FAIL back to the asker. */
	boot_out_reset(&out);
	cr_assert_eq(boot_encode_connect(nobody, frame, sizeof frame, &flen), 0);
	cr_assert_eq(boot_server_receive(s, 2000, id[0].node_id, &lo, frame, flen, &out), 0);
	cr_assert_eq(boot_decode(out.a[0].data, out.a[0].len, m), 0);
	cr_assert_eq(m->type, BOOT_T_CONNECT_FAIL);
	cr_assert_eq(boot_server_stats(s)->connects, 1);
	cr_assert_eq(boot_server_stats(s)->connect_unknown, 1);

	/* Expiry: 1 refreshes, the others lapse. */
	boot_out_reset(&out);
	do_register(s, 8000, &id[1], 1, 9001, t0, 1, &out);
	cr_assert_eq(boot_server_stats(s)->refreshed, 1);
	uint64_t next = boot_server_timer(s, 11001);
	cr_assert_eq(boot_server_count(s), 1);
	cr_assert_eq(next, 18000);
	struct boot_entry e;
	cr_assert_eq(boot_server_get(s, 11001, id[0].node_id, &e), -CN_ENOTFOUND);
	cr_assert_eq(boot_server_get(s, 11001, id[1].node_id, &e), 0);
	cr_assert_eq(boot_server_timer(s, 18000), UINT64_MAX);
	cr_assert_eq(boot_server_count(s), 0);

	boot_out_free(&out);
	free(m);
	boot_server_free(s);
}

Test(net_boot, register_rules)
{
	struct boot_server *s;
	struct boot_config cfg = {.max_entries = 4, .ttl_ms = 10000};
	cr_assert_eq(boot_server_new(&cfg, &s), 0);
	struct boot_out out;
	boot_out_init(&out);
	struct net_identity a, b;
	ident(&a, 1);
	ident(&b, 2);
	const char *t[] = {"x"};
	do_register(s, 100, &a, 5, 1000, t, 1, &out);
	cr_assert_eq(boot_server_count(s), 1);

	/* Someone else's record over my session: refused. */
	struct net_locator rec;
	record(&rec, &a, 9, 1000);
	cr_assert_eq(boot_encode_register(&rec, t, 1, frame, sizeof frame, &flen), 0);
	struct net_addr lo;
	net_addr_v4(&lo, 127, 0, 0, 1, 1);
	boot_out_reset(&out);
	cr_assert_eq(boot_server_receive(s, 200, b.node_id, &lo, frame, flen, &out), 0);
	cr_assert_eq(out.n, 0);
	cr_assert_eq(boot_server_stats(s)->not_owner, 1);

	/* Older sequence: stale; same sequence other content: equivocation. */
	do_register(s, 300, &a, 4, 1000, t, 1, &out);
	cr_assert_eq(boot_server_stats(s)->stale, 1);
	do_register(s, 300, &a, 5, 1001, t, 1, &out);
	cr_assert_eq(boot_server_stats(s)->equivocation, 1);
	struct boot_entry e;
	cr_assert_eq(boot_server_get(s, 300, a.node_id, &e), 0);
	cr_assert_eq(e.loc.addrs[0].port, 1000);
	/* Newer wins. */
	do_register(s, 400, &a, 6, 1002, t, 1, &out);
	cr_assert_eq(boot_server_get(s, 400, a.node_id, &e), 0);
	cr_assert_eq(e.loc.seq, 6);
	cr_assert_eq(e.loc.addrs[0].port, 1002);

	/* A full table pushes out the entry that would expire first. */
	for (int i = 0; i < 4; i++) {
		struct net_identity x;
		ident(&x, 50 + i);
		do_register(s, 1000 + (uint64_t)i, &x, 1, 2000, t, 1, &out);
	}
	cr_assert_eq(boot_server_count(s), 4);
	cr_assert_eq(boot_server_stats(s)->evicted, 1);
	cr_assert_eq(boot_server_get(s, 1500, a.node_id, &e), -CN_ENOTFOUND);

	/* Garbage is counted, never answered. */
	struct cn_prng r;
	cn_prng_seed(&r, 7);
	uint64_t before = boot_server_stats(s)->malformed;
	boot_out_reset(&out);
	for (int i = 0; i < 2000; i++) {
		uint8_t g[300];
		size_t n = (size_t)cn_prng_uniform(&r, sizeof g) + 1;
		cn_prng_fill(&r, g, n);
		g[0] = (uint8_t)(0x41 + cn_prng_uniform(&r, 15));
		cr_assert_eq(boot_server_receive(s, 2000, a.node_id, &lo, g, n, &out), 0);
	}
	cr_assert_eq(out.n, 0);
	cr_assert_geq(boot_server_stats(s)->malformed - before, 1900);
	boot_out_free(&out);
	boot_server_free(s);
}
