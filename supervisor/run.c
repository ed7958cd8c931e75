/* SPDX-License-Identifier: MIT */
/* Running a system: start the VMMs, run the schedule, serve their messages, stop cleanly. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "supervisor/console.h"
#include "supervisor/control.h"
#include "supervisor/output.h"
#include "supervisor/partition.h"
#include "supervisor/sched.h"
#include "supervisor/supervisor.h"
#include "supervisor/trace.h"
#include "vmm/seccomp.h"

#define READY_TIMEOUT_NS 20000000000ULL /* VMM start-up, generous for nested KVM */
/* Frame 0 starts this long after every VMM is ready and every core thread exists: its first
 * kick (SUP_KICK_LEAD_NS ahead) comes once they have woken. */
#define EPOCH_DELAY_NS	 (SUP_KICK_LEAD_NS + 250000ULL)
#define MSGS_PER_WAKEUP	 64 /* fairness: one chatty VMM cannot hog the loop */
#define SHUTDOWN_WAIT_NS 500000000ULL

/* epoll tags: the kind in the top bits, the partition index below. */
enum { TAG_SIGNAL = 1, TAG_TIMER, TAG_FRAME, TAG_SOCK, TAG_PIDFD, TAG_CTL, TAG_CTL_CLIENT };
#define TAG(kind, i) (((uint64_t)(kind) << 32) | (uint64_t)(i))

struct run {
	const struct pol_system *sys;
	const struct sup_options *opts;
	struct sup_partition *parts;
	struct sup_sched sched;
	bool
	    sched_made; /* the core threads exist (sup_sched_start): stopped and freed at the end */
	bool sched_started; /* the schedule runs (sup_sched_go) */
	struct sup_trace trace;
	struct sup_control control;
	struct sup_hm_log hm_log;
	uint64_t start_ns;
	int epfd, sigfd, timerfd;
	int kvm_fd;
	int *objects;		/* memfds of shared memories and channels (sup_objects_create) */
	uint64_t switches_seen; /* schedule switches whose actions were applied */
	bool stop;
	const char *stop_reason;
	char stop_signal[16];		     /* "SIGINT" when a signal stopped the run */
	bool forced;			     /* a second signal ended the shutdown at once */
	bool shutdown;			     /* the health monitor stopped the module */
	uint64_t rt_cores[POL_CPU_MAX / 64]; /* cores whose vCPUs run SCHED_FIFO (plan_realtime) */
	struct sup_baton *batons; /* hand-over batons (sup_batons_plan), their eventfds */
	size_t n_batons;
};

/* Console and log lines: queued, written by their own thread (output.h). Static: a writer
 * blocked for good on a stalled stdout may outlive sup_run. */
static struct sup_output output;

static void log_to_output(const char *line, size_t len)
{
	sup_output_put(&output, SIZE_MAX, STDERR_FILENO, line, len); /* the last owner */
}

