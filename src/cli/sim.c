/* sim.c — `canon sim`: run the deterministic consensus simulator.
 *
 *   canon sim run --scenario NAME --keys N --seed S [--trace] [--bls]
 *   canon sim soak [--seeds N] [--keys 4,25,100] [--start S]
 *
 * A failing run prints the one-line command that replays it with a full
 * event trace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "sim/sim.h"

static void replay_line(FILE *f, const char *scen, uint32_t keys, uint64_t seed, int bls)
{
	fprintf(f, "  replay: ./canon sim run --scenario %s --keys %u --seed %llu%s --trace\n", scen, keys,
	        (unsigned long long)seed, bls ? " --bls" : "");
}

static int run_one(const char *scen, uint32_t keys, uint64_t seed, int tr, int verbose, int bls)
{
	struct sim_config cfg;
	if (sim_scenario(scen, keys, seed, &cfg)) {
		fprintf(stderr, "canon sim: unknown scenario '%s'\n", scen);
		return 2;
	}
	cfg.trace = tr ? stdout : NULL;
	struct sim_bls *b = NULL;
	if (bls) {
		if (sim_bls_new(keys, seed, &b)) {
			fprintf(stderr, "canon sim: BLS key generation failed\n");
			return 1;
		}
		cfg.crypto_for = sim_bls_crypto_for;
		cfg.crypto_ctx = b;
	}
	struct sim_result res;
	int rc = sim_run(&cfg, &res);
	sim_bls_free(b);
	if (rc) {
		printf("FAIL scenario=%s keys=%u seed=%llu: simulator error: %s\n", scen, keys, (unsigned long long)seed,
		       cn_strerror(rc));
		replay_line(stdout, scen, keys, seed, bls);
		return 1;
	}
	int bad = cfg.bugs ? !res.violation : res.violation;
	if (verbose || bad)
		printf("%s scenario=%s keys=%u seed=%llu heights=%llu..%llu end=%llums msgs=%llu evidence=%llu "
		       "finality=%.0fms%s%s\n",
		       bad ? "FAIL" : "ok", scen, keys, (unsigned long long)seed, (unsigned long long)res.min_height,
		       (unsigned long long)res.max_height, (unsigned long long)res.end_ms, (unsigned long long)res.messages,
		       (unsigned long long)res.evidence, res.finality_ms, res.violation ? " violation: " : "",
		       res.violation ? res.what : "");
	if (bad)
		replay_line(stdout, scen, keys, seed, bls);
	return bad;
}

int cli_sim(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help")) {
		printf("usage: canon sim run --scenario NAME --keys N --seed S [--trace] [--bls]\n"
		       "       canon sim soak [--seeds N] [--start S]\n\n"
		       "--bls signs with real BLS12-381 instead of the fast stand-in scheme\nscenarios:");
		for (const char *const *p = sim_scenarios(); *p; p++)
			printf(" %s", *p);
		printf("\n");
		return argc < 2 ? 2 : 0;
	}
	const char *scen = "none";
	uint32_t keys = 4;
	uint64_t seed = 1, seeds = 100, start = 1;
	int tr = 0, bls = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--trace"))
			tr = 1;
		else if (!strcmp(a, "--bls"))
			bls = 1;
		else if (!strcmp(a, "--scenario") && v)
			scen = argv[++i];
		else if (!strcmp(a, "--keys") && v)
			keys = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(a, "--seed") && v)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--seeds") && v)
			seeds = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--start") && v)
			start = strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "canon sim: bad option '%s'\n", a);
			return 2;
		}
	}
	if (!strcmp(argv[1], "run"))
		return run_one(scen, keys, seed, tr, 1, bls);
	if (strcmp(argv[1], "soak")) {
		fprintf(stderr, "canon sim: unknown action '%s'\n", argv[1]);
		return 2;
	}
	/* every scenario at every committee size, seeds start..start+seeds-1 */
	static const uint32_t sizes[] = {4, 25, 100};
	unsigned long runs = 0, failed = 0;
	for (uint64_t s = start; s < start + seeds; s++)
		for (size_t k = 0; k < 3; k++)
			for (const char *const *p = sim_scenarios(); *p; p++) {
				if (sizes[k] == 100 && s % 4)
					continue; /* the big committee every fourth seed */
				failed += run_one(*p, sizes[k], s, 0, 0, bls) != 0;
				runs++;
			}
	printf("sim soak: %lu runs, %lu failed\n", runs, failed);
	return failed ? 1 : 0;
}
