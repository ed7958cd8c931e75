/* SPDX-License-Identifier: MIT */
/* A partition's VMM over its life: spawn, restart, IDLE, health-monitor events, the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/log.h"
#include "common/util.h"
#include "supervisor/console.h"
#include "supervisor/run.h"

/* The partition's VMM is gone or must go: no more windows for it, its process reaped. */
void run_partition_down(struct run *run, struct sup_partition *p, const char *why)
{
	if (p->proc.pid <= 0)
		return;
	__atomic_store_n(&p->state, SUP_PART_STOPPED, __ATOMIC_RELEASE);
	run_unwatch(run, p->chan.sock);
	run_unwatch(run, p->proc.pidfd);
	if (why)
		log_error("partition '%s': %s; its VMM is stopped, the other partitions go on",
			  p->pol->name, why);
	sup_partition_kill(p, 0);
}

int run_spawn(struct run *run, struct sup_partition *p)
{
	const struct sup_spawn how = { .objects = run->objects,
				       .vmm_path = run->opts->vmm_path,
				       .kvm_fd = run->kvm_fd,
				       .flags = run->vmm_flags,
				       .uid = run->vmm_uid,
				       .gid = run->vmm_gid };
	int r;

	p->proc.spawn_ns = mono_ns();
	r = sup_partition_spawn(p, run->sys, &how);
	if (r < 0) {
		log_error("partition '%s': cannot start '%s': %s", p->pol->name,
			  run->opts->vmm_path, strerror(-r));
		return r;
	}
	p->chan.frame_msgs = 0;
	p->chan.sock_paused = false;
	if ((r = run_watch(run, p->chan.sock, TAG(TAG_SOCK, p->index))) < 0 ||
	    (r = run_watch(run, p->proc.pidfd, TAG(TAG_PIDFD, p->index))) < 0) {
		run_partition_down(run, p, NULL);
		return r;
	}
	return 0;
}

/* IDLE: no VMM, no windows, until an operator or a schedule change restarts it. */
void run_go_idle(struct run *run, struct sup_partition *p)
{
	run_partition_down(run, p, NULL);
	__atomic_store_n(&p->port.ctl->mode, MUMU_MODE_IDLE, __ATOMIC_RELEASE);
}

/*
 * A new VMM for the partition; cold: from the pristine image in fresh RAM, warm: RAM kept.
 * It gets windows again once it is ready.
 */
void run_restart(struct run *run, struct sup_partition *p, bool cold, enum mumu_start_condition why)
{
	int r;

	run_partition_down(run, p, NULL);
	if (cold && (r = sup_partition_load_ram(p)) < 0) {
		log_error("partition '%s': cannot reload its image: %s; it stays IDLE",
			  p->pol->name, strerror(-r));
		run_go_idle(run, p);
		return;
	}
	p->n_restarts++;
	p->port.ctl->mode = cold ? MUMU_MODE_COLD_START : MUMU_MODE_WARM_START;
	p->port.ctl->start_condition = why;
	p->port.ctl->n_restarts = (uint32_t)p->n_restarts;
	if (run_spawn(run, p) < 0)
		run_go_idle(run, p);
}

static void apply(struct run *run, struct sup_partition *p, enum pol_action a,
		  enum mumu_start_condition why)
{
	if (run->stop)
		return; /* the module is stopping: no restarts, every VMM goes */
	switch (a) {
	case POL_ACTION_IGNORE:
	case POL_ACTION_COUNT:
		break;
	case POL_ACTION_IDLE:
		run_go_idle(run, p);
		break;
	case POL_ACTION_COLD_START:
	case POL_ACTION_WARM_START:
		run_restart(run, p, a == POL_ACTION_COLD_START, why);
		break;
	case POL_ACTION_SHUTDOWN:
		run->stop = true;
		run->shutdown = true;
		run->stop_reason = "SHUTDOWN by the health monitor";
		break;
	}
}

/*
 * Record one health-monitor event: counted, in the HM log, and said (a log line, a trace
 * event) unless its kind floods: then the HM log counts it and the next line said names how
 * many went unsaid (sup_hm_log_add). a: the action taken (IDLE when spent); before: events
 * like it that its VMM counted without reporting them (ipc_fault.suppressed).
 */
void run_hm_record(struct run *run, struct sup_partition *p, enum pol_hm_error ev,
		   enum pol_action a, bool spent, const char *what, uint64_t before)
{
	struct sup_hm_entry entry = { .ns = mono_ns(),
				      .partition = (uint32_t)p->index,
				      .error = ev,
				      .action = a,
				      .budget_spent = spent,
				      .repeats = before };
	char name[MUMU_NAME_MAX + 64], detail[512], more[64] = "";
	uint64_t unsaid;

