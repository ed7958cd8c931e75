/* SPDX-License-Identifier: MIT */
/*
 * The floor of an upcall's latency: a guest's timer done bare. Usage:
 *
 *     timer_ref CORE ROUNDS [PRIORITY [FROM_CORE]]
 *
 * One KVM VM (a mumu guest's layout and entry state) on one thread pinned to CORE (SCHED_FIFO
 * at PRIORITY, 0: the normal policy). Each round: a POSIX timer on the thread itself
 * (SIGEV_THREAD_ID, as mumu's vCPUs) at a deadline 200-500 us ahead while the guest spins;
 * KVM_RUN returns; the registers are pointed at a handler (through the shared kvm_run page,
 * as mumu does); KVM_RUN again, and the handler's first instruction reads the TSC. The same
 * path as a mumu timer upcall, nothing of mumu in it. Prints, in ns from the deadline to the
 * handler's first instruction (exact: guest TSC - KVM's TSC offset, two host anchors):
 *
 *     timer_ref_ns=P50 P99 MAX
 *
 * With FROM_CORE the signal comes at the deadline from a thread on that core instead of the
 * timer (tgkill, as mumu's KICK: another vCPU's thread interrupts this one):
 *
 *     kick_ref_ns=P50 P99 MAX
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "mumu/abi.h"
#include "vmm/vmm.h"

#define TSC_GPA	   (MUMU_USER_GPA + 0x800) /* the handler's first TSC */
#define HANDLER	   (MUMU_USER_GPA + 0x10)
#define END_SIGNAL (SIGRTMIN + 1)

/* spin: jmp spin; handler (at +0x10): rdtsc, store it, a hypercall's exit to come back. */
extern const uint8_t ref_guest[], ref_guest_end[];
__asm__(".pushsection .rodata\n"
	"ref_guest:\n"
	"1:	jmp 1b\n"
	"	.balign 16, 0x90\n"
	"	rdtsc\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	mov %rax, 0x100800\n"
	"	movl %eax, 0x7ffff000\n"
	"	jmp 1b\n"
	"ref_guest_end:\n"
	".popsection\n");

static __thread struct kvm_run *tls_run;

/* FROM_CORE: the kicker signals the vCPU thread at each round's deadline. */
static struct {
	pthread_t thread;
	pid_t vcpu_tid;
	int core;
	uint64_t deadline; /* 0: none yet */
	uint64_t round;	   /* bumped by the vCPU thread for each new deadline */
} kicker = { .core = -1 };

