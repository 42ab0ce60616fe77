/* rq_internal.h — RaptorQ internals shared by the files of src/fec/ and tests.
 *
 * Parameters derived from K' (section 5.3.3.3), Rand and Tuple (5.3.5), the
 * budgeted allocator that lets a decoder promise a memory ceiling, and the
 * intermediate-symbol solver that plans and block codecs are built on. */
#ifndef CANON_FEC_RQ_INTERNAL_H
#define CANON_FEC_RQ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fec/raptorq.h"

struct rq_params {
	uint32_t kp, j, s, h, w;
	uint32_t l, p, p1, b; /* L = K'+S+H, P = L-W, P1 = smallest prime >= P, B = W-S */
};

/* Parameters of a Table 2 K'; -CN_EINVAL if kp is not in the table. */
int rq_params_get(uint32_t kp, struct rq_params *out);

uint32_t rq_rand(uint32_t y, uint32_t i, uint32_t m);
uint32_t rq_deg(uint32_t v, uint32_t w);

struct rq_tuple {
	uint32_t d, a, b, d1, a1, b1;
};
void rq_tuple(const struct rq_params *pr, uint32_t isi, struct rq_tuple *out);

#define RQ_LT_MAX_COLS 33
/* The intermediate-symbol columns of the LT row of ISI isi (section 5.3.5.3),
 * distinct; returns their number. */
unsigned rq_lt_cols(const struct rq_params *pr, uint32_t isi, uint32_t cols[RQ_LT_MAX_COLS]);

/* ---- budgeted allocation ----------------------------------------------- */
struct rq_mem {
	uint64_t used, cap; /* cap 0 = unlimited */
	uint64_t peak;
};
void *rq_malloc(struct rq_mem *m, size_t n);
void *rq_calloc(struct rq_mem *m, size_t count, size_t size);
void rq_free(struct rq_mem *m, void *p);

/* ---- solver -----------------------------------------------------------------
 * A "system" is the L-column constraint matrix of section 5.3.3.4 restricted to
 * a set of LT rows (the given ISIs, in order). Planning eliminates it
 * symbolically; running a plan on row data yields the intermediate symbols. */
struct rq_plan;
/* Plans the system with LT rows for isis[0..m-1]. -CN_EVERIFY if the rows do
 * not determine the intermediate symbols, -CN_ELIMIT if the budget runs out. */
int rq_plan_build(uint32_t kp, const uint32_t *isis, uint32_t m, struct rq_mem *mem,
		  struct rq_plan **out);
void rq_plan_release(struct rq_plan *plan, struct rq_mem *mem);
/* Runs the plan: y[i] is the data of LT row i (NULL = all zero), t bytes each.
 * c receives L*t bytes. Scratch comes from mem. */
int rq_plan_run(const struct rq_plan *plan, const uint8_t *const *y, size_t t, uint8_t *c,
		struct rq_mem *mem);
const struct rq_params *rq_plan_params(const struct rq_plan *plan);
uint32_t rq_plan_inactive(const struct rq_plan *plan);
/* Upper bound of the bytes rq_plan_build + rq_plan_run allocate for K' with
 * m LT rows and symbol size t. */
uint64_t rq_solver_memory(uint32_t kp, uint64_t m, size_t t);

/* XOR of the LT columns of isi from intermediate symbols c into out. */
void rq_lt_symbol(const struct rq_params *pr, const uint8_t *c, size_t t, uint32_t isi, uint8_t *out);

#endif
