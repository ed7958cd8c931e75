/* SPDX-License-Identifier: MIT */
/* vCPU threads: pinned to their physical core, they run the guest inside the given windows. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/vmm.h"

/* The vCPU's own timer ends a window: its handler only asks KVM_RUN to return. */
#define WINDOW_END_SIGNAL (SIGRTMIN + 1)

static __thread struct kvm_run *tls_run;

static void window_end_handler(int sig)
{
	if (tls_run)
		__atomic_store_n(&tls_run->immediate_exit, 1, __ATOMIC_RELAXED);
}

static void arm(struct vmm_vcpu *vcpu, uint64_t at_ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(at_ns / 1000000000ULL),
			      .tv_nsec = (long)(at_ns % 1000000000ULL) },
	};

	timer_settime(vcpu->timer, TIMER_ABSTIME, &its, NULL);
}

static void disarm(struct vmm_vcpu *vcpu)
{
	struct itimerspec its = { 0 };

	timer_settime(vcpu->timer, 0, &its, NULL);
}

/* Run the guest until the window ends, it yields, or it faults. */
static enum ipc_done run_window(struct vmm_vcpu *vcpu)
{
	for (;;) {
		enum vmm_outcome o;

		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				return IPC_DONE_DEADLINE;
			vmm_report_fault(vcpu, IPC_FAULT_VMM_ERROR, true, (uint32_t)errno, 0,
					 "KVM_RUN failed: %s", strerror(errno));
			vcpu->fatal = true;
			return IPC_DONE_FAULT;
		}
		vcpu->exits++;
		o = vmm_exit_handle(vcpu);
		if (o == VMM_YIELD)
			return IPC_DONE_YIELD;
		if (o == VMM_FAULT) {
			vcpu->fatal = true;
			return IPC_DONE_FAULT;
		}
	}
}

uint64_t vmm_spin_margin(uint64_t margin_ns, uint64_t late_ns)
{
	uint64_t m = margin_ns - margin_ns / 16;

	if (late_ns > VMM_SPIN_MAX_NS - VMM_SPIN_MIN_NS)
		return VMM_SPIN_MAX_NS;
	if (m < late_ns + VMM_SPIN_MIN_NS)
		m = late_ns + VMM_SPIN_MIN_NS;
	return m < VMM_SPIN_MAX_NS ? m : VMM_SPIN_MAX_NS;
}

/* Until the window's planned start: asleep until the margin before it, then spinning. */
static uint64_t wait_start(struct vmm_vcpu *vcpu, uint64_t start_ns)
{
	uint64_t wake = start_ns > vcpu->spin_ns ? start_ns - vcpu->spin_ns : 0, now = mono_ns();

	if (now < wake) {
		sleep_until_ns(wake);
		now = mono_ns();
		vcpu->spin_ns = vmm_spin_margin(vcpu->spin_ns, now - wake);
	}
	while (now < start_ns) {
		__builtin_ia32_pause();
		now = mono_ns();
	}
	return now;
}

static void status_write(struct vmm_vcpu *vcpu, uint64_t exit_ns, uint64_t outcome)
{
	volatile struct ipc_vcpu_status *st = &vcpu->vmm->status->vcpu[vcpu->id];

	st->entry_ns = vcpu->entry_ns;
	st->exit_ns = exit_ns;
	st->exits = vcpu->exits;
	st->cpu = (uint64_t)sched_getcpu(); /* where this vCPU really ran */
	st->outcome = outcome;
	__atomic_store_n(&st->window_seq, vcpu->window_seq, __ATOMIC_RELEASE);
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *vcpu = arg;
	const volatile struct ipc_vcpu_ctl *ctl = &vcpu->vmm->ctl->vcpu[vcpu->id];
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = WINDOW_END_SIGNAL };
	sigset_t set;

	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name); /* visible in /proc/PID/task/TID/comm */
	tls_run = vcpu->run;
	vcpu->spin_ns = VMM_SPIN_MAX_NS;
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &vcpu->timer) < 0) {
		vmm_report_fault(vcpu, IPC_FAULT_VMM_ERROR, true, (uint32_t)errno, 0,
				 "timer_create: %s", strerror(errno));
		return NULL;
	}
	sigemptyset(&set);
	sigaddset(&set, WINDOW_END_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	pthread_barrier_wait(&vcpu->vmm->started);

	for (;;) {
		uint64_t go, start_ns, end_ns, done, exit_ns = 0;
		ssize_t n = read(vcpu->go_fd, &go, sizeof(go));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(go))
			break;
		vcpu->window_seq = __atomic_load_n(&ctl->window_seq, __ATOMIC_ACQUIRE);
		start_ns = ctl->start_ns;
		end_ns = ctl->end_ns;
		vcpu->entry_ns = 0;
		if (vcpu->fatal) {
			done = IPC_DONE_FAULT;
		} else if (mono_ns() >= end_ns) {
			done = IPC_DONE_DEADLINE;
		} else {
			vcpu->run->immediate_exit = 0;
			if (!vmm_test_ignore_window_end)
				arm(vcpu, end_ns);
			/* The go comes early (SUP_KICK_LEAD_NS): the window starts on our clock. */
			vcpu->entry_ns = wait_start(vcpu, start_ns);
			if (vmm_test_lie_window_end) /* "ended on time", before it even ran */
				status_write(vcpu, end_ns, IPC_DONE_DEADLINE);
			/* Preempted since the check above: the window may be over already. */
			if (vcpu->entry_ns < end_ns) {
				done = run_window(vcpu);
			} else {
				vcpu->entry_ns = 0;
				done = IPC_DONE_DEADLINE;
			}
			exit_ns =
			    mono_ns(); /* out of the guest: the timer's disarming comes after */
			disarm(vcpu);
		}
		status_write(vcpu, exit_ns ? exit_ns : mono_ns(), done);
		if (write(vcpu->done_fd, &done, sizeof(done)) != sizeof(done))
			break;
	}
	return NULL;
}

int vmm_vcpu_start(struct vmm_vcpu *vcpu)
{
	struct sigaction sa = { .sa_handler = window_end_handler };
	pthread_attr_t attr;
	cpu_set_t cpus;
	int r;

	sigemptyset(&sa.sa_mask);
	if (sigaction(WINDOW_END_SIGNAL, &sa, NULL) < 0)
		return -errno;
	CPU_ZERO(&cpus);
	CPU_SET(vcpu->vmm->cfg.physical_core_id[vcpu->id], &cpus);
	pthread_attr_init(&attr);
	/* Pinned before it first runs: a vCPU never executes on another core. */
	r = pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	if (r == 0)
		r = pthread_attr_setstacksize(&attr, 256 * 1024);
	if (r == 0)
		r = pthread_create(&vcpu->thread, &attr, vcpu_thread, vcpu);
	pthread_attr_destroy(&attr);
	return -r;
}
