/* memdb.c — struct trie_db kept in memory: an open-addressing hash table
 * keyed by node hash. Node hashes are uniformly random, so their first bytes
 * index the table directly. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "trie/trie.h"

struct memdb_entry {
	uint8_t hash[TRIE_HASH_LEN];
	uint8_t *val;           /* NULL: empty slot */
	size_t len;
};

struct trie_memdb {
	struct memdb_entry *tab;
	size_t cap, count;      /* cap is a power of two */
};

static size_t slot_of(const uint8_t *hash, size_t cap)
{
	uint64_t h;
	memcpy(&h, hash, sizeof h);
	return (size_t)h & (cap - 1);
}

int trie_memdb_new(struct trie_memdb **out)
{
	struct trie_memdb *m = calloc(1, sizeof *m);
	if (!m)
		return -CN_ENOMEM;
	m->cap = 1024;
	m->tab = calloc(m->cap, sizeof *m->tab);
	if (!m->tab) {
		free(m);
		return -CN_ENOMEM;
	}
	*out = m;
	return 0;
}

void trie_memdb_free(struct trie_memdb *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->tab[i].val);
	free(m->tab);
	free(m);
}

size_t trie_memdb_count(const struct trie_memdb *m)
{
	return m->count;
}

static struct memdb_entry *find(struct memdb_entry *tab, size_t cap, const uint8_t *hash)
{
	for (size_t i = slot_of(hash, cap);; i = (i + 1) & (cap - 1))
		if (!tab[i].val || memcmp(tab[i].hash, hash, TRIE_HASH_LEN) == 0)
			return &tab[i];
}

static int memdb_get(void *ctx, const uint8_t hash[TRIE_HASH_LEN], const uint8_t **val, size_t *len)
{
	struct trie_memdb *m = ctx;
	struct memdb_entry *e = find(m->tab, m->cap, hash);
	if (!e->val)
		return -CN_ENOTFOUND;
	*val = e->val;
	*len = e->len;
	return 0;
}

static int memdb_put(void *ctx, const uint8_t hash[TRIE_HASH_LEN], const uint8_t *val, size_t len)
{
	struct trie_memdb *m = ctx;
	if ((m->count + 1) * 2 > m->cap) {
		size_t ncap = m->cap * 2;
		struct memdb_entry *nt = calloc(ncap, sizeof *nt);
		if (!nt)
			return -CN_ENOMEM;
		for (size_t i = 0; i < m->cap; i++)
			if (m->tab[i].val)
				*find(nt, ncap, m->tab[i].hash) = m->tab[i];
		free(m->tab);
		m->tab = nt;
		m->cap = ncap;
	}
	struct memdb_entry *e = find(m->tab, m->cap, hash);
	if (e->val)
		return 0;           /* content-addressed: same hash, same bytes */
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -CN_ENOMEM;
	if (len)
		memcpy(copy, val, len);
	memcpy(e->hash, hash, TRIE_HASH_LEN);
	e->val = copy;
	e->len = len;
	m->count++;
	return 0;
}

struct trie_db trie_memdb_db(struct trie_memdb *m)
{
	return (struct trie_db){ .ctx = m, .get = memdb_get, .put = memdb_put };
}
