/* net_handshake.c — forged handshake messages that get past mac1.
 *
 * mac1 only proves the sender knows the receiver's public key, which is
 * public, so a fuzzer that fixes it up reaches the Diffie-Hellman, AEAD,
 * timestamp and index checks. Input: [kind(1)][body]; kind bits 0-1 pick
 * initiation/response/cookie/data, bit 2 the receiving endpoint, bit 3 a
 * responder that is always under load (cookie path). The body fills the
 * message after its 4-byte header; mac1 is then recomputed. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "net_fuzz.h"

static void fix_mac1(uint8_t *msg, size_t off, const uint8_t pk[32])
{
	uint8_t key[32];
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)"mac1----", 8);
	crypto_generichash_update(&st, pk, 32);
	crypto_generichash_final(&st, key, 32);
	crypto_generichash(msg + off, 16, msg, off, key, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const uint8_t types[4] = {NET_PKT_INITIATION, NET_PKT_RESPONSE, NET_PKT_COOKIE, NET_PKT_DATA};
	static const size_t lens[4] = {NET_INITIATION_LEN, NET_RESPONSE_LEN, NET_COOKIE_LEN, 64};
	uint8_t kind = data[0];
	int t = kind & 3, to = (kind >> 2) & 1;
	struct nf f;
	if (nf_setup(&f, (kind & 8) ? 0 : 1000) || nf_connect(&f))
		abort();
	uint8_t msg[NET_MAX_DATAGRAM] = {0};
	size_t len = lens[t];
	if (t == 3 && size - 1 > len - 4)
		len = size - 1 + 4 > NET_MAX_DATAGRAM ? NET_MAX_DATAGRAM : size - 1 + 4;
	msg[0] = types[t];
	size_t body = size - 1 < len - 4 ? size - 1 : len - 4;
	memcpy(msg + 4, data + 1, body);
	if (t == 0)
		fix_mac1(msg, 112, f.id[to].pk);
	else if (t == 1)
		fix_mac1(msg, 60, f.id[to].pk);
	struct net_input in = {.kind = NET_IN_DATAGRAM, .addr = f.addr[1 - to], .data = msg, .len = len};
	nf_step(&f, to, &in);
	f.now += 6000; /* let retransmission and keepalive timers run */
	struct net_input tick = {.kind = NET_IN_TIMER};
	nf_step(&f, 0, &tick);
	nf_step(&f, 1, &tick);
	nf_free(&f);
	return 0;
}
