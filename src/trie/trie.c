/* trie.c — the in-memory node tree: lookup, insert, delete, hashing, commit,
 * and loading nodes from the db. */
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/err.h"
#include "codec/rlp.h"
#include "crypto/crypto.h"
#include "trie/trie_int.h"

const uint8_t trie_empty_root[TRIE_HASH_LEN] = {
	0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
	0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
};

/* ---- nodes -------------------------------------------------------------- */

static struct trie_node *node_new(uint8_t type)
{
	struct trie_node *n = calloc(1, sizeof *n);
	if (n) {
		n->type = type;
		n->dirty = 1;
	}
	return n;
}

static void node_free(struct trie_node *n)
{
	if (!n)
		return;
	switch (n->type) {
	case NODE_LEAF:
		free(n->u.leaf.path);
		free(n->u.leaf.val);
		break;
	case NODE_EXT:
		free(n->u.ext.path);
		node_free(n->u.ext.child);
		break;
	case NODE_BRANCH:
		for (int i = 0; i < 16; i++)
			node_free(n->u.br.child[i]);
		free(n->u.br.val);
		break;
	}
	free(n);
}

static void touch(struct trie_node *n)
{
	n->ref_len = 0;
	n->dirty = 1;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *q = malloc(len ? len : 1);
	if (q && len)
		memcpy(q, p, len);
	return q;
}

static struct trie_node *leaf_new(const uint8_t *path, size_t plen, const uint8_t *val, size_t vlen)
{
	struct trie_node *n = node_new(NODE_LEAF);
	if (!n)
		return NULL;
	n->u.leaf.path = dup_bytes(path, plen);
	n->u.leaf.val = dup_bytes(val, vlen);
	if (!n->u.leaf.path || !n->u.leaf.val) {
		node_free(n);
		return NULL;
	}
	n->u.leaf.plen = plen;
	n->u.leaf.vlen = vlen;
	return n;
}

static struct trie_node *ext_new(const uint8_t *path, size_t plen, struct trie_node *child)
{
	struct trie_node *n = node_new(NODE_EXT);
	if (!n)
		return NULL;
	n->u.ext.path = dup_bytes(path, plen);
	if (!n->u.ext.path) {
		free(n);
		return NULL;
	}
	n->u.ext.plen = plen;
	n->u.ext.child = child;
	return n;
}

/* Leaves and extensions share the path fields' layout. */
static uint8_t **path_of(struct trie_node *n, size_t **plen)
{
	if (n->type == NODE_LEAF) {
		*plen = &n->u.leaf.plen;
		return &n->u.leaf.path;
	}
	*plen = &n->u.ext.plen;
	return &n->u.ext.path;
}

/* Drops the first `drop` nibbles of a leaf's or extension's path. */
static void path_drop(struct trie_node *n, size_t drop)
{
	size_t *plen;
	uint8_t **p = path_of(n, &plen);
	memmove(*p, *p + drop, *plen - drop);
	*plen -= drop;
	touch(n);
}

/* Puts prefix in front of a leaf's or extension's path. */
static int path_prepend(struct trie_node *n, const uint8_t *prefix, size_t len)
{
	size_t *plen;
	uint8_t **p = path_of(n, &plen);
	uint8_t *q = malloc(*plen + len);
	if (!q)
		return -CN_ENOMEM;
	memcpy(q, prefix, len);
	memcpy(q + len, *p, *plen);
	free(*p);
	*p = q;
	*plen += len;
	touch(n);
	return 0;
}

static size_t prefix_len(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen, i = 0;
	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* ---- nibbles and hex-prefix --------------------------------------------- */

void trie_to_nibbles(const uint8_t *in, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = in[i] >> 4;
		out[2 * i + 1] = in[i] & 15;
	}
}

