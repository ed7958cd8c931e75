/* SPDX-License-Identifier: MIT */
/*
 * bench_hc.bin: times a run of TIME_NS hypercalls (an exit each) in its first window, then
 * GUARD of GUARDS new pages one by one (each a change of the page tables that KVM is made to
 * forget: docs/abi.md "Guard pages"), with the pages it uses touched again after each.
 *
 *     hypercall_ns=NS over N guard_ns=P50 over G
 */
#include <stdlib.h>

#include "lib/mumu.h"

#define N      5000
#define GUARDS 32

static uint8_t pages[16][MUMU_PAGE_BYTES] __attribute__((aligned(4096)));

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t guard_p50(void)
{
	uint64_t ns[GUARDS];

	for (int g = 0; g < GUARDS; g++) {
		/* Pages below the image, in the first 2 MiB's own table: nothing else uses them. */
		uint64_t t0 = mumu_time_ns();

		mumu_guard((void *)(MUMU_PAGING_END_GPA + (uint64_t)g * MUMU_PAGE_BYTES));
		for (int i = 0; i < 16; i++)
			pages[i][0]++;
		ns[g] = mumu_time_ns() - t0;
	}
	qsort(ns, GUARDS, sizeof(ns[0]), cmp);
	return ns[GUARDS / 2];
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	uint64_t t0, t1;

	for (int i = 0; i < N / 10; i++)
		mumu_time_ns();
	t0 = mumu_time_ns();
	for (int i = 0; i < N; i++)
		mumu_time_ns();
	t1 = mumu_time_ns();
	mumu_printf("hypercall_ns=%lu over %d guard_ns=%lu over %d\n", (t1 - t0) / N, N,
		    guard_p50(), GUARDS);
	return 0;
}
