/* gossip_test.c — the gossip core: every rule on one or two cores driven by
 * hand, then a seeded mesh of 50 cores over a network that delays, reorders
 * and duplicates frames, with silent, lying and flooding nodes. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/prng.h"
#include "net/gossip.h"
#include "testutil.h"

#define MSGNET_ASSERT(x) cr_assert(x)
#include "msgnet.h"

#define TA "canon/test/0/tx"
#define TB "canon/test/1/tx"

/* ---- helpers ------------------------------------------------------------------ */

/* Application rule of these tests: data starting with 'X' is invalid, 'S' is
 * spam the application ignores, anything else is fine. */
static int validate_calls;
static enum gossip_verdict check(void *ctx, const char *topic, uint32_t from, const uint8_t *d, size_t len)
{
	(void)ctx;
	(void)topic;
	(void)from;
	validate_calls++;
	if (len && d[0] == 'X')
		return GOSSIP_REJECT;
	if (len && d[0] == 'S')
		return GOSSIP_IGNORE;
	return GOSSIP_ACCEPT;
}

static struct gossip *mk(uint32_t max_peers, struct gossip_config *over)
{
	struct gossip_config c = {0};
	if (over)
		c = *over;
	c.max_peers = max_peers;
	if (!c.validate)
		c.validate = check;
	struct gossip *g;
	cr_assert_eq(gossip_new(&c, &g), 0);
	return g;
}

static size_t count(const struct gossip_out *o, enum gossip_action_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n; i++)
		n += o->a[i].kind == k;
	return n;
}

static size_t count_sends(const struct gossip_out *o, uint8_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n; i++)
		n += o->a[i].kind == GOSSIP_A_SEND && o->a[i].len && o->a[i].data[0] == type;
	return n;
}

static const struct gossip_action *find_send(const struct gossip_out *o, uint32_t peer, uint8_t type)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->a[i].kind == GOSSIP_A_SEND && o->a[i].peer == peer && o->a[i].data[0] == type)
			return &o->a[i];
	return NULL;
}

static size_t frame_topic(uint8_t *f, uint8_t type, const char *topic)
{
	size_t tl = strlen(topic);
	f[0] = type;
	f[1] = (uint8_t)tl;
	memcpy(f + 2, topic, tl);
	return 2 + tl;
}

static size_t frame_msg(uint8_t *f, const char *topic, const char *data)
{
	size_t n = frame_topic(f, GOSSIP_T_MSG, topic);
	memcpy(f + n, data, strlen(data));
	return n + strlen(data);
}

static void rx(struct gossip *g, uint64_t now, uint32_t peer, const uint8_t *f, size_t n, struct gossip_out *o)
{
	cr_assert_eq(gossip_receive(g, now, peer, f, n, o), 0);
}

static void sub_peer(struct gossip *g, uint64_t now, uint32_t peer, const char *topic, struct gossip_out *o)
{
	uint8_t f[80];
	rx(g, now, peer, f, frame_topic(f, GOSSIP_T_SUB, topic), o);
}

/* ---- ids and topics ------------------------------------------------------------ */

Test(net_gossip, message_id_is_truncated_blake2b_of_topic_and_data)
{
	uint8_t id[GOSSIP_ID_LEN], id2[GOSSIP_ID_LEN], h[32];
	const char *data = "hello";
	cr_assert_eq(gossip_msg_id(TA, (const uint8_t *)data, 5, id), 0);
	uint8_t buf[1 + sizeof TA - 1 + 5];
	buf[0] = sizeof TA - 1;
	memcpy(buf + 1, TA, sizeof TA - 1);
	memcpy(buf + sizeof TA, data, 5);
	crypto_generichash(h, 32, buf, sizeof buf, NULL, 0);
	cr_assert_arr_eq(id, h, GOSSIP_ID_LEN);
	cr_assert_eq(gossip_msg_id(TB, (const uint8_t *)data, 5, id2), 0);
	cr_assert_arr_neq(id, id2, GOSSIP_ID_LEN);
	/* The length byte keeps "ab"+"c" apart from "a"+"bc". */
	cr_assert_eq(gossip_msg_id("ab", (const uint8_t *)"c", 1, id), 0);
	cr_assert_eq(gossip_msg_id("a", (const uint8_t *)"bc", 2, id2), 0);
	cr_assert_arr_neq(id, id2, GOSSIP_ID_LEN);
}

Test(net_gossip, topic_rules)
{
	char t64[65], t65[66];
	memset(t64, 'a', 64);
	t64[64] = 0;
	memset(t65, 'a', 65);
	t65[65] = 0;
	cr_assert(gossip_topic_valid(t64, 64));
	cr_assert(!gossip_topic_valid(t65, 65));
	cr_assert(!gossip_topic_valid("", 0));
	cr_assert(!gossip_topic_valid("a b", 3));
	cr_assert(!gossip_topic_valid("a\nb", 3));
	cr_assert(!gossip_topic_valid("a\x7f", 2));
	struct gossip *g = mk(4, NULL);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, t64, &o), 0);
	cr_assert_eq(gossip_subscribe(g, 0, t65, &o), -CN_EINVAL);
	cr_assert_eq(gossip_subscribe(g, 0, "", &o), -CN_EINVAL);
	cr_assert_eq(gossip_subscribe(g, 0, NULL, &o), -CN_EINVAL);
	cr_assert_eq(gossip_publish(g, 0, "a b", (const uint8_t *)"x", 1, &o), -CN_EINVAL);
	cr_assert_eq(gossip_publish(g, 0, TA, (const uint8_t *)"x", 0, &o), -CN_EINVAL);
	cr_assert_eq(gossip_receive(g, 0, 4, (const uint8_t *)"x", 1, &o), -CN_EINVAL);
	cr_assert_eq(gossip_peer_up(g, 0, 4, &o), -CN_EINVAL);
	cr_assert(gossip_subscribed(g, t64));
	cr_assert(!gossip_subscribed(g, TA));
	gossip_out_free(&o);
	gossip_free(g);
}

/* ---- subscriptions -------------------------------------------------------------- */

