/* TOML reader: every supported construct, iteration order, and errors with
 * their exact line and column. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/toml.h"

static struct cn_toml_doc *parse_ok(const char *text)
{
	struct cn_toml_doc *doc;
	char err[256];
	int rc = cn_toml_parse(text, strlen(text), &doc, err, sizeof err);
	cr_assert_eq(rc, 0, "parse failed: %s\n--- input ---\n%s", err, text);
	return doc;
}

/* Parses text expecting failure with exactly the message want. */
static void parse_err(const char *text, const char *want)
{
	struct cn_toml_doc *doc = (void *)1;
	char err[256];
	int rc = cn_toml_parse(text, strlen(text), &doc, err, sizeof err);
	cr_assert_eq(rc, -CN_EPARSE, "expected an error for:\n%s", text);
	cr_assert_null(doc);
	cr_assert_str_eq(err, want, "input:\n%s", text);
}

Test(toml, harmony_conf_shape)
{
	const char *text =
		"Version = \"2.6.6\"\n"
		"\n"
		"[General]\n"
		"  DataDir = \"./\"   # trailing comment\n"
		"  IsArchival = false\n"
		"  ShardID = -1\n"
		"\n"
		"[Network]\n"
		"  BootNodes = [\"/dnsaddr/bootstrap.t.hmny.io\"]\n"
		"  NetworkType = \"mainnet\"\n"
		"\n"
		"[Sync]\n"
		"  Concurrency = 6\n"
		"  [Sync.StagedSyncCfg]\n"
		"    UseMemDB = true\n"
		"    MaxBlocksPerSyncCycle = 512\n"
		"[Pprof]\n"
		"  ProfileIntervals = [600]\n"
		"  ProfileNames = []\n";
	struct cn_toml_doc *doc = parse_ok(text);
	const struct cn_toml_value *root = cn_toml_root(doc);
	const char *s;
	int64_t i;
	int b;
	cr_assert_eq(cn_toml_get_string(root, "Version", &s), 0);
	cr_assert_str_eq(s, "2.6.6");
	cr_assert_eq(cn_toml_get_int(root, "General.ShardID", &i), 0);
	cr_assert_eq(i, -1);
	cr_assert_eq(cn_toml_get_bool(root, "General.IsArchival", &b), 0);
	cr_assert_eq(b, 0);
	cr_assert_eq(cn_toml_get_bool(root, "Sync.StagedSyncCfg.UseMemDB", &b), 0);
	cr_assert_eq(b, 1);
	cr_assert_eq(cn_toml_get_int(root, "Sync.StagedSyncCfg.MaxBlocksPerSyncCycle", &i), 0);
	cr_assert_eq(i, 512);
	cr_assert_eq(cn_toml_get_int(root, "Sync.Nope", &i), -CN_ENOTFOUND);
	cr_assert_eq(cn_toml_get_int(root, "General.DataDir", &i), -CN_EINVAL);
	const struct cn_toml_value *boot = cn_toml_get_path(root, "Network.BootNodes");
	cr_assert_eq(cn_toml_type(boot), CN_TOML_ARRAY);
	cr_assert_eq(cn_toml_array_len(boot), 1);
	cr_assert_eq(cn_toml_as_string(cn_toml_array_at(boot, 0), &s, NULL), 0);
	cr_assert_str_eq(s, "/dnsaddr/bootstrap.t.hmny.io");
	cr_assert_eq(cn_toml_array_len(cn_toml_get_path(root, "Pprof.ProfileNames")), 0);
	/* File order. */
	static const char *const order[] = {"Version", "General", "Network", "Sync", "Pprof"};
	cr_assert_eq(cn_toml_table_len(root), 5);
	for (size_t k = 0; k < 5; k++)
		cr_assert_str_eq(cn_toml_table_key(root, k), order[k]);
	const struct cn_toml_value *gen = cn_toml_get_table(root, "General");
	cr_assert_str_eq(cn_toml_table_key(gen, 0), "DataDir");
	cr_assert_eq(cn_toml_key_line(gen, 2), 6);
	cr_assert_eq(cn_toml_key_column(gen, 2), 3);
	cr_assert_eq(cn_toml_line(cn_toml_table_value(gen, 2)), 6);
	cr_assert_eq(cn_toml_column(cn_toml_table_value(gen, 2)), 13);
	cr_assert_eq(cn_toml_line(gen), 3);
	cr_assert_eq(cn_toml_line(cn_toml_get_table(root, "Sync.StagedSyncCfg")), 14);
	cn_toml_free(doc);
}

