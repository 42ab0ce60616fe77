/* replay.c — runs a libFuzzer target over saved inputs without libFuzzer.
 *
 * `make test` links every fuzz target with this driver and feeds it the
 * committed corpus and every crash libFuzzer ever saved, so a crash once found
 * stays a failing test until it is fixed. Arguments are files or directories. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0)
			continue;              /* an absent corpus directory is empty */
		if (!S_ISDIR(st.st_mode)) {
			count += run_file(argv[i]) == 0;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
			count += run_file(path) == 0;
		}
		if (d)
			closedir(d);
	}
	/* Also exercise the empty input, the classic first crash. */
	LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
	printf("fuzz-replay %s: %zu inputs, no crash\n", argv[0], count);
	return 0;
}