Test(net_gossip, sub_frames_to_connected_peers_and_on_peer_up)
{
	struct gossip *g = mk(4, NULL);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_peer_up(g, 0, 1, &o), 0);
	cr_assert_eq(o.n, 0);   /* no subscriptions yet */
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	cr_assert_eq(o.n, 1);
	uint8_t want[80];
	size_t wn = frame_topic(want, GOSSIP_T_SUB, TA);
	cr_assert_eq(o.a[0].peer, 1);
	cr_assert_eq(o.a[0].len, wn);
	cr_assert_arr_eq(o.a[0].data, want, wn);
	gossip_out_reset(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	cr_assert_eq(o.n, 0, "subscribing twice says nothing");
	cr_assert_eq(gossip_subscribe(g, 0, TB, &o), 0);
	gossip_out_reset(&o);
	cr_assert_eq(gossip_peer_up(g, 0, 2, &o), 0);
	cr_assert_eq(count_sends(&o, GOSSIP_T_SUB), 2);
	gossip_out_reset(&o);
	cr_assert_eq(gossip_unsubscribe(g, 0, TB, &o), 0);
	cr_assert_eq(count_sends(&o, GOSSIP_T_UNSUB), 2);
	cr_assert(find_send(&o, 1, GOSSIP_T_UNSUB) && find_send(&o, 2, GOSSIP_T_UNSUB));
	gossip_out_reset(&o);
	/* A frame from a peer not yet up brings it up: it learns our topics. */
	sub_peer(g, 0, 3, TA, &o);
	cr_assert(find_send(&o, 3, GOSSIP_T_SUB));
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, peer_subscriptions_tracked)
{
	struct gossip *g = mk(8, NULL);
	struct gossip_out o;
	gossip_out_init(&o);
	uint32_t p[8];
	sub_peer(g, 0, 1, TA, &o);
	sub_peer(g, 0, 2, TA, &o);
	sub_peer(g, 0, 2, TA, &o);   /* twice: once */
	sub_peer(g, 0, 3, TB, &o);
	cr_assert_eq(gossip_topic_peers(g, TA, p, 8), 2);
	cr_assert_eq(gossip_topic_peers(g, TB, p, 8), 1);
	cr_assert_eq(p[0], 3);
	uint8_t f[80];
	rx(g, 0, 1, f, frame_topic(f, GOSSIP_T_UNSUB, TA), &o);
	cr_assert_eq(gossip_topic_peers(g, TA, p, 8), 1);
	cr_assert_eq(p[0], 2);
	cr_assert_eq(gossip_peer_down(g, 0, 2), 0);
	cr_assert_eq(gossip_topic_peers(g, TA, p, 8), 0);
	cr_assert_eq(gossip_topic_peers(g, TB, p, 1), 1);
	cr_assert_eq(gossip_stats(g)->malformed, 0);
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, topic_caps)
{
	struct gossip_config c = {.max_topics_per_peer = 3, .max_topics = 5};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	sub_peer(g, 0, 1, "t1", &o);
	sub_peer(g, 0, 1, "t2", &o);
	sub_peer(g, 0, 1, "t3", &o);
	cr_assert_eq(gossip_stats(g)->malformed, 0);
	sub_peer(g, 0, 1, "t4", &o);
	cr_assert_eq(gossip_stats(g)->malformed, 1, "4th topic of one peer breaks the cap");
	cr_assert_eq(gossip_peer_score(g, 1), -10);
	uint32_t p[4];
	cr_assert_eq(gossip_topic_peers(g, "t4", p, 4), 0);
	sub_peer(g, 0, 2, "t4", &o);
	sub_peer(g, 0, 2, "t5", &o);
	sub_peer(g, 0, 2, "t6", &o);
	cr_assert_eq(gossip_stats(g)->refused_topics, 1, "table holds 5 topics");
	/* Peers filled the table, yet our own subscriptions always fit. */
	cr_assert_eq(gossip_subscribe(g, 0, "t7", &o), 0);
	cr_assert(gossip_subscribed(g, "t7"));
	cr_assert_eq(gossip_subscribe(g, 0, "t1", &o), 0);
	sub_peer(g, 0, 3, "t7", &o);
	cr_assert_eq(gossip_topic_peers(g, "t7", p, 4), 1, "and peers can join them");
	gossip_out_free(&o);
	gossip_free(g);
}

/* ---- messages ------------------------------------------------------------------ */

Test(net_gossip, publish_delivers_once_and_dedups)
{
	struct gossip *a = mk(2, NULL), *b = mk(2, NULL);
	struct gossip_out oa, ob;
	gossip_out_init(&oa);
	gossip_out_init(&ob);
	cr_assert_eq(gossip_subscribe(b, 0, TA, &ob), 0);
	cr_assert_eq(gossip_peer_up(b, 0, 0, &ob), 0);
	cr_assert_eq(ob.n, 1);
	rx(a, 0, 1, ob.a[0].data, ob.a[0].len, &oa);   /* a learns b's topic */
	gossip_out_reset(&oa);
	gossip_out_reset(&ob);
	validate_calls = 0;
	cr_assert_eq(gossip_publish(a, 1, TA, (const uint8_t *)"tx1", 3, &oa), 0);
	cr_assert_eq(validate_calls, 0, "own messages are not validated");
	cr_assert_eq(count(&oa, GOSSIP_A_DELIVER), 0, "nor delivered to ourselves");
	const struct gossip_action *m = find_send(&oa, 1, GOSSIP_T_MSG);
	cr_assert(m);
	uint8_t f[80];
	size_t fn = frame_msg(f, TA, "tx1");
	cr_assert_eq(m->len, fn);
	cr_assert_arr_eq(m->data, f, fn);
	rx(b, 2, 0, m->data, m->len, &ob);
	cr_assert_eq(validate_calls, 1);
	cr_assert_eq(count(&ob, GOSSIP_A_DELIVER), 1);
	cr_assert_str_eq(ob.a[0].topic, TA);
	cr_assert_eq(ob.a[0].peer, 0);
	cr_assert_eq(ob.a[0].len, 3);
	cr_assert_arr_eq(ob.a[0].data, "tx1", 3);
	uint8_t id[GOSSIP_ID_LEN];
	gossip_msg_id(TA, (const uint8_t *)"tx1", 3, id);
	cr_assert_arr_eq(ob.a[0].id, id, GOSSIP_ID_LEN);
	cr_assert_eq(count_sends(&ob, GOSSIP_T_MSG), 0, "never back to the sender");
	gossip_out_reset(&ob);
	rx(b, 3, 0, f, fn, &ob);
	cr_assert_eq(count(&ob, GOSSIP_A_DELIVER), 0);
	cr_assert_eq(gossip_stats(b)->duplicates, 1);
	cr_assert_eq(validate_calls, 1);
	cr_assert_eq(gossip_publish(a, 4, TA, (const uint8_t *)"tx1", 3, &oa), -CN_EEXIST);
	/* b received it, so b may not publish the same bytes either. */
	cr_assert_eq(gossip_publish(b, 4, TA, (const uint8_t *)"tx1", 3, &ob), -CN_EEXIST);
	cr_assert_eq(gossip_stats(b)->received, 1);
	cr_assert_eq(gossip_stats(b)->delivered, 1);
	gossip_out_free(&oa);
	gossip_out_free(&ob);
	gossip_free(a);
	gossip_free(b);
}