int trie_key_nibbles(struct trie *t, const uint8_t *key, size_t klen, const uint8_t **nib, size_t *nlen)
{
	uint8_t h[32];
	if (t->flags & TRIE_SECURE) {
		keccak256(key, klen, h);
		key = h;
		klen = 32;
	}
	if (klen > TRIE_MAX_KEY_LEN)
		return -CN_ELIMIT;
	/* One spare byte keeps the buffer non-NULL for the empty key. */
	if (2 * klen + 1 > t->nib_cap) {
		uint8_t *q = realloc(t->nib, 2 * klen + 1);
		if (!q)
			return -CN_ENOMEM;
		t->nib = q;
		t->nib_cap = 2 * klen + 1;
	}
	trie_to_nibbles(key, klen, t->nib);
	*nib = t->nib;
	*nlen = 2 * klen;
	return 0;
}

/* Hex-prefix: the first nibble holds 2 for a leaf plus 1 for an odd path;
 * an odd path's first nibble shares the first byte, an even one gets a zero
 * pad nibble. Writes 1 + plen/2 bytes. */
static size_t hp_encode(const uint8_t *path, size_t plen, int leaf, uint8_t *out)
{
	uint8_t flag = (uint8_t)((leaf ? 2 : 0) + (plen & 1));
	size_t i = 0, o = 1;
	if (plen & 1)
		out[0] = (uint8_t)(flag << 4 | path[i++]);
	else
		out[0] = (uint8_t)(flag << 4);
	for (; i < plen; i += 2)
		out[o++] = (uint8_t)(path[i] << 4 | path[i + 1]);
	return o;
}

int trie_hp_decode(const uint8_t *hp, size_t len, uint8_t *out, size_t *nlen, int *is_leaf)
{
	if (len == 0)
		return -CN_EINVAL;
	uint8_t flag = hp[0] >> 4;
	if (flag > 3)
		return -CN_EINVAL;
	size_t n = 0;
	if (flag & 1)
		out[n++] = hp[0] & 15;
	else if (hp[0] & 15)
		return -CN_ENONCANON;   /* the pad nibble must be zero */
	trie_to_nibbles(hp + 1, len - 1, out + n);
	*nlen = n + 2 * (len - 1);
	*is_leaf = flag >> 1;
	return 0;
}

/* ---- loading nodes from the db ------------------------------------------ */

static int decode_node(const uint8_t *enc, size_t len, struct trie_node *into);

/* A child reference inside a node: empty, a hash, or an embedded node. */
static int decode_ref(const struct rlp_item *it, struct trie_node **out)
{
	*out = NULL;
	if (!it->is_list && it->len == 0)
		return 0;
	struct trie_node *c = node_new(NODE_HASH);
	if (!c)
		return -CN_ENOMEM;
	c->dirty = 0;
	if (!it->is_list && it->len == 32) {
		memcpy(c->ref, it->ptr, 32);
		c->ref_len = 32;
	} else if (it->is_list && it->raw_len < 32) {
		int rc = decode_node(it->raw, it->raw_len, c);
		if (rc) {
			node_free(c);
			return rc;
		}
		memcpy(c->ref, it->raw, it->raw_len);
		c->ref_len = (uint8_t)it->raw_len;
	} else {
		free(c);
		return -CN_EINVAL;
	}
	*out = c;
	return 0;
}