static int watch(struct run *run, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(run->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void unwatch(struct run *run, int fd)
{
	if (fd >= 0)
		epoll_ctl(run->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* The partition's VMM is gone or must go: no more windows for it, its process reaped. */
static void partition_down(struct run *run, struct sup_partition *p, const char *why)
{
	if (p->pid <= 0)
		return;
	__atomic_store_n(&p->state, SUP_PART_STOPPED, __ATOMIC_RELEASE);
	unwatch(run, p->sock);
	unwatch(run, p->pidfd);
	if (why)
		log_error("partition '%s': %s; its VMM is stopped, the other partitions go on",
			  p->pol->name, why);
	sup_partition_kill(p, 0);
}

static int spawn(struct run *run, struct sup_partition *p)
{
	int r;

	p->spawn_ns = mono_ns();
	r = sup_partition_spawn(p, run->sys, run->objects, run->opts->vmm_path, run->kvm_fd,
				run->opts->vmm_flags, run->opts->vmm_uid, run->opts->vmm_gid);
	if (r < 0) {
		log_error("partition '%s': cannot start '%s': %s", p->pol->name,
			  run->opts->vmm_path, strerror(-r));
		return r;
	}
	p->frame_msgs = 0;
	p->sock_paused = false;
	if ((r = watch(run, p->sock, TAG(TAG_SOCK, p->index))) < 0 ||
	    (r = watch(run, p->pidfd, TAG(TAG_PIDFD, p->index))) < 0) {
		partition_down(run, p, NULL);
		return r;
	}
	return 0;
}

/* IDLE: no VMM, no windows, until an operator or a schedule change restarts it. */
static void go_idle(struct run *run, struct sup_partition *p)
{
	partition_down(run, p, NULL);
	__atomic_store_n(&p->ctl->mode, MUMU_MODE_IDLE, __ATOMIC_RELEASE);
}

/*
 * A new VMM for the partition; cold: from the pristine image in fresh RAM, warm: RAM kept.
 * It gets windows again once it is ready.
 */
static void restart(struct run *run, struct sup_partition *p, bool cold,
		    enum mumu_start_condition why)
{
	int r;

	partition_down(run, p, NULL);
	if (cold && (r = sup_partition_load_ram(p)) < 0) {
		log_error("partition '%s': cannot reload its image: %s; it stays IDLE",
			  p->pol->name, strerror(-r));
		go_idle(run, p);
		return;
	}
	p->n_restarts++;
	p->ctl->mode = cold ? MUMU_MODE_COLD_START : MUMU_MODE_WARM_START;
	p->ctl->start_condition = why;
	p->ctl->n_restarts = (uint32_t)p->n_restarts;
	if (spawn(run, p) < 0)
		go_idle(run, p);
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
		go_idle(run, p);
		break;
	case POL_ACTION_COLD_START:
	case POL_ACTION_WARM_START:
		restart(run, p, a == POL_ACTION_COLD_START, why);
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
static void hm_record(struct run *run, struct sup_partition *p, enum pol_hm_error ev,
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
static void hm_event(struct run *run, struct sup_partition *p, enum pol_hm_error ev,
		     const char *what, uint64_t before)
{
	bool dead = p->pid <= 0 || __atomic_load_n(&p->state, __ATOMIC_ACQUIRE) == SUP_PART_FAULTED;
	struct sup_hm_decision d = sup_hm_decide(p->pol, &p->budget, ev, dead, mono_ns());

	hm_record(run, p, ev, d.action, d.budget_spent, what, before);
	apply(run, p, d.action, MUMU_START_HM_PARTITION_RESTART);
}

static void on_exit_of(struct run *run, struct sup_partition *p)
{
	siginfo_t si = { 0 };
	char why[128];

	if (p->pid <= 0 || waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid == 0)
		return;
	if (run->stop) { /* stopping: the VMMs are meant to go, no health-monitor event */
		partition_down(run, p, NULL);
		return;
	}
	if (si.si_code == CLD_EXITED)
		snprintf(why, sizeof(why), "VMM (pid %d) exited with status %d", p->pid,
			 si.si_status);
	else
		snprintf(why, sizeof(why), "VMM (pid %d) killed by signal %s", p->pid,
			 sigabbrev_np(si.si_status) ?: "?");
	partition_down(run, p, NULL);
	hm_event(run, p, POL_HM_VMM_DIED, why, 0);
}

/* A VMM that never says READY (stuck, or compromised and silent) is a dead one. */
static void on_slow_starts(struct run *run)
{
	uint64_t now = mono_ns();
	char why[128];

	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];

		if (__atomic_load_n(&p->state, __ATOMIC_ACQUIRE) != SUP_PART_STARTING ||
		    now - p->spawn_ns < READY_TIMEOUT_NS)
			continue;
		snprintf(why, sizeof(why), "VMM (pid %d) not ready %llu s after its start; killed",
			 p->pid, READY_TIMEOUT_NS / 1000000000ULL);
		partition_down(run, p, NULL);
		hm_event(run, p, POL_HM_VMM_DIED, why, 0);
	}
}

static void on_fault(struct run *run, struct sup_partition *p, const struct ipc_fault *f)
{
	char msg[MUMU_ERROR_MSG_MAX + 8], what[MUMU_ERROR_MSG_MAX + 64];

	memcpy(msg, f->msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	if (f->kind == IPC_FAULT_APPLICATION) {
		snprintf(what, sizeof(what), "application error %" PRIu32 ": %s", f->code, msg);
		hm_event(run, p, POL_HM_APPLICATION_ERROR, what, f->suppressed);
		return;
	}
	if (f->kind == IPC_FAULT_SECCOMP) {
		/* Its death follows at once and is the event; this names the cause. */
		log_error("partition '%s': its VMM made the forbidden system call %s (%" PRIu32
			  "); the sandbox kills it",
			  p->pol->name, vmm_syscall_name((int)f->code), f->code);
		return;
	}
	snprintf(what, sizeof(what), "%s (vcpu %" PRIu32 "): %s", ipc_fault_name(f->kind), f->vcpu,
		 msg);
	if (!f->fatal) {
		hm_event(run, p, POL_HM_ILLEGAL_REQUEST, what, f->suppressed);
		return;
	}
	__atomic_store_n(&p->state, SUP_PART_FAULTED, __ATOMIC_RELEASE);
	hm_event(run, p,
		 f->kind == IPC_FAULT_UNMAPPED_ACCESS || f->kind == IPC_FAULT_READONLY_WRITE
		     ? POL_HM_MEMORY_VIOLATION
		     : POL_HM_GUEST_CRASH,
		 what, 0);
}

/* A VMM that breaks the protocol is compromised or broken: killed, then the HM decides. */
static void violation(struct run *run, struct sup_partition *p, const char *what)
{
	char why[96];

	snprintf(why, sizeof(why), "protocol violation by its VMM (%s); killed", what);
	partition_down(run, p, NULL);
	hm_event(run, p, POL_HM_VMM_DIED, why, 0);
}

/* SET_MODULE_SCHEDULE from a guest: only a partition with SetModuleSchedule may. */
static void on_schedule_req(struct run *run, struct sup_partition *p, uint32_t id)
{
	size_t idx = pol_schedule_index_by_id(run->sys, id);
	char what[96];

	if (!p->pol->set_module_schedule || idx == SIZE_MAX || !run->sched_started) {
		snprintf(what, sizeof(what), "schedule %" PRIu32 " refused: %s", id,
			 !p->pol->set_module_schedule ? "the partition may not set schedules"
			 : idx == SIZE_MAX	      ? "no such schedule"
						      : "the schedule is not running");
		hm_event(run, p, POL_HM_ILLEGAL_REQUEST, what, 0);
		return;
	}
	sup_sched_request(&run->sched, idx);
	log_info("partition '%s' requests schedule %" PRIu32 " from the next major frame",
		 p->pol->name, id);
}

/* SET_PARTITION_MODE from a guest (ARINC 653): NORMAL, IDLE or a restart of itself. */
static void on_mode_req(struct run *run, struct sup_partition *p, uint32_t mode)
{
	char what[64];

	switch (mode) {
	case MUMU_MODE_NORMAL:
		if (p->ctl->mode == MUMU_MODE_NORMAL)
			break; /* ARINC: NO_ACTION */
		__atomic_store_n(&p->ctl->mode, MUMU_MODE_NORMAL, __ATOMIC_RELEASE);
		log_info("partition '%s': mode NORMAL", p->pol->name);
		break;
	case MUMU_MODE_IDLE:
		log_info("partition '%s': set itself IDLE", p->pol->name);
		go_idle(run, p);
		break;
	case MUMU_MODE_COLD_START:
	case MUMU_MODE_WARM_START:
		/* Its own restarts cost the next windows a VMM start-up each: they spend the
		 * same budget as the health monitor's. */
		if (!sup_budget_take(&p->budget, p->pol->restart_limit, p->pol->restart_period_ns,
				     mono_ns())) {
			snprintf(what, sizeof(what), "SET_MODE(%s) refused: restart budget spent",
				 mode == MUMU_MODE_COLD_START ? "COLD_START" : "WARM_START");
			hm_record(run, p, POL_HM_ILLEGAL_REQUEST, POL_ACTION_IDLE, true, what, 0);
			go_idle(run, p);
			break;
		}
		log_info("partition '%s': restarts itself (%s)", p->pol->name,
			 mode == MUMU_MODE_COLD_START ? "COLD_START" : "WARM_START");
		restart(run, p, mode == MUMU_MODE_COLD_START, MUMU_START_PARTITION_RESTART);
		break;
	default:
		snprintf(what, sizeof(what), "mode %" PRIu32 " refused: no such mode", mode);
		hm_event(run, p, POL_HM_ILLEGAL_REQUEST, what, 0);
	}
}

/*
 * Windows the core threads had to enforce: one DEADLINE_MISSED each, once they are
 * SUP_HM_SETTLE_NS old. A VMM killed in its window overruns it too, and its death takes that
 * long to show in the emulated test machine: then the death is the event, not the overrun.
 */
static void on_overruns(struct run *run)
{
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];
		uint32_t gen = p->generation;
		uint64_t due = 0, now = mono_ns();
		char what[128];

		pthread_mutex_lock(&p->lock);
		if (p->generation != gen || p->state != SUP_PART_RUNNING ||
		    p->overruns_seen == p->overruns) {
			p->overrun_since_ns = 0;
		} else if (!p->overrun_since_ns) {
			p->overrun_since_ns = now;
		} else if (now - p->overrun_since_ns >= SUP_HM_SETTLE_NS) {
			due = p->overruns - p->overruns_seen;
			p->overruns_seen = p->overruns;
			p->overrun_since_ns = 0;
		}
		pthread_mutex_unlock(&p->lock);
		if (!due)
			continue;
		on_exit_of(run, p); /* a VMM that died in its window: that is the event */
		snprintf(
		    what, sizeof(what),
		    "a vCPU was still in its window %llu us after its end; the VMM was stopped",
		    SUP_ENFORCE_GRACE_NS / 1000);
		for (; due > 0 && p->generation == gen && p->state == SUP_PART_RUNNING; due--)
			hm_event(run, p, POL_HM_DEADLINE_MISSED, what, 0);
	}
}

/* After a schedule switch: the ScheduleChangeAction of every partition that has one. */
static void on_switches(struct run *run)
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
	    __atomic_load_n(&run->parts[0].ctl->time_of_last_switch_ns, __ATOMIC_RELAXED),
	    "schedule switch", what);
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];
		int a = __atomic_exchange_n(&p->switch_action, POL_ACTION_IGNORE, __ATOMIC_ACQ_REL);

		if (a == POL_ACTION_IGNORE ||
		    (a == POL_ACTION_IDLE && p->ctl->mode == MUMU_MODE_IDLE))
			continue;
		log_info("partition '%s': ScheduleChangeAction %s", p->pol->name,
			 pol_action_name((enum pol_action)a));
		apply(run, p, (enum pol_action)a, MUMU_START_PARTITION_RESTART);
	}
}