Test(net_gossip, message_on_topic_we_do_not_hold)
{
	struct gossip *g = mk(2, NULL);
	struct gossip_out o;
	gossip_out_init(&o);
	uint8_t f[80];
	rx(g, 0, 1, f, frame_msg(f, TA, "m"), &o);
	cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 0);
	cr_assert_eq(gossip_stats(g)->unsubscribed, 1);
	cr_assert_eq(gossip_peer_score(g, 1), 0, "no penalty: may race our UNSUB");
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, bounded_fanout_and_ihave_to_the_rest)
{
	struct gossip_config c = {.fanout = 3, .seed = 7};
	struct gossip *g = mk(16, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	for (uint32_t p = 1; p <= 10; p++)
		sub_peer(g, 0, p, TA, &o);
	sub_peer(g, 0, 11, TB, &o);
	gossip_out_reset(&o);
	cr_assert_eq(gossip_publish(g, 1, TA, (const uint8_t *)"m1", 2, &o), 0);
	cr_assert_eq(count_sends(&o, GOSSIP_T_MSG), 3);
	cr_assert_eq(count_sends(&o, GOSSIP_T_IHAVE), 7);
	cr_assert_null(find_send(&o, 11, GOSSIP_T_MSG));
	cr_assert_null(find_send(&o, 11, GOSSIP_T_IHAVE));
	int seen[16] = {0};
	for (size_t i = 0; i < o.n; i++)
		seen[o.a[i].peer]++;
	for (uint32_t p = 1; p <= 10; p++)
		cr_assert_eq(seen[p], 1, "peer %u gets the message or its id, once", p);
	const struct gossip_action *ih = NULL;
	for (size_t i = 0; i < o.n && !ih; i++)
		if (o.a[i].data[0] == GOSSIP_T_IHAVE)
			ih = &o.a[i];
	uint8_t want[128], id[GOSSIP_ID_LEN];
	size_t wn = frame_topic(want, GOSSIP_T_IHAVE, TA);
	want[wn++] = 1;
	gossip_msg_id(TA, (const uint8_t *)"m1", 2, id);
	memcpy(want + wn, id, GOSSIP_ID_LEN);
	wn += GOSSIP_ID_LEN;
	cr_assert_eq(ih->len, wn);
	cr_assert_arr_eq(ih->data, want, wn);
	/* The eager set is random: over many messages every peer gets pushes. */
	int pushed[16] = {0};
	for (int k = 0; k < 100; k++) {
		gossip_out_reset(&o);
		uint8_t d[4] = {'m', (uint8_t)k, 0, 1};
		cr_assert_eq(gossip_publish(g, 2, TA, d, 4, &o), 0);
		for (size_t i = 0; i < o.n; i++)
			if (o.a[i].data[0] == GOSSIP_T_MSG)
				pushed[o.a[i].peer]++;
	}
	for (uint32_t p = 1; p <= 10; p++)
		cr_assert(pushed[p] > 10 && pushed[p] < 60, "peer %u pushed %d/100", p, pushed[p]);
	/* Topics with at most fanout peers get every message whole. */
	gossip_out_reset(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TB, &o), 0);
	gossip_out_reset(&o);
	cr_assert_eq(gossip_publish(g, 3, TB, (const uint8_t *)"b", 1, &o), 0);
	cr_assert_eq(count_sends(&o, GOSSIP_T_MSG), 1);
	cr_assert(find_send(&o, 11, GOSSIP_T_MSG));
	cr_assert_eq(count_sends(&o, GOSSIP_T_IHAVE), 0);
	gossip_out_free(&o);
	gossip_free(g);
}

/* Peer 1 announces an id; we ask, it answers from its cache. */
Test(net_gossip, ihave_iwant_round_trip_and_cache_expiry)
{
	struct gossip_config c = {.fanout = 1, .mcache_ms = 3000};
	struct gossip *a = mk(4, &c), *b = mk(4, &c);
	struct gossip_out oa, ob;
	gossip_out_init(&oa);
	gossip_out_init(&ob);
	cr_assert_eq(gossip_subscribe(a, 0, TA, &oa), 0);
	cr_assert_eq(gossip_subscribe(b, 0, TA, &ob), 0);
	sub_peer(a, 0, 1, TA, &oa);     /* a's peer 1 is b */
	sub_peer(a, 0, 2, TA, &oa);     /* and a decoy that takes the push... */
	sub_peer(b, 0, 0, TA, &ob);
	gossip_out_reset(&oa);
	gossip_out_reset(&ob);
	/* ...force b into the lazy set by trying seeds until it is. */
	uint8_t d[2] = {'m', 0};
	const struct gossip_action *ih = NULL;
	for (; d[1] < 50; d[1]++) {
		gossip_out_reset(&oa);
		cr_assert_eq(gossip_publish(a, 10, TA, d, 2, &oa), 0);
		if ((ih = find_send(&oa, 1, GOSSIP_T_IHAVE)))
			break;
	}
	cr_assert(ih);
	rx(b, 11, 0, ih->data, ih->len, &ob);
	const struct gossip_action *iw = find_send(&ob, 0, GOSSIP_T_IWANT);
	cr_assert(iw);
	cr_assert_eq(iw->len, 2 + GOSSIP_ID_LEN);
	cr_assert_eq(iw->data[1], 1);
	/* A second announcement while asking does not ask again. */
	uint8_t ihcopy[128];
	size_t ihn = ih->len;
	memcpy(ihcopy, ih->data, ihn);
	uint8_t iwcopy[64];
	size_t iwn = iw->len;
	memcpy(iwcopy, iw->data, iwn);
	gossip_out_reset(&ob);
	rx(b, 11, 0, ihcopy, ihn, &ob);
	cr_assert_eq(count_sends(&ob, GOSSIP_T_IWANT), 0);
	gossip_out_reset(&oa);
	rx(a, 12, 1, iwcopy, iwn, &oa);
	const struct gossip_action *m = find_send(&oa, 1, GOSSIP_T_MSG);
	cr_assert(m);
	rx(b, 13, 0, m->data, m->len, &ob);
	cr_assert_eq(count(&ob, GOSSIP_A_DELIVER), 1);
	cr_assert_arr_eq(ob.a[ob.n - 1].data, d, 2);
	/* After mcache_ms the message is no longer served (but still deduped). */
	gossip_out_reset(&oa);
	cr_assert_eq(gossip_timer(a, 10 + 3000, &oa), 0);
	rx(a, 10 + 3000, 1, iwcopy, iwn, &oa);
	cr_assert_eq(count_sends(&oa, GOSSIP_T_MSG), 0);
	cr_assert_eq(gossip_publish(a, 3001, TA, d, 2, &oa), -CN_EEXIST);
	/* Already seen ids are not asked for. */
	gossip_out_reset(&ob);
	rx(b, 14, 0, ihcopy, ihn, &ob);
	cr_assert_eq(count_sends(&ob, GOSSIP_T_IWANT), 0);
	gossip_out_free(&oa);
	gossip_out_free(&ob);
	gossip_free(a);
	gossip_free(b);
}

static size_t frame_ihave(uint8_t *f, const char *topic, const uint8_t (*ids)[GOSSIP_ID_LEN], size_t n)
{
	size_t k = frame_topic(f, GOSSIP_T_IHAVE, topic);
	f[k++] = (uint8_t)n;
	for (size_t i = 0; i < n; i++, k += GOSSIP_ID_LEN)
		memcpy(f + k, ids[i], GOSSIP_ID_LEN);
	return k;
}

