/* SPDX-License-Identifier: MIT */
/*
 * preempt.bin: a preemptive two-thread partition on ABI 3's upcalls. On every vCPU two
 * counting loops, A and B, share the vCPU's windows: a periodic 1 ms timer switches between
 * them (a context switch in the upcall handler: the interrupted thread's registers and FPU
 * state saved, the other's resumed, no exit). At each window's start the vCPU prints what
 * each thread got in the window before:
 *
 *     preempt: vcpu V window N: A S slices C counts, B S slices C counts
 */
#include "lib/upcall.h"

#define TICK_NS 1000000ULL

struct thread {
	struct mumu_context ctx;
	volatile uint64_t count; /* the thread's own: read here, never reset */
	uint64_t counted;	 /* count at the window before's start */
	uint64_t slices;
	uint8_t stack[16384] __attribute__((aligned(16)));
};

static struct mumu_upcalls up[MUMU_VCPU_MAX];
static struct thread threads[MUMU_VCPU_MAX][2];
static uint32_t running[MUMU_VCPU_MAX]; /* 0: A, 1: B */
static uint64_t windows[MUMU_VCPU_MAX];

static __attribute__((noinline)) void count(void *arg)
{
	struct thread *t = arg;

	for (;;)
		t->count++;
}

static struct mumu_context *on_upcall(struct mumu_upcalls *u, uint32_t events,
				      struct mumu_context *interrupted)
{
	uint32_t v = (uint32_t)(u - up);
	struct thread *t = threads[v];

	if (events & MUMU_EV_WINDOW) {
		uint64_t now[2] = { t[0].count, t[1].count };

		if (windows[v]++ > 0)
			mumu_printf("preempt: vcpu %u window %lu: A %lu slices %lu counts, "
				    "B %lu slices %lu counts\n",
				    v, windows[v] - 1, t[0].slices, now[0] - t[0].counted,
				    t[1].slices, now[1] - t[1].counted);
		for (int i = 0; i < 2; i++) {
			t[i].slices = 0;
			t[i].counted = now[i];
		}
		t[running[v]].slices = 1; /* the window starts with the thread that ran last */
	}
	if (events & MUMU_EV_TIMER) {
		running[v] ^= 1;
		t[running[v]].slices++;
	}
	return &t[running[v]].ctx;
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	struct thread *t = threads[vcpu];
	long r;

	mumu_context_init(&t[1].ctx, count, &t[1], t[1].stack, sizeof(t[1].stack));
	r = mumu_upcall_init(&up[vcpu], MUMU_EV_TIMER | MUMU_EV_WINDOW, on_upcall);
	if (r < 0) {
		mumu_printf("preempt: vcpu %lu: no upcalls (%ld)\n", vcpu, r);
		return 0;
	}
	/* main goes on as thread A: the first upcall saves it there. */
	up[vcpu].current = &t[0].ctx;
	mumu_timer_set(&up[vcpu], mumu_clock_ns() + TICK_NS, TICK_NS);
	count(&t[0]);
	return 0;
}
