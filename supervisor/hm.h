/* SPDX-License-Identifier: MIT */
/* The health monitor's restart budget (pure: no processes, no clocks of its own). */
#ifndef MUMU_SUPERVISOR_HM_H
#define MUMU_SUPERVISOR_HM_H

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"

/*
 * A partition restarted more than its RestartLimit times within its RestartPeriod goes IDLE
 * instead: a guest that crashes at once after every start cannot keep a VMM respawning
 * forever.
 */
/* How long an overrun waits before it is reported: a dying VMM shows its death first. */
#define SUP_HM_SETTLE_NS 200000000ULL /* 200 ms */

struct sup_budget {
	uint32_t n;			       /* restarts recorded */
	uint64_t at[POL_HM_RESTART_LIMIT_MAX]; /* the last ones' times, a ring */
};

/* Take one restart at now_ns within limit per period_ns; false (nothing taken) when spent. */
bool sup_budget_take(struct sup_budget *b, uint32_t limit, uint64_t period_ns, uint64_t now_ns);

/* The HM log: the last SUP_HM_LOG_SIZE events of the module, for mumu-ctl hm-log. */
#define SUP_HM_LOG_SIZE	  256
#define SUP_HM_DETAIL_MAX 200

struct sup_hm_entry {
	uint64_t ns; /* CLOCK_MONOTONIC */
	uint32_t partition;
	enum pol_hm_error error;
	enum pol_action action; /* taken; IDLE when the restart budget was spent */
	bool budget_spent;
	char detail[SUP_HM_DETAIL_MAX];
};

struct sup_hm_log {
	uint64_t n; /* events ever logged */
	struct sup_hm_entry e[SUP_HM_LOG_SIZE];
};

void sup_hm_log_add(struct sup_hm_log *log, const struct sup_hm_entry *entry);
/* The k-th oldest entry still kept (k < sup_hm_log_kept), NULL beyond. */
const struct sup_hm_entry *sup_hm_log_get(const struct sup_hm_log *log, uint64_t k);
uint64_t sup_hm_log_kept(const struct sup_hm_log *log);

#endif