Test(net_gossip, iwant_retries_other_announcers)
{
	struct gossip_config c = {.iwant_timeout_ms = 500};
	struct gossip *g = mk(8, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	for (uint32_t p = 1; p <= 3; p++)
		sub_peer(g, 0, p, TA, &o);
	uint8_t ids[2][GOSSIP_ID_LEN], f[256];
	gossip_msg_id(TA, (const uint8_t *)"m", 1, ids[0]);
	gossip_msg_id(TA, (const uint8_t *)"n", 1, ids[1]);
	gossip_out_reset(&o);
	rx(g, 100, 1, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])ids, 2), &o);
	const struct gossip_action *iw = find_send(&o, 1, GOSSIP_T_IWANT);
	cr_assert(iw);
	cr_assert_eq(iw->data[1], 2);
	cr_assert_eq(o.next_timer_ms, 600);
	gossip_out_reset(&o);
	rx(g, 200, 2, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])ids, 1), &o);
	rx(g, 210, 3, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])ids, 1), &o);
	cr_assert_eq(count_sends(&o, GOSSIP_T_IWANT), 0);
	cr_assert_eq(gossip_timer(g, 599, &o), 0);
	cr_assert_eq(o.n, 0);
	cr_assert_eq(gossip_timer(g, 600, &o), 0);
	/* id 0 goes to announcer 2; id 1 had only announcer 1: given up. */
	cr_assert_eq(o.n, 1);
	cr_assert(find_send(&o, 2, GOSSIP_T_IWANT));
	cr_assert_arr_eq(o.a[0].data + 2, ids[0], GOSSIP_ID_LEN);
	gossip_out_reset(&o);
	cr_assert_eq(gossip_peer_down(g, 1100, 3), 0);
	cr_assert_eq(gossip_timer(g, 1100, &o), 0);
	cr_assert_eq(o.n, 0, "announcer 3 is down: nobody left to ask");
	/* Given up, so a new announcement asks afresh. */
	rx(g, 1200, 2, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])ids, 2), &o);
	iw = find_send(&o, 2, GOSSIP_T_IWANT);
	cr_assert(iw);
	cr_assert_eq(iw->data[1], 2);
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, announcers_are_not_sent_what_they_have)
{
	struct gossip *g = mk(8, NULL);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	for (uint32_t p = 1; p <= 4; p++)
		sub_peer(g, 0, p, TA, &o);
	uint8_t id[1][GOSSIP_ID_LEN], f[256];
	gossip_msg_id(TA, (const uint8_t *)"m", 1, id[0]);
	rx(g, 10, 1, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])id, 1), &o);
	rx(g, 11, 2, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])id, 1), &o);
	gossip_out_reset(&o);
	rx(g, 12, 1, f, frame_msg(f, TA, "m"), &o);
	cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 1);
	cr_assert_eq(count_sends(&o, GOSSIP_T_MSG), 2);
	cr_assert(find_send(&o, 3, GOSSIP_T_MSG) && find_send(&o, 4, GOSSIP_T_MSG), "only 3 and 4 lack it");
	cr_assert_eq(count_sends(&o, GOSSIP_T_IHAVE), 0);
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, wants_per_peer_capped)
{
	struct gossip_config c = {.max_wants_per_peer = 3, .iwant_timeout_ms = 500};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	uint8_t ids[8][GOSSIP_ID_LEN], f[512];
	char d[4];
	for (int i = 0; i < 8; i++) {
		snprintf(d, sizeof d, "m%d", i);
		gossip_msg_id(TA, (const uint8_t *)d, 2, ids[i]);
	}
	gossip_out_reset(&o);
	rx(g, 100, 1, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])ids, 5), &o);
	cr_assert_eq(find_send(&o, 1, GOSSIP_T_IWANT)->data[1], 3, "peer 1 may hold 3 wants");
	cr_assert_eq(gossip_stats(g)->wants_refused, 2);
	gossip_out_reset(&o);
	rx(g, 110, 2, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])ids, 5), &o);
	const struct gossip_action *iw = find_send(&o, 2, GOSSIP_T_IWANT);
	cr_assert_eq(iw->data[1], 2, "the two peer 1 could not take");
	cr_assert_arr_eq(iw->data + 2, ids[3], 2 * GOSSIP_ID_LEN);
	/* A delivered want frees its slot. */
	rx(g, 120, 1, f, frame_msg(f, TA, "m0"), &o);
	gossip_out_reset(&o);
	rx(g, 130, 1, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])(ids + 5), 2), &o);
	cr_assert_eq(find_send(&o, 1, GOSSIP_T_IWANT)->data[1], 1);
	/* Wants that move to another announcer free their slot too. */
	gossip_out_reset(&o);
	cr_assert_eq(gossip_timer(g, 600, &o), 0);
	cr_assert_eq(count_sends(&o, GOSSIP_T_IWANT), 2, "ids 1 and 2 asked of peer 2");
	cr_assert_null(find_send(&o, 1, GOSSIP_T_IWANT));
	gossip_out_reset(&o);
	rx(g, 610, 1, f, frame_ihave(f, TA, (const uint8_t(*)[GOSSIP_ID_LEN])(ids + 6), 2), &o);
	cr_assert_eq(find_send(&o, 1, GOSSIP_T_IWANT)->data[1], 2);
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, iwant_answers_limited_by_byte_budget)
{
	struct gossip_config c = {.bytes_per_s = 1000, .bytes_burst = 3000, .max_msg_size = 900};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	uint8_t d[800], f[256];
	uint8_t ids[6][GOSSIP_ID_LEN];
	for (int i = 0; i < 6; i++) {
		memset(d, 'a' + i, sizeof d);
		cr_assert_eq(gossip_publish(g, 0, TA, d, sizeof d, &o), 0);
		gossip_msg_id(TA, d, sizeof d, ids[i]);
	}
	gossip_out_reset(&o);
	f[0] = GOSSIP_T_IWANT;
	f[1] = 6;
	for (int i = 0; i < 6; i++)
		memcpy(f + 2 + i * GOSSIP_ID_LEN, ids[i], GOSSIP_ID_LEN);
	rx(g, 0, 1, f, 2 + 6 * GOSSIP_ID_LEN, &o);
	cr_assert_eq(count_sends(&o, GOSSIP_T_MSG), 3, "3000-byte budget: three 817-byte frames");
	cr_assert_eq(gossip_stats(g)->iwant_refused, 3);
	gossip_out_reset(&o);
	rx(g, 1000, 1, f, 2 + 6 * GOSSIP_ID_LEN, &o);
	cr_assert_eq(count_sends(&o, GOSSIP_T_MSG), 1, "refilled by 1000 bytes after 1 s");
	gossip_out_free(&o);
	gossip_free(g);
}

/* ---- validation, scores, cooldown ------------------------------------------------ */

