/* arena.c — chunk list bump allocator. */
#include "base/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cn_arena_chunk {
	struct cn_arena_chunk *next;
	size_t cap;
	size_t off;
	alignas(max_align_t) unsigned char data[];
};

void cn_arena_init(struct cn_arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
	a->used = 0;
}

static struct cn_arena_chunk *new_chunk(size_t cap)
{
	if (cap > SIZE_MAX - sizeof(struct cn_arena_chunk))
		return NULL;
	struct cn_arena_chunk *c = malloc(sizeof *c + cap);
	if (!c)
		return NULL;
	c->next = NULL;
	c->cap = cap;
	c->off = 0;
	return c;
}

/* Offset within chunk c at which an object aligned to align may start. */
static size_t aligned_off(const struct cn_arena_chunk *c, size_t align)
{
	uintptr_t p = (uintptr_t)(c->data + c->off);
	return c->off + ((align - (p & (align - 1))) & (align - 1));
}

void *cn_arena_alloc_aligned(struct cn_arena *a, size_t size, size_t align)
{
	if (align == 0 || (align & (align - 1)) || align > 4096)
		return NULL;
	if (size == 0)
		size = 1;
	struct cn_arena_chunk *c = a->head;
	if (c) {
		size_t off = aligned_off(c, align);
		if (off <= c->cap && size <= c->cap - off) {
			c->off = off + size;
			a->used += size;
			return c->data + off;
		}
	}
	if (size > SIZE_MAX - align)
		return NULL;
	size_t need = size + align;
	struct cn_arena_chunk *n = new_chunk(need > a->chunk_size ? need : a->chunk_size);
	if (!n)
		return NULL;
	/* An oversized chunk goes behind the current one so that the current
	 * chunk's free tail stays usable for later small allocations. */
	if (c && need > a->chunk_size) {
		n->next = c->next;
		c->next = n;
	} else {
		n->next = c;
		a->head = n;
	}
	size_t off = aligned_off(n, align);
	n->off = off + size;
	a->used += size;
	return n->data + off;
}

void *cn_arena_alloc(struct cn_arena *a, size_t size)
{
	return cn_arena_alloc_aligned(a, size, alignof(max_align_t));
}

void *cn_arena_calloc(struct cn_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = cn_arena_alloc(a, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

char *cn_arena_strndup(struct cn_arena *a, const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *p = cn_arena_alloc_aligned(a, n + 1, 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *cn_arena_strdup(struct cn_arena *a, const char *s)
{
	return cn_arena_strndup(a, s, strlen(s));
}

void cn_arena_reset(struct cn_arena *a)
{
	/* Keep the last (oldest) standard-size chunk: it was allocated first. */
	struct cn_arena_chunk *keep = NULL, *c = a->head;
	while (c) {
		struct cn_arena_chunk *next = c->next;
		if (!keep && c->cap == a->chunk_size)
			keep = c;
		else
			free(c);
		c = next;
	}
	if (keep) {
		keep->next = NULL;
		keep->off = 0;
	}
	a->head = keep;
	a->used = 0;
}

void cn_arena_free(struct cn_arena *a)
{
	struct cn_arena_chunk *c = a->head;
	while (c) {
		struct cn_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used = 0;
}
