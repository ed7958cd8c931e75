/* SPDX-License-Identifier: MIT */
/* bench_hc.bin: times a run of TIME_NS hypercalls (a port-I/O exit each) in its first window. */
#include "lib/mumu.h"

#define N 5000

int main(uint64_t vcpu, const struct mumu_info *info)
{
	uint64_t t0, t1;

	for (int i = 0; i < N / 10; i++)
		mumu_time_ns();
	t0 = mumu_time_ns();
	for (int i = 0; i < N; i++)
		mumu_time_ns();
	t1 = mumu_time_ns();
	mumu_printf("hypercall_ns=%lu over %d\n", (t1 - t0) / N, N);
	return 0;
}
