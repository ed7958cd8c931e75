/* SPDX-License-Identifier: MIT */
/* The static schedule: one pinned thread per physical core walks its timeline of windows. */
#ifndef MUMU_SUPERVISOR_SCHED_H
#define MUMU_SUPERVISOR_SCHED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"
#include "supervisor/partition.h"
#include "supervisor/stats.h"
#include "supervisor/window.h"

/*
 * A VMM whose vCPU has not left the guest this long after its window's end is stopped with
 * SIGSTOP (a DEADLINE overrun). Every VMM is stopped after every window in any case, so that
 * a compromised VMM cannot keep running: the grace only decides what is reported. The stop
 * comes at sup_check_time, the grace or a little later (SUP_CHECK_CLEAR_NS).
 */
#define SUP_ENFORCE_GRACE_NS 2000000ULL /* 2 ms */
/* How long a check watches a one-vCPU VMM's CPU time after the grace (sched.c overran_cpu). */
#define SUP_CPU_PROBE_NS 200000ULL /* 0.2 ms */

/*
 * A check that would fall this close to the start or the end of a window on its core waits
 * until this long after it (sup_check_time): stopping a VMM wakes each of its threads on
 * the core, and at a boundary that would delay the entering or the leaving vCPU.
 */
#define SUP_CHECK_CLEAR_NS 250000ULL /* 0.25 ms */

struct sup_core;

/*
 * Module schedules (ARINC 653 Part 2): which schedule runs is a function of time, made of
 * the switches decided so far. A request takes effect at the next major frame boundary; the
 * first core thread to reach a boundary decides it for all cores (sup_plan_decide), so every
 * core switches at the same instant. Pure data: the caller locks.
 */
#define SUP_PLAN_HISTORY 64 /* switches remembered (a core lagging more is not plausible) */

struct sup_switch {
	uint64_t at_ns;	 /* the boundary where it took effect: the new schedule's epoch */
	size_t schedule; /* index into pol_system.schedules */
};

struct sup_plan {
	size_t initial;		/* schedule index before any switch */
	size_t requested;	/* SIZE_MAX: none pending */
	uint64_t decided_until; /* boundaries up to this one are decided */
	uint64_t n;		/* switches so far; the last SUP_PLAN_HISTORY are in hist */
	struct sup_switch hist[SUP_PLAN_HISTORY];
};

/* Decide the frame starting at boundary_ns, once. True when a switch takes effect there. */
bool sup_plan_decide(struct sup_plan *pl, uint64_t boundary_ns);
/* The schedule (index) in force at t_ns, by the decisions made so far. */
size_t sup_plan_at(const struct sup_plan *pl, uint64_t t_ns);

struct sup_sched {
	const struct pol_system *sys;
	struct sup_partition *parts; /* sys->n_partitions */
	const struct sup_baton *batons;
	size_t n_batons;
	uint64_t epoch_ns;   /* frame 0 of the initial schedule starts here (CLOCK_MONOTONIC) */
	uint64_t max_frames; /* the core threads end after this many frames; 0: never */
	int notify_fd;	     /* eventfd: a core finished a major frame */
	bool stop;	     /* read by the core threads (atomic) */
	bool realtime;	     /* core threads run SCHED_FIFO */
	size_t n_cores;
	struct sup_core *cores;
	pthread_mutex_t
	    lock; /* guards plan, epoch_ns and the schedule fields of the control pages */
	pthread_cond_t started; /* epoch_ns is set: the core threads begin */
	bool lock_ready;
	struct sup_plan plan;
	uint64_t switches; /* schedule switches so far (atomic): the main thread applies actions */
};

/* Planned start of the window at offset_ns in frame f: from the epoch, never from "now". */
static inline uint64_t sup_sched_planned_ns(uint64_t epoch_ns, uint64_t frame_ns, uint64_t f,
					    uint64_t offset_ns)
{
	return epoch_ns + f * frame_ns + offset_ns;
}

/*
 * When the window starting at start_ns is kicked: IPC_KICK_LEAD_NS ahead, but never before
 * busy_ns, the end of the last window a VMM got on the core (0: none). A VMM woken earlier
 * would compete for the core with the one whose window ends and delay its exit (an overrun
 * that is not its guest's); and a vCPU has one window to start at a time.
 */
static inline uint64_t sup_kick_time(uint64_t start_ns, uint64_t busy_ns)
{
	uint64_t at = start_ns > IPC_KICK_LEAD_NS ? start_ns - IPC_KICK_LEAD_NS : 0;

	return at > busy_ns ? at : busy_ns;
}

/*
 * When to check a window that ends at end_ns: SUP_ENFORCE_GRACE_NS after it, moved past any
 * window boundary (start or end) on the core closer than SUP_CHECK_CLEAR_NS to the check and
 * its SUP_CPU_PROBE_NS, in the frame
 * that starts at frame_start_ns (frame_ns long, windows w[0..n) sorted by offset) and the two
 * after it. The boundaries come in order, so one pass moves the check past all it meets.
 */
