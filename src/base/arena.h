/* arena.h — bump allocator for per-request and per-block memory.
 *
 * An arena hands out memory from a list of chunks by bumping a pointer; all
 * of it is released at once by cn_arena_reset() (keeps the first chunk for
 * reuse) or cn_arena_free(). Allocations larger than the chunk size get a
 * chunk of their own. Not thread-safe: one arena per thread or request. */
#ifndef CANON_BASE_ARENA_H
#define CANON_BASE_ARENA_H

#include <stddef.h>

struct cn_arena_chunk;

struct cn_arena {
	struct cn_arena_chunk *head;   /* newest chunk first */
	size_t chunk_size;
	size_t used;                   /* bytes handed out since last reset */
};

/* chunk_size 0 picks 64 KiB. Never fails: chunks are made on demand. */
void cn_arena_init(struct cn_arena *a, size_t chunk_size);
/* Returns size bytes aligned to align (a power of two, at most 4096), or
 * NULL when out of memory or on a bad alignment. size 0 gives a valid
 * unique pointer. */
void *cn_arena_alloc_aligned(struct cn_arena *a, size_t size, size_t align);
/* Aligned for any object type (max_align_t). */
void *cn_arena_alloc(struct cn_arena *a, size_t size);
/* Zero-filled n*size bytes; NULL on overflow or out of memory. */
void *cn_arena_calloc(struct cn_arena *a, size_t n, size_t size);
/* Copies a NUL-terminated string (or n bytes plus a NUL). */
char *cn_arena_strdup(struct cn_arena *a, const char *s);
char *cn_arena_strndup(struct cn_arena *a, const char *s, size_t n);
/* Releases everything but keeps one chunk for reuse. */
void cn_arena_reset(struct cn_arena *a);
/* Releases everything. The arena may be initialised again. */
void cn_arena_free(struct cn_arena *a);

#endif