/* Fills `into` (a NODE_HASH stub, whose ref is kept) from an encoding. */
static int decode_node(const uint8_t *enc, size_t len, struct trie_node *into)
{
	struct rlp_item top, it[17];
	struct rlp_cursor c;
	int rc = rlp_decode_one(enc, len, &top);
	if (rc)
		return rc;
	if ((rc = rlp_enter(&top, &c)))
		return rc;
	size_t n = 0;
	while (!rlp_at_end(&c)) {
		if (n == 17)
			return -CN_EINVAL;
		if ((rc = rlp_next(&c, &it[n++])))
			return rc;
	}
	if (n == 2) {
		if (it[0].is_list || it[0].len == 0 || it[0].len > SIZE_MAX / 2)
			return -CN_EINVAL;
		uint8_t *path = malloc(2 * it[0].len);
		size_t plen;
		int leaf;
		if (!path)
			return -CN_ENOMEM;
		if ((rc = trie_hp_decode(it[0].ptr, it[0].len, path, &plen, &leaf))) {
			free(path);
			return rc;
		}
		if (leaf) {
			if (it[1].is_list || it[1].len == 0) {
				free(path);
				return -CN_EINVAL;
			}
			uint8_t *val = dup_bytes(it[1].ptr, it[1].len);
			if (!val) {
				free(path);
				return -CN_ENOMEM;
			}
			into->type = NODE_LEAF;
			into->u.leaf.path = path;
			into->u.leaf.plen = plen;
			into->u.leaf.val = val;
			into->u.leaf.vlen = it[1].len;
			return 0;
		}
		struct trie_node *child;
		if (plen == 0 || (rc = decode_ref(&it[1], &child)) || !child) {
			free(path);
			return rc ? rc : -CN_EINVAL;
		}
		into->type = NODE_EXT;
		into->u.ext.path = path;
		into->u.ext.plen = plen;
		into->u.ext.child = child;
		return 0;
	}
	if (n != 17 || it[16].is_list)
		return -CN_EINVAL;
	struct trie_node *kids[16];
	for (int i = 0; i < 16; i++) {
		if ((rc = decode_ref(&it[i], &kids[i]))) {
			while (i-- > 0)
				node_free(kids[i]);
			return rc;
		}
	}
	uint8_t *val = NULL;
	if (it[16].len && !(val = dup_bytes(it[16].ptr, it[16].len))) {
		for (int i = 0; i < 16; i++)
			node_free(kids[i]);
		return -CN_ENOMEM;
	}
	into->type = NODE_BRANCH;
	memcpy(into->u.br.child, kids, sizeof kids);
	into->u.br.val = val;
	into->u.br.vlen = it[16].len;
	return 0;
}

int trie_resolve(struct trie *t, struct trie_node *n)
{
	if (n->type != NODE_HASH)
		return 0;
	if (!t->db.get)
		return -CN_ENOTFOUND;
	const uint8_t *enc;
	size_t len;
	int rc = t->db.get(t->db.ctx, n->ref, &enc, &len);
	if (rc)
		return rc;
	/* The db is ours, but a corrupted one must not become a wrong trie. */
	uint8_t h[32];
	keccak256(enc, len, h);
	if (memcmp(h, n->ref, 32) != 0)
		return -CN_EVERIFY;
	return decode_node(enc, len, n);
}

/* ---- lifecycle ---------------------------------------------------------- */

int trie_init(struct trie *t, const struct trie_db *db, const uint8_t *root, unsigned flags)
{
	memset(t, 0, sizeof *t);
	t->flags = flags;
	if (db)
		t->db = *db;
	if (root && memcmp(root, trie_empty_root, 32) != 0) {
		if (!db)
			return -CN_ENOTFOUND;
		if (!(t->root = node_new(NODE_HASH)))
			return -CN_ENOMEM;
		memcpy(t->root->ref, root, 32);
		t->root->ref_len = 32;
		t->root->dirty = 0;
	}
	return 0;
}

void trie_free(struct trie *t)
{
	node_free(t->root);
	free(t->scratch);
	free(t->nib);
	memset(t, 0, sizeof *t);
}

/* ---- lookup ------------------------------------------------------------- */

