/* SPDX-License-Identifier: MIT */
/*
 * witness.bin: counts the time taken from it inside its own windows. It spins reading the
 * TSC; a jump of at least STOLEN_US but less than WINDOW_GAP_US is time the core spent on
 * something else in the middle of its window (stolen), a longer one the gap between two of
 * its windows. At the start of every window it prints the one before:
 *
 *     witness N STOLEN_US JUMPS RAN_US
 *
 * (the printing hypercall itself is not counted). Only vCPU 0 measures; others yield.
 */
#include "lib/mumu.h"

#define STOLEN_US     20
#define WINDOW_GAP_US 5000

int main(uint64_t vcpu, const struct mumu_info *info)
{
	uint64_t khz = info->tsc_khz, stolen = 0, jumps = 0, first, prev, now, n = 0;

	if (vcpu != 0 || khz == 0)
		for (;;)
			mumu_yield();
	mumu_printf("witness: a jump of %u us to %u us inside a window is stolen\n", STOLEN_US,
		    WINDOW_GAP_US);
	first = prev = mumu_rdtsc();
	for (;;) {
		uint64_t d;

		now = mumu_rdtsc();
		d = now - prev;
		prev = now;
		if (d < khz * STOLEN_US / 1000)
			continue;
		if (d < khz * WINDOW_GAP_US / 1000) {
			stolen += d;
			jumps++;
			continue;
		}
		/* A new window: report the last one (its end is the read before this jump). */
		mumu_printf("witness %lu %lu %lu %lu\n", n++, stolen * 1000 / khz, jumps,
			    (now - d - first) * 1000 / khz);
		stolen = jumps = 0;
		first = prev = mumu_rdtsc();
	}
}