/*
 * A partition prints at most SUP_CONSOLE_FRAME_BYTES a major frame: the supervisor's console
 * work for it is bounded, whatever it or its VMM does. A message over the budget is dropped
 * whole and counted (the status, the end-of-run table, the trace).
 */
static void on_console(struct sup_partition *p, const uint8_t *buf, size_t size)
{
	p->console_frame_bytes += size;
	if (p->console_frame_bytes <= SUP_CONSOLE_FRAME_BYTES) {
		sup_console_feed(p, buf, size, &output, STDOUT_FILENO);
		return;
	}
	p->console_dropped_bytes += size;
}

/* Console bytes of the partition not printed: by the supervisor, and by its VMM (its word). */
static uint64_t console_dropped(const struct sup_partition *p)
{
	return p->console_dropped_bytes +
	       __atomic_load_n(&p->status->console_dropped_bytes, __ATOMIC_RELAXED);
}

/*
 * A new major frame: console and message budgets start again, a paused VMM socket is read
 * again. What the last one dropped, here or in the VMM (MUMU_CONSOLE_WINDOW_BYTES), goes to
 * the trace, and the first time to the log.
 */
static void new_frame(struct run *run)
{
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];
		uint64_t all = console_dropped(p);
		char name[MUMU_NAME_MAX + 32], what[96];

		if (all > p->console_dropped_seen) {
			if (!p->console_dropped_seen)
				log_warn(
				    "partition '%s': console output over its budget (%u bytes a "
				    "window, %u a major frame): the rest is dropped and counted",
				    p->pol->name, MUMU_CONSOLE_WINDOW_BYTES,
				    SUP_CONSOLE_FRAME_BYTES);
			snprintf(name, sizeof(name), "console dropped %s", p->pol->name);
			snprintf(what, sizeof(what), "%" PRIu64 " bytes over its budget",
				 all - p->console_dropped_seen);
			sup_trace_event(&run->trace, mono_ns(), name, what);
		}
		p->console_dropped_seen = all;
		p->console_frame_bytes = 0;
		p->frame_msgs = 0;
		if (p->sock_paused && p->sock >= 0)
			watch(run, p->sock, TAG(TAG_SOCK, p->index));
		p->sock_paused = false;
	}
}

