/* clock.c — system and manual clocks. */
#include "base/clock.h"

#include <time.h>

#include "base/err.h"

static uint64_t ts_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t sys_mono_ns(struct cn_clock *c) { return ts_ns(CLOCK_MONOTONIC); }
static uint64_t sys_mono_ms(struct cn_clock *c) { return ts_ns(CLOCK_MONOTONIC) / 1000000; }
static uint64_t sys_wall_ms(struct cn_clock *c) { return ts_ns(CLOCK_REALTIME) / 1000000; }

static struct cn_clock system_clock = {sys_mono_ns, sys_mono_ms, sys_wall_ms};

struct cn_clock *cn_clock_system(void)
{
	return &system_clock;
}

static uint64_t man_mono_ns(struct cn_clock *c)
{
	return ((struct cn_manual_clock *)c)->mono_ns;
}

static uint64_t man_mono_ms(struct cn_clock *c)
{
	return ((struct cn_manual_clock *)c)->mono_ns / 1000000;
}

static uint64_t man_wall_ms(struct cn_clock *c)
{
	struct cn_manual_clock *mc = (struct cn_manual_clock *)c;
	return mc->wall_base_ms + mc->mono_ns / 1000000;
}

void cn_manual_clock_init(struct cn_manual_clock *mc, uint64_t start_mono_ns, uint64_t wall_ms)
{
	mc->clock.monotonic_ns = man_mono_ns;
	mc->clock.monotonic_ms = man_mono_ms;
	mc->clock.wall_ms = man_wall_ms;
	mc->mono_ns = start_mono_ns;
	mc->wall_base_ms = wall_ms - start_mono_ns / 1000000;
}

void cn_manual_clock_advance_ns(struct cn_manual_clock *mc, uint64_t ns)
{
	mc->mono_ns += ns;
}

void cn_manual_clock_advance_ms(struct cn_manual_clock *mc, uint64_t ms)
{
	mc->mono_ns += ms * 1000000;
}

int cn_manual_clock_set_ns(struct cn_manual_clock *mc, uint64_t ns)
{
	if (ns < mc->mono_ns)
		return -CN_EINVAL;
	mc->mono_ns = ns;
	return 0;
}
