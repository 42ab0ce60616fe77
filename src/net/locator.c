/* locator.c — signed locator records.
 *
 * Encoding (all integers big-endian):
 *   version(1)=1 | pk(32) | seq(8) | n(1) | n × addr | sig(64)
 *   addr = family(1) 4|6 | ip(4|16) | port(2)
 * The signature is Ed25519 over "canon-net-locator-v1" followed by every byte
 * before sig, so a record cannot be replayed as some other signed object.
 * Records are canonical: one encoding per content (no zero port, no unknown
 * family, IPv4 padding zero, no duplicate addresses). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/bytes.h"
#include "base/err.h"
#include "net/net.h"

#define LOC_VERSION 1
#define LOC_DOMAIN "canon-net-locator-v1"

int net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}

void net_addr_v4(struct net_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3, uint16_t port)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	a->ip[0] = b0, a->ip[1] = b1, a->ip[2] = b2, a->ip[3] = b3;
	a->port = port;
}

void net_addr_format(const struct net_addr *a, char *out, size_t cap)
{
	if (a->family == 4) {
		snprintf(out, cap, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3], a->port);
		return;
	}
	char h[40];
	size_t k = 0;
	for (int i = 0; i < 16; i += 2)
		k += (size_t)snprintf(h + k, sizeof h - k, "%s%x", i ? ":" : "", (a->ip[i] << 8) | a->ip[i + 1]);
	snprintf(out, cap, "[%s]:%u", h, a->port);
}

static int addrs_valid(const struct net_locator *rec)
{
	if (rec->n_addrs == 0 || rec->n_addrs > NET_LOCATOR_MAX_ADDRS)
		return 0;
	for (unsigned i = 0; i < rec->n_addrs; i++) {
		const struct net_addr *a = &rec->addrs[i];
		if ((a->family != 4 && a->family != 6) || a->port == 0)
			return 0;
		for (unsigned j = 0; j < i; j++)
			if (net_addr_equal(a, &rec->addrs[j]))
				return 0;
	}
	return 1;
}

/* Everything before the signature. */
static size_t encode_body(const struct net_locator *rec, uint8_t *p)
{
	size_t k = 0;
	p[k++] = LOC_VERSION;
	memcpy(p + k, rec->pk, 32), k += 32;
	store_be64(p + k, rec->seq), k += 8;
	p[k++] = rec->n_addrs;
	for (unsigned i = 0; i < rec->n_addrs; i++) {
		const struct net_addr *a = &rec->addrs[i];
		size_t iplen = a->family == 4 ? 4 : 16;
		p[k++] = a->family;
		memcpy(p + k, a->ip, iplen), k += iplen;
		p[k++] = (uint8_t)(a->port >> 8);
		p[k++] = (uint8_t)a->port;
	}
	return k;
}

static void signed_message(const struct net_locator *rec, uint8_t *msg, size_t *len)
{
	memcpy(msg, LOC_DOMAIN, sizeof LOC_DOMAIN - 1);
	*len = sizeof LOC_DOMAIN - 1 + encode_body(rec, msg + sizeof LOC_DOMAIN - 1);
}

int net_locator_sign(struct net_locator *rec, const struct net_identity *id)
{
	memcpy(rec->pk, id->pk, NET_PK_LEN);
	if (!addrs_valid(rec))
		return -CN_EINVAL;
	for (unsigned i = 0; i < rec->n_addrs; i++)
		if (rec->addrs[i].family == 4)
			memset(rec->addrs[i].ip + 4, 0, 12);
	uint8_t msg[sizeof LOC_DOMAIN + NET_LOCATOR_MAX_LEN];
	size_t len;
	signed_message(rec, msg, &len);
	crypto_sign_ed25519_detached(rec->sig, NULL, msg, len, id->sk);
	return 0;
}

int net_locator_verify(const struct net_locator *rec)
{
	if (!addrs_valid(rec))
		return -CN_EINVAL;
	uint8_t msg[sizeof LOC_DOMAIN + NET_LOCATOR_MAX_LEN];
	size_t len;
	signed_message(rec, msg, &len);
	return crypto_sign_ed25519_verify_detached(rec->sig, msg, len, rec->pk) == 0 ? 0 : -CN_EVERIFY;
}

int net_locator_encode(const struct net_locator *rec, uint8_t *out, size_t cap, size_t *len)
{
	if (!addrs_valid(rec))
		return -CN_EINVAL;
	uint8_t tmp[NET_LOCATOR_MAX_LEN];
	size_t k = encode_body(rec, tmp);
	memcpy(tmp + k, rec->sig, NET_SIG_LEN), k += NET_SIG_LEN;
	if (k > cap)
		return -CN_ERANGE;
	memcpy(out, tmp, k);
	*len = k;
	return 0;
}

int net_locator_decode(struct net_locator *rec, const uint8_t *in, size_t len)
{
	memset(rec, 0, sizeof *rec);
	if (len > NET_LOCATOR_MAX_LEN)
		return -CN_ELIMIT;
	size_t k = 0;
	if (len < 1 + 32 + 8 + 1)
		return -CN_ETRUNC;
	if (in[k++] != LOC_VERSION)
		return -CN_EUNSUPPORTED;
	memcpy(rec->pk, in + k, 32), k += 32;
	rec->seq = load_be64(in + k), k += 8;
	rec->n_addrs = in[k++];
	if (rec->n_addrs == 0 || rec->n_addrs > NET_LOCATOR_MAX_ADDRS)
		return -CN_EINVAL;
	for (unsigned i = 0; i < rec->n_addrs; i++) {
		struct net_addr *a = &rec->addrs[i];
		if (k >= len)
			return -CN_ETRUNC;
		a->family = in[k++];
		if (a->family != 4 && a->family != 6)
			return -CN_EINVAL;
		size_t iplen = a->family == 4 ? 4 : 16;
		if (len - k < iplen + 2)
			return -CN_ETRUNC;
		memcpy(a->ip, in + k, iplen), k += iplen;
		a->port = (uint16_t)(in[k] << 8 | in[k + 1]), k += 2;
	}
	if (len - k < NET_SIG_LEN)
		return -CN_ETRUNC;
	memcpy(rec->sig, in + k, NET_SIG_LEN), k += NET_SIG_LEN;
	if (k != len)
		return -CN_ETRAILING;
	return net_locator_verify(rec);
}

static int same_content(const struct net_locator *a, const struct net_locator *b)
{
	if (a->n_addrs != b->n_addrs)
		return 0;
	for (unsigned i = 0; i < a->n_addrs; i++)
		if (!net_addr_equal(&a->addrs[i], &b->addrs[i]))
			return 0;
	return 1;
}

int net_locator_merge(struct net_locator *have, const struct net_locator *incoming, int *changed)
{
	*changed = 0;
	if (memcmp(have->pk, incoming->pk, NET_PK_LEN) != 0)
		return -CN_EINVAL;
	if (incoming->seq < have->seq)
		return 0;
	if (incoming->seq == have->seq)
		/* Two signed records for one sequence number: the owner (or a
		 * thief of its key) told peers different things. Keep the first. */
		return same_content(have, incoming) ? 0 : -CN_EEXIST;
	*have = *incoming;
	*changed = 1;
	return 0;
}
