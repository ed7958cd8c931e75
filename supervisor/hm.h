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

/* What the health monitor does with one event of a partition. */
struct sup_hm_decision {
	enum pol_action action; /* to take: the table's, IDLE when the budget is spent */
	bool budget_spent;	/* a restart was due and the budget had none left */
};

/*
 * The health monitor's rule, one place: event ev of partition pol (its HealthMonitor table,
 * its RestartLimit in RestartPeriod, budget b) at now_ns; dead: its VMM is gone or its guest
 * stopped for good. The table's action; a restart (COLD_START, WARM_START) takes one from the
 * budget, and past it the partition goes IDLE; IGNORE of a dead partition is IDLE (nothing is
 * left to go on). Pure: the caller carries the action out.
 */
struct sup_hm_decision sup_hm_decide(const struct pol_partition *pol, struct sup_budget *b,
				     enum pol_hm_error ev, bool dead, uint64_t now_ns);

/*
 * The HM log, for mumu-ctl hm-log: the last SUP_HM_LOG_SIZE distinct events of the module. An
 * event like one the log still keeps (same partition, error, action) is counted in that entry
 * ("N more of the same") instead of taking a slot: a partition that floods the health monitor
 * with one kind of event cannot push another event, its own or another partition's, out.
 */
#define SUP_HM_LOG_SIZE	  256
#define SUP_HM_DETAIL_MAX 200
/* Of the events an entry counts, at most SUP_HM_SAY_MAX per SUP_HM_SAY_PERIOD_NS are printed
 * (and traced); the others are counted and said with the next one printed. */
#define SUP_HM_SAY_MAX	     8
#define SUP_HM_SAY_PERIOD_NS 1000000000ULL

struct sup_hm_entry {
	uint64_t ns;	    /* CLOCK_MONOTONIC of the first event */
	uint64_t last_ns;   /* of the latest event counted here */
	uint64_t repeats;   /* events like the first one since, counted here */
	uint64_t unsaid;    /* of those, not said since one was last said */
	uint64_t period_ns; /* start of its current SUP_HM_SAY_PERIOD_NS */
	uint32_t said;	    /* events said in that period */
	uint32_t partition;
	enum pol_hm_error error;
	enum pol_action action; /* taken; IDLE when the restart budget was spent */
	bool budget_spent;
	char detail[SUP_HM_DETAIL_MAX]; /* of the latest event */
};

struct sup_hm_log {
	uint64_t n;	  /* events ever, repeats included */
	uint64_t entries; /* entries ever made */
	struct sup_hm_entry e[SUP_HM_LOG_SIZE];
};

/*
 * Log one event (entry->ns is its time; entry->repeats: events like it before it that were
 * counted but not reported, by its VMM). Returns whether it should be said (printed, traced)
 * now: a new entry always, a repeat when its entry has said fewer than SUP_HM_SAY_MAX in the
 * current period; then *ret_unsaid is how many repeats went unsaid before it (else 0).
 */
bool sup_hm_log_add(struct sup_hm_log *log, const struct sup_hm_entry *entry, uint64_t *ret_unsaid);
/* The k-th oldest entry still kept (k < sup_hm_log_kept), NULL beyond. */
const struct sup_hm_entry *sup_hm_log_get(const struct sup_hm_log *log, uint64_t k);
uint64_t sup_hm_log_kept(const struct sup_hm_log *log);

#endif
