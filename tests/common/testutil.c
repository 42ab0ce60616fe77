/* testutil.c — shared helpers for canon's Criterion tests. */
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"

const char *tu_testdata(const char *rel)
{
	static char path[4096];
	const char *root = getenv("CANON_TESTDATA");
	snprintf(path, sizeof path, "%s/%s", root ? root : "../shared/testdata", rel);
	return path;
}

json_t *tu_load_json(const char *rel)
{
	json_error_t err;
	const char *path = tu_testdata(rel);
	json_t *j = json_load_file(path, JSON_DECODE_ANY, &err);
	if (!j)
		cr_assert_fail("cannot load %s: %s (line %d)", path, err.text, err.line);
	return j;
}

uint8_t *tu_hex(const char *hex, size_t *len)
{
	uint8_t *out;
	size_t n;
	if (hex_decode_alloc(hex, strlen(hex), &out, &n))
		cr_assert_fail("bad hex in vector: %.60s", hex);
	if (len)
		*len = n;
	return out;
}

uint8_t *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		cr_assert_fail("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		cr_assert_fail("cannot read %s", path);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

void tu_report(const char *what, size_t n)
{
	cr_log_info("%s: %zu vectors ran", what, n);
	fprintf(stderr, "vectors %s: %zu ran\n", what, n);
}

int tu_long(void)
{
	const char *v = getenv("CANON_TEST_LONG");
	return v && *v && strcmp(v, "0") != 0;
}