/* Everything a VMM sends is checked: size by ipc_recv, type and state here. */
static void on_sock(struct run *run, struct sup_partition *p)
{
	static uint8_t buf[IPC_MSG_MAX];

	for (int i = 0; i < MSGS_PER_WAKEUP && p->sock >= 0; i++) {
		uint32_t type;
		size_t size;
		int r;

		/* A VMM that sends more than any partition needs costs the supervisor no more:
		 * its socket is not read again before the next major frame (new_frame).
		 * Not while the module starts or stops: READY, and the last words, are read. */
		if (p->frame_msgs >= SUP_MSGS_PER_FRAME && run->sched_started && !run->stop) {
			if (!p->sock_paused)
				unwatch(run, p->sock);
			if (!p->sock_paused && !p->msgs_warned)
				log_warn(
				    "partition '%s': its VMM sent more than %u messages in a major "
				    "frame: the rest wait for the next one",
				    p->pol->name, SUP_MSGS_PER_FRAME);
			p->sock_paused = p->msgs_warned = true;
			return;
		}
		r = ipc_recv(p->sock, buf, &type, &size, NULL, 0, NULL);
		if (r == -EAGAIN || r == -EINTR)
			return;
		p->frame_msgs++;
		if (r == -ECONNRESET) {
			uint32_t gen = p->generation;

			on_exit_of(run, p);
			if (p->generation == gen) /* not reaped yet: its pidfd tells */
				unwatch(run, p->sock);
			return;
		}
		if (r < 0) {
			violation(run, p, "malformed message");
			return;
		}
		switch (type) {
		case IPC_READY:
			if (p->state != SUP_PART_STARTING) {
				violation(run, p, "READY twice");
				return;
			}
			log_debug("partition '%s': VMM ready %" PRIu64 " us after spawn",
				  p->pol->name, (mono_ns() - p->spawn_ns) / 1000);
			/* Its vCPU threads, for enforcement, and never a vCPU of another
			 * policy on a real-time core (partition.h). */
			if (sup_partition_threads(p) < 0) {
				violation(run, p, "its vCPU threads are not as they should be");
				return;
			}
			__atomic_store_n(&p->state, SUP_PART_RUNNING, __ATOMIC_RELEASE);
			break;
		case IPC_CONSOLE:
			if (!p->first_output_ns) {
				p->first_output_ns = mono_ns();
				log_debug("partition '%s': first hypercall %" PRIu64
					  " us after spawn",
					  p->pol->name, (p->first_output_ns - p->spawn_ns) / 1000);
			}
			on_console(p, buf, size);
			break;
		case IPC_FAULT: {
			struct ipc_fault f;

			uint32_t gen = p->generation;

			memcpy(&f, buf, sizeof(f));
			on_fault(run, p, &f);
			if (p->generation != gen || p->pid <= 0)
				return;
			break;
		}
		case IPC_SCHEDULE_REQ:
		case IPC_MODE_REQ: {
			struct ipc_u32 req;
			uint32_t gen = p->generation;

			memcpy(&req, buf, sizeof(req));
			if (type == IPC_SCHEDULE_REQ)
				on_schedule_req(run, p, req.value);
			else
				on_mode_req(run, p, req.value);
			if (p->generation != gen || p->pid <= 0)
				return; /* restarted or stopped: the old socket is gone */
			break;
		}
		default:
			violation(run, p, "unexpected message");
			return;
		}
	}
}

static const char *mode_name(uint32_t mode)
{
	static const char *const names[] = {
		[MUMU_MODE_IDLE] = "IDLE",
		[MUMU_MODE_COLD_START] = "COLD_START",
		[MUMU_MODE_WARM_START] = "WARM_START",
		[MUMU_MODE_NORMAL] = "NORMAL",
	};

	return mode < sizeof(names) / sizeof(names[0]) && names[mode] ? names[mode] : "?";
}

static const struct sup_hm_entry *last_error(const struct run *run, size_t part)
{
	for (uint64_t k = sup_hm_log_kept(&run->hm_log); k-- > 0;) {
		const struct sup_hm_entry *e = sup_hm_log_get(&run->hm_log, k);

		if (e->partition == part)
			return e;
	}
	return NULL;
}

static void status_report(struct run *run, FILE *out, bool json)
{
	size_t cur = run->sys->initial_schedule, next = cur;
	uint64_t frames = run->sched_started ? sup_sched_frames_done(&run->sched) : 0;

	if (run->sched_started)
		sup_sched_current(&run->sched, &cur, &next);
	if (json)
		fprintf(out,
			"{\"module\":\"%s\",\"schedule\":%" PRIu32 ",\"next_schedule\":%" PRIu32
			",\"major_frames\":%" PRIu64 ",\"hm_events\":%" PRIu64 ",\"partitions\":[",
			run->sys->name, run->sys->schedules[cur].id, run->sys->schedules[next].id,
			frames, run->hm_log.n);
	else
		fprintf(out,
			"module %s: schedule %" PRIu32 " (next %" PRIu32 "), %" PRIu64
			" major frames, %" PRIu64 " health-monitor events\n"
			"%-16s %-10s %7s %-7s %6s %6s %7s %6s %8s %7s  %s\n",
			run->sys->name, run->sys->schedules[cur].id, run->sys->schedules[next].id,
			frames, run->hm_log.n, "partition", "mode", "pid", "cores", "restrt",
			"faults", "windows", "missed", "dropped", "late99", "last error");
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		const struct sup_partition *p = &run->parts[i];
		const struct sup_hm_entry *e = last_error(run, i);
		struct sup_part_stats st = { 0 };
		char cores[64] = "";
		size_t n = 0;

		if (run->sched_started)
			sup_sched_stats(&run->sched, i, &st);
		for (size_t k = 0; k < p->pol->n_cores && n < sizeof(cores); k++)
			n += (size_t)snprintf(cores + n, sizeof(cores) - n,
					      k ? ",%" PRIu32 : "%" PRIu32,
					      p->pol->cores[k].physical_core_id);
		if (json) {
			fprintf(out,
				"%s{\"name\":\"%s\",\"id\":%" PRIu32 ",\"mode\":\"%s\",\"pid\":%d,"
				"\"cores\":[%s],\"restarts\":%" PRIu64 ",\"faults\":%" PRIu64
				",\"windows\":{\"ran\":%" PRIu64 ",\"yielded\":%" PRIu64
				",\"missed\":%" PRIu64 ",\"enforced\":%" PRIu64 ",\"idle\":%" PRIu64
				"},\"console_dropped_bytes\":%" PRIu64
				",\"start_late_p99_ns\":%" PRIu64 ",\"last_error\":",
				i ? "," : "", p->pol->name, p->pol->id, mode_name(p->ctl->mode),
				p->pid, cores, p->n_restarts, p->n_faults, st.ran, st.yielded,
				st.missed, st.enforced, st.idle, console_dropped(p),
				sup_hist_percentile(&st.lateness_ns, 99));
			if (e) {
				fprintf(out, "{\"error\":\"%s\",\"action\":\"%s\",\"detail\":\"",
					pol_hm_error_name(e->error), pol_action_name(e->action));
				sup_json_string(out, e->detail);
				fputs("\"}}", out);
			} else {
				fputs("null}", out);
			}
			continue;
		}
		fprintf(out,
			"%-16s %-10s %7d %-7s %6" PRIu64 " %6" PRIu64 " %7" PRIu64 " %6" PRIu64
			" %8" PRIu64 " %7.1f  %s%s%s\n",
			p->pol->name, mode_name(p->ctl->mode), p->pid, cores, p->n_restarts,
			p->n_faults, st.ran + st.yielded + st.enforced, st.missed,
			console_dropped(p),
			(double)sup_hist_percentile(&st.lateness_ns, 99) / 1000.0,
			e ? pol_hm_error_name(e->error) : "-", e ? ": " : "", e ? e->detail : "");
	}
	if (json)
		fputs("]}\n", out);
}

