/* metrics.c — the registry and the text exposition writer. */
#include "base/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

enum kind { K_COUNTER, K_GAUGE, K_HISTOGRAM };

struct cn_metric_child {
	struct cn_metric_child *next;
	struct cn_metric *family;
	char *values[CN_METRICS_MAX_LABELS];
	uint64_t bits;                         /* counter/gauge value, or histogram sum (double bits) */
	uint64_t count;                        /* histogram observations */
	uint64_t buckets[CN_METRICS_MAX_BUCKETS]; /* histogram, per bucket (not cumulative) */
};

struct cn_metric {
	struct cn_metric *next;
	struct cn_metrics *reg;
	enum kind kind;
	char *name, *help;
	char *labels[CN_METRICS_MAX_LABELS];
	size_t n_labels;
	double bounds[CN_METRICS_MAX_BUCKETS];
	size_t n_bounds;
	struct cn_metric_child *children, **tail;
};

struct cn_metrics {
	pthread_mutex_t lock;
	struct cn_metric *families, **tail;
};

static uint64_t d2u(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static double u2d(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

static void atomic_add_double(uint64_t *p, double delta)
{
	uint64_t old = __atomic_load_n(p, __ATOMIC_RELAXED), new;
	do {
		new = d2u(u2d(old) + delta);
	} while (!__atomic_compare_exchange_n(p, &old, new, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

int cn_metrics_new(struct cn_metrics **out)
{
	struct cn_metrics *r = calloc(1, sizeof *r);
	if (!r)
		return -CN_ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->tail = &r->families;
	*out = r;
	return 0;
}

static void free_child(struct cn_metric_child *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c->values[i]);
	free(c);
}

static void free_family(struct cn_metric *m)
{
	struct cn_metric_child *c = m->children;
	while (c) {
		struct cn_metric_child *n = c->next;
		free_child(c, m->n_labels);
		c = n;
	}
	for (size_t i = 0; i < m->n_labels; i++)
		free(m->labels[i]);
	free(m->name);
	free(m->help);
	free(m);
}

void cn_metrics_free(struct cn_metrics *r)
{
	if (!r)
		return;
	struct cn_metric *m = r->families;
	while (m) {
		struct cn_metric *n = m->next;
		free_family(m);
		m = n;
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static int valid_name(const char *s, int allow_colon)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++) {
		int c = (unsigned char)*p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			 (allow_colon && c == ':') || (p != s && c >= '0' && c <= '9');
		if (!ok)
			return 0;
	}
	return 1;
}

static int reg(struct cn_metrics *r, enum kind kind, const char *name, const char *help,
	       const char *const *labels, size_t n_labels, const double *bounds, size_t n_bounds,
	       struct cn_metric **out)
{
	if (!valid_name(name, 1) || n_labels > CN_METRICS_MAX_LABELS || n_bounds > CN_METRICS_MAX_BUCKETS)
		return -CN_EINVAL;
	for (size_t i = 0; i < n_labels; i++) {
		if (!valid_name(labels[i], 0) || !strncmp(labels[i], "__", 2) ||
		    (kind == K_HISTOGRAM && !strcmp(labels[i], "le")))
			return -CN_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(labels[i], labels[j]))
				return -CN_EINVAL;
	}
	for (size_t i = 0; i < n_bounds; i++)
		if (isnan(bounds[i]) || (i && !(bounds[i] > bounds[i - 1])) || isinf(bounds[i]))
			return -CN_EINVAL;
	struct cn_metric *m = calloc(1, sizeof *m);
	if (!m)
		return -CN_ENOMEM;
	m->kind = kind;
	m->reg = r;
	m->name = strdup(name);
	m->help = strdup(help ? help : "");
	m->n_labels = n_labels;
	int bad = !m->name || !m->help;
	for (size_t i = 0; i < n_labels; i++)
		bad |= !(m->labels[i] = strdup(labels[i]));
	if (bad) {
		free_family(m);
		return -CN_ENOMEM;
	}
	if (n_bounds)
		memcpy(m->bounds, bounds, n_bounds * sizeof *bounds);
	m->n_bounds = n_bounds;
	m->tail = &m->children;
	pthread_mutex_lock(&r->lock);
	for (struct cn_metric *x = r->families; x; x = x->next)
		if (!strcmp(x->name, name)) {
			pthread_mutex_unlock(&r->lock);
			free_family(m);
			return -CN_EEXIST;
		}
	*r->tail = m;
	r->tail = &m->next;
	pthread_mutex_unlock(&r->lock);
	*out = m;
	return 0;
}

int cn_metrics_counter(struct cn_metrics *r, const char *name, const char *help,
		       const char *const *labels, size_t n_labels, struct cn_metric **out)
{
	return reg(r, K_COUNTER, name, help, labels, n_labels, NULL, 0, out);
}

int cn_metrics_gauge(struct cn_metrics *r, const char *name, const char *help,
		     const char *const *labels, size_t n_labels, struct cn_metric **out)
{
	return reg(r, K_GAUGE, name, help, labels, n_labels, NULL, 0, out);
}

int cn_metrics_histogram(struct cn_metrics *r, const char *name, const char *help,
			 const char *const *labels, size_t n_labels,
			 const double *buckets, size_t n_buckets, struct cn_metric **out)
{
	return reg(r, K_HISTOGRAM, name, help, labels, n_labels, buckets, n_buckets, out);
}

int cn_metric_with(struct cn_metric *m, const char *const *values, struct cn_metric_child **out)
{
	for (size_t i = 0; i < m->n_labels; i++)
		if (!values || !values[i])
			return -CN_EINVAL;
	pthread_mutex_lock(&m->reg->lock);
	for (struct cn_metric_child *c = m->children; c; c = c->next) {
		size_t i = 0;
		while (i < m->n_labels && !strcmp(c->values[i], values[i]))
			i++;
		if (i == m->n_labels) {
			pthread_mutex_unlock(&m->reg->lock);
			*out = c;
			return 0;
		}
	}
	struct cn_metric_child *c = calloc(1, sizeof *c);
	int bad = !c;
	for (size_t i = 0; c && i < m->n_labels; i++)
		bad |= !(c->values[i] = strdup(values[i]));
	if (bad) {
		pthread_mutex_unlock(&m->reg->lock);
		if (c)
			free_child(c, m->n_labels);
		return -CN_ENOMEM;
	}
	c->family = m;
	*m->tail = c;
	m->tail = &c->next;
	pthread_mutex_unlock(&m->reg->lock);
	*out = c;
	return 0;
}

int cn_counter_add(struct cn_metric_child *c, double delta)
{
	if (!(delta >= 0))
		return -CN_EINVAL;
	atomic_add_double(&c->bits, delta);
	return 0;
}

void cn_counter_inc(struct cn_metric_child *c)
{
	atomic_add_double(&c->bits, 1);
}

void cn_gauge_set(struct cn_metric_child *c, double v)
{
	__atomic_store_n(&c->bits, d2u(v), __ATOMIC_RELAXED);
}

void cn_gauge_add(struct cn_metric_child *c, double delta)
{
	atomic_add_double(&c->bits, delta);
}

void cn_histogram_observe(struct cn_metric_child *c, double v)
{
	const struct cn_metric *m = c->family;
	size_t i = 0;
	while (i < m->n_bounds && !(v <= m->bounds[i]))
		i++;
	if (i < m->n_bounds)
		__atomic_fetch_add(&c->buckets[i], 1, __ATOMIC_RELAXED);
	atomic_add_double(&c->bits, v);
	__atomic_fetch_add(&c->count, 1, __ATOMIC_RELAXED);
}

double cn_metric_value(const struct cn_metric_child *c)
{
	return u2d(__atomic_load_n(&c->bits, __ATOMIC_RELAXED));
}

void cn_metrics_format_value(double v, char *out, size_t cap)
{
	if (isnan(v)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(out, cap, "0");
		return;
	}
	/* Shortest digits that read back exactly, then Go's %g layout: an
	 * exponent when it is below -4 or at least 6 (strconv 'g', -1). */
	char e[40];
	int p;
	for (p = 1; p <= 17; p++) {
		snprintf(e, sizeof e, "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	int exp = atoi(strchr(e, 'e') + 1);
	if (exp < -4 || exp >= 6)
		snprintf(out, cap, "%s", e);
	else
		snprintf(out, cap, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, v);
}

static void put_escaped(FILE *f, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (quote && *s == '"')
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* Writes {a="x",b="y"[,le="0.5"]}, or nothing when there are no labels. */
static void put_labels(FILE *f, const struct cn_metric *m, const struct cn_metric_child *c,
		       const char *le)
{
	if (!m->n_labels && !le)
		return;
	fputc('{', f);
	for (size_t i = 0; i < m->n_labels; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", m->labels[i]);
		put_escaped(f, c->values[i], 1);
		fputc('"', f);
	}
	if (le)
		fprintf(f, "%sle=\"%s\"", m->n_labels ? "," : "", le);
	fputc('}', f);
}

static void put_sample(FILE *f, const struct cn_metric *m, const char *suffix,
		       const struct cn_metric_child *c, const char *le, double v)
{
	char num[40];
	cn_metrics_format_value(v, num, sizeof num);
	fprintf(f, "%s%s", m->name, suffix);
	put_labels(f, m, c, le);
	fprintf(f, " %s\n", num);
}

int cn_metrics_write(struct cn_metrics *r, FILE *f)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	pthread_mutex_lock(&r->lock);
	for (const struct cn_metric *m = r->families; m; m = m->next) {
		fprintf(f, "# HELP %s ", m->name);
		put_escaped(f, m->help, 0);
		fprintf(f, "\n# TYPE %s %s\n", m->name, type_names[m->kind]);
		for (const struct cn_metric_child *c = m->children; c; c = c->next) {
			double v = cn_metric_value(c);
			if (m->kind != K_HISTOGRAM) {
				put_sample(f, m, "", c, NULL, v);
				continue;
			}
			uint64_t cum = 0;
			char le[40];
			for (size_t i = 0; i < m->n_bounds; i++) {
				cum += __atomic_load_n(&c->buckets[i], __ATOMIC_RELAXED);
				cn_metrics_format_value(m->bounds[i], le, sizeof le);
				put_sample(f, m, "_bucket", c, le, (double)cum);
			}
			uint64_t count = __atomic_load_n(&c->count, __ATOMIC_RELAXED);
			/* An observation racing this writer may be in count but not yet
			 * in its bucket; keep the series monotonic. */
			if (count < cum)
				count = cum;
			put_sample(f, m, "_bucket", c, "+Inf", (double)count);
			put_sample(f, m, "_sum", c, NULL, v);
			put_sample(f, m, "_count", c, NULL, (double)count);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return ferror(f) ? -CN_EIO : 0;
}

int cn_metrics_format(struct cn_metrics *r, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return -CN_ENOMEM;
	int rc = cn_metrics_write(r, f);
	if (fclose(f) != 0 && !rc)
		rc = -CN_ENOMEM;
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	if (len)
		*len = n;
	return 0;
}
