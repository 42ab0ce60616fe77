/* flags.c — long-option parser and help generator. */
#include "base/flags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static struct cn_flag *find(struct cn_flag *flags, const char *name, size_t n)
{
	for (struct cn_flag *f = flags; f->name; f++)
		if (strlen(f->name) == n && !memcmp(f->name, name, n))
			return f;
	return NULL;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*out = 0;
		return 0;
	}
	return -CN_EINVAL;
}

/* Decimal, or hex after 0x; a leading 0 is not octal (--port 010 is 10). */
static int num_base(const char *v)
{
	if (*v == '-' || *v == '+')
		v++;
	return v[0] == '0' && (v[1] == 'x' || v[1] == 'X') ? 16 : 10;
}

static int set_value(struct cn_flag *f, const char *v, char *err, size_t errcap)
{
	char *end;
	switch (f->type) {
	case CN_FLAG_STRING:
		*(const char **)f->target = v;
		break;
	case CN_FLAG_BOOL:
		if (parse_bool(v, f->target)) {
			snprintf(err, errcap, "flag --%s: '%s' is not true or false", f->name, v);
			return -CN_EINVAL;
		}
		break;
	case CN_FLAG_INT: {
		errno = 0;
		long long x = strtoll(v, &end, num_base(v));
		if (!*v || *end || errno) {
			snprintf(err, errcap, "flag --%s: '%s' is not an integer%s", f->name, v,
				 errno == ERANGE ? " in range" : "");
			return -CN_EINVAL;
		}
		*(int64_t *)f->target = x;
		break;
	}
	case CN_FLAG_UINT: {
		errno = 0;
		unsigned long long x = strtoull(v, &end, num_base(v));
		if (!*v || *end || errno || v[0] == '-' || v[0] == '+' || v[0] == ' ') {
			snprintf(err, errcap, "flag --%s: '%s' is not an unsigned integer%s", f->name, v,
				 errno == ERANGE ? " in range" : "");
			return -CN_EINVAL;
		}
		*(uint64_t *)f->target = x;
		break;
	}
	case CN_FLAG_DURATION:
		if (cn_flags_parse_duration_ms(v, f->target)) {
			snprintf(err, errcap, "flag --%s: '%s' is not a duration like 30s, 5m or 1h30m",
				 f->name, v);
			return -CN_EINVAL;
		}
		break;
	}
	f->set = 1;
	return 0;
}