static void hm_log_report(struct run *run, FILE *out, bool json)
{
	uint64_t kept = sup_hm_log_kept(&run->hm_log);

	if (json)
		fprintf(out, "{\"events\":%" PRIu64 ",\"kept\":%" PRIu64 ",\"log\":[",
			run->hm_log.n, kept);
	else if (run->hm_log.entries > kept)
		fprintf(out, "(the %" PRIu64 " oldest kinds of event are no longer kept)\n",
			run->hm_log.entries - kept);
	for (uint64_t k = 0; k < kept; k++) {
		const struct sup_hm_entry *e = sup_hm_log_get(&run->hm_log, k);
		double t = (double)(e->ns - run->start_ns) / 1e9;
		const char *name = run->sys->partitions[e->partition].name;

		if (json) {
			fprintf(out,
				"%s{\"time_ns\":%" PRIu64 ",\"last_time_ns\":%" PRIu64
				",\"repeats\":%" PRIu64 ",\"partition\":\"%s\",\"error\":\"%s\","
				"\"action\":\"%s\",\"budget_spent\":%s,\"detail\":\"",
				k ? "," : "", e->ns, e->last_ns, e->repeats, name,
				pol_hm_error_name(e->error), pol_action_name(e->action),
				e->budget_spent ? "true" : "false");
			sup_json_string(out, e->detail);
			fputs("\"}", out);
		} else {
			char more[64] = "";

			if (e->repeats)
				snprintf(more, sizeof(more), "(%" PRIu64 " more until %.3f s) ",
					 e->repeats, (double)(e->last_ns - run->start_ns) / 1e9);
			fprintf(out, "%10.3f s  %-16s %-17s %-10s %s%s%s\n", t, name,
				pol_hm_error_name(e->error), pol_action_name(e->action),
				e->budget_spent ? "(restart budget spent) " : "", more, e->detail);
		}
	}
	if (json)
		fputs("]}\n", out);
	else if (kept == 0)
		fputs("no health-monitor events\n", out);
}

/* One request from mumu-ctl (already checked by sup_control_check). */
static int control_request(void *ctx, const struct ipc_ctl_request *req, FILE *out)
{
	struct run *run = ctx;
	const struct pol_partition *pol = NULL;
	struct sup_partition *p = NULL;
	size_t idx;

	if (req->op == IPC_CTL_RESTART || req->op == IPC_CTL_STOP) {
		pol = pol_partition_by_name(run->sys, req->partition);
		if (!pol) {
			fprintf(out, "no partition '");
			for (const char *c = req->partition; *c; c++)
				fputc((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f ? *c
											    : '?',
				      out);
			fprintf(out, "' in module %s\n", run->sys->name);
			return -ENOENT;
		}
		p = &run->parts[pol - run->sys->partitions];
	}
	switch (req->op) {
	case IPC_CTL_STATUS:
		status_report(run, out, req->flags & IPC_CTL_JSON);
		return 0;
	case IPC_CTL_HM_LOG:
		hm_log_report(run, out, req->flags & IPC_CTL_JSON);
		return 0;
	case IPC_CTL_RESTART: {
		bool cold = !(req->flags & IPC_CTL_WARM);

		log_info("partition '%s': %s requested by the operator", pol->name,
			 cold ? "COLD_START" : "WARM_START");
		restart(run, p, cold, MUMU_START_PARTITION_RESTART);
		if (p->pid <= 0) {
			fprintf(out, "partition '%s' could not be restarted: it is IDLE\n",
				pol->name);
			return -EIO;
		}
		fprintf(out, "partition '%s': %s, new VMM pid %d\n", pol->name,
			cold ? "COLD_START" : "WARM_START", p->pid);
		return 0;
	}
	case IPC_CTL_STOP:
		log_info("partition '%s': set IDLE by the operator", pol->name);
		go_idle(run, p);
		fprintf(out, "partition '%s' is IDLE\n", pol->name);
		return 0;
	case IPC_CTL_SCHEDULE:
		idx = pol_schedule_index_by_id(run->sys, req->schedule_id);
		if (idx == SIZE_MAX) {
			fprintf(out, "no schedule %" PRIu32 " in module %s\n", req->schedule_id,
				run->sys->name);
			return -ENOENT;
		}
		if (!run->sched_started) {
			fprintf(out, "the schedule is not running yet\n");
			return -EAGAIN;
		}
		sup_sched_request(&run->sched, idx);
		log_info("the operator requests schedule %" PRIu32 " from the next major frame",
			 req->schedule_id);
		fprintf(out, "schedule %" PRIu32 " from the next major frame\n", req->schedule_id);
		return 0;
	}
	return -EINVAL;
}

/*
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT stop the run in order; the VMMs have their own session, so a
 * terminal's signals reach the supervisor alone. Ctrl-Z (SIGTSTP) is refused: a paused
 * supervisor would freeze every partition's windows while time goes on. Returns whether a
 * stopping signal came.
 */
static bool on_signal(struct run *run)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(run->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTSTP) {
			log_warn(
			    "Ctrl-Z ignored: a module cannot pause (its partitions' time goes "
			    "on); Ctrl-C ends the run, 'mumu-ctl stop NAME' idles a partition");
			continue;
		}
		stop = true;
		if (run->stop)
			continue; /* the second one: stop_vmms decides */
		run->stop = true;
		snprintf(run->stop_signal, sizeof(run->stop_signal), "SIG%s",
			 sigabbrev_np((int)si.ssi_signo) ?: "?");
		run->stop_reason = run->stop_signal;
		log_info("%s: the module stops in order (once more: at once)", run->stop_signal);
	}
	return stop;
}

static void drain(struct run *run)
{
	if (!run->trace.f)
		return;
	sup_sched_drain(&run->sched, sup_trace_window, &run->trace);
	sup_trace_flush(&run->trace);
}

