/* SPDX-License-Identifier: MIT */
/*
 * upcalls.bin: ABI 3's upcalls, each property checked from inside the guest (tests/e2e/upcall.sh
 * reads its lines). vCPU 0 runs the checks; every other vCPU counts timer upcalls and kicks
 * vCPU 0 once. In order:
 *
 *   upcalls: bad R1 R2 ...       bad registrations and requests, their results
 *   timer: N fired, E early, O outside, late p50 P max M us
 *   between: TIMER|WINDOW at the next start, D us after the deadline
 *   masked: waited W us, taken at unmask
 *   exception VEC NAME ok [address A]    one per class, the guest survives each
 *   kick: from vCPU 1 taken            (two vCPUs)
 *   vcpu V: T timer upcalls           (every vCPU but 0, periodically)
 *   upcalls: fault in the handler     then a #UD with events masked: the partition ends
 *
 * After a restart (GET_STATUS n_restarts > 0) it only says "upcalls: restarted" and yields.
 */
#include "lib/upcall.h"

#define RUNS 40

static struct mumu_upcalls up[MUMU_VCPU_MAX];

/* What the handler saw (vCPU 0). */
static volatile uint32_t seen_events, last_events, seen_vector, upcalls_seen;
static volatile bool kicked;
static volatile uint64_t seen_ns, seen_addr, seen_error, seen_end;
static volatile uint64_t skip_bytes, fix_rsp; /* how to go on after a deliberate exception */
static volatile bool fault_in_handler;
static volatile uint64_t other_ticks[MUMU_VCPU_MAX];

static struct mumu_context *on_upcall(struct mumu_upcalls *u, uint32_t events,
				      struct mumu_context *ctx)
{
	uint64_t now = mumu_clock_ns();