Test(net_gossip, validation_verdicts_scores_and_cooldown)
{
	struct gossip_config c = {.cooldown_ms = 10000};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	sub_peer(g, 0, 1, TA, &o);
	sub_peer(g, 0, 2, TA, &o);
	gossip_out_reset(&o);
	uint8_t f[80];
	rx(g, 0, 1, f, frame_msg(f, TA, "Sspam"), &o);
	cr_assert_eq(o.n, 0, "IGNORE: no relay, no delivery");
	cr_assert_eq(gossip_peer_score(g, 1), 0);
	cr_assert_eq(gossip_stats(g)->ignored, 1);
	char bad[8];
	for (int i = 0; i < 5; i++) {
		snprintf(bad, sizeof bad, "Xbad%d", i);
		rx(g, 0, 1, f, frame_msg(f, TA, bad), &o);
		cr_assert_eq(o.n, 0, "REJECT: no relay, no delivery");
		cr_assert_eq(gossip_peer_score(g, 1), -10 * (i + 1));
	}
	/* -50 is not below the threshold; the next one is. */
	rx(g, 0, 1, f, frame_msg(f, TA, "Xbad5"), &o);
	cr_assert_eq(o.n, 1);
	cr_assert_eq(o.a[0].kind, GOSSIP_A_DISCONNECT);
	cr_assert_eq(o.a[0].peer, 1);
	cr_assert_eq(o.a[0].until_ms, 10000);
	cr_assert_eq(gossip_stats(g)->rejected, 6);
	cr_assert_eq(gossip_stats(g)->disconnects, 1);
	cr_assert(gossip_peer_cooling(g, 0, 1));
	uint32_t p[4];
	cr_assert_eq(gossip_topic_peers(g, TA, p, 4), 1, "its subscriptions are gone");
	gossip_out_reset(&o);
	/* While cooling down: frames ignored, peer_up refused. */
	rx(g, 100, 1, f, frame_msg(f, TA, "good"), &o);
	cr_assert_eq(o.n, 0);
	cr_assert_eq(gossip_stats(g)->cooled, 1);
	cr_assert_eq(gossip_peer_up(g, 100, 1, &o), -CN_ESTATE);
	/* A bad message relayed by someone else costs that peer, not again peer 1. */
	rx(g, 100, 2, f, frame_msg(f, TA, "Xbad0"), &o);
	cr_assert_eq(gossip_stats(g)->duplicates, 1, "already judged: a duplicate");
	cr_assert_eq(gossip_peer_score(g, 2), 0);
	/* After the cooldown the peer starts afresh. */
	cr_assert(!gossip_peer_cooling(g, 10000, 1));
	cr_assert_eq(gossip_peer_up(g, 10000, 1, &o), 0);
	cr_assert(find_send(&o, 1, GOSSIP_T_SUB));
	gossip_out_reset(&o);
	sub_peer(g, 10000, 1, TA, &o);
	rx(g, 10000, 1, f, frame_msg(f, TA, "good"), &o);
	cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 1);
	cr_assert_eq(gossip_peer_score(g, 1), 0);
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, score_recovers_over_time)
{
	struct gossip_config c = {.score_recover_ms = 100};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	uint8_t f[80];
	rx(g, 1000, 1, f, frame_msg(f, TA, "X1"), &o);
	rx(g, 1000, 1, f, frame_msg(f, TA, "X2"), &o);
	cr_assert_eq(gossip_peer_score(g, 1), -20);
	cr_assert_eq(gossip_timer(g, 1550, &o), 0);
	cr_assert_eq(gossip_peer_score(g, 1), -15);
	cr_assert_eq(gossip_timer(g, 1999, &o), 0);
	cr_assert_eq(gossip_peer_score(g, 1), -11);
	cr_assert_eq(gossip_timer(g, 9999, &o), 0);
	cr_assert_eq(gossip_peer_score(g, 1), 0, "never above neutral");
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, rate_limit_messages_then_refill)
{
	struct gossip_config c = {.msgs_per_s = 10, .msgs_burst = 20, .score_threshold = -1000};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	uint8_t f[80];
	char d[16];
	int delivered = 0;
	for (int i = 0; i < 30; i++) {
		snprintf(d, sizeof d, "m%d", i);
		gossip_out_reset(&o);
		rx(g, 0, 1, f, frame_msg(f, TA, d), &o);
		delivered += (int)count(&o, GOSSIP_A_DELIVER);
	}
	cr_assert_eq(delivered, 20, "the burst");
	cr_assert_eq(gossip_stats(g)->ratelimited, 10);
	cr_assert_eq(gossip_peer_score(g, 1), -10);
	/* Other peers are not affected. */
	gossip_out_reset(&o);
	rx(g, 0, 2, f, frame_msg(f, TA, "other"), &o);
	cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 1);
	/* 10 per second: after 500 ms, 5 more. */
	delivered = 0;
	for (int i = 30; i < 40; i++) {
		snprintf(d, sizeof d, "m%d", i);
		gossip_out_reset(&o);
		rx(g, 500, 1, f, frame_msg(f, TA, d), &o);
		delivered += (int)count(&o, GOSSIP_A_DELIVER);
	}
	cr_assert_eq(delivered, 5);
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, rate_limit_bytes_and_flooder_disconnected)
{
	struct gossip_config c = {.bytes_per_s = 10000, .bytes_burst = 20000, .max_msg_size = 4000};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	uint8_t f[4100];
	size_t h = frame_topic(f, GOSSIP_T_MSG, TA);
	int delivered = 0, disconnected = 0, i;
	for (i = 0; i < 200 && !disconnected; i++) {
		memset(f + h, 'a', 3000);
		memcpy(f + h, &i, sizeof i);
		gossip_out_reset(&o);
		rx(g, 0, 1, f, h + 3000, &o);
		delivered += (int)count(&o, GOSSIP_A_DELIVER);
		disconnected = (int)count(&o, GOSSIP_A_DISCONNECT);
	}
	cr_assert_eq(delivered, 20000 / (int)(h + 3000));
	cr_assert(disconnected);
	cr_assert_eq(i, delivered + 51, "-1 per frame over the limit; below -50 after 51");
	gossip_out_free(&o);
	gossip_free(g);
}

/* ---- hostile frames -------------------------------------------------------------- */

