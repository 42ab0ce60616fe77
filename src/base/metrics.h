/* metrics.h — counters, gauges and histograms with Prometheus text output.
 *
 * A registry holds metric families (a name, help text, type and label
 * names). A family with labels has one child per distinct set of label
 * values; cn_metric_with() finds or creates it and the returned child handle
 * stays valid until the registry is freed, so hot paths look it up once and
 * then update it lock-free (values are atomics). Registration and child
 * creation take the registry's mutex. cn_metrics_write() renders version
 * 0.0.4 of the Prometheus text exposition format: families in registration
 * order, children in creation order, numbers formatted like Go's client. */
#ifndef CANON_BASE_METRICS_H
#define CANON_BASE_METRICS_H

#include <stddef.h>
#include <stdio.h>

#define CN_METRICS_MAX_LABELS 8
#define CN_METRICS_MAX_BUCKETS 32

struct cn_metrics;
struct cn_metric;
struct cn_metric_child;

int cn_metrics_new(struct cn_metrics **out);
void cn_metrics_free(struct cn_metrics *r);

/* Registers a family. Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and label
 * names [a-zA-Z_][a-zA-Z0-9_]* (histograms may not use "le"); -CN_EINVAL
 * otherwise, -CN_EEXIST if the name is taken. */
int cn_metrics_counter(struct cn_metrics *r, const char *name, const char *help,
		       const char *const *labels, size_t n_labels, struct cn_metric **out);
int cn_metrics_gauge(struct cn_metrics *r, const char *name, const char *help,
		     const char *const *labels, size_t n_labels, struct cn_metric **out);
/* buckets: strictly increasing upper bounds (the +Inf bucket is implied). */
int cn_metrics_histogram(struct cn_metrics *r, const char *name, const char *help,
			 const char *const *labels, size_t n_labels,
			 const double *buckets, size_t n_buckets, struct cn_metric **out);

/* The child for these label values (n_labels of them; NULL when the family
 * has none). */
int cn_metric_with(struct cn_metric *m, const char *const *values, struct cn_metric_child **out);

/* Counters only go up: a negative or NaN delta is -CN_EINVAL. */
int cn_counter_add(struct cn_metric_child *c, double delta);
void cn_counter_inc(struct cn_metric_child *c);
void cn_gauge_set(struct cn_metric_child *c, double v);
void cn_gauge_add(struct cn_metric_child *c, double delta);
void cn_histogram_observe(struct cn_metric_child *c, double v);
/* Current value of a counter or gauge (tests, health checks). */
double cn_metric_value(const struct cn_metric_child *c);

/* Writes the whole registry in the text exposition format. */
int cn_metrics_write(struct cn_metrics *r, FILE *f);
/* The same into a malloc'd NUL-terminated string. */
int cn_metrics_format(struct cn_metrics *r, char **out, size_t *len);

/* Formats v the way Prometheus' Go client does ("1", "0.25", "1e+06",
 * "+Inf", "NaN"). out needs 32 bytes. */
void cn_metrics_format_value(double v, char *out, size_t cap);

#endif
