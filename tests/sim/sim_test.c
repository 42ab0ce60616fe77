/* sim_test.c — the FBFT state machine under the deterministic simulator.
 *
 * Every scenario runs for many seeds at committee sizes 4, 25 (10 nodes,
 * two or three keys each) and 100 (25 nodes, four keys each); a failure
 * message carries the command that replays the run with a full trace. */
#include <criterion/criterion.h>
#include <string.h>

#include "sim/sim.h"
#include "testutil.h"

static size_t total_runs;

static void run(const char *scen, uint32_t keys, uint64_t seed, struct sim_result *res)
{
	struct sim_config cfg;
	cr_assert_eq(sim_scenario(scen, keys, seed, &cfg), 0, "scenario %s", scen);
	cr_assert_eq(sim_run(&cfg, res), 0);
	total_runs++;
}

static void seeds(const char *scen, uint32_t keys, uint64_t n, uint64_t *evidence)
{
	uint64_t first = 1000 * keys + 1;
	if (tu_long())
		n *= 10;
	for (uint64_t s = first; s < first + n; s++) {
		struct sim_result res;
		run(scen, keys, s, &res);
		cr_assert_eq(res.violation, 0, "%s\n  replay: ./canon sim run --scenario %s --keys %u --seed %llu --trace",
		             res.what, scen, keys, (unsigned long long)s);
		if (evidence)
			*evidence += res.evidence;
	}
}

/* 15 scenarios x (20 + 12 + 3) seeds = 525 runs, plus stall and bug runs */
static const char *const normal[] = {
	"none", "loss", "partition", "crash", "silent", "equivocate", "double-vote", "replay", "garbage",
	"leader-announce", "leader-prepared", "leader-committed", "leader-newview", "mixed", "staked",
};

Test(sim, committee_4)
{
	size_t before = total_runs;
	for (size_t i = 0; i < sizeof normal / sizeof *normal; i++)
		seeds(normal[i], 4, 20, NULL);
	tu_report("sim runs, committee 4", total_runs - before);
}

Test(sim, committee_25_multikey)
{
	size_t before = total_runs;
	for (size_t i = 0; i < sizeof normal / sizeof *normal; i++)
		seeds(normal[i], 25, 12, NULL);
	tu_report("sim runs, committee 25", total_runs - before);
}

Test(sim, committee_100_multikey)
{
	size_t before = total_runs;
	for (size_t i = 0; i < sizeof normal / sizeof *normal; i++)
		seeds(normal[i], 100, 3, NULL);
	tu_report("sim runs, committee 100", total_runs - before);
}

Test(sim, double_signers_leave_evidence)
{
	uint64_t ev = 0;
	seeds("double-vote", 4, 5, &ev);
	seeds("double-vote", 25, 5, &ev);
	cr_assert_gt(ev, 0, "double-voting keys were never recorded as evidence");
}

Test(sim, a_third_silent_stalls_without_forking)
{
	uint32_t sizes[] = {4, 25, 100};
	for (size_t k = 0; k < 3; k++)
		for (uint64_t s = 1; s <= 5; s++) {
			struct sim_result res;
			run("stall", sizes[k], s, &res);
			cr_assert_eq(res.violation, 0, "%s (keys %u seed %llu)", res.what, sizes[k], (unsigned long long)s);
			cr_assert_eq(res.max_height, 0);
		}
}

Test(sim, injected_double_vote_bug_is_caught)
{
	uint32_t sizes[] = {4, 25};
	for (size_t k = 0; k < 2; k++)
		for (uint64_t s = 1; s <= 10; s++) {
			struct sim_result res;
			run("bug-double-vote", sizes[k], s, &res);
			cr_assert_eq(res.violation, 1, "the injected bug went unnoticed (keys %u seed %llu)", sizes[k],
			             (unsigned long long)s);
			cr_assert(strstr(res.what, "conflicting") || strstr(res.what, "safety"), "%s", res.what);
		}
}

Test(sim, runs_replay_exactly)
{
	const char *scen[] = {"mixed", "crash", "garbage"};
	for (size_t i = 0; i < 3; i++) {
		struct sim_result a, b;
		run(scen[i], 25, 77, &a);
		run(scen[i], 25, 77, &b);
		cr_assert_eq(a.end_ms, b.end_ms);
		cr_assert_eq(a.messages, b.messages);
		cr_assert_eq(a.events, b.events);
		cr_assert_eq(a.max_height, b.max_height);
	}
}

Test(sim, unknown_scenario)
{
	struct sim_config cfg;
	cr_assert_neq(sim_scenario("no-such", 4, 1, &cfg), 0);
}