Test(net_gossip, malformed_frames_dropped_counted_penalized)
{
	struct gossip_config c = {.max_msg_size = 16, .score_threshold = -100000};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	uint8_t big[128];
	size_t bn = frame_topic(big, GOSSIP_T_MSG, TA);
	memset(big + bn, 'a', 17);
	bn += 17;
	uint8_t ih_bad_n[64];
	size_t ihn = frame_topic(ih_bad_n, GOSSIP_T_IHAVE, TA);
	ih_bad_n[ihn++] = 2;                       /* says 2 ids, carries 1 */
	memset(ih_bad_n + ihn, 1, GOSSIP_ID_LEN);
	ihn += GOSSIP_ID_LEN;
	uint8_t iw65[2 + 65 * GOSSIP_ID_LEN] = {GOSSIP_T_IWANT, 65};
	struct {
		const uint8_t *d;
		size_t n;
	} bad[] = {
		{(const uint8_t *)"", 0},
		{(const uint8_t *)"\x21", 1},
		{(const uint8_t *)"\x21\x00", 2},                /* empty topic */
		{(const uint8_t *)"\x21\x05" "abc", 5},          /* topic runs past the end */
		{(const uint8_t *)"\x21\x03" "abcd", 6},         /* trailing byte */
		{(const uint8_t *)"\x21\x03" "a b", 5},          /* space */
		{(const uint8_t *)"\x21\x41" "aaaa", 6},         /* 65 > max */
		{(const uint8_t *)"\x22\x01", 2},
		{(const uint8_t *)"\x23\x03" "abc", 5},          /* MSG without data */
		{big, bn},                                       /* data over max_msg_size */
		{(const uint8_t *)"\x24\x01" "a", 3},            /* IHAVE without count */
		{(const uint8_t *)"\x24\x01" "a\x00", 4},        /* zero ids */
		{ih_bad_n, ihn},
		{(const uint8_t *)"\x25\x00", 2},
		{(const uint8_t *)"\x25\x01" "short", 7},
		{iw65, sizeof iw65},
		{(const uint8_t *)"\x20\x01" "a", 3},            /* unknown types */
		{(const uint8_t *)"\x26\x01" "a", 3},
		{(const uint8_t *)"\x31\x01" "a", 3},
	};
	size_t nb = sizeof bad / sizeof bad[0];
	for (size_t i = 0; i < nb; i++) {
		gossip_out_reset(&o);
		rx(g, 0, 1, bad[i].d, bad[i].n, &o);
		cr_assert_eq(gossip_stats(g)->malformed, i + 1, "frame %zu", i);
		cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 0);
		cr_assert_eq(count_sends(&o, GOSSIP_T_MSG), 0);
	}
	cr_assert_eq(gossip_peer_score(g, 1), -10 * (int64_t)nb);
	uint32_t p[4];
	cr_assert_eq(gossip_topic_peers(g, "abc", p, 4), 0);
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, dedup_cache_ttl_and_capacity)
{
	struct gossip_config c = {.dedup_entries = 4, .dedup_ttl_ms = 1000, .msgs_per_s = 1000000};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	cr_assert_eq(gossip_subscribe(g, 0, TA, &o), 0);
	uint8_t f[80];
	rx(g, 0, 1, f, frame_msg(f, TA, "a"), &o);
	cr_assert_eq(o.next_timer_ms, 1000);
	rx(g, 999, 1, f, frame_msg(f, TA, "a"), &o);
	cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 1);
	cr_assert_eq(gossip_timer(g, 1000, &o), 0);
	rx(g, 1000, 1, f, frame_msg(f, TA, "a"), &o);
	cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 2, "forgotten after the TTL");
	gossip_out_reset(&o);
	/* Capacity 4: the 5th id pushes out the oldest. */
	const char *ds[] = {"b", "c", "d", "e"};
	for (int i = 0; i < 4; i++)
		rx(g, 1001, 1, f, frame_msg(f, TA, ds[i]), &o);
	cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 4);
	rx(g, 1002, 1, f, frame_msg(f, TA, "e"), &o);
	rx(g, 1002, 1, f, frame_msg(f, TA, "b"), &o);
	cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 4);
	rx(g, 1002, 1, f, frame_msg(f, TA, "a"), &o);
	cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 5, "a was evicted");
	/* Many ids churn through a small table without losing track. */
	for (int i = 0; i < 5000; i++) {
		gossip_out_reset(&o);
		char d[16];
		snprintf(d, sizeof d, "k%d", i);
		rx(g, 2000 + (uint64_t)i, 2, f, frame_msg(f, TA, d), &o);
		cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 1);
		rx(g, 2000 + (uint64_t)i, 2, f, frame_msg(f, TA, d), &o);
		cr_assert_eq(count(&o, GOSSIP_A_DELIVER), 1);
	}
	gossip_out_free(&o);
	gossip_free(g);
}

Test(net_gossip, message_size_limits)
{
	struct gossip_config c = {.max_msg_size = 100};
	struct gossip *g = mk(4, &c);
	struct gossip_out o;
	gossip_out_init(&o);
	uint8_t d[101] = {0};
	cr_assert_eq(gossip_publish(g, 0, TA, d, 101, &o), -CN_ELIMIT);
	cr_assert_eq(gossip_publish(g, 0, TA, d, 100, &o), 0);
	gossip_out_free(&o);
	gossip_free(g);
}

/* ---- the mesh -------------------------------------------------------------------- */

#define MAXN 256

enum role { HONEST, SILENT, LIAR, FLOODER };

struct mesh {
	uint32_t n;
	struct mnet net;
	struct gossip *g[MAXN];
	enum role role[MAXN];
	int sub_a[MAXN], sub_b[MAXN];
	uint8_t *adj;               /* n x n: link up */
	uint64_t timer[MAXN];
	uint64_t now;
	struct gossip_out out;
	uint32_t nmsg;              /* messages published */
	uint32_t *got;              /* n x nmsg_cap delivery counts */
	uint32_t nmsg_cap;
	uint32_t *pub_by;           /* publisher of each message */
	int *pub_topic_b;
	size_t disconnect_honest, bad_deliveries;
	uint64_t *cut_at;           /* n: when its last link to a well-behaved node went down (0: not yet) */
};

static int link_up(const struct mesh *m, uint32_t a, uint32_t b)
{
	return m->adj[a * m->n + b];
}

/* Message payloads: "M" | index (4) | padding. */
static void apply(struct mesh *m, uint32_t i)
{
	for (size_t k = 0; k < m->out.n; k++) {
		struct gossip_action *a = &m->out.a[k];
		if (a->kind == GOSSIP_A_SEND) {
			if (!link_up(m, i, a->peer))
				continue;
			/* Silent nodes say which topics they hold and nothing else. */
			if (m->role[i] == SILENT && a->data[0] != GOSSIP_T_SUB)
				continue;
			mnet_send(&m->net, m->now, i, a->peer, a->data, a->len);
		} else if (a->kind == GOSSIP_A_DELIVER) {
			if (a->len >= 5 && a->data[0] == 'M') {
				uint32_t idx;
				memcpy(&idx, a->data + 1, 4);
				cr_assert_lt(idx, m->nmsg);
				m->got[i * m->nmsg_cap + idx]++;
				int on_b = strcmp(a->topic, TB) == 0;
				if (on_b != m->pub_topic_b[idx])
					m->bad_deliveries++;
			} else {
				m->bad_deliveries++;
			}
		} else if (a->kind == GOSSIP_A_DISCONNECT) {
			uint32_t p = a->peer;
			cr_assert_eq(a->until_ms, m->now + 60000);
			if (m->role[p] == HONEST || m->role[p] == SILENT)
				m->disconnect_honest++;
			m->adj[i * m->n + p] = m->adj[p * m->n + i] = 0;
			cr_assert_eq(gossip_peer_down(m->g[p], m->now, i), 0);
			int any = 0;
			for (uint32_t j = 0; j < m->n; j++)
				any |= link_up(m, p, j) && (m->role[j] == HONEST || m->role[j] == SILENT);
			if (!any && !m->cut_at[p])
				m->cut_at[p] = m->now;
		}
	}
	m->timer[i] = m->out.next_timer_ms;
	gossip_out_reset(&m->out);
}

