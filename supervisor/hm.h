/* SPDX-License-Identifier: MIT */
/* The health monitor's decisions: which action an error gets, and the restart budget. */
#ifndef MUMU_SUPERVISOR_HM_H
#define MUMU_SUPERVISOR_HM_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"

/* What the supervisor observed about a partition (wider than ARINC's error codes). */
enum sup_hm_event {
	SUP_HM_VMM_DIED,	 /* the VMM process ended (signal, exit, sandbox kill) */
	SUP_HM_GUEST_CRASH,	 /* a fatal guest fault: triple fault, internal error, ... */
	SUP_HM_MEMORY_VIOLATION, /* a fatal access outside the guest's memory or to a RO region */
	SUP_HM_ILLEGAL_REQUEST,	 /* bad hypercall, refused schedule or mode request */
	SUP_HM_DEADLINE,	 /* window enforcement stopped the VMM */
	SUP_HM_APPLICATION,	 /* RAISE_APPLICATION_ERROR */
	SUP_HM_EVENT_COUNT
};

/*
 * A partition restarted more than SUP_HM_RESTART_MAX times within SUP_HM_RESTART_SPAN_NS
 * goes IDLE instead: a guest that crashes at once after every start cannot keep a VMM
 * respawning forever.
 */
#define SUP_HM_RESTART_MAX     3
#define SUP_HM_RESTART_SPAN_NS 60000000000ULL /* 60 s */

struct sup_budget {
	uint32_t n;			 /* restarts recorded, the last SUP_HM_RESTART_MAX kept */
	uint64_t at[SUP_HM_RESTART_MAX]; /* their times, a ring */
};

/* The default action for an event: fatal ones restart the partition cold, others are logged. */
enum pol_action sup_hm_default_action(enum sup_hm_event ev);

/* Take one restart from the budget at now_ns; false (nothing taken) when it is spent. */
bool sup_budget_take(struct sup_budget *b, uint64_t now_ns);

const char *sup_hm_event_name(enum sup_hm_event ev);

#endif