int trie_get(struct trie *t, const uint8_t *key, size_t klen, const uint8_t **val, size_t *vlen)
{
	const uint8_t *k;
	size_t kn;
	int rc = trie_key_nibbles(t, key, klen, &k, &kn);
	if (rc)
		return rc;
	struct trie_node *n = t->root;
	for (;;) {
		if (!n)
			return -CN_ENOTFOUND;
		if ((rc = trie_resolve(t, n)))
			return rc;
		switch (n->type) {
		case NODE_LEAF:
			if (n->u.leaf.plen != kn || memcmp(n->u.leaf.path, k, kn) != 0)
				return -CN_ENOTFOUND;
			*val = n->u.leaf.val;
			*vlen = n->u.leaf.vlen;
			return 0;
		case NODE_EXT:
			if (kn < n->u.ext.plen || memcmp(n->u.ext.path, k, n->u.ext.plen) != 0)
				return -CN_ENOTFOUND;
			k += n->u.ext.plen;
			kn -= n->u.ext.plen;
			n = n->u.ext.child;
			break;
		default:
			if (kn == 0) {
				if (!n->u.br.vlen)
					return -CN_ENOTFOUND;
				*val = n->u.br.val;
				*vlen = n->u.br.vlen;
				return 0;
			}
			n = n->u.br.child[*k];
			k++;
			kn--;
		}
	}
}

/* ---- insert ------------------------------------------------------------- */

static int insert(struct trie *t, struct trie_node **np, const uint8_t *k, size_t kn,
                  const uint8_t *val, size_t vlen, int *changed)
{
	struct trie_node *n = *np;
	int rc;
	if (!n) {
		if (!(*np = leaf_new(k, kn, val, vlen)))
			return -CN_ENOMEM;
		*changed = 1;
		return 0;
	}
	if ((rc = trie_resolve(t, n)))
		return rc;

	if (n->type == NODE_BRANCH) {
		if (kn == 0) {
			if (n->u.br.vlen == vlen && memcmp(n->u.br.val, val, vlen) == 0)
				return 0;
			uint8_t *v = dup_bytes(val, vlen);
			if (!v)
				return -CN_ENOMEM;
			free(n->u.br.val);
			n->u.br.val = v;
			n->u.br.vlen = vlen;
			*changed = 1;
		} else if ((rc = insert(t, &n->u.br.child[*k], k + 1, kn - 1, val, vlen, changed))) {
			return rc;
		}
		if (*changed)
			touch(n);
		return 0;
	}

	size_t *plen;
	uint8_t *path = *path_of(n, &plen);
	size_t m = prefix_len(path, *plen, k, kn);

	if (n->type == NODE_LEAF && m == *plen && m == kn) {
		if (n->u.leaf.vlen == vlen && memcmp(n->u.leaf.val, val, vlen) == 0)
			return 0;
		uint8_t *v = dup_bytes(val, vlen);
		if (!v)
			return -CN_ENOMEM;
		free(n->u.leaf.val);
		n->u.leaf.val = v;
		n->u.leaf.vlen = vlen;
		touch(n);
		*changed = 1;
		return 0;
	}
	if (n->type == NODE_EXT && m == *plen) {
		if ((rc = insert(t, &n->u.ext.child, k + m, kn - m, val, vlen, changed)))
			return rc;
		if (*changed)
			touch(n);
		return 0;
	}

	/* The paths diverge after m nibbles: a branch goes there, behind an
	 * extension holding the shared part if there is one. Build everything
	 * new before touching n so that a failed allocation leaves n intact. */
	struct trie_node *br = node_new(NODE_BRANCH), *fresh = NULL, *top = br;
	if (!br)
		return -CN_ENOMEM;
	if (m < kn && !(fresh = leaf_new(k + m + 1, kn - m - 1, val, vlen)))
		goto nomem;
	if (m == kn && !(br->u.br.val = dup_bytes(val, vlen)))
		goto nomem;
	if (m > 0 && !(top = ext_new(k, m, br)))
		goto nomem;
	if (m == kn)
		br->u.br.vlen = vlen;
	else
		br->u.br.child[k[m]] = fresh;

	if (n->type == NODE_LEAF && m == *plen) {
		/* The old key ends where the branch starts: it becomes the value. */
		br->u.br.val = n->u.leaf.val;
		br->u.br.vlen = n->u.leaf.vlen;
		free(n->u.leaf.path);
		free(n);
	} else if (n->type == NODE_EXT && m + 1 == *plen) {
		br->u.br.child[path[m]] = n->u.ext.child;
		free(n->u.ext.path);
		free(n);
	} else {
		uint8_t idx = path[m];
		path_drop(n, m + 1);
		br->u.br.child[idx] = n;
	}
	*np = top;
	*changed = 1;
	return 0;
nomem:
	node_free(fresh);
	node_free(br);
	return -CN_ENOMEM;
}

