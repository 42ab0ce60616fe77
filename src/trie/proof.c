/* proof.c — Merkle proofs: building them from a trie and checking them
 * against a root hash. The checker trusts nothing in the proof: each node is
 * found by the hash its parent names, parsed with the strict RLP decoder, and
 * every step consumes at least one key nibble, so a proof can neither loop
 * nor send the walk outside the bytes it came in. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/rlp.h"
#include "crypto/crypto.h"
#include "trie/trie_int.h"

void trie_proof_free(struct trie_proof *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->nodes[i]);
	free(p->nodes);
	free(p->lens);
	memset(p, 0, sizeof *p);
}

static int proof_add(struct trie *t, struct trie_proof *p, const struct trie_node *n)
{
	size_t len;
	int rc = trie_encode_node(t, n, &len);
	if (rc)
		return rc;
	uint8_t **nodes = realloc(p->nodes, (p->n + 1) * sizeof *nodes);
	if (!nodes)
		return -CN_ENOMEM;
	p->nodes = nodes;
	size_t *lens = realloc(p->lens, (p->n + 1) * sizeof *lens);
	if (!lens)
		return -CN_ENOMEM;
	p->lens = lens;
	if (!(nodes[p->n] = malloc(len)))
		return -CN_ENOMEM;
	memcpy(nodes[p->n], t->scratch, len);
	lens[p->n++] = len;
	return 0;
}

int trie_prove(struct trie *t, const uint8_t *key, size_t klen, struct trie_proof *out)
{
	uint8_t root[32];
	memset(out, 0, sizeof *out);
	int rc = trie_root(t, root);
	if (rc)
		return rc;
	const uint8_t *k;
	size_t kn;
	if ((rc = trie_key_nibbles(t, key, klen, &k, &kn)))
		return rc;
	struct trie_node *n = t->root;
	int is_root = 1;
	while (n) {
		if ((rc = trie_resolve(t, n)))
			goto fail;
		/* Embedded nodes travel inside their parent's encoding. */
		if ((is_root || n->ref_len == 32) && (rc = proof_add(t, out, n)))
			goto fail;
		is_root = 0;
		if (n->type == NODE_LEAF)
			break;
		if (n->type == NODE_EXT) {
			if (kn < n->u.ext.plen || memcmp(n->u.ext.path, k, n->u.ext.plen) != 0)
				break;
			k += n->u.ext.plen;
			kn -= n->u.ext.plen;
			n = n->u.ext.child;
		} else {
			if (kn == 0)
				break;
			n = n->u.br.child[*k];
			k++;
			kn--;
		}
	}
	return 0;
fail:
	trie_proof_free(out);
	return rc;
}

int trie_proof_encode(const struct trie_proof *p, uint8_t **out, size_t *out_len)
{
	struct rlp_enc e;
	rlp_enc_init(&e);
	rlp_list_begin(&e);
	for (size_t i = 0; i < p->n; i++)
		rlp_put_bytes(&e, p->nodes[i], p->lens[i]);
	rlp_list_end(&e);
	int rc = rlp_enc_finish(&e, out, out_len);
	rlp_enc_free(&e);
	return rc;
}

/* Compares the hex-prefix path of a leaf or extension with the key's next
 * nibbles without decoding it into a buffer. Returns the path length in
 * nibbles through plen and whether it is a leaf. */
static int hp_view(const struct rlp_item *it, size_t *plen, int *leaf, int *odd)
{
	if (it->is_list || it->len == 0)
		return -CN_EINVAL;
	uint8_t flag = it->ptr[0] >> 4;
	if (flag > 3)
		return -CN_EINVAL;
	*odd = flag & 1;
	if (!*odd && (it->ptr[0] & 15))
		return -CN_ENONCANON;
	*leaf = flag >> 1;
	*plen = 2 * (it->len - 1) + (size_t)*odd;
	return 0;
}

static uint8_t hp_nibble(const struct rlp_item *it, int odd, size_t i)
{
	size_t j = i + (odd ? 1 : 2);   /* index in the nibbles of the string */
	uint8_t b = it->ptr[j / 2];
	return j & 1 ? b & 15 : b >> 4;
}

static uint8_t key_nibble(const uint8_t *key, size_t i)
{
	return i & 1 ? key[i / 2] & 15 : key[i / 2] >> 4;
}

