/* SPDX-License-Identifier: MIT */
/*
 * The schedule's pure decisions (sched.h), no thread and no clock: which schedule runs when,
 * the hand-over batons a system needs, whether a core's vCPUs fit the real-time budget.
 */
#include <stdlib.h>

#include "supervisor/sched.h"

size_t sup_batons_plan(const struct pol_system *sys, const uint64_t *rt_cores,
		       struct sup_baton *out, size_t max)
{
	uint32_t *used = calloc(sys->n_partitions + 1, sizeof(*used));
	size_t n = 0;

	if (!used)
		return 0;
	for (size_t k = 0; k < sys->n_schedules; k++) {
		for (uint32_t core = 0; core < POL_CPU_MAX; core++) {
			bool rt = rt_cores && (rt_cores[core / 64] & 1ULL << core % 64);
			size_t nw = pol_core_used(sys, core) && !rt
					? pol_core_windows(sys, &sys->schedules[k], core, NULL, 0)
					: 0;
			struct pol_core_window *w = nw ? calloc(nw, sizeof(*w)) : NULL;

			if (nw && !w)
				break;
			pol_core_windows(sys, &sys->schedules[k], core, w, nw);
			for (size_t i = 0; i < nw; i++) {
				const struct pol_core_window *a = &w[(i + nw - 1) % nw], *b = &w[i];
				size_t j;

				if (a->partition == b->partition)
					continue;
				for (j = 0; j < n; j++)
					if (out[j].from == a->partition &&
					    out[j].to == b->partition &&
					    out[j].from_vcpu == a->vcpu &&
					    out[j].to_vcpu == b->vcpu)
						break;
				if (j < n || n == max || used[a->partition] == IPC_BATON_MAX ||
				    used[b->partition] == IPC_BATON_MAX)
					continue;
				out[n++] = (struct sup_baton){ .from = a->partition,
							       .to = b->partition,
							       .from_vcpu = a->vcpu,
							       .to_vcpu = b->vcpu,
							       .from_idx = used[a->partition]++,
							       .to_idx = used[b->partition]++,
							       .fd = -1 };
			}
			free(w);
		}
	}
	free(used);
	return n;
}

bool sup_core_realtime(const struct pol_system *sys, uint32_t core, long runtime_us, long period_us)
{
	if (runtime_us < 0)
		return true;
	if (period_us <= 0 || runtime_us <= period_us / 100)
		return false;
	for (size_t k = 0; k < sys->n_schedules; k++) {
		const struct pol_schedule *sch = &sys->schedules[k];
		size_t n = pol_core_windows(sys, sch, core, NULL, 0);
		struct pol_core_window *w = calloc(n + 1, sizeof(*w));
		uint64_t busy = 0;

		if (!w)
			return false;
		pol_core_windows(sys, sch, core, w, n);
		for (size_t i = 0; i < n; i++)
			busy += w[i].duration_ns + IPC_SPIN_NS;
		free(w);
		/* busy / frame < (runtime - period / 100) / period */
		if ((unsigned __int128)busy * (uint64_t)period_us >=
		    (unsigned __int128)sch->major_frame_ns *
			(uint64_t)(runtime_us - period_us / 100))
			return false;
	}
	return true;
}

bool sup_plan_decide(struct sup_plan *pl, uint64_t boundary_ns)
{
	size_t cur;

	if (boundary_ns <= pl->decided_until)
		return false;
	pl->decided_until = boundary_ns;
	cur = sup_plan_at(pl, boundary_ns);
	if (pl->requested == SIZE_MAX || pl->requested == cur) {
		pl->requested = SIZE_MAX;
		return false;
	}
	pl->hist[pl->n % SUP_PLAN_HISTORY] =
	    (struct sup_switch){ .at_ns = boundary_ns, .schedule = pl->requested };
	pl->n++;
	pl->requested = SIZE_MAX;
	return true;
}

size_t sup_plan_at(const struct sup_plan *pl, uint64_t t_ns)
{
	size_t kept = pl->n < SUP_PLAN_HISTORY ? pl->n : SUP_PLAN_HISTORY;

	for (size_t k = 1; k <= kept; k++) {
		const struct sup_switch *sw = &pl->hist[(pl->n - k) % SUP_PLAN_HISTORY];

		if (sw->at_ns <= t_ns)
			return sw->schedule;
	}
	return pl->initial;
}