static inline uint64_t sup_check_time(uint64_t end_ns, uint64_t frame_start_ns, uint64_t frame_ns,
				      const struct pol_core_window *w, size_t n)
{
	uint64_t t = end_ns + SUP_ENFORCE_GRACE_NS;

	for (size_t k = 0; k < 3 * n * 2; k++) {
		const struct pol_core_window *x = &w[k / 2 % n];
		uint64_t b = frame_start_ns + k / (2 * n) * frame_ns + x->offset_ns +
			     (k % 2 ? x->duration_ns : 0);

		if (t + SUP_CPU_PROBE_NS + SUP_CHECK_CLEAR_NS > b && t < b + SUP_CHECK_CLEAR_NS)
			t = b + SUP_CHECK_CLEAR_NS;
	}
	return t;
}

/*
 * Whether the vCPUs on core may run SCHED_FIFO (IPC_VCPU_PRIORITY): in every schedule the
 * core's windows, each with the spin before it (IPC_SPIN_NS), take less than the kernel's
 * real-time budget less 1% (runtime_us of every period_us, kernel.sched_rt_runtime_us and
 * _period_us; runtime_us < 0: no budget). A core over it would have its real-time threads
 * throttled, vCPUs and core thread alike, for the rest of a second: its vCPUs run at the
 * normal policy instead. Pure.
 */
bool sup_core_realtime(const struct pol_system *sys, uint32_t core, long runtime_us,
		       long period_us);

/*
 * The hand-over batons of sys: one per pair of consecutive windows of two partitions on a core,
 * in any schedule (the last window of a frame before the first of the next), each pair once;
 * none on the cores in rt_cores (a bitmap, NULL: none), whose real-time vCPUs hand over by the
 * kernel's FIFO order. A partition gets at most IPC_BATON_MAX; pairs beyond that go without,
 * and their hand-over goes through the core thread (hand_over in sched.c). Writes at most max
 * (fd -1) and returns how many. Pure.
 */
size_t sup_batons_plan(const struct pol_system *sys, const uint64_t *rt_cores,
		       struct sup_baton *out, size_t max);

/*
 * When a window whose vCPU may be woken before the last one on the core has left (a real-time
 * core, or a baton between them) is kicked: IPC_KICK_LEAD_NS ahead, but never within
 * SUP_CHECK_CLEAR_NS of busy_ns, the end of the last window a VMM got on the core (0: none):
 * the core thread's wake-up there would delay that vCPU's exit. Before it, then.
 */
static inline uint64_t sup_kick_ahead(uint64_t start_ns, uint64_t busy_ns)
{
	uint64_t at = start_ns > IPC_KICK_LEAD_NS ? start_ns - IPC_KICK_LEAD_NS : 0;

	if (busy_ns && at + SUP_CHECK_CLEAR_NS > busy_ns && at < busy_ns + SUP_CHECK_CLEAR_NS)
		at = busy_ns > SUP_CHECK_CLEAR_NS ? busy_ns - SUP_CHECK_CLEAR_NS : 0;
	return at;
}

/*
 * Make a thread per used physical core; they wait for sup_sched_go. 0 max_frames: no end.
 * batons: sup_batons_plan's, their eventfds open (the supervisor empties them). On failure
 * the threads made so far wait: sup_sched_stop ends them.
 */
int sup_sched_start(struct sup_sched *s, const struct pol_system *sys, struct sup_partition *parts,
		    const struct sup_baton *batons, size_t n_batons, uint64_t max_frames);
/* Frame 0 of the initial schedule starts lead_ns from now (then s->epoch_ns). Once. */
void sup_sched_go(struct sup_sched *s, uint64_t lead_ns);
/*
 * Ask for schedule (index) from the next major frame boundary on, on every core; asking for
 * the current one cancels a pending request. Returns 0 or -EINVAL. Any thread.
 */
int sup_sched_request(struct sup_sched *s, size_t schedule);
/* The schedule in force and the one the next boundary will start (indexes). */
void sup_sched_current(struct sup_sched *s, size_t *ret_current, size_t *ret_next);
/* Stop and join the core threads. Idempotent. */
void sup_sched_stop(struct sup_sched *s);
/* Major frames completed on every core. */
uint64_t sup_sched_frames_done(const struct sup_sched *s);
/* After sup_sched_stop: the statistics of partition i summed over all cores. */
void sup_sched_stats(const struct sup_sched *s, size_t i, struct sup_part_stats *ret);
void sup_sched_free(struct sup_sched *s);

/* Hand every window recorded since the last drain to fn (main thread only). */
typedef void (*sup_record_fn)(void *ctx, const struct sup_window_record *rec);
size_t sup_sched_drain(struct sup_sched *s, sup_record_fn fn, void *ctx);
/* Records lost because the main thread drained too late (the ring was full). */
uint64_t sup_sched_dropped(const struct sup_sched *s);

#endif