Test(toml, strings)
{
	const char *text =
		"a = \"tab\\tq\\\"bs\\\\nl\\n\"\n"
		"b = 'C:\\path\\no escapes'\n"
		"c = \"\\u00e9\\U0001F600\\b\\f\\r\"\n"
		"d = \"\"\"\n"
		"line one\n"
		"line two\"\"\"\n"
		"e = \"\"\"fold \\\n"
		"      here\"\"\"\n"
		"f = '''\n"
		"raw \\n ''quotes'''''\n"
		"g = \"\"\"x\"\"\"\"\"\n"
		"h = \"nul\\u0000in\"\n"
		"\"quoted key\" = 1\n"
		"'lit.key' = 2\n"
		"\"\" = 3\n"
		"i = \"é utf8\"\n"
		"j = \"\"\"\r\nwin\r\ndows\"\"\"\n";
	struct cn_toml_doc *doc = parse_ok(text);
	const struct cn_toml_value *root = cn_toml_root(doc);
	const char *s;
	size_t len;
	cr_assert_eq(cn_toml_get_string(root, "a", &s), 0);
	cr_assert_str_eq(s, "tab\tq\"bs\\nl\n");
	cr_assert_eq(cn_toml_get_string(root, "b", &s), 0);
	cr_assert_str_eq(s, "C:\\path\\no escapes");
	cr_assert_eq(cn_toml_get_string(root, "c", &s), 0);
	cr_assert_str_eq(s, "\xc3\xa9\xf0\x9f\x98\x80\b\f\r");
	cr_assert_eq(cn_toml_get_string(root, "d", &s), 0);
	cr_assert_str_eq(s, "line one\nline two");
	cr_assert_eq(cn_toml_get_string(root, "e", &s), 0);
	cr_assert_str_eq(s, "fold here");
	cr_assert_eq(cn_toml_get_string(root, "f", &s), 0);
	cr_assert_str_eq(s, "raw \\n ''quotes''");
	cr_assert_eq(cn_toml_get_string(root, "g", &s), 0);
	cr_assert_str_eq(s, "x\"\"");
	cr_assert_eq(cn_toml_as_string(cn_toml_get(root, "h"), &s, &len), 0);
	cr_assert_eq(len, 6);
	cr_assert_eq(memcmp(s, "nul\0in", 6), 0);
	int64_t i;
	cr_assert_eq(cn_toml_as_int(cn_toml_get(root, "quoted key"), &i), 0);
	cr_assert_eq(i, 1);
	cr_assert_eq(cn_toml_as_int(cn_toml_get(root, "lit.key"), &i), 0);
	cr_assert_eq(i, 2);
	cr_assert_eq(cn_toml_as_int(cn_toml_get(root, ""), &i), 0);
	cr_assert_eq(i, 3);
	cr_assert_eq(cn_toml_get_string(root, "i", &s), 0);
	cr_assert_str_eq(s, "\xc3\xa9 utf8");
	cr_assert_eq(cn_toml_get_string(root, "j", &s), 0);
	cr_assert_str_eq(s, "win\ndows");
	cn_toml_free(doc);
}

