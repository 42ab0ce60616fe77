/* Tests of the arena allocator and the logger. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/log.h"

Test(arena, alignment_and_distinct_memory)
{
	struct cn_arena a;
	cn_arena_init(&a, 256);
	char *prev = NULL;
	for (size_t align = 1; align <= 4096; align *= 2) {
		char *p = cn_arena_alloc_aligned(&a, 3, align);
		cr_assert_not_null(p);
		cr_assert_eq((uintptr_t)p % align, 0, "align %zu", align);
		memset(p, 0xab, 3);
		cr_assert_neq(p, prev);
		prev = p;
	}
	cr_assert_null(cn_arena_alloc_aligned(&a, 8, 3));
	cr_assert_null(cn_arena_alloc_aligned(&a, 8, 8192));
	cn_arena_free(&a);
}

Test(arena, many_allocations_keep_their_contents)
{
	struct cn_arena a;
	cn_arena_init(&a, 1024);
	uint32_t *ptrs[2000];
	for (uint32_t i = 0; i < 2000; i++) {
		size_t n = 1 + i % 37;
		ptrs[i] = cn_arena_alloc(&a, n * sizeof(uint32_t));
		cr_assert_not_null(ptrs[i]);
		for (size_t j = 0; j < n; j++)
			ptrs[i][j] = i;
	}
	for (uint32_t i = 0; i < 2000; i++)
		for (size_t j = 0; j < 1 + i % 37; j++)
			cr_assert_eq(ptrs[i][j], i);
	/* Larger than a chunk: gets its own, and the small ones keep working. */
	char *big = cn_arena_alloc(&a, 100000);
	cr_assert_not_null(big);
	memset(big, 1, 100000);
	char *s = cn_arena_strdup(&a, "hello");
	cr_assert_str_eq(s, "hello");
	cr_assert_str_eq(cn_arena_strndup(&a, "abcdef", 3), "abc");
	cn_arena_reset(&a);
	cr_assert_eq(a.used, 0);
	int *z = cn_arena_calloc(&a, 100, sizeof(int));
	for (int i = 0; i < 100; i++)
		cr_assert_eq(z[i], 0);
	cr_assert_null(cn_arena_calloc(&a, SIZE_MAX / 2, 4));
	cr_assert_null(cn_arena_alloc(&a, SIZE_MAX - 8));
	cn_arena_free(&a);
	/* Reusable after free. */
	cr_assert_not_null(cn_arena_alloc(&a, 10));
	cn_arena_free(&a);
}

static char *capture(void (*fn)(void))
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	cn_log_set_output(f);
	cn_log_set_timestamps(0);
	fn();
	cn_log_set_output(NULL);
	cn_log_set_timestamps(1);
	cn_log_set_format(CN_LOG_TEXT);
	cn_log_set_verbosity(CN_LOG_DEFAULT_VERBOSITY);
	fclose(f);
	return buf;
}

static void emit_levels(void)
{
	cn_log_set_verbosity(3);
	cn_log_error("e%d", 1);
	cn_log_warn("w");
	cn_log_info("i");
	cn_log_debug("d");
	cn_log_trace("t");
}

Test(log, verbosity_filters_levels)
{
	char *out = capture(emit_levels);
	cr_assert_str_eq(out, "ERROR e1\nWARN  w\nINFO  i\n");
	free(out);
}

static void emit_silent(void)
{
	cn_log_set_verbosity(0);
	cn_log_error("nothing");
	cr_assert(!cn_log_enabled(CN_LOG_ERROR));
	cn_log_set_verbosity(5);
	cr_assert(cn_log_enabled(CN_LOG_TRACE));
	cn_log_set_verbosity(99);
	cr_assert_eq(cn_log_verbosity(), 5);
	cn_log_set_verbosity(-1);
	cr_assert_eq(cn_log_verbosity(), 0);
}

Test(log, silent_writes_nothing_and_clamps)
{
	char *out = capture(emit_silent);
	cr_assert_str_eq(out, "");
	free(out);
}

static void emit_fields(void)
{
	struct cn_log_field f[] = {{"number", "12"}, {"peer", "a b"}, {"q", "say \"hi\"\n"}, {"e", ""}};
	cn_log_fields(CN_LOG_INFO, "block inserted", f, 4);
	cn_log_set_format(CN_LOG_JSON);
	cn_log_fields(CN_LOG_WARN, "tab\there", f, 3);
}

Test(log, text_and_json_fields)
{
	char *out = capture(emit_fields);
	cr_assert_str_eq(out,
			 "INFO  block inserted number=12 peer=\"a b\" q=\"say \\\"hi\\\"\\n\" e=\"\"\n"
			 "{\"lvl\":\"warn\",\"msg\":\"tab\\there\",\"number\":\"12\",\"peer\":\"a b\","
			 "\"q\":\"say \\\"hi\\\"\\n\"}\n");
	free(out);
}

static void emit_ts(void)
{
	cn_log_set_timestamps(1);
	cn_log_info("x");
}

Test(log, timestamp_prefix)
{
	char *out = capture(emit_ts);
	/* 2026-11-21T23:49:42.123Z INFO  x */
	cr_assert_eq(strlen(out), 24 + 1 + 8);
	cr_assert_eq(out[10], 'T');
	cr_assert_eq(out[23], 'Z');
	cr_assert_str_eq(out + 25, "INFO  x\n");
	free(out);
}

static void *log_thread(void *arg)
{
	for (int i = 0; i < 200; i++)
		cn_log_info("thread %ld line %d", (long)(intptr_t)arg, i);
	return NULL;
}

static void emit_threads(void)
{
	pthread_t t[4];
	for (intptr_t i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, log_thread, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}

Test(log, threads_do_not_interleave)
{
	char *out = capture(emit_threads);
	int lines = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		long th;
		int n;
		cr_assert_eq(sscanf(line, "INFO  thread %ld line %d", &th, &n), 2, "bad line '%s'", line);
		lines++;
	}
	cr_assert_eq(lines, 800);
	free(out);
}

Test(log, parse_flags)
{
	enum cn_log_format f;
	int v;
	cr_assert_eq(cn_log_parse_format("json", &f), 0);
	cr_assert_eq(f, CN_LOG_JSON);
	cr_assert_eq(cn_log_parse_format("text", &f), 0);
	cr_assert_eq(f, CN_LOG_TEXT);
	cr_assert_eq(cn_log_parse_format("xml", &f), -CN_EINVAL);
	cr_assert_eq(cn_log_parse_verbosity("4", &v), 0);
	cr_assert_eq(v, 4);
	cr_assert_eq(cn_log_parse_verbosity("6", &v), -CN_ERANGE);
	cr_assert_eq(cn_log_parse_verbosity("-1", &v), -CN_ERANGE);
	cr_assert_eq(cn_log_parse_verbosity("", &v), -CN_EINVAL);
	cr_assert_eq(cn_log_parse_verbosity("3x", &v), -CN_EINVAL);
}
