/* SPDX-License-Identifier: MIT */
/*
 * The guest's clock for port timestamps: the TSC, converted to the host's CLOCK_MONOTONIC by
 * a calibration against MUMU_HC_TIME_NS renewed every second, so that reading the time costs
 * no VM exit and partitions agree on it (to the few microseconds a hypercall takes).
 */
#include "lib/mumu.h"
#include "lib/port.h"

static struct {
	uint64_t lock; /* odd while a vCPU updates the rest */
	uint64_t tsc;  /* TSC at the calibration */
	uint64_t ns;   /* host CLOCK_MONOTONIC then */
	uint64_t span; /* TSC ticks in a second: recalibrate after that */
	uint64_t mult; /* ns per tick << 32 */
} cal;

uint64_t mumu_now_ns(void)
{
	const struct mumu_info *info = (const struct mumu_info *)MUMU_INFO_GPA;
	uint64_t khz = info->tsc_khz, lock, tsc, base_tsc, base_ns, span, mult, t0, ns, t1;

	if (khz == 0)
		return mumu_time_ns();
	lock = __atomic_load_n(&cal.lock, __ATOMIC_ACQUIRE);
	base_tsc = cal.tsc;
	base_ns = cal.ns;
	span = cal.span;
	mult = cal.mult;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	tsc = mumu_rdtsc();
	/* Within a second, delta < 2^32 for any TSC below 4 GHz and delta * mult fits 64 bits. */
	if (!(lock & 1) && base_ns && lock == __atomic_load_n(&cal.lock, __ATOMIC_RELAXED) &&
	    tsc >= base_tsc && tsc - base_tsc < span)
		return base_ns + (((tsc - base_tsc) * mult) >> 32);
	t0 = mumu_rdtsc();
	ns = mumu_time_ns();
	t1 = mumu_rdtsc();
	if (!(lock & 1) && __atomic_compare_exchange_n(&cal.lock, &lock, lock + 1, false,
						       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		cal.tsc = t0 + (t1 - t0) / 2;
		cal.ns = ns;
		cal.span = khz * 1000 < (1ULL << 32) ? khz * 1000 : (1ULL << 32) - 1;
		cal.mult = (1000000ULL << 32) / khz;
		__atomic_store_n(&cal.lock, lock + 2, __ATOMIC_RELEASE);
	}
	return ns;
}

void mumu_wait_window(void)
{
	mumu_yield();
}
