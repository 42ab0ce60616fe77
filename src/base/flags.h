/* flags.h — declarative long command-line options.
 *
 * A command describes its options in a table of struct cn_flag, each naming
 * the variable it sets; cn_flags_parse() walks argv, accepts `--name value`
 * and `--name=value` (booleans: `--name`, `--name=true|false`), collects the
 * positional arguments and stops option parsing at `--`. `--help`/`-h` is
 * recognised and reported so that the caller can print cn_flags_help(),
 * which is generated from the same table. Errors name the offending flag.
 *
 * Durations are strings like Go's time.Duration ("30s", "1m", "2h45m",
 * "500ms"); cn_flags_parse_duration_ms() converts them. */
#ifndef CANON_BASE_FLAGS_H
#define CANON_BASE_FLAGS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cn_flag_type {
	CN_FLAG_STRING,     /* const char ** (points into argv) */
	CN_FLAG_INT,        /* int64_t * */
	CN_FLAG_UINT,       /* uint64_t * */
	CN_FLAG_BOOL,       /* int * (0/1) */
	CN_FLAG_DURATION,   /* uint64_t * milliseconds, from "30s"-style text */
};

struct cn_flag {
	const char *name;          /* without the leading "--", e.g. "log.verbosity" */
	enum cn_flag_type type;
	void *target;
	const char *metavar;       /* shown in help, e.g. "N"; NULL picks one from the type */
	const char *help;
	int set;                   /* out: nonzero once given on the command line */
};

struct cn_flags_result {
	char **positional;         /* pointers into argv; caller frees the array */
	size_t n_positional;
	int help;                  /* --help or -h was given */
};

/* Parses argv[0..argc) (argv[0] is the first argument, not the program).
 * On error returns -CN_EINVAL and writes "unknown flag --foo" or "flag
 * --port: 'x' is not an integer" into err. flags ends with a {NULL} entry. */
int cn_flags_parse(struct cn_flag *flags, int argc, char **argv, struct cn_flags_result *res,
		   char *err, size_t errcap);
void cn_flags_result_free(struct cn_flags_result *res);

/* Writes "usage: <usage>\n\noptions:\n  --name VALUE   help..." to f. */
void cn_flags_help(FILE *f, const char *usage, const struct cn_flag *flags);

/* "1h2m3s", "500ms", "90s", "0" → milliseconds. -CN_EINVAL / -CN_ERANGE. */
int cn_flags_parse_duration_ms(const char *s, uint64_t *out);
/* Formats milliseconds back to Go style ("1m0s", "30s", "2h0m0s", "500ms"). */
void cn_flags_format_duration_ms(uint64_t ms, char *out, size_t cap);

#endif