Test(toml, numbers_and_bools)
{
	const char *text =
		"a = 1_000_000\nb = -17\nc = +5\nd = 0xDEAD_beef\ne = 0o755\nf = 0b1101\n"
		"g = 9223372036854775807\nh = -9223372036854775808\n"
		"i = 3.25\nj = -1e3\nk = 6.02E+23\nl = 1_0.5_0\nm = inf\nn = -inf\no = nan\np = 0\n"
		"q = true\nr = false\ns = 0.0\nt = -0\n";
	struct cn_toml_doc *doc = parse_ok(text);
	const struct cn_toml_value *root = cn_toml_root(doc);
	int64_t i;
	double f;
	int b;
	struct { const char *k; int64_t v; } ints[] = {
		{"a", 1000000}, {"b", -17}, {"c", 5}, {"d", 0xdeadbeef}, {"e", 0755}, {"f", 13},
		{"g", INT64_MAX}, {"h", INT64_MIN}, {"p", 0}, {"t", 0},
	};
	for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
		cr_assert_eq(cn_toml_get_int(root, ints[k].k, &i), 0, "%s", ints[k].k);
		cr_assert_eq(i, ints[k].v, "%s", ints[k].k);
	}
	cr_assert_eq(cn_toml_get_float(root, "i", &f), 0);
	cr_assert_float_eq(f, 3.25, 0);
	cr_assert_eq(cn_toml_get_float(root, "j", &f), 0);
	cr_assert_float_eq(f, -1000, 0);
	cr_assert_eq(cn_toml_get_float(root, "k", &f), 0);
	cr_assert_float_eq(f, 6.02e23, 1e9);
	cr_assert_eq(cn_toml_get_float(root, "l", &f), 0);
	cr_assert_float_eq(f, 10.5, 0);
	cr_assert_eq(cn_toml_get_float(root, "m", &f), 0);
	cr_assert(isinf(f) && f > 0);
	cr_assert_eq(cn_toml_get_float(root, "n", &f), 0);
	cr_assert(isinf(f) && f < 0);
	cr_assert_eq(cn_toml_get_float(root, "o", &f), 0);
	cr_assert(isnan(f));
	cr_assert_eq(cn_toml_get_float(root, "a", &f), 0); /* ints widen */
	cr_assert_float_eq(f, 1e6, 0);
	cr_assert_eq(cn_toml_get_int(root, "i", &i), -CN_EINVAL);
	cr_assert_eq(cn_toml_get_bool(root, "q", &b), 0);
	cr_assert_eq(b, 1);
	cr_assert_eq(cn_toml_get_bool(root, "r", &b), 0);
	cr_assert_eq(b, 0);
	cr_assert_eq(cn_toml_type(cn_toml_get(root, "s")), CN_TOML_FLOAT);
	cn_toml_free(doc);
}

Test(toml, arrays_inline_tables_dotted_keys)
{
	const char *text =
		"arr = [ 1, 2,\n"
		"  3, # comment inside\n"
		"  [\"nested\", [true]],\n"
		"]\n"
		"empty = [ ]\n"
		"point = { x = 1, y.z = \"deep\", sub = { k = [] } }\n"
		"site.name = \"x\"\n"
		"site.\"owner\".id = 7\n"
		"[fruit]\n"
		"apple.color = \"red\"\n"
		"[fruit.apple.texture]\n"
		"smooth = true\n"
		"[a.b.c]\n"
		"v = 1\n"
		"[a]\n"
		"w = 2\n";
	struct cn_toml_doc *doc = parse_ok(text);
	const struct cn_toml_value *root = cn_toml_root(doc);
	const struct cn_toml_value *arr = cn_toml_get(root, "arr");
	cr_assert_eq(cn_toml_array_len(arr), 4);
	const struct cn_toml_value *inner = cn_toml_array_at(arr, 3);
	cr_assert_eq(cn_toml_array_len(inner), 2);
	int b;
	cr_assert_eq(cn_toml_as_bool(cn_toml_array_at(cn_toml_array_at(inner, 1), 0), &b), 0);
	cr_assert_eq(b, 1);
	cr_assert_eq(cn_toml_array_len(cn_toml_get(root, "empty")), 0);
	cr_assert_eq(cn_toml_type(cn_toml_get(root, "empty")), CN_TOML_ARRAY);
	const char *s;
	int64_t i;
	cr_assert_eq(cn_toml_get_string(root, "point.y.z", &s), 0);
	cr_assert_str_eq(s, "deep");
	cr_assert_eq(cn_toml_get_int(root, "point.x", &i), 0);
	cr_assert_eq(cn_toml_array_len(cn_toml_get_path(root, "point.sub.k")), 0);
	cr_assert_eq(cn_toml_get_int(root, "site.owner.id", &i), 0);
	cr_assert_eq(i, 7);
	cr_assert_eq(cn_toml_get_string(root, "fruit.apple.color", &s), 0);
	cr_assert_eq(cn_toml_get_bool(root, "fruit.apple.texture.smooth", &b), 0);
	cr_assert_eq(cn_toml_get_int(root, "a.b.c.v", &i), 0);
	cr_assert_eq(cn_toml_get_int(root, "a.w", &i), 0);
	cr_assert_eq(i, 2);
	cn_toml_free(doc);
}

