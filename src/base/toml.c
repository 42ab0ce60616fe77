/* toml.c — recursive-descent TOML reader building an arena-held tree. */
#include "base/toml.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/bytes.h"
#include "base/err.h"

/* How a table came to exist decides what may later extend it. */
enum table_origin {
	T_IMPLICIT,   /* intermediate of a [a.b.c] header: may be defined later */
	T_HEADER,     /* defined by its own [header] */
	T_DOTTED,     /* created by a dotted key a.b = v */
	T_INLINE,     /* { ... }: sealed */
};

struct kv {
	const char *key;
	struct cn_toml_value *val;
	int line, col;
};

struct cn_toml_value {
	enum cn_toml_type type;
	int line, col;
	union {
		struct {
			char *s;
			size_t len;
		} str;
		int64_t i;
		double f;
		int b;
		struct {
			struct cn_toml_value **items;
			size_t n, cap;
		} arr;
		struct {
			struct kv *items;
			size_t n, cap;
			enum table_origin origin;
		} tab;
	} u;
};

struct cn_toml_doc {
	struct cn_arena arena;
	struct cn_toml_value *root;
};

struct parser {
	const char *start, *p, *end;
	const char *line_start;
	int line;
	const char *col_ptr;   /* cur_pos() cache: column col_val is at col_ptr */
	int col_val;
	int depth;
	struct cn_arena *a;
	char *err;
	size_t errcap;
	int rc;
};

struct pos {
	int line, col;
};

/* Columns count characters, not bytes. The cache keeps a long line with
 * many values linear instead of quadratic. */
static struct pos cur_pos(struct parser *ps)
{
	const char *q = ps->line_start;
	int col = 1;
	if (ps->col_ptr >= ps->line_start && ps->col_ptr <= ps->p) {
		q = ps->col_ptr;
		col = ps->col_val;
	}
	for (; q < ps->p; q++)
		if (((unsigned char)*q & 0xc0) != 0x80)
			col++;
	ps->col_ptr = ps->p;
	ps->col_val = col;
	return (struct pos){ps->line, col};
}

