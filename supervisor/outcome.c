/* SPDX-License-Identifier: MIT */
/*
 * A window's outcome (core.h): after its end and the grace, did its vCPU leave the guest in
 * time? The VMM is stopped either way; the window is counted and recorded.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "supervisor/core.h"

/* Single producer (the core thread), single consumer (sup_sched_drain). */
void sup_core_record(struct sup_core *c, const struct sup_pending *pw, uint64_t entry,
		     uint64_t exit, enum sup_window_outcome outcome)
{
	uint64_t head = c->head;

	if (head - __atomic_load_n(&c->tail, __ATOMIC_ACQUIRE) >= SUP_RING_SIZE) {
		c->dropped++;
		return;
	}
	c->ring[head % SUP_RING_SIZE] = (struct sup_window_record){
		.partition = c->sched->sys->partitions[pw->partition].name,
		.part = pw->partition,
		.generation = pw->generation,
		.schedule_id = pw->schedule_id,
		.frame = pw->frame,
		.core = c->core_id,
		.vcpu = pw->vcpu,
		.offset_ns = pw->offset_ns,
		.planned_start_ns = pw->start_ns,
		.planned_end_ns = pw->end_ns,
		.start_ns = entry,
		.end_ns = exit,
		.outcome = outcome,
	};
	__atomic_store_n(&c->head, head + 1, __ATOMIC_RELEASE);
}

/*
 * The VMM's status page is its word; the kernel's CPU accounting is not. After the grace a
 * one-vCPU partition's VMM has nothing left to run: if it used a quarter or more of a
 * SUP_CPU_PROBE_NS look (the core thread sleeps meanwhile, so a vCPU still in the guest on
 * this core runs), it went on after its window, whatever its status page says.
 */
static bool overran_cpu(struct sup_partition *p, const struct sup_pending *pw)
{
	uint64_t a, b, t0, t1;

	if (p->pol->n_cores != 1 || !sup_partition_cpu_ns(p, pw->generation, &a))
		return false;
	t0 = mono_ns();
	sleep_until_ns(t0 + SUP_CPU_PROBE_NS);
	if (!sup_partition_cpu_ns(p, pw->generation, &b))
		return false;
	t1 = mono_ns();
	return (b - a) * 4 >= t1 - t0;
}

/*
 * After the grace: did the vCPU leave the guest within it? The done eventfd is only a
 * wake-up; the status page's window sequence and exit time decide, held against the kernel's
 * CPU accounting where it can tell (overran_cpu; the check itself may come later,
 * sup_check_time). Stop the VMM either way (see sched.h).
 */
void sup_core_check(struct sup_core *c, const struct sup_pending *pw)
{
	struct sup_partition *p = &c->sched->parts[pw->partition];
	struct sup_part_stats *st = &c->stats[pw->partition];
	const volatile struct ipc_vcpu_status *vs = &p->port.status->vcpu[pw->vcpu];
	uint64_t v, seq, entry, exit, outcome;
	bool done;

	while (read(p->port.done_fd[pw->vcpu], &v, sizeof(v)) > 0)
		;
	seq = __atomic_load_n(&vs->window_seq, __ATOMIC_ACQUIRE);
	entry = vs->entry_ns;
	exit = vs->exit_ns;
	outcome = vs->outcome;
	/* A vCPU takes its next window only after it finished this one. */
	done = seq > pw->seq || (seq == pw->seq && exit <= pw->end_ns + SUP_ENFORCE_GRACE_NS);
	if (__atomic_load_n(&p->proc.generation, __ATOMIC_ACQUIRE) != pw->generation) {
		/* Its VMM died (or was replaced) during the window: the HM reports that. */
		sup_core_record(c, pw, 0, 0, SUP_WINDOW_IDLE);
		return;
	}
	if (__atomic_load_n(&p->port.kicks, __ATOMIC_ACQUIRE) == pw->kick) {
		/* Its status page may say it left in time where the kernel says not. */
		if (done && overran_cpu(p, pw))
			done = false;
		sup_partition_stop(p, pw->generation, pw->vcpu);
	}
	if (!done) {
		st->enforced++;
		sup_core_record(c, pw, seq == pw->seq ? entry : 0, seq == pw->seq ? exit : 0,
				SUP_WINDOW_ENFORCED);
		return; /* the main thread reports it to the health monitor (run_on_window) */
	}
	/* The VMM woke too late to enter the guest before the window's end. */
	if (seq == pw->seq && outcome == IPC_DONE_DEADLINE && entry == 0) {
		st->missed++;
		sup_core_record(c, pw, 0, 0, SUP_WINDOW_MISSED);
		return;
	}
	/* Status values are the VMM's word: use them only when they are plausible. */
	if (seq == pw->seq && exit >= entry && exit <= pw->check_ns + 1000000000ULL &&
	    exit >= pw->start_ns) {
		if (entry) {
			sup_hist_add(&st->lateness_ns,
				     entry > pw->start_ns ? entry - pw->start_ns : 0);
		}
		if (outcome == IPC_DONE_YIELD)
			st->yielded++;
		else
			st->ran++;
		sup_hist_add(&st->overrun_ns, exit > pw->end_ns ? exit - pw->end_ns : 0);
		sup_core_record(c, pw, entry, exit,
				outcome == IPC_DONE_YIELD ? SUP_WINDOW_YIELDED : SUP_WINDOW_RAN);
	} else {
		st->ran++;
		sup_core_record(c, pw, 0, 0, SUP_WINDOW_RAN);
	}
}

void sup_core_checks_until(struct sup_core *c, uint64_t t_ns)
{
	while (c->n_pending > 0 && c->pending[0].check_ns <= t_ns) {
		struct sup_pending pw = c->pending[0];

		memmove(&c->pending[0], &c->pending[1], (c->n_pending - 1) * sizeof(pw));
		c->n_pending--;
		sleep_until_ns(pw.check_ns);
		sup_core_check(c, &pw);
	}
}
