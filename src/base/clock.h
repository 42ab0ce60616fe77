/* clock.h — time sources behind an interface.
 *
 * Code that needs the time takes a struct cn_clock * instead of calling the
 * OS, so that the simulator and tests can drive time by hand. The system
 * clock reads CLOCK_MONOTONIC / CLOCK_REALTIME; the manual clock only moves
 * when told to (its monotonic and wall readings advance together). */
#ifndef CANON_BASE_CLOCK_H
#define CANON_BASE_CLOCK_H

#include <stdint.h>

struct cn_clock {
	uint64_t (*monotonic_ns)(struct cn_clock *c);
	uint64_t (*monotonic_ms)(struct cn_clock *c);
	/* Milliseconds since the Unix epoch (UTC). */
	uint64_t (*wall_ms)(struct cn_clock *c);
};

/* The process-wide system clock (stateless, thread-safe). */
struct cn_clock *cn_clock_system(void);

/* A clock under manual control. Not thread-safe: owned by one driver. */
struct cn_manual_clock {
	struct cn_clock clock;     /* first member: pass &mc->clock */
	uint64_t mono_ns;
	uint64_t wall_base_ms;     /* wall time when mono_ns was 0 */
};

void cn_manual_clock_init(struct cn_manual_clock *mc, uint64_t start_mono_ns, uint64_t wall_ms);
void cn_manual_clock_advance_ns(struct cn_manual_clock *mc, uint64_t ns);
void cn_manual_clock_advance_ms(struct cn_manual_clock *mc, uint64_t ms);
/* Moves monotonic time to ns; -CN_EINVAL if that would go backwards. */
int cn_manual_clock_set_ns(struct cn_manual_clock *mc, uint64_t ns);

static inline uint64_t cn_clock_mono_ms(struct cn_clock *c) { return c->monotonic_ms(c); }
static inline uint64_t cn_clock_mono_ns(struct cn_clock *c) { return c->monotonic_ns(c); }
static inline uint64_t cn_clock_wall_ms(struct cn_clock *c) { return c->wall_ms(c); }

#endif
