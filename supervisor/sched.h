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
 * a compromised VMM cannot keep running: the grace only decides what is reported.
 */
#define SUP_ENFORCE_GRACE_NS 2000000ULL /* 2 ms */

struct sup_core;

struct sup_sched {
	const struct pol_system *sys;
	struct sup_partition *parts; /* sys->n_partitions */
	const struct pol_schedule *schedule;
	uint64_t epoch_ns;   /* frame 0 of the schedule starts here (CLOCK_MONOTONIC) */
	uint64_t max_frames; /* the core threads end after this many frames; 0: never */
	int notify_fd;	     /* eventfd: a core finished a major frame */
	bool stop;	     /* read by the core threads (atomic) */
	bool realtime;	     /* core threads run SCHED_FIFO */
	size_t n_cores;
	struct sup_core *cores;
};

/* Planned start of the window at offset_ns in frame f: from the epoch, never from "now". */
static inline uint64_t sup_sched_planned_ns(uint64_t epoch_ns, uint64_t frame_ns, uint64_t f,
					    uint64_t offset_ns)
{
	return epoch_ns + f * frame_ns + offset_ns;
}

/* Start a thread per used physical core; frame 0 begins at epoch_ns; 0 max_frames: no end. */
int sup_sched_start(struct sup_sched *s, const struct pol_system *sys, struct sup_partition *parts,
		    uint64_t epoch_ns, uint64_t max_frames);
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
