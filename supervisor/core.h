/* SPDX-License-Identifier: MIT */
/*
 * Inside the schedule, shared by its parts: sched.c (a thread per core: the frames, the
 * kicks), handover.c (the hand-over between two vCPUs on the core) and outcome.c (each
 * window's check after its end, enforcement, the counts and the record ring). Not an API:
 * sched.h is.
 */
#ifndef MUMU_SUPERVISOR_CORE_H
#define MUMU_SUPERVISOR_CORE_H

#include "supervisor/sched.h"

#define SUP_RING_SIZE 4096 /* window records per core between two drains (a power of two) */

/* A window whose end has to be checked, and the VMM stopped. */
struct sup_pending {
	size_t partition;
	uint32_t vcpu;
	uint64_t frame;
	uint64_t offset_ns;
	uint64_t seq;
	uint64_t kick;	     /* the partition's kick counter when this window started */
	uint32_t generation; /* of the VMM the window was given to */
	uint32_t schedule_id;
	uint64_t start_ns, end_ns, check_ns;
};

struct sup_core {
	struct sup_sched *sched;
	uint32_t core_id;
	uint32_t schedule_id; /* the schedule this core runs now */
	pthread_t thread;
	bool started;
	uint64_t frames_done;
	struct pol_core_window **windows; /* per schedule (index as in pol_system) */
	size_t *n_windows;
	uint64_t **check_after; /* per schedule and window: its check this long after its end */
	struct sup_pending pending[8];
	size_t n_pending;
	struct sup_part_stats *stats;	/* per partition, written only by this core's thread */
	struct sup_window_record *ring; /* written by this core's thread, drained by main */
	uint64_t head, tail;
	uint64_t dropped;
	uint64_t frame_end; /* the boundary of the frame started last, 0 when ended */
	bool rt_vcpus;	    /* its vCPUs run SCHED_FIFO: the kernel orders the hand-over */
	bool switched;	    /* this core decided a switch at frame_end: it publishes it */
};

/* The last window given to a VMM on the core, until it is checked; NULL when none. */
static inline const struct sup_pending *sup_core_last(const struct sup_core *c)
{
	return c->n_pending ? &c->pending[c->n_pending - 1] : NULL;
}

/* outcome.c: the checks due until t_ns, each at its time. */
void sup_core_checks_until(struct sup_core *c, uint64_t t_ns);

/*
 * handover.c: whether w's vCPU, kicked now, must wait for baton b (0, or 1 + its index in the
 * VMM's batons: ipc_vcpu_ctl.handover); the baton from the last window given on the core to
 * w's vCPU, if there is one; the core thread's wait, until at most until_ns, for the vCPU of
 * the last window given to leave its guest.
 */
uint32_t sup_core_handover(struct sup_core *c, const struct sup_baton *b);
const struct sup_baton *sup_core_baton_to(const struct sup_core *c,
					  const struct pol_core_window *w);
void sup_core_hand_over(struct sup_core *c, uint64_t until_ns);

/* Record a window's outcome in the core's ring (single producer: the core thread). */
void sup_core_record(struct sup_core *c, const struct sup_pending *pw, uint64_t entry,
		     uint64_t exit, enum sup_window_outcome outcome);

/*
 * After the grace: did the vCPU leave the guest within it? Stop the VMM either way (sched.h),
 * count the window in the partition's figures and record it.
 */
void sup_core_check(struct sup_core *c, const struct sup_pending *pw);

#endif
