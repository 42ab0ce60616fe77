/* Fuzz target: the TOML reader on arbitrary bytes. Beyond not crashing, it
 * walks the whole tree and checks that every string it returns re-quotes and
 * parses back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/toml.h"

static void walk(const struct cn_toml_value *v, int depth)
{
	if (depth > CN_TOML_MAX_DEPTH + 70)
		abort();
	switch (cn_toml_type(v)) {
	case CN_TOML_TABLE:
		for (size_t i = 0; i < cn_toml_table_len(v); i++) {
			if (!cn_toml_table_key(v, i) || cn_toml_key_line(v, i) < 1)
				abort();
			walk(cn_toml_table_value(v, i), depth + 1);
		}
		break;
	case CN_TOML_ARRAY:
		for (size_t i = 0; i < cn_toml_array_len(v); i++)
			walk(cn_toml_array_at(v, i), depth + 1);
		break;
	case CN_TOML_STRING: {
		const char *s;
		size_t len;
		if (cn_toml_as_string(v, &s, &len))
			abort();
		size_t need = cn_toml_quote(s, len, NULL, 0);
		char *q = malloc(need + 8);
		memcpy(q, "k = ", 4);
		cn_toml_quote(s, len, q + 4, need + 1);
		struct cn_toml_doc *d;
		if (cn_toml_parse(q, need + 4, &d, NULL, 0))
			abort();
		const char *s2;
		size_t len2;
		if (cn_toml_as_string(cn_toml_get(cn_toml_root(d), "k"), &s2, &len2) || len2 != len ||
		    memcmp(s, s2, len))
			abort();
		cn_toml_free(d);
		free(q);
		break;
	}
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cn_toml_doc *doc;
	char err[256];
	if (cn_toml_parse((const char *)data, size, &doc, err, sizeof err) == 0) {
		walk(cn_toml_root(doc), 0);
		cn_toml_free(doc);
	} else if (strncmp(err, "line ", 5) && strcmp(err, "out of memory")) {
		abort();
	}
	return 0;
}