static void dispatch(struct run *run, uint64_t tag)
{
	uint32_t kind = (uint32_t)(tag >> 32), i = (uint32_t)tag;
	uint64_t v;

	switch (kind) {
	case TAG_SIGNAL:
		on_signal(run);
		break;
	case TAG_TIMER:
		if (read(run->timerfd, &v, sizeof(v)) > 0) {
			run->stop = true;
			run->stop_reason = "--duration reached";
		}
		break;
	case TAG_FRAME:
		drain(run);
		new_frame(run);
		on_switches(run);
		on_overruns(run);
		if (read(run->sched.notify_fd, &v, sizeof(v)) > 0 && run->opts->frames &&
		    sup_sched_frames_done(&run->sched) >= run->opts->frames) {
			run->stop = true;
			run->stop_reason = "--frames reached";
		}
		break;
	case TAG_SOCK:
		on_sock(run, &run->parts[i]);
		break;
	case TAG_PIDFD:
		on_exit_of(run, &run->parts[i]);
		break;
	case TAG_CTL:
		/* At most a slot's worth a wake-up: the loop goes on serving everything else. */
		for (int k = 0, fd; k < SUP_CONTROL_CLIENTS; k++) {
			fd = sup_control_accept(&run->control);
			if (fd < 0 && fd != -EMFILE)
				break;
			if (fd >= 0 && watch(run, fd, TAG(TAG_CTL_CLIENT, fd)) < 0)
				sup_control_serve(&run->control, fd, control_request, run);
		}
		break;
	case TAG_CTL_CLIENT:
		sup_control_serve(&run->control, (int)i, control_request, run);
		break;
	}
}

static void loop_once(struct run *run, int timeout_ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(run->epfd, ev, 16, timeout_ms);

	for (int k = 0; k < n && !run->stop; k++)
		dispatch(run, ev[k].data.u64);
}

static bool all_started(const struct run *run)
{
	for (size_t i = 0; i < run->sys->n_partitions; i++)
		if (__atomic_load_n(&run->parts[i].state, __ATOMIC_ACQUIRE) == SUP_PART_STARTING)
			return false;
	return true;
}

static void print_us(uint64_t ns)
{
	printf(" %7.1f", (double)ns / 1000.0);
}

static double tv_ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

static void summary(struct run *run)
{
	size_t cur = run->sys->initial_schedule, next;
	uint64_t windows = 0;
	struct rusage ru;

	if (run->sched_started)
		sup_sched_current(&run->sched, &cur, &next);
	printf("\nmumu: %s after %" PRIu64 " major frames; schedule %" PRIu32 " (%" PRIu64
	       " switches)\n",
	       run->stop_reason ? run->stop_reason : "stopped",
	       run->sched_started ? sup_sched_frames_done(&run->sched) : 0,
	       run->sys->schedules[cur].id, run->switches_seen);
	printf("%-16s %6s %6s %6s %6s %6s %6s %6s  %-25s %-25s %9s\n", "partition", "ran", "yield",
	       "missed", "enforc", "idle", "faults", "restrt", "start late us p50/p99/max",
	       "end overrun us p50/p99/max", "dropped B");
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_part_stats st = { 0 };

		if (run->sched_started)
			sup_sched_stats(&run->sched, i, &st);
		printf("%-16s %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		       " %6" PRIu64 " %6" PRIu64 " ",
		       run->parts[i].pol->name, st.ran, st.yielded, st.missed, st.enforced, st.idle,
		       run->parts[i].n_faults, run->parts[i].n_restarts);
		print_us(sup_hist_percentile(&st.lateness_ns, 50));
		print_us(sup_hist_percentile(&st.lateness_ns, 99));
		print_us(st.lateness_ns.max);
		print_us(sup_hist_percentile(&st.overrun_ns, 50));
		print_us(sup_hist_percentile(&st.overrun_ns, 99));
		print_us(st.overrun_ns.max);
		printf(" %9" PRIu64 "\n", console_dropped(&run->parts[i]));
		windows += st.ran + st.yielded + st.missed + st.enforced + st.idle;
	}
	/* One vocabulary (docs/scheduling.md), said where the figures are read. Every line starts
	 * "legend:", which no partition name can be (scripts read the rows by name). */
	printf("legend: ran = ran to its end, yield = given away (YIELD), missed = never entered,\n"
	       "legend: enforc = stopped after the grace, idle = no VMM, faults = health-monitor "
	       "events,\n"
	       "legend: restrt = restarts, dropped B = console bytes not printed "
	       "(docs/scheduling.md)\n");
	/* The scheduler's own cost: every thread of the supervisor, never the VMMs. */
	getrusage(RUSAGE_SELF, &ru);
	printf("mumu: supervisor CPU %.1f ms (user %.1f, system %.1f) for %" PRIu64 " windows\n",
	       tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime), tv_ms(&ru.ru_utime), tv_ms(&ru.ru_stime),
	       windows);
	fflush(stdout);
}

/*
 * Every VMM is asked to exit at once, and given SHUTDOWN_WAIT_NS in all to do so before it is
 * killed; a second stopping signal (Ctrl-C again) ends the wait at once.
 */
static void stop_vmms(struct run *run)
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
		if (p->sock >= 0) /* what it said before it stopped */
			on_sock(run, p);
		sup_partition_ask_exit(p);
		if (p->pidfd >= 0 && pfd)
			pfd[n++] = (struct pollfd){ .fd = p->pidfd, .events = POLLIN };
	}
	while (pfd && !run->forced && (now = mono_ns()) < deadline) {
		size_t live = 0;

		if (poll(pfd, n, (int)((deadline - now) / 1000000) + 1) < 0 && errno != EINTR)
			break;
		if ((pfd[0].revents & POLLIN) && on_signal(run)) {
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
		pid_t pid = p->pid;
		int status;

		if (!p->pol)
			continue;
		status = sup_partition_kill(p, 0);
		/* Only the supervisor ends a VMM: another signal came from outside mumu. */
		if (pid > 0 && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
			log_warn("partition '%s': its VMM (pid %d) was killed by signal %s while "
				 "the module stopped",
				 p->pol->name, pid, sigabbrev_np(WTERMSIG(status)) ?: "?");
		sup_console_flush(p, &output, STDOUT_FILENO);
	}
	free(pfd);
}

/*
 * Once the schedule runs, the main thread's work (VMM messages, console lines, health-monitor
 * decisions, restarts' forks, mumu-ctl) runs at SCHED_IDLE: below every vCPU thread, so it
 * takes the time the windows leave (gaps, yields, idle windows), never a running window's.
 * What a partition makes it do waits meanwhile, in that partition's socket. The locks it
 * shares with the core threads inherit their priority (PTHREAD_PRIO_INHERIT).
 */
static void main_thread_idle(void)
{
	struct sched_param none = { 0 };
	int r = pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);

	if (r)
		log_warn("the supervisor's main thread stays at its priority (%s): its work can "
			 "take time from the partitions' windows",
			 strerror(r));
}