static void die(const char *what)
{
	fprintf(stderr, "timer_ref: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_timer(int sig)
{
	(void)sig;
	if (tls_run)
		__atomic_store_n(&tls_run->immediate_exit, 1, __ATOMIC_RELAXED);
}

static void *kick_loop(void *arg)
{
	uint64_t seen = 0;

	(void)arg;
	for (;;) {
		uint64_t r, d;

		while ((r = __atomic_load_n(&kicker.round, __ATOMIC_ACQUIRE)) == seen)
			;
		seen = r;
		d = __atomic_load_n(&kicker.deadline, __ATOMIC_RELAXED);
		while (mono_ns() < d)
			;
		syscall(SYS_tgkill, getpid(), kicker.vcpu_tid, END_SIGNAL);
	}
	return NULL;
}

static void kicker_start(void)
{
	cpu_set_t cpus;
	pthread_attr_t attr;

	kicker.vcpu_tid = gettid();
	CPU_ZERO(&cpus);
	CPU_SET(kicker.core, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	if (pthread_create(&kicker.thread, &attr, kick_loop, NULL) != 0)
		die("pthread_create");
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	struct kvm_userspace_memory_region region = { .memory_size = MUMU_RAM_MIN_BYTES };
	struct kvm_device_attr attr = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET };
	struct sigaction sa = { .sa_handler = on_timer };
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = END_SIGNAL };
	struct sched_param prio = { 0 };
	uint64_t offset = 0, a_tsc[2], a_ns[2], *deadline, *tsc, rounds;
	struct kvm_sregs sregs;
	struct kvm_regs *regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, size;
	int64_t *lat;
	uint8_t *mem;
	timer_t timer;
	cpu_set_t cpus;
	double rate;

	if (argc < 3 || !cpuid) {
		fprintf(stderr, "usage: timer_ref CORE ROUNDS [PRIORITY [FROM_CORE]]\n");
		return 2;
	}
	rounds = strtoull(argv[2], NULL, 10);
	deadline = calloc(rounds, sizeof(*deadline));
	tsc = calloc(rounds, sizeof(*tsc));
	lat = calloc(rounds, sizeof(*lat));
	if (!rounds || !deadline || !tsc || !lat)
		return 2;
	CPU_ZERO(&cpus);
	CPU_SET(strtoul(argv[1], NULL, 10), &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0)
		die("sched_setaffinity");
	prio.sched_priority = argc > 3 ? atoi(argv[3]) : 0;
	kicker.core = argc > 4 ? atoi(argv[4]) : -1;
	if (prio.sched_priority && sched_setscheduler(0, SCHED_FIFO, &prio) < 0)
		die("SCHED_FIFO");

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	mem = mmap(NULL, MUMU_RAM_MIN_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	if (mem == MAP_FAILED)
		die("mmap");
	vmm_layout_build(mem, MUMU_RAM_MIN_BYTES, 1, &(uint32_t){ 0 });
	memcpy(mem + MUMU_USER_GPA, ref_guest, (size_t)(ref_guest_end - ref_guest));
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || size <= 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	cpuid->nent = 256;
	if (run == MAP_FAILED || ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
	    ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0 || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("vCPU set-up");
	vmm_layout_sregs(&sregs, 0);
	attr.addr = (uintptr_t)&offset;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_GET_DEVICE_ATTR, &attr) < 0)
		die("KVM_SET_SREGS, KVM_VCPU_TSC_OFFSET");
	run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	regs = &run->s.regs.regs;
	memset(regs, 0, sizeof(*regs));
	regs->rip = MUMU_USER_GPA;
	regs->rflags = 2;
	run->kvm_dirty_regs = KVM_SYNC_X86_REGS;

	tls_run = run;
	sigemptyset(&sa.sa_mask);
	sev._sigev_un._tid = gettid();
	if (sigaction(END_SIGNAL, &sa, NULL) < 0 || timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0)
		die("timer");
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		die("mlockall");
	if (kicker.core >= 0)
		kicker_start();
	tsc_anchor(&a_tsc[0], &a_ns[0]);
	for (uint64_t k = 0; k < rounds; k++) {
		struct itimerspec its;

		deadline[k] = mono_ns() + 200000 + (k * 7919) % 300000;
		its = (struct itimerspec){ .it_value = ns_timespec(deadline[k]) };
		run->immediate_exit = 0;
		if (kicker.core < 0) {
			timer_settime(timer, TIMER_ABSTIME, &its, NULL);
		} else {
			__atomic_store_n(&kicker.deadline, deadline[k], __ATOMIC_RELAXED);
			__atomic_add_fetch(&kicker.round, 1, __ATOMIC_RELEASE);
		}
		if (ioctl(vcpu, KVM_RUN, 0) == 0 || errno != EINTR)
			die("KVM_RUN: the timer did not end it");
		run->immediate_exit = 0;
		regs->rip = HANDLER;
		run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
		if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_MMIO)
			die("KVM_RUN: the handler made no exit");
		memcpy(&tsc[k], mem + TSC_GPA, sizeof(tsc[k]));
		tsc[k] -= offset;
		regs->rip = MUMU_USER_GPA;
		run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	}
	tsc_anchor(&a_tsc[1], &a_ns[1]);
	rate = (double)(a_ns[1] - a_ns[0]) / (double)(a_tsc[1] - a_tsc[0]);
	for (uint64_t k = 0; k < rounds; k++)
		lat[k] =
		    (int64_t)(a_ns[0] + (uint64_t)((double)(int64_t)(tsc[k] - a_tsc[0]) * rate)) -
		    (int64_t)deadline[k];
	qsort(lat, rounds, sizeof(*lat), cmp);
	printf("%s_ref_ns=%" PRId64 " %" PRId64 " %" PRId64 "\n",
	       kicker.core < 0 ? "timer" : "kick", lat[rounds / 2], lat[rounds * 99 / 100],
	       lat[rounds - 1]);
	return 0;
}
