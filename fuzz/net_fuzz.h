/* net_fuzz.h — a deterministic pair of endpoints with a live session, shared
 * by the net fuzz targets. Identities and randomness are fixed, so the keys,
 * indices and packets are the same on every run and saved inputs (seeds built
 * from real packets) stay meaningful. */
#ifndef CANON_FUZZ_NET_FUZZ_H
#define CANON_FUZZ_NET_FUZZ_H

#include <stdlib.h>
#include <string.h>

#include "base/prng.h"
#include "net/net.h"

struct nf {
	struct net_identity id[2];
	struct net_endpoint *ep[2];
	struct cn_prng rng[2];
	struct net_addr addr[2];
	uint64_t now;
	/* Every datagram sent, for seed dumps: */
	void (*on_send)(int from, const uint8_t *p, size_t len);
};

static void nf_random(void *ctx, uint8_t *buf, size_t len)
{
	cn_prng_fill(ctx, buf, len);
}

/* Delivers everything in out from endpoint `from` to the other one and
 * keeps going until the pair is quiet (bounded). */
static void nf_apply(struct nf *f, int from, struct net_out *out, int depth)
{
	for (size_t k = 0; k < out->n; k++) {
		const struct net_action *a = &out->act[k];
		if (a->kind != NET_ACT_SEND || depth > 8)
			continue;
		if (f->on_send)
			f->on_send(from, net_action_data(out, a), a->len);
		int to = 1 - from;
		if (!net_addr_equal(&a->addr, &f->addr[to]))
			continue;
		struct net_out o2;
		net_out_init(&o2);
		struct net_input in = {.kind = NET_IN_DATAGRAM, .addr = f->addr[from],
				       .data = net_action_data(out, a), .len = a->len};
		net_endpoint_step(f->ep[to], f->now, &in, &o2);
		nf_apply(f, to, &o2, depth + 1);
		net_out_free(&o2);
	}
}

static int nf_step(struct nf *f, int who, const struct net_input *in)
{
	struct net_out out;
	net_out_init(&out);
	int err = net_endpoint_step(f->ep[who], f->now, in, &out);
	nf_apply(f, who, &out, 0);
	net_out_free(&out);
	return err;
}

static int nf_setup(struct nf *f, uint32_t load_threshold)
{
	memset(f, 0, sizeof *f);
	f->now = 1700000000000ull;
	for (int i = 0; i < 2; i++) {
		uint8_t seed[32];
		memset(seed, 0x11 * (i + 1), sizeof seed);
		if (net_identity_from_seed(&f->id[i], seed))
			return -1;
		cn_prng_seed(&f->rng[i], 42 + (uint64_t)i);
		struct net_config c;
		net_config_default(&c);
		c.random = nf_random;
		c.random_ctx = &f->rng[i];
		c.load_threshold = load_threshold;
		c.max_peers = 4;
		if (net_endpoint_new(&f->ep[i], &f->id[i], &c))
			return -1;
		net_addr_v4(&f->addr[i], 10, 0, 0, (uint8_t)(i + 1), 7000);
	}
	struct net_locator rec;
	memset(&rec, 0, sizeof rec);
	rec.seq = 1;
	rec.n_addrs = 1;
	rec.addrs[0] = f->addr[1];
	if (net_locator_sign(&rec, &f->id[1]) || net_endpoint_add_peer(f->ep[0], &rec))
		return -1;
	return 0;
}

/* Runs the handshake (A sends "hi" to B). */
static int nf_connect(struct nf *f)
{
	struct net_input in = {.kind = NET_IN_SEND, .data = (const uint8_t *)"hi", .len = 2,
			       .peer = f->id[1].node_id};
	return nf_step(f, 0, &in);
}

static void nf_free(struct nf *f)
{
	net_endpoint_free(f->ep[0]);
	net_endpoint_free(f->ep[1]);
}

#endif