	p->n_faults += 1 + before;
	snprintf(entry.detail, sizeof(entry.detail), "%s", what);
	if (!sup_hm_log_add(&run->hm_log, &entry, &unsaid))
		return;
	if (unsaid)
		snprintf(more, sizeof(more), " (%" PRIu64 " more like it, unsaid, before)", unsaid);
	snprintf(name, sizeof(name), "%s %s", pol_hm_error_name(ev), p->pol->name);
	snprintf(detail, sizeof(detail), "%s%s; action %s", what, more,
		 spent ? "IDLE (restart budget spent)" : pol_action_name(a));
	sup_trace_event(&run->trace, entry.ns, name, detail);
	if (spent)
		log_error("partition '%s': %s: %s%s; restart budget spent (%" PRIu32
			  " in %g s): IDLE",
			  p->pol->name, pol_hm_error_name(ev), what, more, p->pol->restart_limit,
			  (double)p->pol->restart_period_ns / 1e9);
	else if (a == POL_ACTION_IGNORE)
		log_warn("partition '%s': %s: %s%s", p->pol->name, pol_hm_error_name(ev), what,
			 more);
	else
		log_error("partition '%s': %s: %s%s; action %s%s", p->pol->name,
			  pol_hm_error_name(ev), what, more, pol_action_name(a),
			  a == POL_ACTION_SHUTDOWN ? ": the module stops"
						   : ", the other partitions go on");
}

/*
 * The health monitor: record the event, then take the action the partition's HealthMonitor
 * gives it, restarts within its budget. A partition whose VMM is gone or whose guest crashed
 * has nothing left to continue: IGNORE leaves it IDLE.
 */
void run_hm_event(struct run *run, struct sup_partition *p, enum pol_hm_error ev, const char *what,
		  uint64_t before)
{
	bool dead =
	    p->proc.pid <= 0 || __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == SUP_PART_FAULTED;
	struct sup_hm_decision d = sup_hm_decide(p->pol, &p->budget, ev, dead, mono_ns());

	run_hm_record(run, p, ev, d.action, d.budget_spent, what, before);
	apply(run, p, d.action, MUMU_START_HM_PARTITION_RESTART);
}

void run_on_exit_of(struct run *run, struct sup_partition *p)
{
	siginfo_t si = { 0 };
	char why[128];

	if (p->proc.pid <= 0 ||
	    waitid(P_PID, (id_t)p->proc.pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid == 0)
		return;
	if (run->stop) { /* stopping: the VMMs are meant to go, no health-monitor event */
		run_partition_down(run, p, NULL);
		return;
	}
	if (si.si_code == CLD_EXITED)
		snprintf(why, sizeof(why), "VMM (pid %d) exited with status %d", p->proc.pid,
			 si.si_status);
	else
		snprintf(why, sizeof(why), "VMM (pid %d) killed by signal %s", p->proc.pid,
			 sigabbrev_np(si.si_status) ?: "?");
	run_partition_down(run, p, NULL);
	run_hm_event(run, p, POL_HM_VMM_DIED, why, 0);
}

/* A VMM that never says READY (stuck, or compromised and silent) is a dead one. */
void run_on_slow_starts(struct run *run)
{
	uint64_t now = mono_ns();
	char why[128];

	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != SUP_PART_STARTING ||
		    now - p->proc.spawn_ns < READY_TIMEOUT_NS)
			continue;
		snprintf(why, sizeof(why), "VMM (pid %d) not ready %llu s after its start; killed",
			 p->proc.pid, READY_TIMEOUT_NS / 1000000000ULL);
		run_partition_down(run, p, NULL);
		run_hm_event(run, p, POL_HM_VMM_DIED, why, 0);
	}
}

/* A window the core threads recorded, as the main thread drains them (run.c). */
void run_on_window(struct run *run, const struct sup_window_record *w)
{
	struct sup_partition *p = &run->parts[w->part];

	if (run->trace.f)
		sup_trace_window(&run->trace, w);
	/* Its VMM's, never a successor's. */
	if (w->outcome == SUP_WINDOW_ENFORCED && w->generation == p->proc.generation)
		p->overruns++;
}

/*
 * Windows the core threads had to enforce: one DEADLINE_MISSED each, once they are
 * SUP_HM_SETTLE_NS old. A VMM killed in its window overruns it too, and its death takes that
 * long to show in the emulated test machine: then the death is the event, not the overrun.
 */