	if (u != &up[0]) {
		other_ticks[u - up] += (events & MUMU_EV_TIMER) != 0;
		return ctx;
	}
	seen_ns = now;
	seen_end = u->area.window_end_ns;
	seen_events |= events;
	last_events = events;
	kicked |= (events & MUMU_EV_KICK) != 0;
	upcalls_seen++;
	if (events & MUMU_EV_EXCEPTION) {
		seen_vector = u->area.vector;
		seen_addr = u->area.fault_addr;
		seen_error = u->area.error_code;
		ctx->frame.rip += skip_bytes;
		if (fix_rsp)
			ctx->frame.rsp = fix_rsp;
	}
	if (fault_in_handler)
		__asm__ volatile("ud2");
	return ctx;
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

static void bad_requests(void)
{
	static struct mumu_vcpu_area area;
	static uint8_t stack[2048] __attribute__((aligned(16)));
	struct mumu_upcall_setup s = { .entry = MUMU_USER_GPA,
				       .stack_top = (uint64_t)(stack + sizeof(stack)),
				       .area = (uint64_t)&area,
				       .events = MUMU_EV_TIMER };
	long r[9];

	r[0] = mumu_hc(MUMU_HC_TIMER_SET, 1, 0, 0); /* nothing registered yet */
	r[1] = mumu_hc(MUMU_HC_UPCALL_REGISTER, MUMU_SYSTEM_GPA, 0, 0);
	s.events = 1u << 9;
	r[2] = mumu_hc(MUMU_HC_UPCALL_REGISTER, (long)&s, 0, 0);
	s.events = MUMU_EV_TIMER;
	s.entry = 0x7fff0000; /* beyond RAM */
	r[3] = mumu_hc(MUMU_HC_UPCALL_REGISTER, (long)&s, 0, 0);
	s.entry = MUMU_USER_GPA;
	s.stack_top += 8; /* misaligned */
	r[4] = mumu_hc(MUMU_HC_UPCALL_REGISTER, (long)&s, 0, 0);
	s.stack_top = MUMU_SYSTEM_GPA + 0x800; /* the VMM's page */
	r[5] = mumu_hc(MUMU_HC_UPCALL_REGISTER, (long)&s, 0, 0);
	s.stack_top = (uint64_t)(stack + sizeof(stack));
	s.area = MUMU_INFO_GPA; /* read-only, not RAM */
	r[6] = mumu_hc(MUMU_HC_UPCALL_REGISTER, (long)&s, 0, 0);
	s.area = (uint64_t)&area + 4; /* misaligned */
	r[7] = mumu_hc(MUMU_HC_UPCALL_REGISTER, (long)&s, 0, 0);
	r[8] = mumu_hc(MUMU_HC_KICK, 99, 0, 0);
	mumu_printf("upcalls: bad %ld %ld %ld %ld %ld %ld %ld %ld %ld\n", r[0], r[1], r[2], r[3],
		    r[4], r[5], r[6], r[7], r[8]);
}

/* Wait for vCPU 0's timer (other events may come meanwhile: a kick). */
static bool wait_timer(void)
{
	for (uint64_t i = 0; !(seen_events & MUMU_EV_TIMER); i++)
		if (i > 4000000000ULL)
			return false;
	return true;
}

static void timer_runs(void)
{
	uint64_t late[RUNS];
	int early = 0, outside = 0;

	for (int i = 0; i < RUNS; i++) {
		uint64_t now = mumu_clock_ns(), deadline = now + 150000 + (uint64_t)i * 23000;
		if (deadline + 300000 > up[0].area.window_end_ns) {
			mumu_yield(); /* not across a window's end: that is the next check */
			i--;
			continue;
		}
		seen_events = 0;
		mumu_timer_set(&up[0], deadline, 0);
		if (!wait_timer())
			break;
		/* The anchor's error is well under a microsecond over a test's seconds. */
		early += seen_ns + 1000 < deadline;
		outside += seen_ns >= seen_end || !(seen_events & MUMU_EV_TIMER);
		late[i] = seen_ns > deadline ? seen_ns - deadline : 0;
	}
	sort(late, RUNS);
	mumu_printf("timer: %d fired, %d early, %d outside, late p50 %lu max %lu us\n", RUNS, early,
		    outside, late[RUNS / 2] / 1000, late[RUNS - 1] / 1000);
}

static void between_windows(void)
{
	uint64_t end = up[0].area.window_end_ns, deadline = end + 1000000;
	uint32_t before = upcalls_seen;

	seen_events = 0;
	mumu_timer_set(&up[0], deadline, 0);
	while (upcalls_seen == before || !(seen_events & MUMU_EV_TIMER))
		;
	mumu_printf("between: %s at the %s start, %s\n",
		    (last_events & (MUMU_EV_TIMER | MUMU_EV_WINDOW)) ==
			    (MUMU_EV_TIMER | MUMU_EV_WINDOW)
			? "TIMER|WINDOW"
			: "APART",
		    seen_ns > end ? "next" : "SAME",
		    seen_ns >= deadline ? "after the deadline" : "BEFORE THE DEADLINE");
}

static void masked(void)
{
	uint64_t t0 = mumu_clock_ns();
	uint32_t before;

	mumu_yield(); /* a fresh window: room for the wait */
	mumu_events_mask(&up[0]);
	before = upcalls_seen;
	mumu_timer_set(&up[0], mumu_clock_ns() + 200000, 0);
	t0 = mumu_clock_ns();
	while (mumu_clock_ns() < t0 + 1000000)
		;
	mumu_printf("masked: %s while masked, pending %s\n",
		    upcalls_seen == before ? "none" : "AN UPCALL",
		    up[0].area.pending & MUMU_EV_TIMER ? "TIMER" : "NONE");
	mumu_events_unmask(&up[0]);
	mumu_printf("masked: %s at unmask\n", upcalls_seen == before + 1 ? "taken" : "NOT TAKEN");
}

/* Whether the last deliberate exception reached the handler with its vector. */
static void exception(const char *name, uint32_t vector)
{
	if (seen_vector == vector && (seen_events & MUMU_EV_EXCEPTION) && vector == 14)
		mumu_printf("exception %u %s ok address 0x%lx error %lu\n", vector, name, seen_addr,
			    seen_error);
	else if (seen_vector == vector && (seen_events & MUMU_EV_EXCEPTION))
		mumu_printf("exception %u %s ok\n", vector, name);
	else
		mumu_printf("exception %u %s MISSED (saw %u)\n", vector, name, seen_vector);
}

/* Before each: the length of the faulting instruction, which the handler skips (0: a trap,
 * rip is past it already). */
static void arm(uint64_t skip)
{
	seen_events = 0;
	seen_vector = 99;
	skip_bytes = skip;
	fix_rsp = 0;
}

static void exceptions(void)
{
	static const double zero = 0.0;
	uint16_t fcw = 0x37b, fcw0 = 0x37f;	  /* x87: zero-divide unmasked, as at reset */
	uint32_t mxcsr = 0x1d80, mxcsr0 = 0x1f80; /* SSE: the same */
	uint64_t rsp;

	arm(2);
	__asm__ volatile("xor %%ecx, %%ecx; div %%ecx" : : : "rax", "rcx", "rdx");
	exception("#DE", 0);
	arm(0);
	__asm__ volatile("int3");
	exception("#BP", 3);
	arm(2);
	__asm__ volatile("ud2");
	exception("#UD", 6);
	arm(1);
	__asm__ volatile("hlt");
	exception("#GP", 13);
	arm(2);
	__asm__ volatile("mov (%%rax), %%eax" : : "a"(0) : "memory");
	exception("#PF", 14);
	/* #SS: a stack reference at a non-canonical address; the handler puts rsp back. */
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	arm(1);
	fix_rsp = rsp;
	__asm__ volatile("mov %%rsp, %%rbx; movabs $0x800000000010, %%rsp; push %%rax;"
			 " mov %%rbx, %%rsp"
			 :
			 :
			 : "rbx", "memory");
	exception("#SS", 12);
	/* #MF: 1 / 0 on the x87 with the exception unmasked, raised by the next FWAIT. */
	arm(1);
	__asm__ volatile("fldcw %0; fld1; fdivl %1; fwait; fninit; fldcw %2"
			 :
			 : "m"(fcw), "m"(zero), "m"(fcw0));
	exception("#MF", 16);
	/* #XM: the same in SSE (divsd %xmm1, %xmm0 is 4 bytes). */
	arm(4);
	__asm__ volatile("ldmxcsr %0; xorpd %%xmm1, %%xmm1; divsd %%xmm1, %%xmm0; ldmxcsr %1"
			 :
			 : "m"(mxcsr), "m"(mxcsr0)
			 : "xmm0", "xmm1");
	exception("#XM", 19);
}

static void other_vcpu(uint64_t vcpu)
{
	long r = mumu_upcall_init(&up[vcpu], MUMU_EV_TIMER, on_upcall);
	uint64_t said = 0;

	if (r < 0) {
		mumu_printf("vcpu %lu: register %ld\n", vcpu, r);
		for (;;)
			mumu_yield();
	}
	mumu_timer_set(&up[vcpu], mumu_clock_ns() + 1000000, 1000000);
	for (uint64_t i = 0;; i++) {
		if (other_ticks[vcpu] >= said + 200) {
			said = other_ticks[vcpu];
			mumu_printf("vcpu %lu: %lu timer upcalls\n", vcpu, said);
		}
		if (i == 2000000)
			mumu_hc(MUMU_HC_KICK, 0, 0, 0);
	}
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	struct mumu_partition_status st = { 0 };
	long r;

	if (vcpu != 0)
		other_vcpu(vcpu);
	mumu_get_status(&st);
	if (st.n_restarts > 0) {
		mumu_printf("upcalls: restarted\n");
		for (;;)
			mumu_yield();
	}
	bad_requests();
	r = mumu_upcall_init(&up[0], MUMU_EV_ALL, on_upcall);
	mumu_printf("upcalls: registered %ld, abi %u\n", r, info->abi_version);
	timer_runs();
	between_windows();
	masked();
	exceptions();
	if (info->n_vcpus > 1) {
		while (!kicked)
			;
		mumu_printf("kick: from vCPU 1 taken\n");
	}
	mumu_printf("upcalls: fault in the handler\n");
	fault_in_handler = true;
	mumu_timer_set(&up[0], 1, 0);
	for (;;)
		;
}
