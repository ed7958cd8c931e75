/* SPDX-License-Identifier: MIT */
/* The health monitor's decisions (pure: no processes, no clocks of its own). */
#include "supervisor/hm.h"

enum pol_action sup_hm_default_action(enum sup_hm_event ev)
{
	switch (ev) {
	case SUP_HM_VMM_DIED:
	case SUP_HM_GUEST_CRASH:
	case SUP_HM_MEMORY_VIOLATION:
		return POL_ACTION_COLD_START;
	default:
		return POL_ACTION_IGNORE;
	}
}

bool sup_budget_take(struct sup_budget *b, uint64_t now_ns)
{
	/* The oldest of the last MAX restarts decides: MAX within the span spend it. */
	if (b->n >= SUP_HM_RESTART_MAX) {
		uint64_t oldest = b->at[b->n % SUP_HM_RESTART_MAX];

		if (now_ns - oldest < SUP_HM_RESTART_SPAN_NS)
			return false;
	}
	b->at[b->n % SUP_HM_RESTART_MAX] = now_ns;
	b->n++;
	return true;
}

const char *sup_hm_event_name(enum sup_hm_event ev)
{
	static const char *const names[SUP_HM_EVENT_COUNT] = {
		[SUP_HM_VMM_DIED] = "VMM_DIED",
		[SUP_HM_GUEST_CRASH] = "GUEST_CRASH",
		[SUP_HM_MEMORY_VIOLATION] = "MEMORY_VIOLATION",
		[SUP_HM_ILLEGAL_REQUEST] = "ILLEGAL_REQUEST",
		[SUP_HM_DEADLINE] = "DEADLINE_MISSED",
		[SUP_HM_APPLICATION] = "APPLICATION_ERROR",
	};

	return (unsigned)ev < SUP_HM_EVENT_COUNT ? names[ev] : "?";
}
