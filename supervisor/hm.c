/* SPDX-License-Identifier: MIT */
/* The health monitor's restart budget (pure: no processes, no clocks of its own). */
#include "supervisor/hm.h"

bool sup_budget_take(struct sup_budget *b, uint32_t limit, uint64_t period_ns, uint64_t now_ns)
{
	if (limit == 0)
		return false;
	if (limit > POL_HM_RESTART_LIMIT_MAX)
		limit = POL_HM_RESTART_LIMIT_MAX;
	/* The oldest of the last limit restarts decides: limit within the period spend it. */
	if (b->n >= limit && now_ns - b->at[(b->n - limit) % POL_HM_RESTART_LIMIT_MAX] < period_ns)
		return false;
	b->at[b->n % POL_HM_RESTART_LIMIT_MAX] = now_ns;
	b->n++;
	return true;
}

void sup_hm_log_add(struct sup_hm_log *log, const struct sup_hm_entry *entry)
{
	log->e[log->n % SUP_HM_LOG_SIZE] = *entry;
	log->n++;
}

uint64_t sup_hm_log_kept(const struct sup_hm_log *log)
{
	return log->n < SUP_HM_LOG_SIZE ? log->n : SUP_HM_LOG_SIZE;
}

const struct sup_hm_entry *sup_hm_log_get(const struct sup_hm_log *log, uint64_t k)
{
	if (k >= sup_hm_log_kept(log))
		return NULL;
	return &log->e[(log->n - sup_hm_log_kept(log) + k) % SUP_HM_LOG_SIZE];
}
