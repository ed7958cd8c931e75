/* SPDX-License-Identifier: MIT */
/*
 * The hand-over on a core (core.h, docs/scheduling.md): whether the vCPU entering must wait
 * for the one leaving (its baton), and the core thread's own wait for a leaving vCPU.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <unistd.h>

#include "common/util.h"
#include "supervisor/core.h"

/*
 * Whether w's vCPU, kicked now, must wait for baton b: the last window given on the core is
 * b's and its vCPU has not left it yet. The baton is emptied first, so that only a leaving
 * after this look counts; one before it shows in the status page.
 */
uint32_t sup_core_handover(struct sup_core *c, const struct sup_baton *b)
{
	const struct sup_pending *last = sup_core_last(c);
	const struct sup_partition *lp;
	uint64_t junk;

	if (!b || !last || last->partition != b->from || last->vcpu != b->from_vcpu)
		return 0;
	lp = &c->sched->parts[last->partition];
	while (read(b->fd, &junk, sizeof(junk)) > 0)
		;
	if (__atomic_load_n(&lp->port.status->vcpu[last->vcpu].window_seq, __ATOMIC_ACQUIRE) >=
		last->seq ||
	    __atomic_load_n(&lp->proc.generation, __ATOMIC_ACQUIRE) != last->generation)
		return 0;
	return b->to_idx + 1;
}

/* The baton from the last window given on the core to w's vCPU, if there is one. */
const struct sup_baton *sup_core_baton_to(const struct sup_core *c, const struct pol_core_window *w)
{
	const struct sup_pending *last = sup_core_last(c);

	for (size_t i = 0; last && i < c->sched->n_batons; i++) {
		const struct sup_baton *b = &c->sched->batons[i];

		if (b->from == last->partition && b->from_vcpu == last->vcpu &&
		    b->to == w->partition && b->to_vcpu == w->vcpu)
			return b;
	}
	return NULL;
}

/*
 * The last window given on the core (busy_until) was given to a VMM whose vCPU leaves the
 * guest at its end. Wait until it says so (its status page), at most until until_ns: a VMM
 * woken for the next window at once, or the core thread's own work, would take the core from
 * it in the middle of its exit, and its late exit would count as an overrun its guest did not
 * cause. The wait is on its done eventfd from now on, not a timer at its end: waking at the
 * very instant its vCPU's own timer fires would take the core from that exit just as well.
 */
void sup_core_hand_over(struct sup_core *c, uint64_t until_ns)
{
	const struct sup_pending *pw = sup_core_last(c); /* the callers know there is one */
	const struct sup_partition *p = &c->sched->parts[pw->partition];
	uint64_t v, now;

	while (__atomic_load_n(&p->port.status->vcpu[pw->vcpu].window_seq, __ATOMIC_ACQUIRE) <
		   pw->seq &&
	       __atomic_load_n(&p->proc.generation, __ATOMIC_ACQUIRE) == pw->generation &&
	       (now = mono_ns()) < until_ns) {
		struct timespec ts = ns_timespec(until_ns - now);
		struct pollfd pfd = { .fd = p->port.done_fd[pw->vcpu], .events = POLLIN };

		if (ppoll(&pfd, 1, &ts, NULL) > 0)
			while (read(pfd.fd, &v, sizeof(v)) > 0)
				;
	}
}