Test(toml, errors_name_line_and_column)
{
	parse_err("a = 1\n[t]\nkey value\n", "line 3, column 5: expected '=' after key, found 'v'");
	parse_err("a = 1\na = 2\n", "line 2, column 1: duplicate key 'a'");
	parse_err("[t]\nx=1\n[t]\n", "line 3, column 1: duplicate table [t]");
	parse_err("[t]\n  x = \"open\n", "line 2, column 7: unterminated string");
	parse_err("x = [1, 2\n", "line 1, column 5: unterminated array");
	parse_err("x = [1 2]\n", "line 1, column 8: expected ',' or ']' in array, found '2'");
	parse_err("x = 1 y = 2\n", "line 1, column 7: expected end of line after value, found 'y'");
	parse_err("x =\n", "line 1, column 4: expected a value, found end of line");
	parse_err("x = \"bad \\q\"\n", "line 1, column 10: unknown escape '\\q'");
	parse_err("x = \"\\uD800\"\n", "line 1, column 6: escape \\u names no Unicode scalar value");
	parse_err("x = \"\\u12\"\n", "line 1, column 6: \\u escape needs 4 hex digits");
	parse_err("x = 01\n", "line 1, column 5: leading zeros are not allowed");
	parse_err("x = 1__0\n", "line 1, column 7: '_' in a number must sit between digits");
	parse_err("x = 1_\n", "line 1, column 7: '_' in a number must sit between digits");
	parse_err("x = 9223372036854775808\n", "line 1, column 5: integer does not fit in 64 bits");
	parse_err("x = 1.\n", "line 1, column 7: expected a digit");
	parse_err("x = 1979-05-27\n", "line 1, column 5: dates and times are not supported");
	parse_err("[[arr]]\n", "line 1, column 1: arrays of tables ([[...]]) are not supported");
	parse_err("x = tru\n", "line 1, column 5: expected a value, found 't'");
	parse_err("x = { a = 1, }\n", "line 1, column 14: trailing comma in inline table");
	parse_err("x = { a = 1 }\n[x]\n", "line 2, column 2: inline table 'x' cannot be extended");
	parse_err("x = 1\n[x.y]\n", "line 2, column 2: key 'x' is already a integer, not a table");
	parse_err("[a]\nb.c = 1\n[a.b]\n", "line 3, column 1: duplicate table [b]");
	parse_err("[a.b]\n[a]\nb.c = 1\n",
		  "line 3, column 1: table 'b' is already defined; a dotted key cannot extend it");
	parse_err("# ok\n\n   \t[ t \n", "line 3, column 9: expected ']' to close table header, found end of line");
	parse_err("x = \"a\x01" "b\"\n", "line 1, column 7: control character 0x01 in string (use an escape)");
	parse_err("x = \"\xff\"\n", "line 1, column 6: invalid UTF-8 in string");
	parse_err("# c\x7f\n", "line 1, column 4: control character 0x7f in comment");
	parse_err("x = 1\r y = 2\n", "line 1, column 6: expected end of line after value, found a carriage return without a line feed");
	parse_err("x = 1\r\n[t\r\n", "line 2, column 3: expected ']' to close table header, found end of line");
	parse_err("= 1\n", "line 1, column 1: expected a key, found '='");
	parse_err("x = \"\"\"abc\n", "line 1, column 5: unterminated multi-line string");
	parse_err("x = 0x\n", "line 1, column 7: expected a digit");
	parse_err("x = +0x1\n", "line 1, column 5: a sign is not allowed on hex, octal or binary integers");
	parse_err("é = 1\n", "line 1, column 1: expected a key, found byte 0xc3");
	parse_err("x = \"é\" é\n", "line 1, column 9: expected end of line after value, found byte 0xc3");
}

