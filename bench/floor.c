/* SPDX-License-Identifier: MIT */
/*
 * The floor of mumu's window figures: the same windows done bare, with nothing of mumu in
 * them. Usage:
 *
 *     floor CORE NVMS WINDOW_US PERIOD_US ROUNDS [PRIORITY]
 *
 * NVMS threads, each with a KVM VM of its own (a mumu guest's layout and entry state), pinned
 * to CORE, take windows in turn: window k belongs to thread k % NVMS, starts at k x PERIOD_US
 * and lasts WINDOW_US. A thread waits for the one before it to leave its guest (an eventfd
 * written after KVM_RUN returned: one thread after the other, the floor of leaving one VM and
 * entering another), then sleeps until a safe margin before its start, spins on the clock to
 * it and enters KVM_RUN; a POSIX timer on the thread itself (SIGEV_THREAD_ID) takes it out at
 * the end, as mumu's vCPUs do. PERIOD_US == WINDOW_US is back to back: the start has passed
 * when the thread wakes and it enters at once. PRIORITY: SCHED_FIFO at that priority, 0 (the
 * default) the normal policy; use mumu's vCPU policy.
 *
 * The guest stores the TSC of its first instruction, then the TSC of its latest loop, so the
 * in-guest figures are exact: guest TSC - the vCPU's TSC offset (KVM_VCPU_TSC_OFFSET) is the
 * host TSC, which two host anchors turn into CLOCK_MONOTONIC. One line per window:
 *
 *     window K START_HOST START_GUEST END_HOST END_GUEST
 *
 * in ns: entry into KVM_RUN and the guest's first instruction after the planned start, the
 * return of KVM_RUN and the guest's last instruction after the planned end (negative: before).
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
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "mumu/abi.h"
#include "vmm/vmm.h"

#define FIRST_GPA  (MUMU_USER_GPA + 0x800) /* TSC of the guest's first instruction */
#define LAST_GPA   (MUMU_USER_GPA + 0x808) /* TSC of its latest loop */
#define SPIN_NS	   500000ULL		   /* the margin spun before a start: mumu's most */
#define END_SIGNAL (SIGRTMIN + 1)
#define WARMUP	   10 /* windows per thread not reported */
#define MAX_VMS	   64

/* The guest: user mode, 64-bit, at MUMU_USER_GPA. */
extern const uint8_t floor_guest[], floor_guest_end[];
__asm__(".pushsection .rodata\n"
	"floor_guest:\n"
	"	rdtsc\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	mov %rax, 0x100800\n"
	"1:	rdtsc\n"
	"	shl $32, %rdx\n"
	"	or %rdx, %rax\n"
	"	mov %rax, 0x100808\n"
	"	jmp 1b\n"
	"floor_guest_end:\n"
	".popsection\n");

struct vm {
	int fd, vcpu, wait_fd, next_fd;
	uint8_t *mem;
	struct kvm_run *run;
	uint64_t tsc_offset;
	timer_t timer;
	pthread_t thread;
};

static struct vm vms[MAX_VMS];
static unsigned n_vms, core, priority;
static uint64_t window_ns, period_ns, rounds, epoch_ns;
static int kvm;
/* Host TSC -> CLOCK_MONOTONIC: two anchors, at the start and at the end. */
static uint64_t a_tsc[2], a_ns[2];
static __thread struct kvm_run *tls_run;
struct sample {
	int64_t start_host, start_guest, end_host, end_guest;
	uint64_t first, last;
};
static struct sample *samples;

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_end(int sig)
{
	(void)sig;
	if (tls_run)
		__atomic_store_n(&tls_run->immediate_exit, 1, __ATOMIC_RELAXED);
}

/* A TSC read halfway between two clock reads: the tighter of a few tries. */

static uint64_t tsc_ns(uint64_t tsc)
{
	double rate = (double)(a_ns[1] - a_ns[0]) / (double)(a_tsc[1] - a_tsc[0]);

	return a_ns[0] + (uint64_t)((double)(int64_t)(tsc - a_tsc[0]) * rate);
}