static void run_until(struct mesh *m, uint64_t until)
{
	for (;;) {
		uint64_t tp = m->net.n ? m->net.h[0].t : UINT64_MAX;
		uint64_t tt = UINT64_MAX;
		uint32_t ti = 0;
		for (uint32_t i = 0; i < m->n; i++)
			if (m->timer[i] < tt) {
				tt = m->timer[i];
				ti = i;
			}
		uint64_t t = tp < tt ? tp : tt;
		if (t > until)
			break;
		if (t > m->now)
			m->now = t;
		if (tp <= tt) {
			struct mpkt p = mnet_pop(&m->net);
			if (link_up(m, p.src, p.dst) && m->role[p.dst] != LIAR && m->role[p.dst] != FLOODER) {
				cr_assert_eq(gossip_receive(m->g[p.dst], m->now, p.src, p.d, p.len, &m->out), 0);
				apply(m, p.dst);
			}
			free(p.d);
		} else {
			m->timer[ti] = UINT64_MAX;
			cr_assert_eq(gossip_timer(m->g[ti], m->now, &m->out), 0);
			apply(m, ti);
		}
	}
	if (m->now < until)
		m->now = until;
}

/* Only subscribers relay a topic, so the honest (not silent) subscribers of
 * each topic must form one connected graph for delivery to be possible at
 * all: the mesh generator retries until they do. */
static int topic_connected(const struct mesh *m, const int *sub)
{
	uint32_t stack[MAXN], ns = 0, start = UINT32_MAX;
	uint8_t seen[MAXN] = {0};
	for (uint32_t i = 0; i < m->n && start == UINT32_MAX; i++)
		if (m->role[i] == HONEST && sub[i])
			start = i;
	if (start == UINT32_MAX)
		return 1;
	stack[ns++] = start;
	seen[start] = 1;
	while (ns) {
		uint32_t v = stack[--ns];
		for (uint32_t j = 0; j < m->n; j++)
			if (link_up(m, v, j) && !seen[j] && m->role[j] == HONEST && sub[j]) {
				seen[j] = 1;
				stack[ns++] = j;
			}
	}
	for (uint32_t i = 0; i < m->n; i++)
		if (m->role[i] == HONEST && sub[i] && !seen[i])
			return 0;
	return 1;
}

/* Each node links to degree/2 random nodes, and to 3 more among the nodes
 * of its smaller topic, as a node would when it looks up its topic's peers. */
static void random_links(struct mesh *m, struct cn_prng *r, uint32_t degree)
{
	memset(m->adj, 0, (size_t)m->n * m->n);
	for (uint32_t i = 0; i < m->n; i++) {
		for (uint32_t e = 0; e < degree / 2; e++) {
			uint32_t j = (uint32_t)cn_prng_uniform(r, m->n);
			if (j != i)
				m->adj[i * m->n + j] = m->adj[j * m->n + i] = 1;
		}
		for (uint32_t e = 0; m->sub_b[i] && e < 3; e++) {
			uint32_t j = (uint32_t)cn_prng_uniform(r, m->n);
			if (j != i && m->sub_b[j])
				m->adj[i * m->n + j] = m->adj[j * m->n + i] = 1;
		}
	}
}

struct mesh_plan {
	uint32_t n, silent, msgs, degree;
	int liar, flooder;
	uint64_t seed;
	double dup;
	uint64_t jitter;
};

static void mesh_build(struct mesh *m, const struct mesh_plan *pl)
{
	memset(m, 0, sizeof *m);
	m->n = pl->n;
	cn_prng_seed(&m->net.r, pl->seed);
	m->net.lat = 10;
	m->net.jit = pl->jitter;
	m->net.dup = pl->dup;
	m->adj = calloc((size_t)m->n * m->n, 1);
	m->nmsg_cap = pl->msgs + 16;
	m->got = calloc((size_t)m->n * m->nmsg_cap, sizeof *m->got);
	m->pub_by = calloc(m->nmsg_cap, sizeof *m->pub_by);
	m->pub_topic_b = calloc(m->nmsg_cap, sizeof *m->pub_topic_b);
	m->cut_at = calloc(m->n, sizeof *m->cut_at);
	cr_assert(m->adj && m->got && m->pub_by && m->pub_topic_b && m->cut_at);
	gossip_out_init(&m->out);
	struct cn_prng *r = &m->net.r;
	/* Roles: the last nodes misbehave, a few before them are silent. */
	uint32_t k = 0;
	for (uint32_t i = 0; i < m->n; i++)
		m->role[i] = HONEST;
	if (pl->flooder)
		m->role[m->n - 1 - k++] = FLOODER;
	if (pl->liar)
		m->role[m->n - 1 - k++] = LIAR;
	for (uint32_t s = 0; s < pl->silent; s++)
		m->role[m->n - 1 - k++] = SILENT;
	/* Everyone holds topic A but every fifth honest node; every third also B. */
	for (uint32_t i = 0; i < m->n; i++) {
		m->sub_a[i] = m->role[i] != HONEST || i % 5 != 4;
		m->sub_b[i] = i % 3 == 0;
	}
	do
		random_links(m, r, pl->degree);
	while (!topic_connected(m, m->sub_a) || !topic_connected(m, m->sub_b));
	for (uint32_t i = 0; i < m->n; i++) {
		struct gossip_config c = {.seed = pl->seed * 1000 + i, .validate = check,
					  .msgs_per_s = 400, .msgs_burst = 800};
		c.max_peers = m->n;
		cr_assert_eq(gossip_new(&c, &m->g[i]), 0);
		m->timer[i] = UINT64_MAX;
	}
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->sub_a[i])
			cr_assert_eq(gossip_subscribe(m->g[i], 0, TA, &m->out), 0);
		if (m->sub_b[i])
			cr_assert_eq(gossip_subscribe(m->g[i], 0, TB, &m->out), 0);
		apply(m, i);
		for (uint32_t j = 0; j < m->n; j++)
			if (link_up(m, i, j)) {
				cr_assert_eq(gossip_peer_up(m->g[i], 0, j, &m->out), 0);
				apply(m, i);
			}
	}
	run_until(m, 1000);
}

static void mesh_free(struct mesh *m)
{
	for (uint32_t i = 0; i < m->n; i++)
		gossip_free(m->g[i]);
	gossip_out_free(&m->out);
	mnet_free(&m->net);
	free(m->adj);
	free(m->got);
	free(m->pub_by);
	free(m->pub_topic_b);
	free(m->cut_at);
}

