/* SPDX-License-Identifier: MIT */
/* What a VMM sends its supervisor (READY, console, faults, requests), bounded per frame. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "seccomp/seccomp.h"
#include "supervisor/console.h"
#include "supervisor/run.h"

#define MSGS_PER_WAKEUP 64 /* fairness: one chatty VMM cannot hog the loop */

static void on_fault(struct run *run, struct sup_partition *p, const struct ipc_fault *f)
{
	char msg[MUMU_ERROR_MSG_MAX + 8], what[MUMU_ERROR_MSG_MAX + 64];

	memcpy(msg, f->msg, sizeof(msg));
	msg[sizeof(msg) - 1] = '\0';
	for (char *c = msg; *c; c++)
		if (!is_printable(*c))
			*c = '?';
	if (f->kind == IPC_FAULT_APPLICATION) {
		snprintf(what, sizeof(what), "application error %" PRIu32 ": %s", f->code, msg);
		run_hm_event(run, p, POL_HM_APPLICATION_ERROR, what, f->suppressed);
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
		run_hm_event(run, p, POL_HM_ILLEGAL_REQUEST, what, f->suppressed);
		return;
	}
	__atomic_store_n(&p->state, SUP_PART_FAULTED, __ATOMIC_RELEASE);
	run_hm_event(run, p,
		     f->kind == IPC_FAULT_UNMAPPED_ACCESS || f->kind == IPC_FAULT_READONLY_WRITE ||
			     (f->kind == IPC_FAULT_EXCEPTION && f->code == 14 /* #PF */)
			 ? POL_HM_MEMORY_VIOLATION
			 : POL_HM_GUEST_CRASH,
		     what, 0);
}

/* A VMM that breaks the protocol is compromised or broken: killed, then the HM decides. */
static void violation(struct run *run, struct sup_partition *p, const char *what)
{
	char why[96];

	snprintf(why, sizeof(why), "protocol violation by its VMM (%s); killed", what);
	run_partition_down(run, p, NULL);
	run_hm_event(run, p, POL_HM_VMM_DIED, why, 0);
}

/* SET_MODULE_SCHEDULE from a guest: only a partition with SetModuleSchedule may. */
static void on_schedule_req(struct run *run, struct sup_partition *p, uint32_t id)
{
	size_t idx = pol_schedule_index_by_id(run->sys, id);
	bool may = ipc_request_allowed(sup_partition_rights(p->pol), IPC_SCHEDULE_REQ, id) == 0;
	char what[96];

	if (!may || idx == SIZE_MAX || !run->sched_started) {
		snprintf(what, sizeof(what), "schedule %" PRIu32 " refused: %s", id,
			 !may		   ? "the partition may not set schedules"
			 : idx == SIZE_MAX ? "no such schedule"
					   : "the schedule is not running");
		run_hm_event(run, p, POL_HM_ILLEGAL_REQUEST, what, 0);
		return;
	}
	sup_sched_request(&run->sched, idx);
	log_info("partition '%s' requests schedule %" PRIu32 " from the next major frame",
		 p->pol->name, id);
	snprintf(what, sizeof(what), "schedule %" PRIu32 " requested by %s", id, p->pol->name);
	sup_trace_event(&run->trace, mono_ns(), what, "SET_SCHEDULE, from the next major frame");
}

