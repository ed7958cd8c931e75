/* SPDX-License-Identifier: MIT */
/* vCPU threads: pinned to their physical core, they run the guest inside the given windows. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/vmm.h"

/* The vCPU's own timers end a window or raise its guest's timer event, and a sibling's kick
 * comes the same way: the handler only asks KVM_RUN to return. */
#define WINDOW_END_SIGNAL (SIGRTMIN + 1)

static __thread struct kvm_run *tls_run;

static void window_end_handler(int sig)
{
	if (tls_run)
		__atomic_store_n(&tls_run->immediate_exit, 1, __ATOMIC_RELAXED);
}

static void arm(timer_t timer, uint64_t at_ns, uint64_t period_ns)
{
	struct itimerspec its = { .it_value = ns_timespec(at_ns),
				  .it_interval = ns_timespec(period_ns) };

	timer_settime(timer, at_ns ? TIMER_ABSTIME : 0, &its, NULL);
}

void vmm_vcpu_arm_event(struct vmm_vcpu *vcpu, uint64_t at_ns, uint64_t period_ns)
{
	vcpu->event_at = at_ns;
	vcpu->event_period = at_ns ? period_ns : 0;
	arm(vcpu->event_timer, at_ns, vcpu->event_period);
}

void vmm_vcpu_interrupt(struct vmm_vcpu *vcpu)
{
	pthread_kill(vcpu->thread, WINDOW_END_SIGNAL);
}

/*
 * Run the guest until the window ends, it yields, or it faults. A timer takes the vCPU out
 * at the window's end, the other for its guest's deadline; a kick interrupts it too: only the
 * clock says which.
 */
static enum ipc_done run_window(struct vmm_vcpu *vcpu)
{
	for (;;) {
		enum vmm_outcome o;

		if (vcpu->upcall.events)
			vmm_upcall_before_entry(vcpu);
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if ((errno == EINTR || errno == EAGAIN) && mono_ns() >= vcpu->end_ns)
				return IPC_DONE_DEADLINE;
			if (errno == EINTR || errno == EAGAIN) {
				/* Before the events are looked at: a kick after this is seen. */
				__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				continue;
			}
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

/* Until the window's planned start: asleep until the margin before it, then spinning. */
static uint64_t wait_start(uint64_t start_ns)
{
	uint64_t wake = start_ns > IPC_SPIN_NS ? start_ns - IPC_SPIN_NS : 0, now = mono_ns();

	if (now < wake) {
		sleep_until_ns(wake);
		now = mono_ns();
	}
	while (now < start_ns) {
		__builtin_ia32_pause();
		now = mono_ns();
	}
	return now;
}

/*
 * The partition before this window on the core is still leaving it (the supervisor says so,
 * handover): wait for its baton, at most IPC_HANDOVER_MAX_NS past the start. The baton is only
 * polled, never read: the supervisor empties it before the next such window. An index that is
 * not one of this vCPU's "in" batons is the supervisor's to get right: ignored.
 */
static void wait_handover(struct vmm_vcpu *vcpu, uint32_t handover, uint64_t start_ns)
{
	const struct vmm *vmm = vcpu->vmm;
	uint64_t until = start_ns + IPC_HANDOVER_MAX_NS, now;
	uint32_t i = handover - 1;
	struct pollfd pfd;

	if (handover == 0 || i >= vmm->cfg.n_batons || vmm->cfg.batons[i].out ||
	    vmm->cfg.batons[i].vcpu != vcpu->id)
		return;
	pfd = (struct pollfd){ .fd = vmm->baton_fd[i], .events = POLLIN };
	while ((now = mono_ns()) < until) {
		struct timespec ts = ns_timespec(until - now);
		int r = ppoll(&pfd, 1, &ts, NULL);

		if (r > 0 || (r < 0 && errno != EINTR))
			return;
	}
}

/* Out of the guest: tell the vCPUs whose windows follow on this core (their batons). */
static void pass_batons(struct vmm_vcpu *vcpu)
{
	const struct vmm *vmm = vcpu->vmm;
	uint64_t one = 1;

	if (vmm_test_hold_batons)
		return;
	for (uint32_t i = 0; i < vmm->cfg.n_batons; i++) {
		if (!vmm->cfg.batons[i].out || vmm->cfg.batons[i].vcpu != vcpu->id)
			continue;
		if (write(vmm->baton_fd[i], &one, sizeof(one)) != sizeof(one))
			return; /* never full: the supervisor empties it before each wait */
	}
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
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &vcpu->timer) < 0 ||
	    timer_create(CLOCK_MONOTONIC, &sev, &vcpu->event_timer) < 0) {
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
		uint32_t handover;
		ssize_t n = read(vcpu->go_fd, &go, sizeof(go));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(go))
			break;
		vcpu->window_seq = __atomic_load_n(&ctl->window_seq, __ATOMIC_ACQUIRE);
		start_ns = ctl->start_ns;
		end_ns = ctl->end_ns;
		handover = ctl->handover;
		vcpu->entry_ns = 0;
		if (vcpu->fatal) {
			done = IPC_DONE_FAULT;
		} else if (mono_ns() >= end_ns) {
			done = IPC_DONE_DEADLINE;
		} else {
			vcpu->run->immediate_exit = 0;
			vcpu->end_ns = end_ns;
			if (!vmm_test_ignore_window_end)
				arm(vcpu->timer, end_ns, 0);
			/* The go comes early (IPC_KICK_LEAD_NS): the window starts on our clock,
			 * once the partition before it on the core has left. */
			wait_handover(vcpu, handover, start_ns);
			vcpu->entry_ns = wait_start(start_ns);
			if (vmm_test_lie_window_end) /* "ended on time", before it even ran */
				status_write(vcpu, end_ns, IPC_DONE_DEADLINE);
			/* Preempted since the check above: the window may be over already. */
			if (vcpu->entry_ns < end_ns) {
				if (vcpu->upcall.events & MUMU_EV_WINDOW)
					vmm_upcall_raise(vcpu, MUMU_EV_WINDOW);
				__atomic_store_n(&vcpu->in_window, true, __ATOMIC_SEQ_CST);
				done = run_window(vcpu);
				__atomic_store_n(&vcpu->in_window, false, __ATOMIC_SEQ_CST);
			} else {
				vcpu->entry_ns = 0;
				done = IPC_DONE_DEADLINE;
			}
			exit_ns =
			    mono_ns(); /* out of the guest: the timers' disarming comes after */
			arm(vcpu->timer, 0, 0);
			/* A guest's timer never wakes this thread in another's window. */
			if (vcpu->event_at)
				vmm_vcpu_arm_event(vcpu, 0, 0);
		}
		status_write(vcpu, exit_ns ? exit_ns : mono_ns(), done);
		pass_batons(vcpu);
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
