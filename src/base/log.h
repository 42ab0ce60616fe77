/* log.h — leveled, thread-safe logging to a FILE*.
 *
 * Levels follow Harmony's `--log.verbosity`: 0 silent, 1 error, 2 warn,
 * 3 info (default), 4 debug, 5 trace. A message is written when its level is
 * at or below the verbosity. Each line carries a UTC timestamp, the level, a
 * message and optional key=value fields, in text form
 *   2026-01-02T03:04:05.678Z INFO  block inserted number=12 hash=0xab…
 * or as one JSON object per line (`--log.format json`).
 *
 * NEVER pass secret material (private keys, BLS secrets, passphrases, seeds)
 * to these functions, not even in fields: log files are copied, shipped and
 * pasted into bug reports. Log a key's public part or its address instead.
 *
 * The logger is one process-wide object guarded by a mutex, so lines from
 * different threads never interleave. */
#ifndef CANON_BASE_LOG_H
#define CANON_BASE_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum cn_log_level {
	CN_LOG_SILENT = 0,
	CN_LOG_ERROR = 1,
	CN_LOG_WARN = 2,
	CN_LOG_INFO = 3,
	CN_LOG_DEBUG = 4,
	CN_LOG_TRACE = 5,
};

enum cn_log_format { CN_LOG_TEXT = 0, CN_LOG_JSON = 1 };

#define CN_LOG_DEFAULT_VERBOSITY CN_LOG_INFO

/* One key=value field. Values are strings; format numbers before logging. */
struct cn_log_field {
	const char *key;
	const char *value;
};

/* Sets the verbosity (clamped to 0..5). */
void cn_log_set_verbosity(int verbosity);
int cn_log_verbosity(void);
void cn_log_set_format(enum cn_log_format fmt);
/* Output stream; NULL restores stderr. The caller keeps ownership. */
void cn_log_set_output(FILE *f);
/* When set, timestamps are omitted (deterministic output for tests/sim). */
void cn_log_set_timestamps(int on);

/* Parses "text"/"json" (-CN_EINVAL otherwise). */
int cn_log_parse_format(const char *s, enum cn_log_format *out);
/* Parses a verbosity "0".."5" (-CN_ERANGE / -CN_EINVAL otherwise). */
int cn_log_parse_verbosity(const char *s, int *out);

/* Nonzero when a message at `level` would be written; lets callers skip
 * formatting costly fields. */
int cn_log_enabled(enum cn_log_level level);

/* Writes one line: `msg` plus n fields. */
void cn_log_fields(enum cn_log_level level, const char *msg,
		   const struct cn_log_field *fields, size_t n);
/* printf-style message without fields. */
void cn_logf(enum cn_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define cn_log_error(...) cn_logf(CN_LOG_ERROR, __VA_ARGS__)
#define cn_log_warn(...) cn_logf(CN_LOG_WARN, __VA_ARGS__)
#define cn_log_info(...) cn_logf(CN_LOG_INFO, __VA_ARGS__)
#define cn_log_debug(...) cn_logf(CN_LOG_DEBUG, __VA_ARGS__)
#define cn_log_trace(...) cn_logf(CN_LOG_TRACE, __VA_ARGS__)

#endif