/* ---- delete ------------------------------------------------------------- */

/* After a deletion below an extension, merges it with a child that became a
 * leaf or extension (an extension may only point at a branch). */
static int ext_fixup(struct trie_node **np)
{
	struct trie_node *n = *np, *c = n->u.ext.child;
	if (!c) {
		free(n->u.ext.path);
		free(n);
		*np = NULL;
		return 0;
	}
	if (c->type == NODE_LEAF || c->type == NODE_EXT) {
		int rc = path_prepend(c, n->u.ext.path, n->u.ext.plen);
		if (rc)
			return rc;
		free(n->u.ext.path);
		free(n);
		*np = c;
		return 0;
	}
	touch(n);
	return 0;
}

/* After a deletion in a branch, collapses it if one entry is left. */
static int branch_fixup(struct trie *t, struct trie_node **np)
{
	struct trie_node *n = *np;
	int count = n->u.br.vlen ? 1 : 0, last = -1, rc;
	for (int i = 0; i < 16; i++)
		if (n->u.br.child[i]) {
			count++;
			last = i;
		}
	touch(n);
	if (count >= 2)
		return 0;
	if (count == 0) {
		node_free(n);
		*np = NULL;
		return 0;
	}
	if (last < 0) {
		struct trie_node *l = node_new(NODE_LEAF);
		if (!l || !(l->u.leaf.path = malloc(1))) {
			free(l);
			return -CN_ENOMEM;
		}
		l->u.leaf.val = n->u.br.val;
		l->u.leaf.vlen = n->u.br.vlen;
		free(n);
		*np = l;
		return 0;
	}
	struct trie_node *c = n->u.br.child[last];
	if ((rc = trie_resolve(t, c)))
		return rc;
	uint8_t nib = (uint8_t)last;
	if (c->type == NODE_LEAF || c->type == NODE_EXT) {
		if ((rc = path_prepend(c, &nib, 1)))
			return rc;
		free(n->u.br.val);
		free(n);
		*np = c;
		return 0;
	}
	struct trie_node *e = ext_new(&nib, 1, c);
	if (!e)
		return -CN_ENOMEM;
	free(n->u.br.val);
	free(n);
	*np = e;
	return 0;
}

static int del(struct trie *t, struct trie_node **np, const uint8_t *k, size_t kn, int *changed)
{
	struct trie_node *n = *np;
	int rc;
	if (!n)
		return 0;
	if ((rc = trie_resolve(t, n)))
		return rc;
	switch (n->type) {
	case NODE_LEAF:
		if (n->u.leaf.plen == kn && memcmp(n->u.leaf.path, k, kn) == 0) {
			node_free(n);
			*np = NULL;
			*changed = 1;
		}
		return 0;
	case NODE_EXT:
		if (kn < n->u.ext.plen || memcmp(n->u.ext.path, k, n->u.ext.plen) != 0)
			return 0;
		if ((rc = del(t, &n->u.ext.child, k + n->u.ext.plen, kn - n->u.ext.plen, changed)))
			return rc;
		return *changed ? ext_fixup(np) : 0;
	default:
		if (kn == 0) {
			if (!n->u.br.vlen)
				return 0;
			free(n->u.br.val);
			n->u.br.val = NULL;
			n->u.br.vlen = 0;
			*changed = 1;
		} else if ((rc = del(t, &n->u.br.child[*k], k + 1, kn - 1, changed))) {
			return rc;
		}
		return *changed ? branch_fixup(t, np) : 0;
	}
}