__attribute__((format(printf, 3, 4)))
static int fail_at(struct parser *ps, struct pos at, const char *fmt, ...)
{
	if (ps->rc)
		return ps->rc;
	ps->rc = -CN_EPARSE;
	if (ps->errcap) {
		int n = snprintf(ps->err, ps->errcap, "line %d, column %d: ", at.line, at.col);
		if (n >= 0 && (size_t)n < ps->errcap) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(ps->err + n, ps->errcap - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return ps->rc;
}
#define fail(ps, ...) fail_at((ps), cur_pos(ps), __VA_ARGS__)

static int oom(struct parser *ps)
{
	if (!ps->rc) {
		ps->rc = -CN_ENOMEM;
		if (ps->errcap)
			snprintf(ps->err, ps->errcap, "out of memory");
	}
	return ps->rc;
}

/* Describes the character at p for messages ("end of file", "'x'", "newline"). */
static const char *describe(const struct parser *ps, char *buf, size_t cap)
{
	if (ps->p >= ps->end)
		return "end of file";
	unsigned char c = (unsigned char)*ps->p;
	if (c == '\n' || (c == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n'))
		return "end of line";
	if (c == '\r')
		return "a carriage return without a line feed";
	if (c < 0x20 || c == 0x7f)
		snprintf(buf, cap, "control character 0x%02x", c);
	else if (c >= 0x80)
		snprintf(buf, cap, "byte 0x%02x", c);
	else
		snprintf(buf, cap, "'%c'", c);
	return buf;
}

static int at_eof(const struct parser *ps) { return ps->p >= ps->end; }
static int peek(const struct parser *ps) { return ps->p < ps->end ? (unsigned char)*ps->p : -1; }
static int peek_at(const struct parser *ps, size_t k)
{
	return ps->p + k < ps->end ? (unsigned char)ps->p[k] : -1;
}
static int starts(const struct parser *ps, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(ps->end - ps->p) >= n && !memcmp(ps->p, s, n);
}

/* Consumes a newline (\n or \r\n) if one is next; returns 1 if it did. */
static int eat_newline(struct parser *ps)
{
	if (peek(ps) == '\n') {
		ps->p++;
	} else if (peek(ps) == '\r' && peek_at(ps, 1) == '\n') {
		ps->p += 2;
	} else {
		return 0;
	}
	ps->line++;
	ps->line_start = ps->p;
	return 1;
}

static void skip_ws(struct parser *ps)
{
	while (peek(ps) == ' ' || peek(ps) == '\t')
		ps->p++;
}

static int skip_comment(struct parser *ps)
{
	if (peek(ps) != '#')
		return 0;
	ps->p++;
	while (!at_eof(ps) && *ps->p != '\n') {
		unsigned char c = (unsigned char)*ps->p;
		if (c == '\r' && peek_at(ps, 1) == '\n')
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(ps, "control character 0x%02x in comment", c);
		ps->p++;
	}
	return 0;
}

/* Whitespace, comments and newlines (inside arrays and between lines). */
static int skip_ws_nl(struct parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (skip_comment(ps))
			return ps->rc;
		if (!eat_newline(ps))
			return 0;
	}
}

/* After a key/value pair or header only a comment and a newline may follow. */
static int expect_eol(struct parser *ps, const char *after)
{
	skip_ws(ps);
	if (skip_comment(ps))
		return ps->rc;
	if (at_eof(ps) || eat_newline(ps))
		return 0;
	char b[32];
	return fail(ps, "expected end of line after %s, found %s", after, describe(ps, b, sizeof b));
}

/* ---- values ------------------------------------------------------------ */

static struct cn_toml_value *new_value(struct parser *ps, enum cn_toml_type t, struct pos at)
{
	struct cn_toml_value *v = cn_arena_calloc(ps->a, 1, sizeof *v);
	if (!v) {
		oom(ps);
		return NULL;
	}
	v->type = t;
	v->line = at.line;
	v->col = at.col;
	return v;
}

/* A growing byte buffer for string contents, kept in malloc'd memory while
 * parsing and copied into the arena at the end. */
struct sbuf {
	char *b;
	size_t n, cap;
};

static int sb_put(struct parser *ps, struct sbuf *sb, const char *s, size_t n)
{
	if (sb->n + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 64;
		while (cap < sb->n + n + 1)
			cap *= 2;
		char *nb = realloc(sb->b, cap);
		if (!nb)
			return oom(ps);
		sb->b = nb;
		sb->cap = cap;
	}
	memcpy(sb->b + sb->n, s, n);
	sb->n += n;
	return 0;
}

static int put_utf8(struct parser *ps, struct sbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return sb_put(ps, sb, b, n);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		n = 2;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Copies one literal character of string content, checking it. */
static int string_char(struct parser *ps, struct sbuf *sb)
{
	unsigned char c = (unsigned char)*ps->p;
	if ((c < 0x20 && c != '\t') || c == 0x7f)
		return fail(ps, "control character 0x%02x in string (use an escape)", c);
	size_t n = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
	if (!n)
		return fail(ps, "invalid UTF-8 in string");
	if (sb_put(ps, sb, ps->p, n))
		return ps->rc;
	ps->p += n;
	return 0;
}

static int parse_escape(struct parser *ps, struct sbuf *sb)
{
	struct pos at = cur_pos(ps);
	ps->p++; /* backslash */
	int c = peek(ps);
	const char *simple = NULL;
	switch (c) {
	case 'b': simple = "\b"; break;
	case 't': simple = "\t"; break;
	case 'n': simple = "\n"; break;
	case 'f': simple = "\f"; break;
	case 'r': simple = "\r"; break;
	case '"': simple = "\""; break;
	case '\\': simple = "\\"; break;
	case 'u':
	case 'U': {
		int nd = c == 'u' ? 4 : 8;
		uint32_t cp = 0;
		ps->p++;
		for (int i = 0; i < nd; i++) {
			int v = hex_digit_value(peek(ps));
			if (v < 0)
				return fail_at(ps, at, "\\%c escape needs %d hex digits", c, nd);
			cp = (cp << 4) | (uint32_t)v;
			ps->p++;
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return fail_at(ps, at, "escape \\%c names no Unicode scalar value", c);
		return put_utf8(ps, sb, cp);
	}
	default:
		if (c < 0)
			return fail_at(ps, at, "unterminated string");
		if (c >= 0x20 && c < 0x7f)
			return fail_at(ps, at, "unknown escape '\\%c'", c);
		return fail_at(ps, at, "unknown escape sequence");
	}
	ps->p++;
	return sb_put(ps, sb, simple, 1);
}

/* Parses any of the four string forms at p into sb. */
static int parse_string_into(struct parser *ps, struct sbuf *sb, int allow_multi)
{
	struct pos at = cur_pos(ps);
	char q = *ps->p;
	int literal = q == '\'';
	int multi = allow_multi && (literal ? starts(ps, "'''") : starts(ps, "\"\"\""));
	if (!multi) {
		ps->p++;
		for (;;) {
			if (at_eof(ps) || *ps->p == '\n' || *ps->p == '\r')
				return fail_at(ps, at, "unterminated string");
			if (*ps->p == q) {
				ps->p++;
				return 0;
			}
			if (!literal && *ps->p == '\\') {
				if (parse_escape(ps, sb))
					return ps->rc;
			} else if (string_char(ps, sb)) {
				return ps->rc;
			}
		}
	}
	ps->p += 3;
	eat_newline(ps);  /* a newline right after the opening delimiter is trimmed */
	for (;;) {
		if (at_eof(ps))
			return fail_at(ps, at, "unterminated multi-line string");
		if (*ps->p == q && peek_at(ps, 1) == q && peek_at(ps, 2) == q) {
			/* Up to two quotes may sit right before the closing three. */
			size_t run = 3;
			while (peek_at(ps, run) == q)
				run++;
			if (run > 5)
				return fail(ps, "too many quotes closing a multi-line string");
			if (sb_put(ps, sb, ps->p, run - 3))
				return ps->rc;
			ps->p += run;
			return 0;
		}
		if (eat_newline(ps)) {
			if (sb_put(ps, sb, "\n", 1))
				return ps->rc;
			continue;
		}
		if (!literal && *ps->p == '\\') {
			/* A line-ending backslash swallows the newline and following
			 * whitespace. */
			const char *save = ps->p;
			ps->p++;
			skip_ws(ps);
			if (peek(ps) == '\n' || (peek(ps) == '\r' && peek_at(ps, 1) == '\n')) {
				while (peek(ps) == ' ' || peek(ps) == '\t' || eat_newline(ps))
					if (peek(ps) == ' ' || peek(ps) == '\t')
						ps->p++;
				continue;
			}
			ps->p = save;
			if (parse_escape(ps, sb))
				return ps->rc;
			continue;
		}
		if (string_char(ps, sb))
			return ps->rc;
	}
}

static char *finish_string(struct parser *ps, struct sbuf *sb, size_t *len)
{
	char *s = cn_arena_strndup(ps->a, sb->b ? sb->b : "", sb->n);
	if (!s)
		oom(ps);
	*len = sb->n;
	free(sb->b);
	sb->b = NULL;
	return s;
}

static int is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* One key segment: bare, "basic" or 'literal'. */
static int parse_key_part(struct parser *ps, const char **out)
{
	int c = peek(ps);
	if (c == '"' || c == '\'') {
		struct sbuf sb = {0};
		if (parse_string_into(ps, &sb, 0)) {
			free(sb.b);
			return ps->rc;
		}
		size_t len;
		*out = finish_string(ps, &sb, &len);
		if (*out && strlen(*out) != len)
			return fail(ps, "key contains a NUL character");
		return ps->rc;
	}
	const char *b = ps->p;
	while (is_bare(peek(ps)))
		ps->p++;
	if (ps->p == b) {
		char d[32];
		return fail(ps, "expected a key, found %s", describe(ps, d, sizeof d));
	}
	*out = cn_arena_strndup(ps->a, b, (size_t)(ps->p - b));
	return *out ? 0 : oom(ps);
}

#define MAX_KEY_PARTS 64

struct key_path {
	const char *parts[MAX_KEY_PARTS];
	struct pos at[MAX_KEY_PARTS];
	int n;
};

static int parse_key(struct parser *ps, struct key_path *k)
{
	k->n = 0;
	for (;;) {
		skip_ws(ps);
		if (k->n == MAX_KEY_PARTS)
			return fail(ps, "dotted key has more than %d parts", MAX_KEY_PARTS);
		k->at[k->n] = cur_pos(ps);
		if (parse_key_part(ps, &k->parts[k->n]))
			return ps->rc;
		k->n++;
		skip_ws(ps);
		if (peek(ps) != '.')
			return 0;
		ps->p++;
	}
}

static struct kv *table_find(const struct cn_toml_value *t, const char *key)
{
	for (size_t i = 0; i < t->u.tab.n; i++)
		if (!strcmp(t->u.tab.items[i].key, key))
			return &t->u.tab.items[i];
	return NULL;
}

static int table_add(struct parser *ps, struct cn_toml_value *t, const char *key, struct pos at,
		     struct cn_toml_value *v)
{
	if (t->u.tab.n == CN_TOML_MAX_KEYS)
		return fail_at(ps, at, "more than %d keys in one table", CN_TOML_MAX_KEYS);
	if (t->u.tab.n == t->u.tab.cap) {
		size_t cap = t->u.tab.cap ? 2 * t->u.tab.cap : 8;
		struct kv *items = cn_arena_alloc(ps->a, cap * sizeof *items);
		if (!items)
			return oom(ps);
		if (t->u.tab.n)
			memcpy(items, t->u.tab.items, t->u.tab.n * sizeof *items);
		t->u.tab.items = items;
		t->u.tab.cap = cap;
	}
	t->u.tab.items[t->u.tab.n++] = (struct kv){key, v, at.line, at.col};
	return 0;
}

static int array_add(struct parser *ps, struct cn_toml_value *arr, struct cn_toml_value *v)
{
	if (arr->u.arr.n == arr->u.arr.cap) {
		size_t cap = arr->u.arr.cap ? 2 * arr->u.arr.cap : 8;
		struct cn_toml_value **items = cn_arena_alloc(ps->a, cap * sizeof *items);
		if (!items)
			return oom(ps);
		if (arr->u.arr.n)
			memcpy(items, arr->u.arr.items, arr->u.arr.n * sizeof *items);
		arr->u.arr.items = items;
		arr->u.arr.cap = cap;
	}
	arr->u.arr.items[arr->u.arr.n++] = v;
	return 0;
}

static struct cn_toml_value *new_table(struct parser *ps, struct pos at, enum table_origin o)
{
	struct cn_toml_value *t = new_value(ps, CN_TOML_TABLE, at);
	if (t)
		t->u.tab.origin = o;
	return t;
}

static int parse_value(struct parser *ps, struct cn_toml_value **out);

/* Stores value v under the dotted key k relative to table t (key = value
 * lines and inline tables). */
static int assign(struct parser *ps, struct cn_toml_value *t, const struct key_path *k,
		  struct cn_toml_value *v)
{
	for (int i = 0; i < k->n - 1; i++) {
		struct kv *e = table_find(t, k->parts[i]);
		if (!e) {
			struct cn_toml_value *nt = new_table(ps, k->at[i], T_DOTTED);
			if (!nt || table_add(ps, t, k->parts[i], k->at[i], nt))
				return ps->rc;
			t = nt;
			continue;
		}
		if (e->val->type != CN_TOML_TABLE)
			return fail_at(ps, k->at[i], "key '%s' is already a %s, not a table", k->parts[i],
				       cn_toml_type_name(e->val->type));
		if (e->val->u.tab.origin != T_DOTTED)
			return fail_at(ps, k->at[i], "table '%s' is already defined; a dotted key cannot extend it",
				       k->parts[i]);
		t = e->val;
	}
	const char *last = k->parts[k->n - 1];
	if (table_find(t, last))
		return fail_at(ps, k->at[k->n - 1], "duplicate key '%s'", last);
	return table_add(ps, t, last, k->at[k->n - 1], v);
}

/* Seals an inline table and the tables its dotted keys created. Recursion is
 * bounded by MAX_KEY_PARTS: nested inline tables are already sealed. */
static void seal(struct cn_toml_value *t)
{
	t->u.tab.origin = T_INLINE;
	for (size_t i = 0; i < t->u.tab.n; i++) {
		struct cn_toml_value *c = t->u.tab.items[i].val;
		if (c->type == CN_TOML_TABLE && c->u.tab.origin == T_DOTTED)
			seal(c);
	}
}

static int parse_inline_table(struct parser *ps, struct cn_toml_value **out)
{
	struct pos at = cur_pos(ps);
	ps->p++;
	struct cn_toml_value *t = new_table(ps, at, T_DOTTED);
	if (!t)
		return ps->rc;
	skip_ws(ps);
	if (peek(ps) == '}') {
		ps->p++;
		goto done;
	}
	for (;;) {
		struct key_path k;
		if (parse_key(ps, &k))
			return ps->rc;
		if (peek(ps) != '=') {
			char d[32];
			return fail(ps, "expected '=' after key, found %s", describe(ps, d, sizeof d));
		}
		ps->p++;
		skip_ws(ps);
		struct cn_toml_value *v;
		if (parse_value(ps, &v) || assign(ps, t, &k, v))
			return ps->rc;
		skip_ws(ps);
		if (peek(ps) == ',') {
			ps->p++;
			skip_ws(ps);
			if (peek(ps) == '}')
				return fail(ps, "trailing comma in inline table");
			continue;
		}
		if (peek(ps) == '}') {
			ps->p++;
			break;
		}
		char d[32];
		return fail(ps, "expected ',' or '}' in inline table, found %s", describe(ps, d, sizeof d));
	}
done:
	seal(t);
	*out = t;
	return 0;
}

static int parse_array(struct parser *ps, struct cn_toml_value **out)
{
	struct pos at = cur_pos(ps);
	ps->p++;
	struct cn_toml_value *arr = new_value(ps, CN_TOML_ARRAY, at);
	if (!arr)
		return ps->rc;
	for (;;) {
		if (skip_ws_nl(ps))
			return ps->rc;
		if (peek(ps) == ']') {
			ps->p++;
			break;
		}
		struct cn_toml_value *v;
		if (parse_value(ps, &v) || array_add(ps, arr, v))
			return ps->rc;
		if (skip_ws_nl(ps))
			return ps->rc;
		if (peek(ps) == ',') {
			ps->p++;
			continue;
		}
		if (peek(ps) == ']') {
			ps->p++;
			break;
		}
		if (at_eof(ps))
			return fail_at(ps, at, "unterminated array");
		char d[32];
		return fail(ps, "expected ',' or ']' in array, found %s", describe(ps, d, sizeof d));
	}
	*out = arr;
	return 0;
}

/* Copies the digits of a number, checking underscore placement (each one
 * between two digits of the given base). */
static int scan_digits(struct parser *ps, char *buf, size_t cap, size_t *n, int base)
{
	int prev_digit = 0;
	size_t start = *n;
	for (;;) {
		int c = peek(ps);
		int ok = (base == 16 && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) ||
			 (base == 10 && c >= '0' && c <= '9') || (base == 8 && c >= '0' && c <= '7') ||
			 (base == 2 && (c == '0' || c == '1'));
		if (ok) {
			if (*n + 1 >= cap)
				return fail(ps, "number too long");
			buf[(*n)++] = (char)c;
			prev_digit = 1;
			ps->p++;
		} else if (c == '_') {
			if (!prev_digit)
				return fail(ps, "'_' in a number must sit between digits");
			prev_digit = 0;
			ps->p++;
		} else {
			break;
		}
	}
	if (*n == start)
		return fail(ps, "expected a digit");
	if (!prev_digit)
		return fail(ps, "'_' in a number must sit between digits");
	buf[*n] = 0;
	return 0;
}

static int parse_number(struct parser *ps, struct cn_toml_value **out)
{
	struct pos at = cur_pos(ps);
	char buf[128];
	size_t n = 0;
	int sign = 0;
	if (peek(ps) == '+' || peek(ps) == '-') {
		sign = peek(ps);
		buf[n++] = (char)sign;
		ps->p++;
	}
	if (starts(ps, "inf") || starts(ps, "nan")) {
		int inf = *ps->p == 'i';
		ps->p += 3;
		if (is_bare(peek(ps)))
			return fail_at(ps, at, "invalid value");
		struct cn_toml_value *v = new_value(ps, CN_TOML_FLOAT, at);
		if (!v)
			return ps->rc;
		v->u.f = inf ? (sign == '-' ? -INFINITY : INFINITY) : NAN;
		*out = v;
		return 0;
	}
	if (peek(ps) == '0' && (peek_at(ps, 1) == 'x' || peek_at(ps, 1) == 'o' || peek_at(ps, 1) == 'b')) {
		if (sign)
			return fail_at(ps, at, "a sign is not allowed on hex, octal or binary integers");
		int base = peek_at(ps, 1) == 'x' ? 16 : peek_at(ps, 1) == 'o' ? 8 : 2;
		ps->p += 2;
		if (peek(ps) == '_')
			return fail(ps, "'_' in a number must sit between digits");
		if (scan_digits(ps, buf, sizeof buf, &n, base))
			return ps->rc;
		uint64_t acc = 0;
		for (size_t i = 0; i < n; i++) {
			int d = buf[i] <= '9' ? buf[i] - '0' : (buf[i] | 0x20) - 'a' + 10;
			if (acc > (uint64_t)INT64_MAX / (uint64_t)base ||
			    acc * (uint64_t)base > (uint64_t)INT64_MAX - (uint64_t)d)
				return fail_at(ps, at, "integer does not fit in 64 bits");
			acc = acc * (uint64_t)base + (uint64_t)d;
		}
		if (is_bare(peek(ps)) || peek(ps) == '.')
			return fail(ps, "invalid character in number");
		struct cn_toml_value *v = new_value(ps, CN_TOML_INT, at);
		if (!v)
			return ps->rc;
		v->u.i = (int64_t)acc;
		*out = v;
		return 0;
	}
	size_t int_start = n;
	if (scan_digits(ps, buf, sizeof buf, &n, 10))
		return ps->rc;
	size_t int_digits = n - int_start;
	if (buf[int_start] == '0' && int_digits > 1)
		return fail_at(ps, at, "leading zeros are not allowed");
	if ((peek(ps) == '-' || peek(ps) == ':') && !sign)
		return fail_at(ps, at, "dates and times are not supported");
	int is_float = 0;
	if (peek(ps) == '.') {
		is_float = 1;
		buf[n++] = '.';
		ps->p++;
		if (scan_digits(ps, buf, sizeof buf, &n, 10))
			return ps->rc;
	}
	if (peek(ps) == 'e' || peek(ps) == 'E') {
		is_float = 1;
		buf[n++] = 'e';
		ps->p++;
		if (peek(ps) == '+' || peek(ps) == '-') {
			buf[n++] = (char)peek(ps);
			ps->p++;
		}
		if (scan_digits(ps, buf, sizeof buf, &n, 10))
			return ps->rc;
	}
	if (is_bare(peek(ps)) || peek(ps) == '.')
		return fail(ps, "invalid character in number");
	struct cn_toml_value *v = new_value(ps, is_float ? CN_TOML_FLOAT : CN_TOML_INT, at);
	if (!v)
		return ps->rc;
	if (is_float) {
		v->u.f = strtod(buf, NULL);
	} else {
		uint64_t acc = 0, lim = sign == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
		for (size_t i = int_start; i < n; i++) {
			uint64_t d = (uint64_t)(buf[i] - '0');
			if (acc > lim / 10 || acc * 10 > lim - d)
				return fail_at(ps, at, "integer does not fit in 64 bits");
			acc = acc * 10 + d;
		}
		v->u.i = sign == '-' ? (int64_t)(0 - acc) : (int64_t)acc;
	}
	*out = v;
	return 0;
}

static int parse_value(struct parser *ps, struct cn_toml_value **out)
{
	struct pos at = cur_pos(ps);
	int c = peek(ps);
	if (c == '"' || c == '\'') {
		struct sbuf sb = {0};
		if (parse_string_into(ps, &sb, 1)) {
			free(sb.b);
			return ps->rc;
		}
		struct cn_toml_value *v = new_value(ps, CN_TOML_STRING, at);
		if (!v) {
			free(sb.b);
			return ps->rc;
		}
		v->u.str.s = finish_string(ps, &sb, &v->u.str.len);
		*out = v;
		return ps->rc;
	}
	if (c == '[' || c == '{') {
		if (ps->depth >= CN_TOML_MAX_DEPTH)
			return fail(ps, "nesting deeper than %d levels", CN_TOML_MAX_DEPTH);
		ps->depth++;
		int rc = c == '[' ? parse_array(ps, out) : parse_inline_table(ps, out);
		ps->depth--;
		return rc;
	}
	if (starts(ps, "true") || starts(ps, "false")) {
		int b = c == 't';
		ps->p += b ? 4 : 5;
		if (is_bare(peek(ps)))
			return fail_at(ps, at, "invalid value");
		struct cn_toml_value *v = new_value(ps, CN_TOML_BOOL, at);
		if (!v)
			return ps->rc;
		v->u.b = b;
		*out = v;
		return 0;
	}
	if ((c >= '0' && c <= '9') || c == '+' || c == '-' || starts(ps, "inf") || starts(ps, "nan"))
		return parse_number(ps, out);
	char d[32];
	if (c == '\n' || c == '\r' || c < 0 || c == '#')
		return fail(ps, "expected a value, found %s", c == '#' ? "a comment" : describe(ps, d, sizeof d));
	return fail(ps, "expected a value, found %s", describe(ps, d, sizeof d));
}

/* [a.b.c]: finds or creates the table and makes it current. */
static int parse_header(struct parser *ps, struct cn_toml_value *root, struct cn_toml_value **cur)
{
	struct pos at = cur_pos(ps);
	ps->p++;
	if (peek(ps) == '[')
		return fail_at(ps, at, "arrays of tables ([[...]]) are not supported");
	struct key_path k;
	if (parse_key(ps, &k))
		return ps->rc;
	if (peek(ps) != ']') {
		char d[32];
		return fail(ps, "expected ']' to close table header, found %s", describe(ps, d, sizeof d));
	}
	ps->p++;
	struct cn_toml_value *t = root;
	for (int i = 0; i < k.n; i++) {
		int last = i == k.n - 1;
		struct kv *e = table_find(t, k.parts[i]);
		if (!e) {
			struct cn_toml_value *nt = new_table(ps, last ? at : k.at[i], last ? T_HEADER : T_IMPLICIT);
			if (!nt || table_add(ps, t, k.parts[i], k.at[i], nt))
				return ps->rc;
			t = nt;
			continue;
		}
		struct cn_toml_value *x = e->val;
		if (x->type != CN_TOML_TABLE)
			return fail_at(ps, k.at[i], "key '%s' is already a %s, not a table", k.parts[i],
				       cn_toml_type_name(x->type));
		if (x->u.tab.origin == T_INLINE)
			return fail_at(ps, k.at[i], "inline table '%s' cannot be extended", k.parts[i]);
		if (last) {
			if (x->u.tab.origin != T_IMPLICIT)
				return fail_at(ps, at, "duplicate table [%s]", k.parts[i]);
			x->u.tab.origin = T_HEADER;
			x->line = at.line;
			x->col = at.col;
		}
		t = x;
	}
	*cur = t;
	return expect_eol(ps, "table header");
}

static int parse_document(struct parser *ps, struct cn_toml_value *root)
{
	struct cn_toml_value *cur = root;
	for (;;) {
		if (skip_ws_nl(ps))
			return ps->rc;
		if (at_eof(ps))
			return 0;
		if (peek(ps) == '[') {
			if (parse_header(ps, root, &cur))
				return ps->rc;
			continue;
		}
		struct key_path k;
		if (parse_key(ps, &k))
			return ps->rc;
		if (peek(ps) != '=') {
			char d[32];
			return fail(ps, "expected '=' after key, found %s", describe(ps, d, sizeof d));
		}
		ps->p++;
		skip_ws(ps);
		struct cn_toml_value *v;
		if (parse_value(ps, &v) || assign(ps, cur, &k, v) || expect_eol(ps, "value"))
			return ps->rc;
	}
}

int cn_toml_parse(const char *text, size_t len, struct cn_toml_doc **out, char *err, size_t errcap)
{
	*out = NULL;
	if (errcap)
		err[0] = 0;
	struct cn_toml_doc *doc = calloc(1, sizeof *doc);
	if (!doc) {
		if (errcap)
			snprintf(err, errcap, "out of memory");
		return -CN_ENOMEM;
	}
	cn_arena_init(&doc->arena, 16 * 1024);
	struct parser ps = {
		.start = text, .p = text, .end = text + len, .line_start = text, .line = 1,
		.a = &doc->arena, .err = err, .errcap = errcap,
	};
	doc->root = new_table(&ps, (struct pos){1, 1}, T_HEADER);
	if (doc->root && parse_document(&ps, doc->root) == 0 && ps.rc == 0) {
		*out = doc;
		return 0;
	}
	int rc = ps.rc ? ps.rc : -CN_EPARSE;
	cn_toml_free(doc);
	return rc;
}

void cn_toml_free(struct cn_toml_doc *doc)
{
	if (!doc)
		return;
	cn_arena_free(&doc->arena);
	free(doc);
}

/* ---- access ------------------------------------------------------------ */

const struct cn_toml_value *cn_toml_root(const struct cn_toml_doc *doc)
{
	return doc->root;
}

enum cn_toml_type cn_toml_type(const struct cn_toml_value *v) { return v->type; }
int cn_toml_line(const struct cn_toml_value *v) { return v->line; }
int cn_toml_column(const struct cn_toml_value *v) { return v->col; }

const char *cn_toml_type_name(enum cn_toml_type t)
{
	switch (t) {
	case CN_TOML_STRING: return "string";
	case CN_TOML_INT: return "integer";
	case CN_TOML_FLOAT: return "float";
	case CN_TOML_BOOL: return "boolean";
	case CN_TOML_ARRAY: return "array";
	case CN_TOML_TABLE: return "table";
	}
	return "unknown";
}

int cn_toml_as_string(const struct cn_toml_value *v, const char **s, size_t *len)
{
	if (!v || v->type != CN_TOML_STRING)
		return -CN_EINVAL;
	*s = v->u.str.s;
	if (len)
		*len = v->u.str.len;
	return 0;
}

int cn_toml_as_int(const struct cn_toml_value *v, int64_t *out)
{
	if (!v || v->type != CN_TOML_INT)
		return -CN_EINVAL;
	*out = v->u.i;
	return 0;
}

int cn_toml_as_float(const struct cn_toml_value *v, double *out)
{
	if (v && v->type == CN_TOML_INT) {
		*out = (double)v->u.i;
		return 0;
	}
	if (!v || v->type != CN_TOML_FLOAT)
		return -CN_EINVAL;
	*out = v->u.f;
	return 0;
}

int cn_toml_as_bool(const struct cn_toml_value *v, int *out)
{
	if (!v || v->type != CN_TOML_BOOL)
		return -CN_EINVAL;
	*out = v->u.b;
	return 0;
}

size_t cn_toml_table_len(const struct cn_toml_value *t)
{
	return t && t->type == CN_TOML_TABLE ? t->u.tab.n : 0;
}

const char *cn_toml_table_key(const struct cn_toml_value *t, size_t i)
{
	return i < cn_toml_table_len(t) ? t->u.tab.items[i].key : NULL;
}

const struct cn_toml_value *cn_toml_table_value(const struct cn_toml_value *t, size_t i)
{
	return i < cn_toml_table_len(t) ? t->u.tab.items[i].val : NULL;
}

int cn_toml_key_line(const struct cn_toml_value *t, size_t i)
{
	return i < cn_toml_table_len(t) ? t->u.tab.items[i].line : 0;
}

int cn_toml_key_column(const struct cn_toml_value *t, size_t i)
{
	return i < cn_toml_table_len(t) ? t->u.tab.items[i].col : 0;
}

const struct cn_toml_value *cn_toml_get(const struct cn_toml_value *t, const char *key)
{
	if (!t || t->type != CN_TOML_TABLE)
		return NULL;
	const struct kv *e = table_find(t, key);
	return e ? e->val : NULL;
}

const struct cn_toml_value *cn_toml_get_path(const struct cn_toml_value *t, const char *path)
{
	char part[256];
	const char *p = path;
	while (t) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof part)
			return NULL;
		memcpy(part, p, n);
		part[n] = 0;
		t = cn_toml_get(t, part);
		if (!dot)
			return t;
		p = dot + 1;
	}
	return NULL;
}

size_t cn_toml_array_len(const struct cn_toml_value *a)
{
	return a && a->type == CN_TOML_ARRAY ? a->u.arr.n : 0;
}

const struct cn_toml_value *cn_toml_array_at(const struct cn_toml_value *a, size_t i)
{
	return i < cn_toml_array_len(a) ? a->u.arr.items[i] : NULL;
}

int cn_toml_get_string(const struct cn_toml_value *t, const char *path, const char **out)
{
	const struct cn_toml_value *v = cn_toml_get_path(t, path);
	return v ? cn_toml_as_string(v, out, NULL) : -CN_ENOTFOUND;
}

int cn_toml_get_int(const struct cn_toml_value *t, const char *path, int64_t *out)
{
	const struct cn_toml_value *v = cn_toml_get_path(t, path);
	return v ? cn_toml_as_int(v, out) : -CN_ENOTFOUND;
}

int cn_toml_get_float(const struct cn_toml_value *t, const char *path, double *out)
{
	const struct cn_toml_value *v = cn_toml_get_path(t, path);
	return v ? cn_toml_as_float(v, out) : -CN_ENOTFOUND;
}

int cn_toml_get_bool(const struct cn_toml_value *t, const char *path, int *out)
{
	const struct cn_toml_value *v = cn_toml_get_path(t, path);
	return v ? cn_toml_as_bool(v, out) : -CN_ENOTFOUND;
}

const struct cn_toml_value *cn_toml_get_table(const struct cn_toml_value *t, const char *path)
{
	const struct cn_toml_value *v = cn_toml_get_path(t, path);
	return v && v->type == CN_TOML_TABLE ? v : NULL;
}

size_t cn_toml_quote(const char *s, size_t len, char *out, size_t cap)
{
	size_t n = 0;
#define PUT(c) do { if (n + 1 < cap) out[n] = (c); n++; } while (0)
	PUT('"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char hex[8];
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\t': esc = "\\t"; break;
		case '\r': esc = "\\r"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(hex, sizeof hex, "\\u%04x", c);
				esc = hex;
			}
		}
		if (esc) {
			for (; *esc; esc++)
				PUT(*esc);
		} else {
			PUT((char)c);
		}
	}
	PUT('"');
#undef PUT
	if (cap)
		out[n < cap ? n : cap - 1] = 0;
	return n;
}