int cn_flags_parse(struct cn_flag *flags, int argc, char **argv, struct cn_flags_result *res,
		   char *err, size_t errcap)
{
	char tmp[8];
	if (!errcap) {
		err = tmp;
		errcap = sizeof tmp;
	}
	err[0] = 0;
	memset(res, 0, sizeof *res);
	res->positional = calloc((size_t)(argc > 0 ? argc : 1), sizeof *res->positional);
	if (!res->positional) {
		snprintf(err, errcap, "out of memory");
		return -CN_ENOMEM;
	}
	int only_positional = 0;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (only_positional || a[0] != '-' || !strcmp(a, "-")) {
			res->positional[res->n_positional++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_positional = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			res->help = 1;
			continue;
		}
		if (a[1] != '-') {
			snprintf(err, errcap, "unknown flag %s (flags are long: --name)", a);
			goto fail;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t n = eq ? (size_t)(eq - name) : strlen(name);
		struct cn_flag *f = find(flags, name, n);
		if (!f) {
			snprintf(err, errcap, "unknown flag --%.*s", (int)n, name);
			goto fail;
		}
		const char *v;
		if (eq) {
			v = eq + 1;
		} else if (f->type == CN_FLAG_BOOL) {
			v = "true";
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			snprintf(err, errcap, "flag --%s needs a value", f->name);
			goto fail;
		}
		if (set_value(f, v, err, errcap))
			goto fail;
	}
	return 0;
fail:
	cn_flags_result_free(res);
	return -CN_EINVAL;
}

void cn_flags_result_free(struct cn_flags_result *res)
{
	free(res->positional);
	res->positional = NULL;
	res->n_positional = 0;
}

static const char *metavar(const struct cn_flag *f)
{
	if (f->metavar)
		return f->metavar;
	switch (f->type) {
	case CN_FLAG_STRING: return "STRING";
	case CN_FLAG_INT: return "INT";
	case CN_FLAG_UINT: return "N";
	case CN_FLAG_BOOL: return "";
	case CN_FLAG_DURATION: return "DURATION";
	}
	return "";
}

void cn_flags_help(FILE *out, const char *usage, const struct cn_flag *flags)
{
	fprintf(out, "usage: %s\n\noptions:\n", usage);
	size_t width = 6; /* "--help" */
	for (const struct cn_flag *f = flags; f->name; f++) {
		size_t w = 2 + strlen(f->name) + (*metavar(f) ? 1 + strlen(metavar(f)) : 0);
		if (w > width)
			width = w;
	}
	char col[256];
	for (const struct cn_flag *f = flags; f->name; f++) {
		snprintf(col, sizeof col, "--%s%s%s", f->name, *metavar(f) ? " " : "", metavar(f));
		fprintf(out, "  %-*s  %s\n", (int)width, col, f->help ? f->help : "");
	}
	fprintf(out, "  %-*s  %s\n", (int)width, "--help", "show this help");
}

int cn_flags_parse_duration_ms(const char *s, uint64_t *out)
{
	if (!*s)
		return -CN_EINVAL;
	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	uint64_t total = 0;
	const char *p = s;
	while (*p) {
		if (*p < '0' || *p > '9')
			return -CN_EINVAL;
		uint64_t v = 0, frac = 0, scale = 1;
		while (*p >= '0' && *p <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				return -CN_ERANGE;
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		if (*p == '.') {
			/* Go writes fractions ("1.5s"); keep up to milliseconds. */
			p++;
			if (*p < '0' || *p > '9')
				return -CN_EINVAL;
			while (*p >= '0' && *p <= '9') {
				if (scale < 1000000) {
					frac = frac * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
				p++;
			}
		}
		uint64_t mult;
		if (!strncmp(p, "ms", 2)) {
			mult = 1;
			p += 2;
		} else if (*p == 'h') {
			mult = 3600000;
			p++;
		} else if (*p == 'm') {
			mult = 60000;
			p++;
		} else if (*p == 's') {
			mult = 1000;
			p++;
		} else {
			return -CN_EINVAL;
		}
		if (v > (UINT64_MAX - total) / mult)
			return -CN_ERANGE;
		total += v * mult;
		uint64_t f = frac * mult / scale;
		if (f > UINT64_MAX - total)
			return -CN_ERANGE;
		total += f;
	}
	*out = total;
	return 0;
}

void cn_flags_format_duration_ms(uint64_t ms, char *out, size_t cap)
{
	if (ms == 0) {
		snprintf(out, cap, "0s");
		return;
	}
	if (ms < 1000) {
		snprintf(out, cap, "%llums", (unsigned long long)ms);
		return;
	}
	uint64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
	char sec[32];
	if (frac) {
		char f[8];
		snprintf(f, sizeof f, "%03llu", (unsigned long long)frac);
		for (int i = 2; i > 0 && f[i] == '0'; i--)
			f[i] = 0;
		snprintf(sec, sizeof sec, "%llu.%ss", (unsigned long long)s, f);
	} else {
		snprintf(sec, sizeof sec, "%llus", (unsigned long long)s);
	}
	if (h)
		snprintf(out, cap, "%lluh%llum%s", (unsigned long long)h, (unsigned long long)m, sec);
	else if (m)
		snprintf(out, cap, "%llum%s", (unsigned long long)m, sec);
	else
		snprintf(out, cap, "%s", sec);
}
