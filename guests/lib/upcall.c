/* SPDX-License-Identifier: MIT */
/* The guest runtime's upcalls (upcall.h): registration, dispatch, timer, contexts. */
#include <stddef.h>

#include "lib/port.h"
#include "lib/upcall.h"

_Static_assert(offsetof(struct mumu_vcpu_area, masked) == MUMU_AREA_MASKED, "upcall_entry.S");
_Static_assert(offsetof(struct mumu_vcpu_area, pending) == MUMU_AREA_PENDING, "upcall_entry.S");
_Static_assert(offsetof(struct mumu_vcpu_area, frame) == MUMU_AREA_FRAME, "upcall_entry.S");
_Static_assert(offsetof(struct mumu_upcall_frame, rsp) == MUMU_FRAME_RSP, "upcall_entry.S");
_Static_assert(offsetof(struct mumu_upcall_frame, rflags) == MUMU_FRAME_RFLAGS, "upcall_entry.S");
_Static_assert(offsetof(struct mumu_upcall_frame, rip) == MUMU_FRAME_RIP, "upcall_entry.S");
_Static_assert(sizeof(struct mumu_upcall_frame) == MUMU_FRAME_BYTES, "upcall_entry.S");
_Static_assert(offsetof(struct mumu_context, fpu) == MUMU_CTX_FPU, "upcall_entry.S");
_Static_assert(offsetof(struct mumu_upcalls, area) == 0, "rdi at the entry is both");
_Static_assert(offsetof(struct mumu_upcalls, stack_top) == MUMU_UP_STACK_TOP, "upcall_entry.S");
_Static_assert(offsetof(struct mumu_upcalls, current) == MUMU_UP_CURRENT, "upcall_entry.S");

void mumu_upcall_entry(void);
void mumu_context_exit(void);
struct mumu_context *mumu_upcall_dispatch(struct mumu_upcalls *up);

/* From upcall_entry.S, on the upcall stack, events masked, the FPU state saved already. */
struct mumu_context *mumu_upcall_dispatch(struct mumu_upcalls *up)
{
	uint32_t events = __atomic_exchange_n(&up->area.pending, 0, __ATOMIC_SEQ_CST);
	struct mumu_context *next;

	__builtin_memcpy(&up->current->frame, (const void *)&up->area.frame,
			 sizeof(up->current->frame));
	next = up->fn(up, events, up->current);
	if (next)
		up->current = next;
	return up->current;
}

long mumu_upcall_init(struct mumu_upcalls *up, uint32_t events, mumu_upcall_fn fn)
{
	struct mumu_upcall_setup s = {
		.entry = (uint64_t)mumu_upcall_entry,
		.stack_top = (uint64_t)(up->stack + sizeof(up->stack)),
		.area = (uint64_t)&up->area,
		.events = events,
	};

	__builtin_memset(&up->area, 0, sizeof(up->area));
	up->stack_top = s.stack_top;
	up->current = &up->main;
	up->fn = fn;
	return mumu_hc(MUMU_HC_UPCALL_REGISTER, (long)&s, 0, 0);
}

long mumu_upcall_events(struct mumu_upcalls *up, uint32_t events)
{
	struct mumu_upcall_setup s = { 0 }; /* no events: unregistered */

	if (events)
		s = (struct mumu_upcall_setup){
			.entry = (uint64_t)mumu_upcall_entry,
			.stack_top = up->stack_top,
			.area = (uint64_t)&up->area,
			.events = events,
		};

	return mumu_hc(MUMU_HC_UPCALL_REGISTER, (long)&s, 0, 0);
}

long mumu_timer_set(struct mumu_upcalls *up, uint64_t deadline_ns, uint64_t period_ns)
{
	volatile struct mumu_vcpu_area *a = &up->area;

	/* Not before the VMM's timer comes anyway: the VMM reads the area at that exit. */
	if (deadline_ns == 0 || deadline_ns >= a->armed_ns) {
		a->period_ns = period_ns;
		a->deadline_ns = deadline_ns;
		return 0;
	}
	return mumu_hc(MUMU_HC_TIMER_SET, (long)deadline_ns, (long)period_ns, 0);
}

void mumu_context_init(struct mumu_context *ctx, void (*fn)(void *), void *arg, void *stack,
		       size_t stack_bytes)
{
	uint64_t top = ((uint64_t)stack + stack_bytes) & ~15ULL;
	uint16_t fcw = 0x37f;
	uint32_t mxcsr = 0x1f80;

	__builtin_memset(ctx, 0, sizeof(*ctx));
	top -= 8; /* as after a call: the return address, should fn return */
	*(uint64_t *)top = (uint64_t)mumu_context_exit;
	ctx->frame.rsp = top;
	ctx->frame.rip = (uint64_t)fn;
	ctx->frame.rdi = (uint64_t)arg;
	ctx->frame.rflags = 0x2;
	__builtin_memcpy(ctx->fpu, &fcw, sizeof(fcw));
	__builtin_memcpy(ctx->fpu + 24, &mxcsr, sizeof(mxcsr));
}

static uint64_t ticks_ns(uint64_t ticks, uint64_t khz)
{
	return ticks / khz * 1000000 + ticks % khz * 1000000 / khz;
}

uint64_t mumu_clock_ns(void)
{
	const struct mumu_info *info = (const struct mumu_info *)MUMU_INFO_GPA;
	uint64_t tsc = mumu_rdtsc();

	if (!info->clock_tsc || !info->tsc_khz || tsc < info->clock_tsc)
		return mumu_now_ns();
	return info->clock_ns + ticks_ns(tsc - info->clock_tsc, info->tsc_khz);
}
