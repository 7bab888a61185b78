/* Replay driver for the fuzz harnesses when libFuzzer is not linked in:
 * `make check` runs every harness over its seed corpus
 * ($TK_SRCDIR/tests/fuzz/corpus/<name without fuzz_>/) and over any files
 * given as arguments, so a crash found once stays a regression test.
 * With --enable-fuzzing libFuzzer provides main() instead. */
#ifndef TK_FUZZING
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("# cannot open %s\n", path);
		return -1;
	}
	/* Inputs are small; 1 MiB bounds what a corpus file may hold. */
	static uint8_t buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	/* Copy to an exact-size heap block so ASan sees overreads. */
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return -1;
	memcpy(copy, buf, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	return 0;
}

int main(int argc, char **argv)
{
	int count = 0, errors = 0;
	if (argc > 1) {
		for (int i = 1; i < argc; i++, count++)
			errors += replay_file(argv[i]) != 0;
	} else {
		const char *top = getenv("TK_SRCDIR");
		const char *base = strrchr(argv[0], '/');
		base = base ? base + 1 : argv[0];
		if (strncmp(base, "fuzz_", 5) == 0)
			base += 5;
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s",
			 top ? top : ".", base);
		DIR *d = opendir(dir);
		if (!d) {
			printf("not ok 1 - no seed corpus at %s\n1..1\n", dir);
			return 1;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char path[PATH_MAX + 256];
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			errors += replay_file(path) != 0;
			count++;
		}
		closedir(d);
	}
	/* Reaching here means no input crashed or hung the harness. */
	printf("%s 1 - %d inputs replayed without a crash\n1..1\n",
	       errors || count == 0 ? "not ok" : "ok", count);
	return errors || count == 0;
}
#endif
