/* SPDX-License-Identifier: MIT */
/*
 * The guest runtime's upcalls (ABI 3, docs/abi.md "Upcalls"): register a handler, set the
 * vCPU's timer, mask and unmask events, and contexts to switch between: enough for a
 * preemptive scheduler inside a partition.
 *
 * The handler runs on the vCPU's upcall stack with events masked, after the runtime saved the
 * interrupted context (general registers, rip, rflags and the x87/SSE state) in the current
 * context. It returns the context to resume: the same one, or another (a thread switch). The
 * return to it is plain user-mode code, no exit; events that came meanwhile are taken at
 * once, as one more upcall.
 */
#ifndef MUMU_GUEST_UPCALL_H
#define MUMU_GUEST_UPCALL_H

/* Offsets the assembly uses (checked against the structures in upcall.c). */
#define MUMU_AREA_MASKED  16
#define MUMU_AREA_PENDING 20
#define MUMU_AREA_FRAME	  72
#define MUMU_FRAME_RSP	  56
#define MUMU_FRAME_RFLAGS 128
#define MUMU_FRAME_RIP	  136
#define MUMU_FRAME_BYTES  144
#define MUMU_CTX_FPU	  144
#define MUMU_UP_STACK_TOP 216
#define MUMU_UP_CURRENT	  224

#define MUMU_UPCALL_STACK_BYTES 8192

#ifndef __ASSEMBLER__

#include "lib/mumu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A context: the registers of a thread of control that is not running, and its FPU state. */
struct mumu_context {
	struct mumu_upcall_frame frame;
	uint8_t fpu[512] __attribute__((aligned(16))); /* FXSAVE64 image */
};

struct mumu_upcalls;

/*
 * The handler: the events taken (MUMU_EV_*; an exception's vector and address are in
 * up->area), the interrupted context (already saved: it may be changed, e.g. rip moved past
 * a faulting instruction). Returns the context to resume.
 */
typedef struct mumu_context *(*mumu_upcall_fn)(struct mumu_upcalls *up, uint32_t events,
					       struct mumu_context *interrupted);

/* One vCPU's upcall state: its area (the ABI's, first), its upcall stack. Static storage of
 * the program's, one per vCPU that registers. */
struct mumu_upcalls {
	struct mumu_vcpu_area area;
	uint64_t stack_top;
	struct mumu_context *current; /* where the next upcall saves the interrupted context */
	mumu_upcall_fn fn;
	void *user;		  /* the program's */
	struct mumu_context main; /* the context main() runs in */
	uint8_t stack[MUMU_UPCALL_STACK_BYTES] __attribute__((aligned(16)));
};

/* Register this vCPU's upcalls for the events (MUMU_EV_*): 0 or the hypercall's error. */
long mumu_upcall_init(struct mumu_upcalls *up, uint32_t events, mumu_upcall_fn fn);

/* The events registered from now on (entry, stack and area as they are); 0 unregisters. */
long mumu_upcall_events(struct mumu_upcalls *up, uint32_t events);

/* The timer: an absolute CLOCK_MONOTONIC deadline (0: none), periodic when period_ns is not
 * 0. Written into the area; an exit (TIMER_SET) only when the VMM's timer would come later. */
long mumu_timer_set(struct mumu_upcalls *up, uint64_t deadline_ns, uint64_t period_ns);

static inline void mumu_events_mask(struct mumu_upcalls *up)
{
	__atomic_store_n(&up->area.masked, 1, __ATOMIC_SEQ_CST);
}

/* An upcall of this context itself (events masked, some pending): mumu_events_unmask's. */
void mumu_upcall_self(struct mumu_upcalls *up);

/* Unmask; what came while masked is taken now, as an upcall, before this returns. */
static inline void mumu_events_unmask(struct mumu_upcalls *up)
{
	__atomic_store_n(&up->area.masked, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&up->area.pending, __ATOMIC_SEQ_CST))
		mumu_upcall_self(up);
}

/*
 * A new context that starts fn(arg) on the given stack, FPU as at reset. fn must not return
 * (a context whose function returns gives every window away from then on).
 */
void mumu_context_init(struct mumu_context *ctx, void (*fn)(void *), void *arg, void *stack,
		       size_t stack_bytes);

/* The schedule's clock (CLOCK_MONOTONIC ns) from the TSC, no exit: the information page's
 * anchor where there is one, else mumu_now_ns. */
uint64_t mumu_clock_ns(void);

#ifdef __cplusplus
}
#endif
#endif
#endif
