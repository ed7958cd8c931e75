/* SPDX-License-Identifier: MIT */
/*
 * bench_upcall.bin: what ABI 3's upcalls cost, measured inside the guest (bench/upcall.sh).
 * Two threads take turns on vCPU 0: each sets a one-shot timer 200-500 us ahead and spins
 * reading the TSC; the timer's upcall switches to the other thread. Per round: the deadline
 * to the handler's first instruction (upcall latency), and the handler to the other thread's
 * first TSC read (the user-level context switch: FPU saved, handler, FPU and registers of the
 * other restored, no exit). Then exceptions: a #UD to its handler, which skips it. Rounds
 * that a window's start or end touched are not counted. One line:
 *
 *     upcall_ns=P50 P99 MAX switch_ns=P50 P99 MAX exception_ns=P50 P99 MAX n=N
 */
#include "lib/upcall.h"

#define ROUNDS 400
#define FAULTS 200

static struct mumu_upcalls up;
static struct mumu_context main_ctx, other;
static struct mumu_context *const thread_ctx[2] = { &main_ctx, &other };
static uint8_t other_stack[16384] __attribute__((aligned(16)));
static volatile uint64_t deadline, window_end, handler_tsc, fault_tsc;
static volatile uint32_t running, events_seen;
static volatile bool switched = true;
static uint64_t lat[ROUNDS], sw[ROUNDS], exc[FAULTS];

static uint64_t ns_of(uint64_t tsc)
{
	const struct mumu_info *info = (const struct mumu_info *)MUMU_INFO_GPA;
	uint64_t d = tsc - info->clock_tsc, khz = info->tsc_khz;

	return info->clock_ns + d / khz * 1000000 + d % khz * 1000000 / khz;
}

static struct mumu_context *on_upcall(struct mumu_upcalls *u, uint32_t events,
				      struct mumu_context *ctx)
{
	uint64_t t = mumu_rdtsc();

	events_seen = events;
	if (events & MUMU_EV_EXCEPTION) {
		fault_tsc = t;
		ctx->frame.rip += 2; /* past the ud2 */
		return ctx;
	}
	handler_tsc = t;
	running ^= 1;
	switched = true;
	return thread_ctx[running];
}

static void finish(void) __attribute__((noreturn));

/* Both threads: resumed by a switch, note when, then set the next round's timer and spin. */
static void worker(void *arg)
{
	uint32_t me = (uint32_t)(uint64_t)arg;

	for (uint32_t round = 0;;) {
		uint64_t t, h;

		if (running != me || !switched)
			continue;
		t = mumu_rdtsc();
		switched = false;
		round = round > 0 ? round : 1;
		if (deadline) {
			h = ns_of(handler_tsc);
			lat[round - 1] = events_seen == MUMU_EV_TIMER && h < window_end
					     ? h - deadline
					     : UINT64_MAX;
			sw[round - 1] = ns_of(t) - h;
			if (round++ == ROUNDS)
				finish();
		}
		if (mumu_clock_ns() + 600000 > up.area.window_end_ns)
			mumu_yield(); /* no round across a window's end */
		window_end = up.area.window_end_ns;
		deadline = mumu_clock_ns() + 200000 + (round * 7919) % 300000;
		mumu_timer_set(&up, deadline, 0);
	}
}

static void sort(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Sorts the valid samples to the front; returns how many. */
static int valid(uint64_t *v, int n)
{
	int m = 0;

	sort(v, n);
	while (m < n && v[m] != UINT64_MAX)
		m++;
	return m;
}

static void finish(void)
{
	int n, ns, ne;

	for (int i = 0; i < FAULTS; i++) {
		uint64_t end = up.area.window_end_ns, t0 = mumu_rdtsc();

		__asm__ volatile("ud2");
		exc[i] = ns_of(fault_tsc) < end ? ns_of(fault_tsc) - ns_of(t0) : UINT64_MAX;
	}
	n = valid(lat, ROUNDS);
	ns = valid(sw, ROUNDS);
	ne = valid(exc, FAULTS);
	mumu_printf("upcall_ns=%lu %lu %lu switch_ns=%lu %lu %lu exception_ns=%lu %lu %lu "
		    "n=%d\n",
		    lat[n / 2], lat[n * 99 / 100], lat[n - 1], sw[ns / 2], sw[ns * 99 / 100],
		    sw[ns - 1], exc[ne / 2], exc[ne * 99 / 100], exc[ne - 1], n);
	for (;;)
		mumu_yield();
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	if (vcpu != 0 || !info->clock_tsc)
		for (;;)
			mumu_yield();
	mumu_context_init(&other, worker, (void *)1, other_stack, sizeof(other_stack));
	if (mumu_upcall_init(&up, MUMU_EV_TIMER | MUMU_EV_EXCEPTION, on_upcall) < 0)
		for (;;)
			mumu_yield();
	up.current = &main_ctx;
	worker((void *)0); /* never returns: finish() ends the run */
	return 0;
}