/* The queued lines written (2 s at most: stdout may be stalled for good), then direct again. */
static void stop_output(void)
{
	uint64_t dropped = sup_output_stop(&output, 2000000000ULL);

	log_set_sink(NULL);
	if (dropped)
		log_warn("%" PRIu64 " lines of output were dropped: stdout or stderr was not read "
			 "fast enough",
			 dropped);
}

static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP };

/* What the VMM sandbox (vmm/sandbox.c) needs of the supervisor, whose VMMs inherit it. */
static const struct {
	cap_value_t cap;
	const char *why;
} sandbox_caps[] = {
	{ CAP_SYS_ADMIN, "new namespaces and an empty root: unshare, mount, pivot_root" },
	{ CAP_SETUID, "the VMMs' unprivileged uid" },
	{ CAP_SETGID, "the VMMs' unprivileged gid, without groups" },
	{ CAP_SETPCAP, "emptying their capability bounding set" },
};

/*
 * Without these every VMM would fail to enter its sandbox and the health monitor would spend
 * every restart budget on it: say so at once instead, with what is missing.
 */
static int check_sandbox_caps(const struct sup_options *opts)
{
	cap_t caps;
	int missing = 0;

	if (opts->vmm_flags & IPC_CFG_NO_SANDBOX)
		return 0;
	caps = cap_get_proc();
	if (!caps)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(sandbox_caps); i++) {
		cap_flag_value_t v = CAP_CLEAR;
		char *name;

		if (cap_get_flag(caps, sandbox_caps[i].cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET)
			continue;
		name = cap_to_name(sandbox_caps[i].cap);
		log_error("the VMM sandbox needs %s (for %s), which this process lacks", name,
			  sandbox_caps[i].why);
		cap_free(name);
		missing++;
	}
	cap_free(caps);
	if (missing)
		log_error(
		    "run mumu-supervisor as root, or with those capabilities (docs/security.md); "
		    "--no-sandbox runs VMMs unconfined, for development only");
	return missing ? -EPERM : 0;
}

/* A number from a /proc/sys file, or dflt when it cannot be read. */
static long proc_long(const char *path, long dflt)
{
	FILE *f = fopen(path, "re");
	long v = dflt;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

/*
 * Which vCPUs run SCHED_FIFO (ipc_config.rt_vcpus): those on cores whose windows fit the
 * kernel's real-time budget (sup_core_realtime), when the supervisor may give real-time
 * priority at all (CAP_SYS_NICE, as for its core threads).
 */
static void plan_realtime(struct run *run)
{
	long runtime = proc_long("/proc/sys/kernel/sched_rt_runtime_us", 950000);
	long period = proc_long("/proc/sys/kernel/sched_rt_period_us", 1000000);
	cap_flag_value_t nice = CAP_CLEAR;
	cap_t caps = cap_get_proc();

	if (caps)
		cap_get_flag(caps, CAP_SYS_NICE, CAP_EFFECTIVE, &nice);
	cap_free(caps);
	if (nice != CAP_SET)
		return; /* sched.c says so for its core threads */
	for (uint32_t core = 0; core < POL_CPU_MAX; core++) {
		bool rt;

		if (!pol_core_used(run->sys, core))
			continue;
		rt = sup_core_realtime(run->sys, core, runtime, period);
		if (!rt)
			log_warn(
			    "core %u: its windows leave less than the kernel's real-time budget "
			    "free (kernel.sched_rt_runtime_us %ld of %ld): its vCPUs run at the "
			    "normal policy, hand-overs later (docs/scheduling.md)",
			    core, runtime, period);
		if (rt)
			run->rt_cores[core / 64] |= 1ULL << core % 64;
	}
}

/* The hand-over batons between the partitions, one eventfd each (sched.h). */
static int open_batons(struct run *run)
{
	size_t max = 0;

	for (size_t k = 0; k < run->sys->n_schedules; k++)
		max += run->sys->schedules[k].n_windows * POL_VCPU_MAX;
	run->batons = calloc(max + 1, sizeof(*run->batons));
	if (!run->batons)
		return -ENOMEM;
	run->n_batons = sup_batons_plan(run->sys, run->batons, max);
	for (size_t i = 0; i < run->n_batons; i++) {
		run->batons[i].fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (run->batons[i].fd < 0)
			return -errno;
	}
	return 0;
}

static void close_batons(struct run *run)
{
	for (size_t i = 0; run->batons && i < run->n_batons; i++)
		closep(&run->batons[i].fd);
	free(run->batons);
	run->batons = NULL;
}

/* The real-time vCPUs of partition p: those on real-time cores (plan_realtime). */
static uint32_t rt_vcpus(const struct run *run, const struct pol_partition *pol)
{
	uint32_t bits = 0;

	for (size_t v = 0; v < pol->n_cores; v++) {
		uint32_t core = pol->cores[v].physical_core_id;

		if (run->rt_cores[core / 64] & 1ULL << core % 64)
			bits |= 1U << v;
	}
	return bits;
}

static int setup(struct run *run)
{
	sigset_t set;
	int r;

	r = check_sandbox_caps(run->opts);
	if (r < 0)
		return r;
	plan_realtime(run);

	run->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (run->kvm_fd < 0) {
		r = -errno;
		log_error("cannot open /dev/kvm: %s (mumu needs KVM: load kvm-intel or kvm-amd, "
			  "run as root, or use tests/vm/with-kvm.sh)",
			  strerror(errno));
		return r;
	}
	if (run->opts->control_path) {
		r = sup_control_open(&run->control, run->opts->control_path);
		if (r < 0) {
			log_error("cannot listen on the control socket '%s': %s%s",
				  run->opts->control_path, strerror(-r),
				  r == -EADDRINUSE ? " (another supervisor runs: give it another "
						     "--control PATH)"
						   : "");
			return r;
		}
	}
	/* A reader of stdout that goes away costs the output, never the module. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(stop_signals); i++)
		sigaddset(&set, stop_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	run->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	run->epfd = epoll_create1(EPOLL_CLOEXEC);
	run->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (run->sigfd < 0 || run->epfd < 0 || run->timerfd < 0)
		return -errno;
	if (run->control.listen_fd >= 0 &&
	    (r = watch(run, run->control.listen_fd, TAG(TAG_CTL, 0))) < 0)
		return r;
	if ((r = watch(run, run->sigfd, TAG(TAG_SIGNAL, 0))) < 0 ||
	    (r = watch(run, run->timerfd, TAG(TAG_TIMER, 0))) < 0)
		return r;
	if (run->opts->duration_ns) {
		struct itimerspec its = {
			.it_value = { .tv_sec = (time_t)(run->opts->duration_ns / 1000000000ULL),
				      .tv_nsec = (long)(run->opts->duration_ns % 1000000000ULL) },
		};

		timerfd_settime(run->timerfd, 0, &its, NULL);
	}
	r = sup_objects_create(run->sys, &run->objects);
	if (r < 0) {
		log_error("cannot allocate the shared memories and ports: %s", strerror(-r));
		return r;
	}
	r = open_batons(run);
	if (r < 0) {
		log_error("cannot create the hand-over eventfds: %s", strerror(-r));
		return r;
	}
	run->parts = calloc(run->sys->n_partitions, sizeof(*run->parts));
	if (!run->parts)
		return -ENOMEM;
	for (size_t i = 0; i < run->sys->n_partitions; i++)
		run->parts[i] = (struct sup_partition){ .sock = -1, .pidfd = -1 };
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];

		r = sup_partition_init(p, run->sys, i);
		if (r < 0) {
			log_error("partition '%s': cannot be set up (memory, image): %s",
				  run->sys->partitions[i].name, strerror(-r));
			return r;
		}
		p->rt_vcpus = rt_vcpus(run, p->pol);
		p->batons = run->batons;
		p->n_batons = run->n_batons;
		spawn(run, p); /* on failure the others run without it */
	}
	return 0;
}