/* SET_PARTITION_MODE from a guest (ARINC 653): NORMAL, IDLE or a restart of itself. */
static void on_mode_req(struct run *run, struct sup_partition *p, uint32_t mode)
{
	char what[64];

	if (ipc_request_allowed(sup_partition_rights(p->pol), IPC_MODE_REQ, mode) < 0) {
		snprintf(what, sizeof(what), "mode %" PRIu32 " refused: no such mode", mode);
		run_hm_event(run, p, POL_HM_ILLEGAL_REQUEST, what, 0);
		return;
	}
	switch (mode) {
	case MUMU_MODE_NORMAL:
		if (p->port.ctl->mode == MUMU_MODE_NORMAL)
			break; /* ARINC: NO_ACTION */
		__atomic_store_n(&p->port.ctl->mode, MUMU_MODE_NORMAL, __ATOMIC_RELEASE);
		log_info("partition '%s': mode NORMAL", p->pol->name);
		break;
	case MUMU_MODE_IDLE:
		log_info("partition '%s': set itself IDLE", p->pol->name);
		run_go_idle(run, p);
		break;
	case MUMU_MODE_COLD_START:
	case MUMU_MODE_WARM_START:
		/* Its own restarts cost the next windows a VMM start-up each: they spend the
		 * same budget as the health monitor's. */
		if (!sup_budget_take(&p->budget, p->pol->restart_limit, p->pol->restart_period_ns,
				     mono_ns())) {
			snprintf(what, sizeof(what), "SET_MODE(%s) refused: restart budget spent",
				 mode == MUMU_MODE_COLD_START ? "COLD_START" : "WARM_START");
			run_hm_record(run, p, POL_HM_ILLEGAL_REQUEST, POL_ACTION_IDLE, true, what,
				      0);
			run_go_idle(run, p);
			break;
		}
		log_info("partition '%s': restarts itself (%s)", p->pol->name,
			 mode == MUMU_MODE_COLD_START ? "COLD_START" : "WARM_START");
		run_restart(run, p, mode == MUMU_MODE_COLD_START, MUMU_START_PARTITION_RESTART);
		break;
	}
}

/*
 * A partition prints at most SUP_CONSOLE_FRAME_BYTES a major frame: the supervisor's console
 * work for it is bounded, whatever it or its VMM does. A message over the budget is dropped
 * whole and counted (the status, the end-of-run table, the trace).
 */
static void on_console(struct sup_partition *p, const uint8_t *buf, size_t size)
{
	p->chan.console_frame_bytes += size;
	if (p->chan.console_frame_bytes <= SUP_CONSOLE_FRAME_BYTES) {
		sup_console_feed(p, buf, size, &run_output, STDOUT_FILENO);
		return;
	}
	p->chan.console_dropped_bytes += size;
}

/* Console bytes of the partition not printed: by the supervisor, and by its VMM (its word). */
uint64_t run_console_dropped(const struct sup_partition *p)
{
	return p->chan.console_dropped_bytes +
	       __atomic_load_n(&p->port.status->console_dropped_bytes, __ATOMIC_RELAXED);
}

/*
 * A new major frame: console and message budgets start again, a paused VMM socket is read
 * again. What the last one dropped, here or in the VMM (MUMU_CONSOLE_WINDOW_BYTES), goes to
 * the trace, and the first time to the log.
 */
void run_new_frame(struct run *run)
{
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];
		uint64_t all = run_console_dropped(p);
		char name[MUMU_NAME_MAX + 32], what[96];

		if (all > p->chan.console_dropped_seen) {
			if (!p->chan.console_dropped_seen)
				log_warn(
				    "partition '%s': console output over its budget (%u bytes a "
				    "window, %u a major frame): the rest is dropped and counted",
				    p->pol->name, MUMU_CONSOLE_WINDOW_BYTES,
				    SUP_CONSOLE_FRAME_BYTES);
			snprintf(name, sizeof(name), "console dropped %s", p->pol->name);
			snprintf(what, sizeof(what), "%" PRIu64 " bytes over its budget",
				 all - p->chan.console_dropped_seen);
			sup_trace_event(&run->trace, mono_ns(), name, what);
		}
		p->chan.console_dropped_seen = all;
		p->chan.console_frame_bytes = 0;
		p->chan.frame_msgs = 0;
		if (p->chan.sock_paused && p->chan.sock >= 0)
			run_watch(run, p->chan.sock, TAG(TAG_SOCK, p->index));
		p->chan.sock_paused = false;
	}
}

