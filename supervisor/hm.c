/* SPDX-License-Identifier: MIT */
/* The health monitor's restart budget (pure: no processes, no clocks of its own). */
#include <string.h>

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

struct sup_hm_decision sup_hm_decide(const struct pol_partition *pol, struct sup_budget *b,
				     enum pol_hm_error ev, bool dead, uint64_t now_ns)
{
	enum pol_action a = ev < POL_HM_ERROR_COUNT ? pol->hm_actions[ev] : POL_ACTION_IDLE;

	if ((a == POL_ACTION_COLD_START || a == POL_ACTION_WARM_START) &&
	    !sup_budget_take(b, pol->restart_limit, pol->restart_period_ns, now_ns))
		return (struct sup_hm_decision){ .action = POL_ACTION_IDLE, .budget_spent = true };
	if (a == POL_ACTION_IGNORE && dead)
		a = POL_ACTION_IDLE;
	return (struct sup_hm_decision){ .action = a };
}

static bool same_kind(const struct sup_hm_entry *a, const struct sup_hm_entry *b)
{
	return a->partition == b->partition && a->error == b->error && a->action == b->action &&
	       a->budget_spent == b->budget_spent;
}

bool sup_hm_log_add(struct sup_hm_log *log, const struct sup_hm_entry *entry, uint64_t *ret_unsaid)
{
	uint64_t kept = sup_hm_log_kept(log);
	struct sup_hm_entry *e;

	log->n += 1 + entry->repeats;
	*ret_unsaid = 0;
	for (uint64_t k = kept; k-- > 0;) {
		e = &log->e[(log->entries - kept + k) % SUP_HM_LOG_SIZE];
		if (!same_kind(e, entry))
			continue;
		e->repeats += 1 + entry->repeats;
		e->unsaid += entry->repeats;
		e->last_ns = entry->ns;
		memcpy(e->detail, entry->detail, sizeof(e->detail));
		if (entry->ns - e->period_ns >= SUP_HM_SAY_PERIOD_NS) {
			e->period_ns = entry->ns;
			e->said = 0;
		}
		if (e->said >= SUP_HM_SAY_MAX) {
			e->unsaid++;
			return false;
		}
		e->said++;
		*ret_unsaid = e->unsaid;
		e->unsaid = 0;
		return true;
	}
	e = &log->e[log->entries % SUP_HM_LOG_SIZE];
	*e = *entry;
	e->last_ns = e->period_ns = entry->ns;
	e->unsaid = entry->repeats; /* counted before it by its VMM */
	e->said = 1;
	*ret_unsaid = e->unsaid;
	e->unsaid = 0;
	log->entries++;
	return true;
}

uint64_t sup_hm_log_kept(const struct sup_hm_log *log)
{
	return log->entries < SUP_HM_LOG_SIZE ? log->entries : SUP_HM_LOG_SIZE;
}

const struct sup_hm_entry *sup_hm_log_get(const struct sup_hm_log *log, uint64_t k)
{
	if (k >= sup_hm_log_kept(log))
		return NULL;
	return &log->e[(log->entries - sup_hm_log_kept(log) + k) % SUP_HM_LOG_SIZE];
}
