/* iter.c — ordered iteration. Keys order as their nibble strings, a prefix
 * before its extensions, so a branch's own value comes before its children.
 * Each step searches down from the root for the neighbour of the current
 * key: O(depth) per step, and the trie may change between steps. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "trie/trie_int.h"

/* The nibble path being built, with the value found at its end. */
struct walk {
	struct trie *t;
	uint8_t *nib;
	size_t len, cap;
	const uint8_t *val;
	size_t vlen;
};

static int push(struct walk *w, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 64;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *q = realloc(w->nib, cap);
		if (!q)
			return -CN_ENOMEM;
		w->nib = q;
		w->cap = cap;
	}
	memcpy(w->nib + w->len, p, n);
	w->len += n;
	return 0;
}

/* Lexicographic comparison of nibble strings; a proper prefix is smaller. */
static int nib_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

/* Each search returns 1 when it found a key (path appended to w), 0 when the
 * subtree has none (w unchanged), or a negative error. */
static int edge(struct walk *w, struct trie_node *n, int last);

static int edge_child(struct walk *w, struct trie_node *c, uint8_t i, int last)
{
	size_t mark = w->len;
	int rc = push(w, &i, 1);
	if (rc)
		return rc;
	if ((rc = edge(w, c, last)) <= 0)
		w->len = mark;
	return rc;
}

/* The smallest (last = 0) or largest (last = 1) key of a subtree. */
static int edge(struct walk *w, struct trie_node *n, int last)
{
	int rc;
	if (!n)
		return 0;
	if ((rc = trie_resolve(w->t, n)))
		return rc;
	size_t mark = w->len;
	switch (n->type) {
	case NODE_LEAF:
		if ((rc = push(w, n->u.leaf.path, n->u.leaf.plen)))
			return rc;
		w->val = n->u.leaf.val;
		w->vlen = n->u.leaf.vlen;
		return 1;
	case NODE_EXT:
		if ((rc = push(w, n->u.ext.path, n->u.ext.plen)))
			return rc;
		if ((rc = edge(w, n->u.ext.child, last)) <= 0)
			w->len = mark;
		return rc;
	default:
		if (!last && n->u.br.vlen) {
			w->val = n->u.br.val;
			w->vlen = n->u.br.vlen;
			return 1;
		}
		for (int j = 0; j < 16; j++) {
			int i = last ? 15 - j : j;
			if (n->u.br.child[i] && (rc = edge_child(w, n->u.br.child[i], (uint8_t)i, last)))
				return rc;
		}
		if (last && n->u.br.vlen) {
			w->val = n->u.br.val;
			w->vlen = n->u.br.vlen;
			return 1;
		}
		return 0;
	}
}

/* The smallest key above k (dir = +1) or the largest below it (dir = -1). */
static int beside(struct walk *w, struct trie_node *n, const uint8_t *k, size_t kn, int dir)
{
	int rc;
	if (!n)
		return 0;
	if ((rc = trie_resolve(w->t, n)))
		return rc;
	size_t mark = w->len;
	const int last = dir < 0;
	switch (n->type) {
	case NODE_LEAF: {
		int c = nib_cmp(n->u.leaf.path, n->u.leaf.plen, k, kn);
		if (c * dir <= 0)
			return 0;
		if ((rc = push(w, n->u.leaf.path, n->u.leaf.plen)))
			return rc;
		w->val = n->u.leaf.val;
		w->vlen = n->u.leaf.vlen;
		return 1;
	}
	case NODE_EXT: {
		size_t plen = n->u.ext.plen;
		if ((rc = push(w, n->u.ext.path, plen)))
			return rc;
		if (kn >= plen && memcmp(n->u.ext.path, k, plen) == 0)
			rc = beside(w, n->u.ext.child, k + plen, kn - plen, dir);
		else if (nib_cmp(n->u.ext.path, plen, k, kn) * dir > 0)
			rc = edge(w, n->u.ext.child, last);   /* whole subtree is beyond k */
		else
			rc = 0;
		if (rc <= 0)
			w->len = mark;
		return rc;
	}
	default:
		if (kn == 0) {
			/* k is this branch's own key: everything below is larger. */
			if (dir < 0)
				return 0;
			for (int i = 0; i < 16; i++)
				if (n->u.br.child[i] && (rc = edge_child(w, n->u.br.child[i], (uint8_t)i, 0)))
					return rc;
			return 0;
		}
		if (n->u.br.child[k[0]]) {
			uint8_t i = k[0];
			if ((rc = push(w, &i, 1)))
				return rc;
			if ((rc = beside(w, n->u.br.child[i], k + 1, kn - 1, dir)) != 0) {
				if (rc < 0)
					w->len = mark;
				return rc;
			}
			w->len = mark;
		}
		for (int i = k[0] + dir; i >= 0 && i < 16; i += dir)
			if (n->u.br.child[i] && (rc = edge_child(w, n->u.br.child[i], (uint8_t)i, last)))
				return rc;
		if (dir < 0 && n->u.br.vlen) {
			w->val = n->u.br.val;
			w->vlen = n->u.br.vlen;
			return 1;
		}
		return 0;
	}
}

void trie_iter_init(struct trie_iter *it, struct trie *t)
{
	memset(it, 0, sizeof *it);
	it->t = t;
	it->at_start = 1;
}

void trie_iter_free(struct trie_iter *it)
{
	free(it->key);
	free(it->nib);
	memset(it, 0, sizeof *it);
}

static int set_key(struct trie_iter *it, const uint8_t *key, size_t klen)
{
	uint8_t *k = malloc(klen ? klen : 1);
	if (!k)
		return -CN_ENOMEM;
	if (klen)
		memcpy(k, key, klen);
	free(it->key);
	it->key = k;
	it->klen = klen;
	return 0;
}

int trie_iter_seek(struct trie_iter *it, const uint8_t *key, size_t klen)
{
	int rc = set_key(it, key, klen);
	if (rc)
		return rc;
	it->at_start = 0;
	it->val = NULL;
	it->vlen = 0;
	return 0;
}

static int step(struct trie_iter *it, int dir)
{
	if (it->at_start && dir < 0)
		return -CN_ENOTFOUND;
	struct walk w = { .t = it->t, .nib = it->nib, .cap = it->ncap };
	uint8_t *k = NULL;
	int rc;
	if (it->at_start) {
		rc = edge(&w, it->t->root, 0);
	} else {
		if (it->klen > SIZE_MAX / 2 || !(k = malloc(2 * it->klen + 1)))
			return -CN_ENOMEM;
		trie_to_nibbles(it->key, it->klen, k);
		rc = beside(&w, it->t->root, k, 2 * it->klen, dir);
		free(k);
	}
	it->nib = w.nib;
	it->ncap = w.cap;
	if (rc < 0)
		return rc;
	if (rc == 0)
		return -CN_ENOTFOUND;
	if (w.len & 1)
		return -CN_EINVAL;          /* a value at half a byte: not from byte keys */
	uint8_t *bytes = malloc(w.len / 2 + 1);
	if (!bytes)
		return -CN_ENOMEM;
	for (size_t i = 0; i < w.len / 2; i++)
		bytes[i] = (uint8_t)(w.nib[2 * i] << 4 | w.nib[2 * i + 1]);
	free(it->key);
	it->key = bytes;
	it->klen = w.len / 2;
	it->val = w.val;
	it->vlen = w.vlen;
	it->at_start = 0;
	return 0;
}

int trie_iter_next(struct trie_iter *it)
{
	return step(it, 1);
}

int trie_iter_prev(struct trie_iter *it)
{
	return step(it, -1);
}