void run_on_overruns(struct run *run)
{
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];
		uint32_t gen = p->proc.generation;
		uint64_t due = 0, now = mono_ns();
		char what[128];

		if (p->state != SUP_PART_RUNNING || p->overruns == 0) {
			p->overrun_since_ns = 0;
		} else if (!p->overrun_since_ns) {
			p->overrun_since_ns = now;
		} else if (now - p->overrun_since_ns >= SUP_HM_SETTLE_NS) {
			due = p->overruns;
			p->overruns = 0;
			p->overrun_since_ns = 0;
		}
		if (!due)
			continue;
		run_on_exit_of(run, p); /* a VMM that died in its window: that is the event */
		snprintf(
		    what, sizeof(what),
		    "a vCPU was still in its window %llu us after its end; the VMM was stopped",
		    SUP_ENFORCE_GRACE_NS / 1000);
		for (; due > 0 && p->proc.generation == gen && p->state == SUP_PART_RUNNING; due--)
			run_hm_event(run, p, POL_HM_DEADLINE_MISSED, what, 0);
	}
}

/* After a schedule switch: the ScheduleChangeAction of every partition that has one. */
void run_on_switches(struct run *run)
{
	uint64_t n = __atomic_load_n(&run->sched.switches, __ATOMIC_ACQUIRE);
	size_t cur, next;
	char what[64];

	if (n == run->switches_seen)
		return;
	run->switches_seen = n;
	sup_sched_current(&run->sched, &cur, &next);
	log_info("schedule %" PRIu32 " runs from this major frame on", run->sys->schedules[cur].id);
	snprintf(what, sizeof(what), "schedule %" PRIu32 " from this major frame on",
		 run->sys->schedules[cur].id);
	sup_trace_event(
	    &run->trace,
	    __atomic_load_n(&run->parts[0].port.ctl->time_of_last_switch_ns, __ATOMIC_RELAXED),
	    "schedule switch", what);
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];
		int a = __atomic_exchange_n(&p->switch_action, POL_ACTION_IGNORE, __ATOMIC_ACQ_REL);

		if (a == POL_ACTION_IGNORE ||
		    (a == POL_ACTION_IDLE && p->port.ctl->mode == MUMU_MODE_IDLE))
			continue;
		log_info("partition '%s': ScheduleChangeAction %s", p->pol->name,
			 pol_action_name((enum pol_action)a));
		apply(run, p, (enum pol_action)a, MUMU_START_PARTITION_RESTART);
	}
}

/*
 * Every VMM is asked to exit at once, and given SHUTDOWN_WAIT_NS in all to do so before it is
 * killed; a second stopping signal (Ctrl-C again) ends the wait at once.
 */
void run_stop_vmms(struct run *run)
{
	struct pollfd *pfd = calloc(1 + run->sys->n_partitions, sizeof(*pfd));
	uint64_t deadline = mono_ns() + SHUTDOWN_WAIT_NS, now;
	size_t n = 0;

	if (pfd)
		pfd[n++] = (struct pollfd){ .fd = run->sigfd, .events = POLLIN };
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];

		if (!p->pol)
			continue;
		if (p->chan.sock >= 0) /* what it said before it stopped */
			run_on_sock(run, p);
		sup_partition_ask_exit(p);
		if (p->proc.pidfd >= 0 && pfd)
			pfd[n++] = (struct pollfd){ .fd = p->proc.pidfd, .events = POLLIN };
	}
	while (pfd && !run->forced && (now = mono_ns()) < deadline) {
		size_t live = 0;

		if (poll(pfd, n, (int)((deadline - now) / 1000000) + 1) < 0 && errno != EINTR)
			break;
		if ((pfd[0].revents & POLLIN) && run_on_signal(run)) {
			log_warn("a second signal while stopping: the VMMs are killed now");
			run->forced = true;
		}
		for (size_t k = 1; k < n; k++) {
			if (pfd[k].revents & POLLIN)
				pfd[k].fd = -1; /* exited: poll skips it */
			live += pfd[k].fd >= 0;
		}
		if (!live)
			break;
	}
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];
		pid_t pid = p->proc.pid;
		int status;

		if (!p->pol)
			continue;
		status = sup_partition_kill(p, 0);
		/* Only the supervisor ends a VMM: another signal came from outside mumu. */
		if (pid > 0 && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
			log_warn("partition '%s': its VMM (pid %d) was killed by signal %s while "
				 "the module stopped",
				 p->pol->name, pid, sigabbrev_np(WTERMSIG(status)) ?: "?");
		sup_console_flush(p, &run_output, STDOUT_FILENO);
	}
	free(pfd);
}
