/* log.c — the process-wide logger. */
#include "base/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_verbosity = CN_LOG_DEFAULT_VERBOSITY;
static enum cn_log_format log_format = CN_LOG_TEXT;
static FILE *log_out;
static int log_timestamps = 1;

static const char *const level_names[] = {"", "ERROR", "WARN", "INFO", "DEBUG", "TRACE"};
static const char *const level_lower[] = {"", "error", "warn", "info", "debug", "trace"};

void cn_log_set_verbosity(int v)
{
	if (v < 0)
		v = 0;
	if (v > CN_LOG_TRACE)
		v = CN_LOG_TRACE;
	__atomic_store_n(&log_verbosity, v, __ATOMIC_RELAXED);
}

int cn_log_verbosity(void)
{
	return __atomic_load_n(&log_verbosity, __ATOMIC_RELAXED);
}

void cn_log_set_format(enum cn_log_format fmt)
{
	pthread_mutex_lock(&log_lock);
	log_format = fmt;
	pthread_mutex_unlock(&log_lock);
}

void cn_log_set_output(FILE *f)
{
	pthread_mutex_lock(&log_lock);
	log_out = f;
	pthread_mutex_unlock(&log_lock);
}

void cn_log_set_timestamps(int on)
{
	pthread_mutex_lock(&log_lock);
	log_timestamps = on;
	pthread_mutex_unlock(&log_lock);
}

int cn_log_parse_format(const char *s, enum cn_log_format *out)
{
	if (!strcmp(s, "text"))
		*out = CN_LOG_TEXT;
	else if (!strcmp(s, "json"))
		*out = CN_LOG_JSON;
	else
		return -CN_EINVAL;
	return 0;
}

int cn_log_parse_verbosity(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end)
		return -CN_EINVAL;
	if (v < 0 || v > CN_LOG_TRACE)
		return -CN_ERANGE;
	*out = (int)v;
	return 0;
}

int cn_log_enabled(enum cn_log_level level)
{
	return level > CN_LOG_SILENT && (int)level <= cn_log_verbosity();
}

/* Text values with spaces, quotes or '=' are quoted so that lines stay
 * machine-splittable. */
static void put_text_value(FILE *f, const char *v)
{
	int quote = !*v;
	for (const char *p = v; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20)
			quote = 1;
	if (!quote) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void put_json_string(FILE *f, const char *v)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void format_time(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

void cn_log_fields(enum cn_log_level level, const char *msg,
		   const struct cn_log_field *fields, size_t n)
{
	if (!cn_log_enabled(level))
		return;
	char ts[40] = "";
	pthread_mutex_lock(&log_lock);
	FILE *f = log_out ? log_out : stderr;
	if (log_timestamps)
		format_time(ts, sizeof ts);
	if (log_format == CN_LOG_JSON) {
		fputc('{', f);
		if (log_timestamps) {
			fputs("\"t\":", f);
			put_json_string(f, ts);
			fputc(',', f);
		}
		fprintf(f, "\"lvl\":\"%s\",\"msg\":", level_lower[level]);
		put_json_string(f, msg);
		for (size_t i = 0; i < n; i++) {
			fputc(',', f);
			put_json_string(f, fields[i].key);
			fputc(':', f);
			put_json_string(f, fields[i].value ? fields[i].value : "");
		}
		fputs("}\n", f);
	} else {
		if (log_timestamps)
			fprintf(f, "%s ", ts);
		fprintf(f, "%-5s %s", level_names[level], msg);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, " %s=", fields[i].key);
			put_text_value(f, fields[i].value ? fields[i].value : "");
		}
		fputc('\n', f);
	}
	fflush(f);
	pthread_mutex_unlock(&log_lock);
}

void cn_logf(enum cn_log_level level, const char *fmt, ...)
{
	if (!cn_log_enabled(level))
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cn_log_fields(level, buf, NULL, 0);
}