int sup_run(const struct pol_system *sys, const struct sup_options *opts)
{
	struct run run = { .sys = sys,
			   .opts = opts,
			   .epfd = -1,
			   .sigfd = -1,
			   .timerfd = -1,
			   .kvm_fd = -1,
			   .control = { .listen_fd = -1, .spare_fd = -1 },
			   .start_ns = mono_ns() };
	uint64_t deadline;
	int r, rc = 0;

	if (sup_output_start(&output, sys->n_partitions + 1) == 0)
		log_set_sink(log_to_output);
	r = setup(&run);
	if (r < 0) {
		rc = 1;
		goto out;
	}
	/* While the VMMs start: a major fault in a core thread at a boundary would be a late
	 * window, so what the supervisor touches stays in memory (locked as it is touched, no
	 * up-front cost; VMMs do not inherit it), and the core threads are made now, to wait
	 * for the epoch (making them took 0.5-2.5 ms here). */
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0)
		log_warn("cannot lock the supervisor's memory (%s): page faults may make windows "
			 "late",
			 strerror(errno));
	r = sup_sched_start(&run.sched, sys, run.parts, run.batons, run.n_batons, opts->frames);
	run.sched_made = true;
	if (r < 0) {
		log_error("cannot start the schedule: %s", strerror(-r));
		rc = 1;
		goto out;
	}
	deadline = mono_ns() + READY_TIMEOUT_NS;
	while (!all_started(&run) && !run.stop && mono_ns() < deadline)
		loop_once(&run, 100);
	on_slow_starts(&run);
	if (!run.stop) {
		sup_sched_go(&run.sched, EPOCH_DELAY_NS);
		run.sched_started = true;
		/* Before any window ends: the main thread drains them into it from now on. */
		if (opts->trace_path) {
			r = sup_trace_open(&run.trace, opts->trace_path, sys, run.sched.epoch_ns);
			if (r < 0) {
				log_error("cannot write the trace '%s': %s", opts->trace_path,
					  strerror(-r));
				rc = 1;
				goto out;
			}
		}
		watch(&run, run.sched.notify_fd, TAG(TAG_FRAME, 0));
		main_thread_idle();
	}
	while (!run.stop) {
		loop_once(&run, 1000);
		on_slow_starts(&run);
		sup_control_expire(&run.control, mono_ns());
	}
out:
	if (run.sched_made) {
		sup_sched_stop(&run.sched);
		drain(&run);
		if (sup_sched_dropped(&run.sched))
			log_warn("%" PRIu64 " window records did not reach the trace",
				 sup_sched_dropped(&run.sched));
	}
	if (sup_trace_close(&run.trace) < 0) {
		log_error("the trace '%s' is incomplete: %s", opts->trace_path, strerror(EIO));
		rc = rc ? rc : 1;
	}
	if (run.parts) {
		stop_vmms(&run);
		stop_output();
		if (rc == 0)
			summary(&run);
		if (rc == 0 && run.shutdown)
			rc = SUP_EXIT_SHUTDOWN;
		if (run.forced)
			rc = SUP_EXIT_FORCED;
		for (size_t i = 0; i < sys->n_partitions; i++)
			if (run.parts[i].pol)
				sup_partition_fini(&run.parts[i]);
	}
	stop_output(); /* when the run never got as far as its VMMs */
	sup_control_close(&run.control);
	if (run.sched_made)
		sup_sched_free(&run.sched);
	free(run.parts);
	close_batons(&run);
	sup_objects_close(sys, run.objects);
	if (run.kvm_fd >= 0)
		close(run.kvm_fd);
	if (run.epfd >= 0)
		close(run.epfd);
	if (run.sigfd >= 0)
		close(run.sigfd);
	if (run.timerfd >= 0)
		close(run.timerfd);
	return rc;
}
