// SPDX-License-Identifier: GPL-2.0
/*
 * kvmx-touch - keep touching a fixed amount of memory, for the access
 * sampler's accuracy test.
 *
 *   kvmx-touch MIB [READY_FILE [SECONDS]]
 *
 * Allocates MIB MiB, writes every page once, creates READY_FILE (if
 * given), then writes one byte in every page, front to back, forever, or
 * for SECONDS and then prints how many pages per second it wrote.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long mib, i, n, sweeps = 0;
	double secs = 0, t0, t;
	struct timespec ts;
	volatile unsigned char *p;
	unsigned char v = 1;

	mib = argc < 2 ? 0 : strtoul(argv[1], NULL, 10);
	if (!mib) {
		fprintf(stderr, "usage: kvmx-touch MIB [READY_FILE]\n");
		return 2;
	}
	n = mib << 8;
	p = mmap(NULL, n << 12, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (i = 0; i < n; i++)
		p[i << 12] = v;
	if (argc > 2)
		close(open(argv[2], O_CREAT | O_WRONLY, 0644));
	if (argc > 3)
		secs = strtod(argv[3], NULL);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec + ts.tv_nsec / 1e9;
	for (;;) {
		v++;
		for (i = 0; i < n; i++)
			p[i << 12] = v;
		sweeps++;
		if (secs <= 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		t = ts.tv_sec + ts.tv_nsec / 1e9;
		if (t - t0 >= secs) {
			printf("pages_per_sec %.0f\n", sweeps * n / (t - t0));
			return 0;
		}
	}
}
