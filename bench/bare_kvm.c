/* SPDX-License-Identifier: MIT */
/* Reference for the hypercall benchmark: the smallest KVM_RUN loop doing port-I/O exits. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int fail(const char *what)
{
	fprintf(stderr, "bare_kvm: %s: %s\n", what, strerror(errno));
	return 1;
}

/*
 * Usage: bare_kvm [N]. Prints "bare_kvm_exit_ns=<mean>" over N port writes, each a full
 * exit to user space and back, the same path a mumu hypercall takes.
 */
int main(int argc, char **argv)
{
	/* Real mode: mov dx, 0xe0; 1: out dx, al; jmp 1b */
	static const uint8_t code[] = { 0xba, 0xe0, 0x00, 0xee, 0xeb, 0xfd };
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kvm_run *run;
	int kvm, vm, vcpu, size;
	uint64_t t0, t1;
	void *mem;

	if (n <= 0)
		n = 100000;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return fail("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	memcpy(mem, code, sizeof(code));
	region.guest_phys_addr = 0x10000;
	region.memory_size = 0x1000;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return fail("KVM_SET_USER_MEMORY_REGION");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || size <= 0)
		return fail("KVM_CREATE_VCPU");
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return fail("mmap vcpu");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	sregs.cs.base = 0x10000;
	sregs.cs.selector = 0x1000;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_*REGS");

	/* Warm up, then measure. */
	for (long i = 0; i < n / 10 + 1; i++)
		if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO)
			return fail("KVM_RUN");
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_IO)
			return fail("KVM_RUN");
	t1 = now_ns();
	printf("bare_kvm_exit_ns=%" PRIu64 "\n", (t1 - t0) / (uint64_t)n);
	return 0;
}
