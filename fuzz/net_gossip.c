/* net_gossip.c — hostile frames from peers into a gossip core that holds
 * state: two topics of ours, peers subscribed, messages in its caches and
 * ids it is asking for.
 *
 * Input: records [ctl(1)][len(2, little-endian)][bytes]. ctl bits 0-1 pick
 * the sending peer (0..3), bits 2-5 advance the clock by that many times
 * 700 ms first (caches expire, asks are retried, cooldowns end; a timer call
 * follows), bit 6 makes us publish the bytes ourselves instead, bit 7 takes
 * the peer down and up again first. Invariants: the core never fails on
 * hostile input, emits only well-formed frames of its own types, delivers
 * only messages it has validated, and never delivers an id twice while it
 * is remembered. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "net/gossip.h"

#define TA "canon/fuzz/0/tx"
#define TB "canon/fuzz/beacon"

static int validated;

static enum gossip_verdict check(void *ctx, const char *topic, uint32_t from, const uint8_t *d, size_t len)
{
	(void)ctx;
	if (!gossip_topic_valid(topic, strlen(topic)) || from >= 4 || len == 0)
		abort();
	validated++;
	return d[0] == 'X' ? GOSSIP_REJECT : d[0] == 'S' ? GOSSIP_IGNORE : GOSSIP_ACCEPT;
}

static void drain(struct gossip_out *out, int *delivered)
{
	for (size_t i = 0; i < out->n; i++) {
		const struct gossip_action *a = &out->a[i];
		if (a->peer >= 4)
			abort();
		if (a->kind == GOSSIP_A_SEND &&
		    (a->len < 2 || a->data[0] < GOSSIP_T_SUB || a->data[0] > GOSSIP_T_IWANT))
			abort();
		if (a->kind == GOSSIP_A_DELIVER) {
			if (!gossip_topic_valid(a->topic, strlen(a->topic)) || a->len == 0)
				abort();
			uint8_t id[GOSSIP_ID_LEN];
			if (gossip_msg_id(a->topic, a->data, a->len, id) || memcmp(id, a->id, GOSSIP_ID_LEN))
				abort();
			(*delivered)++;
		}
	}
	gossip_out_reset(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gossip_config c = {.max_peers = 4, .seed = 1, .validate = check, .dedup_entries = 64,
				  .max_wants = 16, .max_msg_size = 4096, .mcache_bytes = 16384,
				  .msgs_per_s = 50, .msgs_burst = 100, .max_topics = 8, .max_topics_per_peer = 4,
				  .cooldown_ms = 5000};
	struct gossip *g;
	if (gossip_new(&c, &g))
		abort();
	struct gossip_out out;
	gossip_out_init(&out);
	int delivered = 0;
	uint64_t now = 1000;
	validated = 0;
	if (gossip_subscribe(g, now, TA, &out) || gossip_subscribe(g, now, TB, &out))
		abort();
	for (uint32_t p = 0; p < 4; p++) {
		uint8_t sub[2 + sizeof TA] = {GOSSIP_T_SUB, sizeof TA - 1};
		memcpy(sub + 2, TA, sizeof TA - 1);
		if (gossip_peer_up(g, now, p, &out) || gossip_receive(g, now, p, sub, 1 + sizeof TA, &out))
			abort();
	}
	if (gossip_publish(g, now, TA, (const uint8_t *)"cached", 6, &out))
		abort();
	drain(&out, &delivered);
	size_t k = 0;
	while (size - k >= 3) {
		uint8_t ctl = data[k];
		size_t len = (size_t)data[k + 1] | (size_t)data[k + 2] << 8;
		k += 3;
		if (len > size - k)
			len = size - k;
		uint32_t peer = ctl & 3;
		if (ctl & 0x3c) {
			now += (uint64_t)((ctl >> 2) & 15) * 700;
			if (gossip_timer(g, now, &out))
				abort();
		}
		if (ctl & 0x80) {
			if (gossip_peer_down(g, now, peer))
				abort();
			int err = gossip_peer_up(g, now, peer, &out);
			if (err && !(err == -CN_ESTATE && gossip_peer_cooling(g, now, peer)))
				abort();
		}
		if (ctl & 0x40) {
			int err = gossip_publish(g, now, (ctl & 1) ? TB : TA, data + k, len, &out);
			if (err && err != -CN_EEXIST && !(err == -CN_EINVAL && len == 0) &&
			    !(err == -CN_ELIMIT && len > c.max_msg_size))
				abort();
		} else if (gossip_receive(g, now, peer, data + k, len, &out)) {
			abort();
		}
		drain(&out, &delivered);
		if (delivered > validated)
			abort();
		const struct gossip_stats *st = gossip_stats(g);
		if (st->delivered + st->rejected + st->ignored != st->received)
			abort();
		k += len;
	}
	gossip_out_free(&out);
	gossip_free(g);
	return 0;
}