int trie_verify_proof(const uint8_t root[TRIE_HASH_LEN], const uint8_t *key, size_t klen,
                      const struct trie_blob *nodes, size_t n,
                      const uint8_t **val, size_t *vlen)
{
	if (klen > SIZE_MAX / 2 || (n && !nodes))
		return -CN_EINVAL;
	/* The empty trie holds no key; its root (the hash of 0x80) names no node. */
	if (memcmp(root, trie_empty_root, 32) == 0)
		return -CN_ENOTFOUND;
	uint8_t (*hashes)[32] = malloc((n ? n : 1) * sizeof *hashes);
	if (!hashes)
		return -CN_ENOMEM;
	for (size_t i = 0; i < n; i++)
		keccak256(nodes[i].ptr, nodes[i].len, hashes[i]);

	const size_t kn = 2 * klen;
	size_t pos = 0;             /* key nibbles consumed */
	const uint8_t *want = root; /* hash of the next node to look up */
	struct rlp_item node;
	int rc;
	for (;;) {
		if (want) {
			size_t i = 0;
			while (i < n && memcmp(hashes[i], want, 32) != 0)
				i++;
			if (i == n) {
				rc = -CN_EVERIFY;
				break;
			}
			if ((rc = rlp_validate(nodes[i].ptr, nodes[i].len)) ||
			    (rc = rlp_decode_one(nodes[i].ptr, nodes[i].len, &node)))
				break;
		}
		struct rlp_item it[17];
		struct rlp_cursor c;
		size_t cnt = 0;
		if ((rc = rlp_enter(&node, &c)))
			break;
		while (!rlp_at_end(&c) && cnt < 17)
			if ((rc = rlp_next(&c, &it[cnt++])))
				break;
		if (rc)
			break;
		if (!rlp_at_end(&c) || (cnt != 2 && cnt != 17)) {
			rc = -CN_EINVAL;
			break;
		}
		const struct rlp_item *ref;
		if (cnt == 2) {
			size_t plen;
			int leaf, odd, match;
			if ((rc = hp_view(&it[0], &plen, &leaf, &odd)))
				break;
			match = plen <= kn - pos;
			for (size_t j = 0; match && j < plen; j++)
				match = hp_nibble(&it[0], odd, j) == key_nibble(key, pos + j);
			if (leaf) {
				if (it[1].is_list || it[1].len == 0) {
					rc = -CN_EINVAL;
					break;
				}
				if (!match || pos + plen != kn) {
					rc = -CN_ENOTFOUND;
					break;
				}
				*val = it[1].ptr;
				*vlen = it[1].len;
				rc = 0;
				break;
			}
			if (plen == 0) {
				rc = -CN_EINVAL;    /* an empty extension would not advance */
				break;
			}
			if (!match) {
				rc = -CN_ENOTFOUND;
				break;
			}
			pos += plen;
			ref = &it[1];
		} else {
			if (it[16].is_list) {
				rc = -CN_EINVAL;
				break;
			}
			if (pos == kn) {
				if (it[16].len == 0) {
					rc = -CN_ENOTFOUND;
					break;
				}
				*val = it[16].ptr;
				*vlen = it[16].len;
				rc = 0;
				break;
			}
			ref = &it[key_nibble(key, pos)];
			pos++;
		}
		/* Follow the reference: absent, by hash, or embedded. */
		if (!ref->is_list && ref->len == 0) {
			rc = -CN_ENOTFOUND;
			break;
		}
		if (!ref->is_list && ref->len == 32) {
			want = ref->ptr;
		} else if (ref->is_list && ref->raw_len < 32) {
			want = NULL;
			node = *ref;
		} else {
			rc = -CN_EINVAL;
			break;
		}
	}
	free(hashes);
	return rc;
}

int trie_verify_proof_rlp(const uint8_t root[TRIE_HASH_LEN], const uint8_t *key, size_t klen,
                          const uint8_t *proof, size_t proof_len,
                          const uint8_t **val, size_t *vlen)
{
	struct rlp_item top, it;
	struct rlp_cursor c;
	size_t n;
	int rc = rlp_decode_one(proof, proof_len, &top);
	if (rc || (rc = rlp_list_count(&top, &n)))
		return rc;
	struct trie_blob *blobs = malloc((n ? n : 1) * sizeof *blobs);
	if (!blobs)
		return -CN_ENOMEM;
	rlp_enter(&top, &c);
	for (size_t i = 0; i < n; i++) {
		if ((rc = rlp_next(&c, &it)) || (rc = rlp_item_bytes(&it, &blobs[i].ptr, &blobs[i].len))) {
			free(blobs);
			return rc;
		}
	}
	rc = trie_verify_proof(root, key, klen, blobs, n, val, vlen);
	free(blobs);
	return rc;
}
