/* SPDX-License-Identifier: MIT */
/* Running a system: set-up, the event loop and its signals, the schedule start, the stop. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "supervisor/run.h"

/* Frame 0 starts this long after every VMM is ready and every core thread exists: its first
 * kick (IPC_KICK_LEAD_NS ahead) comes once they have woken. */
#define EPOCH_DELAY_NS (IPC_KICK_LEAD_NS + 250000ULL)

struct sup_output run_output;

static void log_to_output(const char *line, size_t len)
{
	sup_output_put(&run_output, SIZE_MAX, STDERR_FILENO, line, len); /* the last owner */
}

int run_watch(struct run *run, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(run->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void run_unwatch(struct run *run, int fd)
{
	if (fd >= 0)
		epoll_ctl(run->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/*
 * SIGINT, SIGTERM, SIGHUP, SIGQUIT stop the run in order; the VMMs have their own session, so a
 * terminal's signals reach the supervisor alone. Ctrl-Z (SIGTSTP) is refused: a paused
 * supervisor would freeze every partition's windows while time goes on. Returns whether a
 * stopping signal came.
 */
bool run_on_signal(struct run *run)
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

static void on_record(void *ctx, const struct sup_window_record *w)
{
	run_on_window(ctx, w);
}

/* The core threads' window records: into the trace, enforced windows to the health monitor. */
static void drain(struct run *run)
{
	sup_sched_drain(&run->sched, on_record, run);
	if (run->trace.f)
		sup_trace_flush(&run->trace);
}

static void dispatch(struct run *run, uint64_t tag)
{
	uint32_t kind = (uint32_t)(tag >> 32), i = (uint32_t)tag;
	uint64_t v;

	switch (kind) {
	case TAG_SIGNAL:
		run_on_signal(run);
		break;
	case TAG_TIMER:
		if (read(run->timerfd, &v, sizeof(v)) > 0) {
			run->stop = true;
			run->stop_reason = "--duration reached";
		}
		break;
	case TAG_FRAME:
		drain(run);
		run_new_frame(run);
		run_on_switches(run);
		run_on_overruns(run);
		if (read(run->sched.notify_fd, &v, sizeof(v)) > 0 && run->opts->frames &&
		    sup_sched_frames_done(&run->sched) >= run->opts->frames) {
			run->stop = true;
			run->stop_reason = "--frames reached";
		}
		break;
	case TAG_SOCK:
		run_on_sock(run, &run->parts[i]);
		break;
	case TAG_PIDFD:
		run_on_exit_of(run, &run->parts[i]);
		break;
	case TAG_CTL:
		/* At most a slot's worth a wake-up: the loop goes on serving everything else. */
		for (int k = 0, fd; k < SUP_CONTROL_CLIENTS; k++) {
			fd = sup_control_accept(&run->control);
			if (fd < 0 && fd != -EMFILE)
				break;
			if (fd >= 0 && run_watch(run, fd, TAG(TAG_CTL_CLIENT, fd)) < 0)
				sup_control_serve(&run->control, fd, run_control_request, run);
		}
		break;
	case TAG_CTL_CLIENT:
		sup_control_serve(&run->control, (int)i, run_control_request, run);
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
	uint64_t dropped = sup_output_stop(&run_output, 2000000000ULL);

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

/* Whether this process may make a user namespace with the others the sandbox makes. */
static bool userns_works(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC |
			      CLONE_NEWUTS) < 0);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * As root the VMMs drop to opts' ids. Without those capabilities each VMM makes a user
 * namespace of its own and keeps this process's ids (vmm/sandbox.c). When neither works every
 * VMM would fail to enter its sandbox and the health monitor would spend every restart budget
 * on it: say so at once instead, with what is missing.
 */
static bool has_cap(cap_t caps, cap_value_t cap)
{
	cap_flag_value_t v = CAP_CLEAR;

	return cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
}

static int sandbox_mode(struct run *run)
{
	size_t missing = 0;
	cap_t caps;

	run->vmm_flags = run->opts->vmm_flags;
	run->vmm_uid = run->opts->vmm_uid;
	run->vmm_gid = run->opts->vmm_gid;
	if (run->vmm_flags & IPC_CFG_NO_SANDBOX)
		return 0;
	caps = cap_get_proc();
	if (!caps)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(sandbox_caps); i++)
		missing += !has_cap(caps, sandbox_caps[i].cap);
	if (missing && userns_works()) {
		if (run->vmm_uid != IPC_DEFAULT_VMM_UID || run->vmm_gid != IPC_DEFAULT_VMM_GID)
			log_warn("--vmm-user applies as root only: no other ids exist in a VMM's "
				 "user namespace");
		run->vmm_flags |= IPC_CFG_USERNS;
		run->vmm_uid = (uint32_t)geteuid();
		run->vmm_gid = (uint32_t)getegid();
		log_info("not root: each VMM's sandbox is a user namespace of its own, as uid %u "
			 "gid %u (docs/security.md)",
			 run->vmm_uid, run->vmm_gid);
		missing = 0;
	}
	for (size_t i = 0; missing && i < ARRAY_SIZE(sandbox_caps); i++) {
		char *name;

		if (has_cap(caps, sandbox_caps[i].cap))
			continue;
		name = cap_to_name(sandbox_caps[i].cap);
		log_error("the VMM sandbox needs %s (for %s), which this process lacks", name,
			  sandbox_caps[i].why);
		cap_free(name);
	}
	cap_free(caps);
	if (!missing)
		return 0;
	log_error("run mumu-supervisor as root, or with those capabilities, or allow "
		  "unprivileged user namespaces (sysctl user.max_user_namespaces; "
		  "docs/security.md); --no-sandbox runs VMMs unconfined, for development only");
	return -EPERM;
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
	run->n_batons = sup_batons_plan(run->sys, run->rt_cores, run->batons, max);
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

/* The event loop's sources: the stop signals, the duration timer, the control socket. */
static int setup_events(struct run *run)
{
	sigset_t set;
	int r;

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
	    (r = run_watch(run, run->control.listen_fd, TAG(TAG_CTL, 0))) < 0)
		return r;
	if ((r = run_watch(run, run->sigfd, TAG(TAG_SIGNAL, 0))) < 0 ||
	    (r = run_watch(run, run->timerfd, TAG(TAG_TIMER, 0))) < 0)
		return r;
	if (run->opts->duration_ns) {
		struct itimerspec its = { .it_value = ns_timespec(run->opts->duration_ns) };

		timerfd_settime(run->timerfd, 0, &its, NULL);
	}
	return 0;
}

/* Every partition's memory, then its VMM started (one that cannot start stays IDLE). */
static int setup_partitions(struct run *run)
{
	int r;

	run->parts = calloc(run->sys->n_partitions, sizeof(*run->parts));
	if (!run->parts)
		return -ENOMEM;
	for (size_t i = 0; i < run->sys->n_partitions; i++)
		run->parts[i] = (struct sup_partition){ .chan.sock = -1, .proc.pidfd = -1 };
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_partition *p = &run->parts[i];

		r = sup_partition_init(p, run->sys, i);
		if (r < 0) {
			log_error("partition '%s': cannot be set up (memory, image): %s",
				  run->sys->partitions[i].name, strerror(-r));
			return r;
		}
		p->proc.rt_vcpus = rt_vcpus(run, p->pol);
		p->port.batons = run->batons;
		p->port.n_batons = run->n_batons;
		run_spawn(run, p); /* on failure the others run without it */
	}
	return 0;
}

static int setup(struct run *run)
{
	int r;

	r = sandbox_mode(run);
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
	r = setup_events(run);
	if (r < 0)
		return r;
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
	return setup_partitions(run);
}

/* Start the schedule once every VMM is READY (or the wait is over); the trace opens first. */
static int start_schedule(struct run *run)
{
	uint64_t deadline = mono_ns() + READY_TIMEOUT_NS;
	int r;

	while (!all_started(run) && !run->stop && mono_ns() < deadline)
		loop_once(run, 100);
	run_on_slow_starts(run);
	if (run->stop)
		return 0;
	sup_sched_go(&run->sched, EPOCH_DELAY_NS);
	run->sched_started = true;
	/* Before any window ends: the main thread drains them into it from now on. */
	if (run->opts->trace_path) {
		r = sup_trace_open(&run->trace, run->opts->trace_path, run->sys,
				   run->sched.epoch_ns);
		if (r < 0) {
			log_error("cannot write the trace '%s': %s", run->opts->trace_path,
				  strerror(-r));
			return r;
		}
	}
	run_watch(run, run->sched.notify_fd, TAG(TAG_FRAME, 0));
	main_thread_idle();
	return 0;
}

/* The end of a run, whatever got started: the VMMs stopped, the table, everything released.
 * Returns the exit status. */
static int finish(struct run *run, int rc)
{
	if (run->sched_made) {
		sup_sched_stop(&run->sched);
		drain(run);
		if (sup_sched_dropped(&run->sched))
			log_warn("%" PRIu64 " window records did not reach the trace",
				 sup_sched_dropped(&run->sched));
	}
	if (sup_trace_close(&run->trace) < 0) {
		log_error("the trace '%s' is incomplete: %s", run->opts->trace_path, strerror(EIO));
		rc = rc ? rc : 1;
	}
	if (run->parts) {
		run_stop_vmms(run);
		stop_output();
		if (rc == 0)
			run_summary(run);
		if (rc == 0 && run->shutdown)
			rc = SUP_EXIT_SHUTDOWN;
		if (run->forced)
			rc = SUP_EXIT_FORCED;
		for (size_t i = 0; i < run->sys->n_partitions; i++)
			if (run->parts[i].pol)
				sup_partition_fini(&run->parts[i]);
	}
	stop_output(); /* when the run never got as far as its VMMs */
	sup_control_close(&run->control);
	if (run->sched_made)
		sup_sched_free(&run->sched);
	free(run->parts);
	close_batons(run);
	sup_objects_close(run->sys, run->objects);
	closep(&run->kvm_fd);
	closep(&run->epfd);
	closep(&run->sigfd);
	closep(&run->timerfd);
	return rc;
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
	int r;

	if (sup_output_start(&run_output, sys->n_partitions + 1) == 0)
		log_set_sink(log_to_output);
	r = setup(&run);
	if (r < 0)
		return finish(&run, 1);
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
		return finish(&run, 1);
	}
	if (start_schedule(&run) < 0)
		return finish(&run, 1);
	while (!run.stop) {
		loop_once(&run, 1000);
		run_on_slow_starts(&run);
		sup_control_expire(&run.control, mono_ns());
	}
	return finish(&run, 0);
}