int trie_put(struct trie *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	if (vlen == 0)
		return trie_delete(t, key, klen);
	const uint8_t *k;
	size_t kn;
	int changed = 0, rc = trie_key_nibbles(t, key, klen, &k, &kn);
	return rc ? rc : insert(t, &t->root, k, kn, val, vlen, &changed);
}

int trie_delete(struct trie *t, const uint8_t *key, size_t klen)
{
	const uint8_t *k;
	size_t kn;
	int changed = 0, rc = trie_key_nibbles(t, key, klen, &k, &kn);
	return rc ? rc : del(t, &t->root, k, kn, &changed);
}

/* ---- hashing and commit ------------------------------------------------- */

static size_t ref_size(const struct trie_node *c)
{
	if (!c)
		return 1;
	return c->ref_len == 32 ? 33 : c->ref_len;
}

static size_t write_ref(uint8_t *o, const struct trie_node *c)
{
	if (!c) {
		*o = 0x80;
		return 1;
	}
	if (c->ref_len == 32) {
		*o = 0xa0;
		memcpy(o + 1, c->ref, 32);
		return 33;
	}
	memcpy(o, c->ref, c->ref_len);
	return c->ref_len;
}

static int scratch_reserve(struct trie *t, size_t need)
{
	if (need <= t->scratch_cap)
		return 0;
	size_t cap = t->scratch_cap ? t->scratch_cap : 1024;
	while (cap < need)
		cap *= 2;
	uint8_t *q = realloc(t->scratch, cap);
	if (!q)
		return -CN_ENOMEM;
	t->scratch = q;
	t->scratch_cap = cap;
	return 0;
}

int trie_encode_node(struct trie *t, const struct trie_node *n, size_t *len)
{
	size_t payload, hplen, vsize, need;
	const uint8_t *path = NULL, *val = NULL;
	size_t plen = 0, vlen = 0;
	int rc;
	switch (n->type) {
	case NODE_LEAF:
	case NODE_EXT:
		if (n->type == NODE_LEAF) {
			path = n->u.leaf.path, plen = n->u.leaf.plen;
			val = n->u.leaf.val, vlen = n->u.leaf.vlen;
		} else {
			path = n->u.ext.path, plen = n->u.ext.plen;
		}
		hplen = 1 + plen / 2;
		vsize = n->type == NODE_LEAF ? rlp_bytes_size(val, vlen) : ref_size(n->u.ext.child);
		/* Room for both headers at their largest, the node, and the
		 * hex-prefix bytes themselves, built at the tail first. */
		need = 9 + 9 + hplen + vsize + hplen;
		if ((rc = scratch_reserve(t, need)))
			return rc;
		{
			uint8_t *hp = t->scratch + need - hplen;
			hp_encode(path, plen, n->type == NODE_LEAF, hp);
			payload = rlp_bytes_size(hp, hplen) + vsize;
			uint8_t *o = t->scratch;
			o += rlp_write_list_header(o, payload);
			o += rlp_write_bytes(o, hp, hplen);
			if (n->type == NODE_LEAF)
				o += rlp_write_bytes(o, val, vlen);
			else
				o += write_ref(o, n->u.ext.child);
			*len = (size_t)(o - t->scratch);
		}
		return 0;
	case NODE_BRANCH:
		payload = rlp_bytes_size(n->u.br.val, n->u.br.vlen);
		if (!n->u.br.vlen)
			payload = 1;
		for (int i = 0; i < 16; i++)
			payload += ref_size(n->u.br.child[i]);
		if ((rc = scratch_reserve(t, payload + 9)))
			return rc;
		{
			uint8_t *o = t->scratch;
			o += rlp_write_list_header(o, payload);
			for (int i = 0; i < 16; i++)
				o += write_ref(o, n->u.br.child[i]);
			if (n->u.br.vlen)
				o += rlp_write_bytes(o, n->u.br.val, n->u.br.vlen);
			else
				*o++ = 0x80;
			*len = (size_t)(o - t->scratch);
		}
		return 0;
	}
	return -CN_ESTATE;
}

