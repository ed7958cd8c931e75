/* SPDX-License-Identifier: MIT */
/*
 * probe.bin: measures the schedule from inside the guest. It spins reading the TSC; a jump
 * longer than GAP_US means the core was taken away, so the previous read was the last
 * instruction of a window and the current one the first of the next. At the start of every
 * window it converts the previous window's first and last TSC to CLOCK_MONOTONIC ns (the
 * clock of the schedule, through one TIME_NS anchor per window and info->tsc_khz) and prints
 *
 *     probe N FIRST_NS LAST_NS ERR_NS
 *
 * ERR_NS bounds the conversion's error. Where the information page has the VMM's clock anchor
 * (clock_tsc, clock_ns: exact) the conversion is that anchor and tsc_khz, whose rounding
 * (half a kHz) and the clock's slew (taken as 1 ppm) make the error; otherwise one TIME_NS
 * anchor per window, whose error is half its round trip.
 * A window in which the core was taken away during the probe's own hypercalls is not reported.
 * Only vCPU 0 measures; other vCPUs yield.
 */
#include "lib/mumu.h"

#define GAP_US 1000

/* TSC ticks to ns; the quotient and remainder keep 64 bits from overflowing for hours. */
static uint64_t ticks_ns(uint64_t ticks, uint64_t khz)
{
	return ticks / khz * 1000000 + ticks % khz * 1000000 / khz;
}

/* The CLOCK_MONOTONIC ns of TSC reading tsc, by an anchor (a_tsc at a_ns) before or after it. */
static uint64_t at_ns(uint64_t tsc, uint64_t a_tsc, uint64_t a_ns, uint64_t khz)
{
	return tsc >= a_tsc ? a_ns + ticks_ns(tsc - a_tsc, khz) : a_ns - ticks_ns(a_tsc - tsc, khz);
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	uint64_t khz = info->tsc_khz, gap, first, prev, now, n = 0;
	uint64_t anchor_tsc = 0, anchor_ns = 0, err_ns = 0;
	bool valid = false;

	if (vcpu != 0)
		for (;;)
			mumu_yield();
	if (khz == 0) {
		mumu_printf("probe: no TSC frequency in the information page\n");
		mumu_raise_error(1, "no tsc_khz", 10);
		for (;;)
			mumu_yield();
	}
	gap = khz * GAP_US / 1000;
	mumu_printf("probe: tsc %lu kHz, a window ends at a gap of %u us\n", khz, GAP_US);
	first = prev = mumu_rdtsc();
	for (;;) {
		now = mumu_rdtsc();
		if (now - prev <= gap) {
			prev = now;
			continue;
		}
		/* A window ended at prev: report it with its anchor (taken at its start). */
		uint64_t last = prev, a_tsc = anchor_tsc, a_ns = anchor_ns, a_err = err_ns;

		if (valid)
			mumu_printf("probe %lu %lu %lu %lu\n", n, at_ns(first, a_tsc, a_ns, khz),
				    at_ns(last, a_tsc, a_ns, khz), a_err);
		n++;
		first = now;
		if (info->clock_tsc) {
			uint64_t span = ticks_ns(now - info->clock_tsc, khz);

			anchor_tsc = info->clock_tsc;
			anchor_ns = info->clock_ns;
			err_ns = span / (2 * khz) + span / 1000000 + 100;
		} else {
			uint64_t before = mumu_rdtsc(), ns = mumu_time_ns(), after = mumu_rdtsc();

			anchor_tsc = before + (after - before) / 2;
			anchor_ns = ns;
			err_ns = ticks_ns(after - before, khz) / 2 + 1;
		}
		prev = mumu_rdtsc();
		/* The core may have been taken away during the hypercalls: then this window's
		 * first instruction or its anchor is unknown, and it goes unreported. */
		valid = prev - now <= gap;
	}
}
