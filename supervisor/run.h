/* SPDX-License-Identifier: MIT */
/*
 * Inside sup_run, shared by its parts: run.c (the event loop, signals, set-up), lifecycle.c
 * (a partition's VMM: spawn, restart, IDLE, the health monitor's events, the end),
 * channel.c (what a VMM sends: READY, console, faults, requests) and report.c (the
 * operator's view: mumu-ctl's answers and the end-of-run table). Not an API.
 */
#ifndef MUMU_SUPERVISOR_RUN_H
#define MUMU_SUPERVISOR_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "supervisor/control.h"
#include "supervisor/hm.h"
#include "supervisor/output.h"
#include "supervisor/partition.h"
#include "supervisor/sched.h"
#include "supervisor/supervisor.h"
#include "supervisor/trace.h"

#define READY_TIMEOUT_NS 20000000000ULL /* VMM start-up, generous for nested KVM */
#define SHUTDOWN_WAIT_NS 500000000ULL

/* epoll tags: the kind in the top bits, the partition index below. */
enum { TAG_SIGNAL = 1, TAG_TIMER, TAG_FRAME, TAG_SOCK, TAG_PIDFD, TAG_CTL, TAG_CTL_CLIENT };
#define TAG(kind, i) (((uint64_t)(kind) << 32) | (uint64_t)(i))

struct run {
	const struct pol_system *sys;
	const struct sup_options *opts;
	struct sup_partition *parts;
	struct sup_sched sched;
	/* the core threads exist (sup_sched_start): stopped and freed at the end */
	bool sched_made;
	bool sched_started; /* the schedule runs (sup_sched_go) */
	struct sup_trace trace;
	struct sup_control control;
	struct sup_hm_log hm_log;
	uint64_t start_ns;
	int epfd, sigfd, timerfd;
	int kvm_fd;
	uint32_t vmm_flags, vmm_uid, vmm_gid; /* opts', or a user namespace's (sandbox_mode) */
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

/* Console and log lines: queued, written by their own thread (output.h). Global: a writer
 * blocked for good on a stalled stdout may outlive sup_run. */
extern struct sup_output run_output;

/* lifecycle.c: a window a core thread recorded (the trace; enforced ones count). */
void run_on_window(struct run *run, const struct sup_window_record *w);

/* run.c */
int run_watch(struct run *run, int fd, uint64_t tag);
void run_unwatch(struct run *run, int fd);
bool run_on_signal(struct run *run);

/* lifecycle.c */
void run_partition_down(struct run *run, struct sup_partition *p, const char *why);
int run_spawn(struct run *run, struct sup_partition *p);
void run_go_idle(struct run *run, struct sup_partition *p);
void run_restart(struct run *run, struct sup_partition *p, bool cold,
		 enum mumu_start_condition why);
void run_hm_record(struct run *run, struct sup_partition *p, enum pol_hm_error ev,
		   enum pol_action a, bool spent, const char *what, uint64_t before);
void run_hm_event(struct run *run, struct sup_partition *p, enum pol_hm_error ev, const char *what,
		  uint64_t before);
void run_on_exit_of(struct run *run, struct sup_partition *p);
void run_on_slow_starts(struct run *run);
void run_on_overruns(struct run *run);
void run_on_switches(struct run *run);
void run_stop_vmms(struct run *run);

/* channel.c */
uint64_t run_console_dropped(const struct sup_partition *p);
void run_new_frame(struct run *run);
void run_on_sock(struct run *run, struct sup_partition *p);

/* report.c */
int run_control_request(void *ctx, const struct ipc_ctl_request *req, FILE *out);
void run_summary(struct run *run);

#endif