static void publish(struct mesh *m, uint32_t who, int on_b, size_t len)
{
	uint8_t d[2048];
	cr_assert_leq(len, sizeof d);
	cr_assert_lt(m->nmsg, m->nmsg_cap);
	uint32_t idx = m->nmsg++;
	memset(d, (int)(idx & 0xff), len);
	d[0] = 'M';
	memcpy(d + 1, &idx, 4);
	m->pub_by[idx] = who;
	m->pub_topic_b[idx] = on_b;
	cr_assert_eq(gossip_publish(m->g[who], m->now, on_b ? TB : TA, d, len, &m->out), 0);
	apply(m, who);
}

/* Hostile frames from node `bad` straight onto its links. */
static void hostile_burst(struct mesh *m, uint32_t bad, uint8_t lead, int count, uint32_t *serial)
{
	uint8_t f[128];
	for (int k = 0; k < count; k++) {
		size_t h = frame_topic(f, GOSSIP_T_MSG, TA);
		f[h] = lead;
		uint32_t s = (*serial)++;
		memcpy(f + h + 1, &bad, 4);
		memcpy(f + h + 5, &s, 4);
		for (uint32_t j = 0; j < m->n; j++)
			if (link_up(m, bad, j))
				mnet_send(&m->net, m->now, bad, j, f, h + 9);
	}
}

static void mesh_run(const struct mesh_plan *pl)
{
	struct mesh *m = calloc(1, sizeof *m);
	cr_assert(m);
	mesh_build(m, pl);
	struct cn_prng r;
	cn_prng_seed(&r, pl->seed ^ 0x5555);
	uint32_t honest[MAXN], nh = 0;
	for (uint32_t i = 0; i < m->n; i++)
		if (m->role[i] == HONEST)
			honest[nh++] = i;
	uint32_t liar = UINT32_MAX, flooder = UINT32_MAX, serial = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->role[i] == LIAR)
			liar = i;
		if (m->role[i] == FLOODER)
			flooder = i;
	}
	/* One message every 20 ms from a random honest publisher (one in five
	 * on topic B), sizes 5..2000 bytes; the liar sends invalid messages
	 * and the flooder ignored spam at ten times the rate limit during the
	 * first seconds. */
	uint32_t nb = 0;
	for (uint32_t k = 0; k < pl->msgs; k++) {
		uint64_t t = m->now + 20;
		if (liar != UINT32_MAX && k % 10 == 0 && k < 200)
			hostile_burst(m, liar, 'X', 1, &serial);
		if (flooder != UINT32_MAX && k < 150)
			hostile_burst(m, flooder, 'S', 80, &serial);
		run_until(m, t);
		int on_b = cn_prng_uniform(&r, 5) == 0;
		/* A publisher holds the topic or at least links to a node that does
		 * (as a node looks up a topic's peers before publishing on it). */
		const int *sub = on_b ? m->sub_b : m->sub_a;
		uint32_t who;
		for (;;) {
			who = honest[cn_prng_uniform(&r, nh)];
			int ok = sub[who];
			for (uint32_t j = 0; j < m->n && !ok; j++)
				ok = link_up(m, who, j) && sub[j] && m->role[j] == HONEST;
			if (ok)
				break;
		}
		nb += (uint32_t)on_b;
		publish(m, who, on_b, 5 + (size_t)cn_prng_uniform(&r, 1996));
	}
	run_until(m, m->now + 30000);
	cr_assert_eq(m->bad_deliveries, 0);
	cr_assert_eq(m->disconnect_honest, 0, "no honest node was cut");
	size_t missing = 0, extra = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->role[i] != HONEST)
			continue;
		for (uint32_t x = 0; x < m->nmsg; x++) {
			int wants = m->pub_topic_b[x] ? m->sub_b[i] : m->sub_a[i];
			uint32_t got = m->got[i * m->nmsg_cap + x];
			if (m->pub_by[x] == i)
				cr_assert_eq(got, 0, "publishers do not deliver to themselves");
			else if (wants && got != 1) {
				missing += got == 0, extra += got > 1;
				if (getenv("GDEBUG"))
					fprintf(stderr, "node %u msg %u b=%d pub %u got %u\n", i, x, m->pub_topic_b[x], m->pub_by[x], got);
			}
			else if (!wants)
				cr_assert_eq(got, 0, "node %u got message %u of a topic it does not hold", i, x);
		}
	}
	cr_assert_eq(missing, 0, "%zu deliveries missing", missing);
	cr_assert_eq(extra, 0, "%zu deliveries repeated", extra);
	uint64_t rl = 0, rej = 0, dup = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		rl += gossip_stats(m->g[i])->ratelimited;
		rej += gossip_stats(m->g[i])->rejected;
		dup += gossip_stats(m->g[i])->duplicates;
	}
	if (liar != UINT32_MAX) {
		/* Nodes without topic A drop its messages unjudged (a race with their
		 * UNSUB is no offence): only A's subscribers cut the liar. */
		for (uint32_t j = 0; j < m->n; j++)
			cr_assert(!link_up(m, liar, j) || !m->sub_a[j] || m->role[j] != HONEST,
				  "subscriber %u still linked to the liar", j);
		cr_assert(rej > 0);
	}
	if (flooder != UINT32_MAX) {
		cr_assert(m->cut_at[flooder], "every neighbour dropped the flooder");
		cr_assert(rl > 0);
		cr_assert_lt(m->cut_at[flooder], 1000 + 20 * 150, "cut while still flooding");
	}
	for (uint32_t i = 0; i < m->n; i++)
		for (uint32_t j = 0; j < m->n; j++)
			if (m->role[i] == HONEST && m->role[j] == HONEST && link_up(m, i, j))
				cr_assert_geq(gossip_peer_score(m->g[i], j), -5, "honest %u scored %u low", i, j);
	cr_assert_gt(nb, 0);
	cr_assert_gt(dup, 0);
	tu_report("gossip mesh messages", m->nmsg);
	mesh_free(m);
	free(m);
}

Test(net_gossip, mesh_50_nodes_dup_reorder_silent_liar_flooder)
{
	struct mesh_plan pl = {.n = 50, .silent = 5, .msgs = 250, .degree = 8, .liar = 1, .flooder = 1,
			       .seed = 1, .dup = 0.1, .jitter = 60};
	mesh_run(&pl);
}

Test(net_gossip, mesh_50_nodes_other_seeds)
{
	for (uint64_t seed = 2; seed <= 4; seed++) {
		struct mesh_plan pl = {.n = 50, .silent = 8, .msgs = 200, .degree = 8, .liar = 1,
				       .seed = seed, .dup = 0.2, .jitter = 100};
		mesh_run(&pl);
	}
}

Test(net_gossip, mesh_long_200_nodes)
{
	if (!tu_long())
		return;
	for (uint64_t seed = 10; seed < 14; seed++) {
		struct mesh_plan pl = {.n = 200, .silent = 30, .msgs = 1000, .degree = 8, .liar = 1, .flooder = 1,
				       .seed = seed, .dup = 0.1, .jitter = 80};
		mesh_run(&pl);
	}
}
