/* net_msg.c — hostile payloads against the unicast (net_msg) and multicast
 * (net_mcast) messaging state machines.
 *
 * Input: records [ctl(1)][len(2, little-endian)][bytes]. ctl bit 0 picks the
 * machine (0 unicast, 1 multicast member 1 of a 4-member group), bits 1-2 the
 * peer the payload comes from, bits 3-7 advance the clock by that many
 * seconds first (timers fire). Before the records, the unicast machine sends
 * one message to peer 1 and member 0's key signs nothing the fuzzer sees, so
 * genuine multicast symbols only come from the seed corpus (made with the
 * same fixed keys: seeds 1..4 below). */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/mcast.h"
#include "net/msg.h"

static void drain(struct net_msg_out *out)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->a[i].kind == NET_MSG_A_SEND && (out->a[i].len == 0 || out->a[i].len > NET_MSG_MTU))
			abort();
	net_msg_out_reset(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[4][32], sk[4][64];
	static int keys;
	if (!keys) {
		if (sodium_init() < 0)
			abort();
		for (int i = 0; i < 4; i++) {
			uint8_t seed[32] = {0};
			seed[0] = (uint8_t)(i + 1);
			crypto_sign_seed_keypair(pk[i], sk[i], seed);
		}
		keys = 1;
	}
	struct net_msg_config uc = {.max_peers = 4, .max_incoming = 3, .peer_mem_cap = 8u << 20, .id_seed = 0};
	struct net_mcast_config mc = {.group_id = 7, .n = 4, .k = 1, .self = 1,
				      .pks = (const uint8_t(*)[32])pk, .sk = sk[1],
				      .max_incoming = 3, .sender_mem_cap = 8u << 20, .seed = 1};
	struct net_msg *u;
	struct net_mcast *m;
	if (net_msg_new(&uc, &u) || net_mcast_new(&mc, &m))
		abort();
	struct net_msg_out out;
	net_msg_out_init(&out);
	uint64_t now = 0;
	static const uint8_t hello[3000];
	struct net_msg_input send = {.kind = NET_MSG_IN_SEND, .peer = 1, .data = hello, .len = sizeof hello,
				     .deadline_ms = 100000};
	if (net_msg_step(u, now, &send, &out))
		abort();
	drain(&out);
	size_t k = 0;
	while (size - k >= 3) {
		uint8_t ctl = data[k];
		size_t len = (size_t)data[k + 1] | (size_t)data[k + 2] << 8;
		k += 3;
		if (len > size - k)
			len = size - k;
		uint32_t peer = (ctl >> 1) & 3;
		if (ctl >> 3) {
			now += (uint64_t)(ctl >> 3) * 1000;
			struct net_msg_input t = {.kind = NET_MSG_IN_TIMER};
			struct net_mcast_input mt = {.kind = NET_MCAST_IN_TIMER};
			if (net_msg_step(u, now, &t, &out) || net_mcast_step(m, now, &mt, &out))
				abort();
			drain(&out);
		}
		if (ctl & 1) {
			struct net_mcast_input in = {.kind = NET_MCAST_IN_DATAGRAM, .peer = peer, .data = data + k, .len = len};
			if (net_mcast_step(m, now, &in, &out))
				abort();
			if (net_mcast_sender_reserved(m, 0) > mc.sender_mem_cap)
				abort();
		} else {
			struct net_msg_input in = {.kind = NET_MSG_IN_DATAGRAM, .peer = peer, .data = data + k, .len = len};
			if (net_msg_step(u, now, &in, &out))
				abort();
			if (net_msg_peer_reserved(u, peer) > uc.peer_mem_cap)
				abort();
		}
		drain(&out);
		k += len;
	}
	net_msg_out_free(&out);
	net_msg_free(u);
	net_mcast_free(m);
	return 0;
}