int trie_hash_node(struct trie *t, struct trie_node *n, int commit)
{
	int rc;
	if (n->type == NODE_HASH || (n->ref_len && (!commit || !n->dirty)))
		return 0;
	if (n->type == NODE_EXT) {
		if ((rc = trie_hash_node(t, n->u.ext.child, commit)))
			return rc;
	} else if (n->type == NODE_BRANCH) {
		for (int i = 0; i < 16; i++)
			if (n->u.br.child[i] && (rc = trie_hash_node(t, n->u.br.child[i], commit)))
				return rc;
	}
	size_t len;
	if ((rc = trie_encode_node(t, n, &len)))
		return rc;
	if (len < 32) {
		memcpy(n->ref, t->scratch, len);
		n->ref_len = (uint8_t)len;
	} else {
		keccak256(t->scratch, len, n->ref);
		n->ref_len = 32;
		if (commit && (rc = t->db.put(t->db.ctx, n->ref, t->scratch, len)))
			return rc;
	}
	if (commit)
		n->dirty = 0;
	return 0;
}

static int root_hash(struct trie *t, uint8_t out[TRIE_HASH_LEN], int commit)
{
	if (commit && !t->db.put)
		return -CN_ESTATE;
	if (!t->root) {
		memcpy(out, trie_empty_root, 32);
		return 0;
	}
	/* A root whose RLP is under 32 bytes is still hashed (and stored,
	 * so the trie can be reopened from its root hash). */
	int small_dirty = commit && t->root->dirty;
	int rc = trie_hash_node(t, t->root, commit);
	if (rc)
		return rc;
	if (t->root->ref_len == 32) {
		memcpy(out, t->root->ref, 32);
		return 0;
	}
	keccak256(t->root->ref, t->root->ref_len, out);
	if (small_dirty)
		return t->db.put(t->db.ctx, out, t->root->ref, t->root->ref_len);
	return 0;
}

int trie_root(struct trie *t, uint8_t out[TRIE_HASH_LEN])
{
	return root_hash(t, out, 0);
}

int trie_commit(struct trie *t, uint8_t out[TRIE_HASH_LEN])
{
	return root_hash(t, out, 1);
}

int trie_evict(struct trie *t)
{
	/* Every change touches the root, and commit cleans every node, so a
	 * clean root means nothing in memory is missing from the db. */
	if (!t->root || t->root->type == NODE_HASH)
		return 0;
	if (t->root->dirty)
		return -CN_ESTATE;
	uint8_t root[32];
	int rc = root_hash(t, root, 0);
	if (rc)
		return rc;
	struct trie_node *stub = node_new(NODE_HASH);
	if (!stub)
		return -CN_ENOMEM;
	memcpy(stub->ref, root, 32);
	stub->ref_len = 32;
	stub->dirty = 0;
	node_free(t->root);
	t->root = stub;
	return 0;
}

/* ---- list roots --------------------------------------------------------- */

size_t trie_index_key(uint64_t i, uint8_t out[9])
{
	uint8_t be[8];
	size_t n = 0;
	for (uint64_t v = i; v; v >>= 8)
		n++;
	store_be64(be, i);
	return rlp_write_bytes(out, be + 8 - n, n);
}

int trie_list_root(const struct trie_blob *items, size_t n, uint8_t out[TRIE_HASH_LEN])
{
	struct trie t;
	uint8_t key[9];
	int rc = trie_init(&t, NULL, NULL, 0);
	for (size_t i = 0; !rc && i < n; i++)
		rc = trie_put(&t, key, trie_index_key(i, key), items[i].ptr, items[i].len);
	if (!rc)
		rc = trie_root(&t, out);
	trie_free(&t);
	return rc;
}