static void vm_create(struct vm *v, struct kvm_cpuid2 *cpuid)
{
	struct kvm_userspace_memory_region region = { .memory_size = MUMU_RAM_MIN_BYTES };
	struct kvm_device_attr attr = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET };
	struct kvm_sregs sregs;
	int size;

	v->fd = ioctl(kvm, KVM_CREATE_VM, 0);
	if (v->fd < 0)
		die("KVM_CREATE_VM");
	v->mem = mmap(NULL, MUMU_RAM_MIN_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	if (v->mem == MAP_FAILED)
		die("mmap");
	vmm_layout_build(v->mem, MUMU_RAM_MIN_BYTES, 1, &(uint32_t){ 0 });
	memcpy(v->mem + MUMU_USER_GPA, floor_guest, (size_t)(floor_guest_end - floor_guest));
	region.userspace_addr = (uintptr_t)v->mem;
	if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (v->vcpu < 0 || size <= 0)
		die("KVM_CREATE_VCPU");
	v->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		die("mmap vcpu");
	if (ioctl(v->vcpu, KVM_SET_CPUID2, cpuid) < 0 || ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_SET_CPUID2");
	vmm_layout_sregs(&sregs, 0);
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	attr.addr = (uintptr_t)&v->tsc_offset;
	if (ioctl(v->vcpu, KVM_GET_DEVICE_ATTR, &attr) < 0)
		die("KVM_GET_DEVICE_ATTR(KVM_VCPU_TSC_OFFSET): no exact in-guest times");
	v->wait_fd = eventfd(0, EFD_CLOEXEC);
	if (v->wait_fd < 0)
		die("eventfd");
}

static void arm(struct vm *v, uint64_t at_ns)
{
	struct itimerspec its = { .it_value = ns_timespec(at_ns) };

	timer_settime(v->timer, TIMER_ABSTIME, &its, NULL);
}

static void *vm_thread(void *arg)
{
	struct vm *v = arg;
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = END_SIGNAL };
	uint64_t one = 1, junk;

	tls_run = v->run;
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &v->timer) < 0)
		die("timer_create");
	for (uint64_t k = (uint64_t)(v - vms); k < rounds; k += n_vms) {
		uint64_t start = epoch_ns + k * period_ns, end = start + window_ns, entry, exit;
		struct kvm_regs regs = { .rip = MUMU_USER_GPA,
					 .rsp = MUMU_RAM_MIN_BYTES,
					 .rflags = 2 };
		struct sample *s = &samples[k];

		if (k > 0 && n_vms > 1 && read(v->wait_fd, &junk, sizeof(junk)) != sizeof(junk))
			die("read");
		if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
			die("KVM_SET_REGS");
		v->run->immediate_exit = 0;
		arm(v, end);
		if (mono_ns() + SPIN_NS < start)
			sleep_until_ns(start - SPIN_NS);
		while ((entry = mono_ns()) < start)
			__builtin_ia32_pause();
		while (ioctl(v->vcpu, KVM_RUN, 0) == 0)
			if (v->run->exit_reason != KVM_EXIT_INTR)
				die("KVM_RUN: an exit the guest does not make");
		exit = mono_ns();
		if (errno != EINTR)
			die("KVM_RUN");
		memcpy(&s->first, v->mem + FIRST_GPA, sizeof(s->first));
		memcpy(&s->last, v->mem + LAST_GPA, sizeof(s->last));
		s->first -= v->tsc_offset;
		s->last -= v->tsc_offset;
		s->start_host = (int64_t)(entry - start);
		s->end_host = (int64_t)(exit - end);
		if (n_vms > 1 && write(v->next_fd, &one, sizeof(one)) != sizeof(one))
			die("write");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_end };
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	struct sched_param prio = { 0 };
	pthread_attr_t attr;
	cpu_set_t cpus;

	if (argc < 6) {
		fprintf(stderr, "usage: floor CORE NVMS WINDOW_US PERIOD_US ROUNDS [PRIORITY]\n");
		return 2;
	}
	core = (unsigned)strtoul(argv[1], NULL, 10);
	n_vms = (unsigned)strtoul(argv[2], NULL, 10);
	window_ns = strtoull(argv[3], NULL, 10) * 1000;
	period_ns = strtoull(argv[4], NULL, 10) * 1000;
	rounds = strtoull(argv[5], NULL, 10) + WARMUP * n_vms;
	priority = argc > 6 ? (unsigned)strtoul(argv[6], NULL, 10) : 0;
	if (n_vms < 1 || n_vms > MAX_VMS || !window_ns || period_ns < window_ns || !cpuid) {
		fprintf(stderr, "floor: 1-%d VMs, a window, a period no shorter\n", MAX_VMS);
		return 2;
	}
	samples = calloc(rounds, sizeof(*samples));
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0 || !samples)
		die("/dev/kvm");
	cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
		die("KVM_GET_SUPPORTED_CPUID");
	for (unsigned i = 0; i < n_vms; i++)
		vm_create(&vms[i], cpuid);
	for (unsigned i = 0; i < n_vms; i++)
		vms[i].next_fd = vms[(i + 1) % n_vms].wait_fd;
	sigemptyset(&sa.sa_mask);
	if (sigaction(END_SIGNAL, &sa, NULL) < 0)
		die("sigaction");
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		die("mlockall"); /* as the supervisor and a sandboxed VMM's pages stay */

	tsc_anchor(&a_tsc[0], &a_ns[0]);
	epoch_ns = mono_ns() + 20000000ULL;
	pthread_attr_init(&attr);
	CPU_ZERO(&cpus);
	CPU_SET(core, &cpus);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	if (priority) {
		prio.sched_priority = (int)priority;
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		pthread_attr_setschedparam(&attr, &prio);
	}
	for (unsigned i = 0; i < n_vms; i++)
		if ((errno = pthread_create(&vms[i].thread, &attr, vm_thread, &vms[i])) != 0)
			die("pthread_create");
	for (unsigned i = 0; i < n_vms; i++)
		pthread_join(vms[i].thread, NULL);
	tsc_anchor(&a_tsc[1], &a_ns[1]);

	for (uint64_t k = WARMUP * n_vms; k < rounds; k++) {
		struct sample *s = &samples[k];
		uint64_t start = epoch_ns + k * period_ns, end = start + window_ns;

		printf("window %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
		       k - WARMUP * n_vms, s->start_host, (int64_t)(tsc_ns(s->first) - start),
		       s->end_host, (int64_t)(tsc_ns(s->last) - end));
	}
	return 0;
}
