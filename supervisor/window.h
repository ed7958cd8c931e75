/* SPDX-License-Identifier: MIT */
/* What the schedule records about every window it plans: the input of trace and statistics. */
#ifndef MUMU_SUPERVISOR_WINDOW_H
#define MUMU_SUPERVISOR_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

enum sup_window_outcome {
	SUP_WINDOW_RAN,	     /* ran and stopped by its end timer */
	SUP_WINDOW_YIELDED,  /* the guest gave the rest of the window away */
	SUP_WINDOW_MISSED,   /* its start was missed (recorded, never shifted) */
	SUP_WINDOW_ENFORCED, /* the VMM did not stop in time and was stopped (DEADLINE overrun) */
	SUP_WINDOW_IDLE,     /* the partition was not running (IDLE mode, dead VMM, fault) */
	SUP_WINDOW_OUTCOME_COUNT
};

/* One executed (or missed) window of one partition on one physical core. */
struct sup_window_record {
	const char *partition; /* name; lives as long as the policy */
	size_t part;	       /* its index in pol_system.partitions */
	uint32_t generation;   /* of the VMM the window was given to */
	uint32_t schedule_id;
	uint64_t frame; /* major frame index since the schedule's epoch */
	uint32_t core;	/* physical core id */
	uint32_t vcpu;	/* logical core id of the partition */
	uint64_t offset_ns;
	/* All times CLOCK_MONOTONIC ns. */
	uint64_t planned_start_ns;
	uint64_t planned_end_ns;
	uint64_t start_ns; /* the vCPU entered the guest (0 when it never did) */
	uint64_t end_ns;   /* the vCPU left the guest for this window */
	enum sup_window_outcome outcome;
};

#endif