Test(toml, depth_is_bounded)
{
	size_t n = 100000;
	char *text = malloc(n + 8);
	memcpy(text, "x = ", 4);
	memset(text + 4, '[', n);
	text[n + 4] = 0;
	struct cn_toml_doc *doc;
	char err[128];
	cr_assert_eq(cn_toml_parse(text, n + 4, &doc, err, sizeof err), -CN_EPARSE);
	cr_assert_str_eq(err, "line 1, column 69: nesting deeper than 64 levels");
	/* 64 levels are fine. */
	size_t k = 0;
	memcpy(text, "x = ", 4);
	k = 4;
	for (int d = 0; d < 64; d++)
		text[k++] = '[';
	for (int d = 0; d < 64; d++)
		text[k++] = ']';
	text[k] = 0;
	cr_assert_eq(cn_toml_parse(text, k, &doc, err, sizeof err), 0, "%s", err);
	cn_toml_free(doc);
	free(text);
}

Test(toml, keys_per_table_are_bounded)
{
	size_t cap = 20 * (CN_TOML_MAX_KEYS + 1) + 16, n = 0;
	char *text = malloc(cap);
	for (int i = 0; i < CN_TOML_MAX_KEYS; i++)
		n += (size_t)snprintf(text + n, cap - n, "k%d = %d\n", i, i);
	struct cn_toml_doc *doc;
	char err[128];
	cr_assert_eq(cn_toml_parse(text, n, &doc, err, sizeof err), 0, "%s", err);
	int64_t v;
	cr_assert_eq(cn_toml_get_int(cn_toml_root(doc), "k4095", &v), 0);
	cr_assert_eq(v, 4095);
	cn_toml_free(doc);
	n += (size_t)snprintf(text + n, cap - n, "one_more = 1\n");
	cr_assert_eq(cn_toml_parse(text, n, &doc, err, sizeof err), -CN_EPARSE);
	cr_assert_str_eq(err, "line 4097, column 1: more than 4096 keys in one table");
	free(text);
}

Test(toml, embedded_nul_and_errcap)
{
	struct cn_toml_doc *doc;
	char err[16];
	cr_assert_eq(cn_toml_parse("x = 1\0y", 7, &doc, err, sizeof err), -CN_EPARSE);
	cr_assert_eq(strlen(err), 15); /* truncated, still terminated */
	cr_assert_eq(cn_toml_parse("x = 1\n[", 7, &doc, NULL, 0), -CN_EPARSE);
	cr_assert_eq(cn_toml_parse("", 0, &doc, err, sizeof err), 0);
	cr_assert_eq(cn_toml_table_len(cn_toml_root(doc)), 0);
	cn_toml_free(doc);
}

Test(toml, quote_round_trips)
{
	const char *in = "a\"b\\c\n\t\x01 é";
	char q[64];
	size_t n = cn_toml_quote(in, strlen(in), q, sizeof q);
	cr_assert_eq(n, strlen(q));
	cr_assert_str_eq(q, "\"a\\\"b\\\\c\\n\\t\\u0001 é\"");
	char doc_text[96];
	snprintf(doc_text, sizeof doc_text, "k = %s\n", q);
	struct cn_toml_doc *doc = parse_ok(doc_text);
	const char *s;
	cr_assert_eq(cn_toml_get_string(cn_toml_root(doc), "k", &s), 0);
	cr_assert_str_eq(s, in);
	cn_toml_free(doc);
	char small[4];
	cr_assert_eq(cn_toml_quote("abcdef", 6, small, sizeof small), 8);
	cr_assert_str_eq(small, "\"ab");
}
