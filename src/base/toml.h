/* toml.h — a small TOML 1.0 reader for configuration files (harmony.conf).
 *
 * cn_toml_parse() turns a whole document into a tree of values kept in one
 * arena; cn_toml_free() releases it. Tables keep their keys in file order so
 * that tools can walk a file the way it was written. Every value and key
 * remembers its line and column (1-based, counted in characters) so that
 * callers validating a config can point at the offending spot.
 *
 * Supported: [tables], [nested.tables], dotted keys, bare and quoted keys,
 * basic and literal strings (single and multi-line, all escapes including
 * \uXXXX and \UXXXXXXXX), integers (decimal, 0x, 0o, 0b, underscores), floats
 * (including inf and nan), booleans, arrays (nested, multi-line, trailing
 * comma), inline tables, comments. Not supported (rejected with a clear
 * message): arrays of tables [[x]] and date/time values, neither of which
 * harmony.conf uses.
 *
 * Errors: -CN_EPARSE and a message "line L, column C: what went wrong".
 * Duplicate keys and tables are errors; nesting is limited to
 * CN_TOML_MAX_DEPTH so that hostile input cannot exhaust the stack, and a
 * table holds at most CN_TOML_MAX_KEYS keys. */
#ifndef CANON_BASE_TOML_H
#define CANON_BASE_TOML_H

#include <stddef.h>
#include <stdint.h>

#define CN_TOML_MAX_DEPTH 64
/* Keys per table. Look-ups are linear (tables in config files are small);
 * the cap keeps a hostile file from making parsing quadratic. */
#define CN_TOML_MAX_KEYS 4096

enum cn_toml_type {
	CN_TOML_STRING,
	CN_TOML_INT,
	CN_TOML_FLOAT,
	CN_TOML_BOOL,
	CN_TOML_ARRAY,
	CN_TOML_TABLE,
};

struct cn_toml_value;
struct cn_toml_doc;

/* Parses len bytes of text. On success *out owns the tree. On failure
 * returns -CN_EPARSE (or -CN_ENOMEM) and writes a message to err (if errcap
 * is nonzero); *out is NULL. */
int cn_toml_parse(const char *text, size_t len, struct cn_toml_doc **out, char *err, size_t errcap);
void cn_toml_free(struct cn_toml_doc *doc);

/* The root table. */
const struct cn_toml_value *cn_toml_root(const struct cn_toml_doc *doc);

enum cn_toml_type cn_toml_type(const struct cn_toml_value *v);
const char *cn_toml_type_name(enum cn_toml_type t);
/* Where the value starts in the file. For a table this is its header (or the
 * first key that created it); the root is at line 1, column 1. */
int cn_toml_line(const struct cn_toml_value *v);
int cn_toml_column(const struct cn_toml_value *v);

/* Scalar access. Each returns -CN_EINVAL if the value has another type.
 * Strings are NUL-terminated; *len (if given) counts bytes and may reveal
 * embedded NULs written as \u0000. */
int cn_toml_as_string(const struct cn_toml_value *v, const char **s, size_t *len);
int cn_toml_as_int(const struct cn_toml_value *v, int64_t *out);
/* Accepts integers too, converted to double. */
int cn_toml_as_float(const struct cn_toml_value *v, double *out);
int cn_toml_as_bool(const struct cn_toml_value *v, int *out);

/* Tables: entries in file order. */
size_t cn_toml_table_len(const struct cn_toml_value *t);
const char *cn_toml_table_key(const struct cn_toml_value *t, size_t i);
const struct cn_toml_value *cn_toml_table_value(const struct cn_toml_value *t, size_t i);
/* Line and column of the i-th key. */
int cn_toml_key_line(const struct cn_toml_value *t, size_t i);
int cn_toml_key_column(const struct cn_toml_value *t, size_t i);
/* One key (not a path); NULL if absent or t is not a table. */
const struct cn_toml_value *cn_toml_get(const struct cn_toml_value *t, const char *key);
/* A dotted path of bare keys, e.g. "Sync.StagedSyncCfg.UseMemDB". */
const struct cn_toml_value *cn_toml_get_path(const struct cn_toml_value *t, const char *path);

/* Arrays. */
size_t cn_toml_array_len(const struct cn_toml_value *a);
const struct cn_toml_value *cn_toml_array_at(const struct cn_toml_value *a, size_t i);

/* Typed look-ups by dotted path: -CN_ENOTFOUND when absent, -CN_EINVAL on a
 * type mismatch. */
int cn_toml_get_string(const struct cn_toml_value *t, const char *path, const char **out);
int cn_toml_get_int(const struct cn_toml_value *t, const char *path, int64_t *out);
int cn_toml_get_float(const struct cn_toml_value *t, const char *path, double *out);
int cn_toml_get_bool(const struct cn_toml_value *t, const char *path, int *out);
const struct cn_toml_value *cn_toml_get_table(const struct cn_toml_value *t, const char *path);

/* Writes s as a TOML basic string with quotes and escapes into out (cap
 * bytes, always NUL-terminated when cap > 0); returns the length it needs
 * (without NUL), like snprintf. Used by writers of TOML files. */
size_t cn_toml_quote(const char *s, size_t len, char *out, size_t cap);

#endif