/* Everything a VMM sends is checked: size by ipc_recv, type and state here. */
/* At READY: its vCPU threads are noted for enforcement, and set to their policy. */
static bool on_ready(struct run *run, struct sup_partition *p)
{
	if (p->state != SUP_PART_STARTING) {
		violation(run, p, "READY twice");
		return false;
	}
	log_debug("partition '%s': VMM ready %" PRIu64 " us after spawn", p->pol->name,
		  (mono_ns() - p->proc.spawn_ns) / 1000);
	/* Never a vCPU of another policy on a real-time core (partition.h). */
	if (sup_partition_threads(p) < 0) {
		violation(run, p, "its vCPU threads are not as they should be");
		return false;
	}
	__atomic_store_n(&p->state, SUP_PART_RUNNING, __ATOMIC_RELEASE);
	return true;
}

/* One message of the VMM; false when its socket is not to be read on (gone, replaced). */
static bool on_message(struct run *run, struct sup_partition *p, uint32_t type, const void *buf,
		       size_t size)
{
	uint32_t gen = p->proc.generation;
	struct ipc_fault f;
	struct ipc_u32 req;

	switch (type) {
	case IPC_READY:
		return on_ready(run, p);
	case IPC_CONSOLE:
		if (!p->chan.first_output_ns) {
			p->chan.first_output_ns = mono_ns();
			log_debug("partition '%s': first hypercall %" PRIu64 " us after spawn",
				  p->pol->name,
				  (p->chan.first_output_ns - p->proc.spawn_ns) / 1000);
		}
		on_console(p, buf, size);
		return true;
	case IPC_FAULT:
		memcpy(&f, buf, sizeof(f));
		on_fault(run, p, &f);
		break;
	case IPC_SCHEDULE_REQ:
	case IPC_MODE_REQ:
		memcpy(&req, buf, sizeof(req));
		if (type == IPC_SCHEDULE_REQ)
			on_schedule_req(run, p, req.value);
		else
			on_mode_req(run, p, req.value);
		break;
	default:
		violation(run, p, "unexpected message");
		return false;
	}
	/* Restarted or stopped meanwhile: the old socket is gone. */
	return p->proc.generation == gen && p->proc.pid > 0;
}

/*
 * A VMM that sends more than any partition needs costs the supervisor no more: its socket is
 * not read again before the next major frame (run_new_frame). Not while the module starts or
 * stops: READY, and the last words, are read.
 */
static bool over_budget(struct run *run, struct sup_partition *p)
{
	if (p->chan.frame_msgs < SUP_MSGS_PER_FRAME || !run->sched_started || run->stop)
		return false;
	if (!p->chan.sock_paused)
		run_unwatch(run, p->chan.sock);
	if (!p->chan.sock_paused && !p->chan.msgs_warned)
		log_warn("partition '%s': its VMM sent more than %u messages in a major frame: the "
			 "rest wait for the next one",
			 p->pol->name, SUP_MSGS_PER_FRAME);
	p->chan.sock_paused = p->chan.msgs_warned = true;
	return true;
}

void run_on_sock(struct run *run, struct sup_partition *p)
{
	static uint8_t buf[IPC_MSG_MAX];

	for (int i = 0; i < MSGS_PER_WAKEUP && p->chan.sock >= 0 && !over_budget(run, p); i++) {
		uint32_t type, gen = p->proc.generation;
		size_t size;
		int r = ipc_recv(p->chan.sock, buf, &type, &size, NULL, 0, NULL);

		if (r == -EAGAIN || r == -EINTR)
			return;
		p->chan.frame_msgs++;
		if (r == -ECONNRESET) {
			run_on_exit_of(run, p);
			if (p->proc.generation == gen) /* not reaped yet: its pidfd tells */
				run_unwatch(run, p->chan.sock);
			return;
		}
		if (r < 0) {
			violation(run, p, "malformed message");
			return;
		}
		if (!on_message(run, p, type, buf, size))
			return;
	}
}
