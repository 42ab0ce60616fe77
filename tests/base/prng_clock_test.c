/* Tests of the PRNG (published xoshiro256** outputs, determinism, bounds)
 * and of the clocks. */
#include <criterion/criterion.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/prng.h"

Test(prng, reference_state_1234)
{
	/* Outputs of the reference xoshiro256** from state {1,2,3,4}. */
	struct cn_prng r = {{1, 2, 3, 4}};
	cr_assert_eq(cn_prng_next_u64(&r), 11520ULL);
	cr_assert_eq(cn_prng_next_u64(&r), 0ULL);
	cr_assert_eq(cn_prng_next_u64(&r), 1509978240ULL);
	cr_assert_eq(cn_prng_next_u64(&r), 1215971899390074240ULL);
}

Test(prng, seeded_stream_is_pinned)
{
	/* SplitMix64 expansion of seed 42 then xoshiro256**; the simulator's
	 * replays depend on this exact stream never changing. */
	static const uint64_t want[] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
					0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL,
					0xfde6dc7fe2ec5e64ULL};
	struct cn_prng r;
	cn_prng_seed(&r, 42);
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(cn_prng_next_u64(&r), want[i], "output %zu", i);
}

Test(prng, same_seed_same_stream_different_seed_differs)
{
	struct cn_prng a, b, c;
	cn_prng_seed(&a, 7);
	cn_prng_seed(&b, 7);
	cn_prng_seed(&c, 8);
	int differs = 0;
	for (int i = 0; i < 100; i++) {
		uint64_t x = cn_prng_next_u64(&a);
		cr_assert_eq(x, cn_prng_next_u64(&b));
		differs |= x != cn_prng_next_u64(&c);
	}
	cr_assert(differs);
}

Test(prng, uniform_bounds_and_coverage)
{
	struct cn_prng r;
	cn_prng_seed(&r, 1);
	unsigned hist[7] = {0};
	for (int i = 0; i < 70000; i++) {
		uint64_t v = cn_prng_uniform(&r, 7);
		cr_assert_lt(v, 7);
		hist[v]++;
	}
	for (int i = 0; i < 7; i++)
		cr_assert(hist[i] > 9000 && hist[i] < 11000, "bucket %d has %u", i, hist[i]);
	cr_assert_eq(cn_prng_uniform(&r, 0), 0);
	cr_assert_eq(cn_prng_uniform(&r, 1), 0);
	/* A bound just above 2^63 rejects about half the raw draws. */
	uint64_t big = (1ULL << 63) + 1;
	for (int i = 0; i < 1000; i++)
		cr_assert_lt(cn_prng_uniform(&r, big), big);
}

Test(prng, double_in_unit_interval)
{
	struct cn_prng r;
	cn_prng_seed(&r, 99);
	double sum = 0;
	for (int i = 0; i < 10000; i++) {
		double d = cn_prng_double(&r);
		cr_assert(d >= 0.0 && d < 1.0);
		sum += d;
	}
	cr_assert(sum / 10000 > 0.48 && sum / 10000 < 0.52);
}

Test(prng, fill_matches_little_endian_words)
{
	struct cn_prng a, b;
	cn_prng_seed(&a, 5);
	cn_prng_seed(&b, 5);
	uint8_t buf[13];
	cn_prng_fill(&a, buf, sizeof buf);
	uint64_t w0 = cn_prng_next_u64(&b), w1 = cn_prng_next_u64(&b);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(buf[i], (uint8_t)(w0 >> (8 * i)));
	for (int i = 0; i < 5; i++)
		cr_assert_eq(buf[8 + i], (uint8_t)(w1 >> (8 * i)));
	/* The stream continues after the partial word is discarded. */
	cr_assert_eq(cn_prng_next_u64(&a), cn_prng_next_u64(&b));
}

Test(prng, jump_gives_a_different_stream)
{
	struct cn_prng a, b;
	cn_prng_seed(&a, 3);
	b = a;
	cn_prng_jump(&b);
	cr_assert_neq(memcmp(&a, &b, sizeof a), 0);
	struct cn_prng c;
	cn_prng_seed(&c, 3);
	cn_prng_jump(&c);
	cr_assert_eq(cn_prng_next_u64(&b), cn_prng_next_u64(&c));
}

Test(clock, manual_clock_moves_only_when_told)
{
	struct cn_manual_clock mc;
	cn_manual_clock_init(&mc, 5000000, 1700000000000ULL);
	struct cn_clock *c = &mc.clock;
	cr_assert_eq(cn_clock_mono_ns(c), 5000000);
	cr_assert_eq(cn_clock_mono_ms(c), 5);
	cr_assert_eq(cn_clock_wall_ms(c), 1700000000000ULL);
	cn_manual_clock_advance_ms(&mc, 250);
	cr_assert_eq(cn_clock_mono_ms(c), 255);
	cr_assert_eq(cn_clock_wall_ms(c), 1700000000250ULL);
	cn_manual_clock_advance_ns(&mc, 999999);
	cr_assert_eq(cn_clock_mono_ns(c), 255999999);
	cr_assert_eq(cn_manual_clock_set_ns(&mc, 1000000000), 0);
	cr_assert_eq(cn_clock_mono_ms(c), 1000);
	cr_assert_eq(cn_manual_clock_set_ns(&mc, 1), -CN_EINVAL);
	cr_assert_eq(cn_clock_mono_ms(c), 1000);
}

Test(clock, system_clock_is_monotonic_and_plausible)
{
	struct cn_clock *c = cn_clock_system();
	uint64_t a = cn_clock_mono_ns(c), b = cn_clock_mono_ns(c);
	cr_assert_geq(b, a);
	/* After 2020-01-01 and before 2200. */
	uint64_t w = cn_clock_wall_ms(c);
	cr_assert(w > 1577836800000ULL && w < 7258118400000ULL);
	cr_assert_leq(cn_clock_mono_ms(c) / 1000, cn_clock_mono_ns(c) / 1000000000 + 1);
}
