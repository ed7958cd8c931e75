/* SPDX-License-Identifier: MIT */
/* Reference for the hypercall benchmark: the smallest KVM_RUN loop doing a hypercall's exit. */
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

#include "mumu/abi.h"
#include "vmm/vmm.h"

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
 * Usage: bare_kvm [N]. Prints "bare_kvm_exit_ns=<mean>" over N stores to the hypercall page,
 * each a full exit to user space and back: a mumu guest's entry state and layout (the VMM's
 * own vmm_layout_*), so the same path a mumu hypercall takes, without a VMM around it.
 */
int main(int argc, char **argv)
{
	/* User mode, 64-bit: 1: movl %eax, MUMU_HC_GPA; jmp 1b */
	static const uint8_t code[] = { 0x89, 0x04, 0x25, 0x00, 0xf0, 0xff, 0x7f, 0xeb, 0xf7 };
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = MUMU_USER_GPA, .rsp = MUMU_RAM_MIN_BYTES, .rflags = 2 };
	struct kvm_run *run;
	int kvm, vm, vcpu, size;
	uint64_t t0, t1;
	uint8_t *mem;

	if (n <= 0)
		n = 100000;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0 || !cpuid)
		return fail("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return fail("KVM_CREATE_VM");
	mem = mmap(NULL, MUMU_RAM_MIN_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	if (mem == MAP_FAILED)
		return fail("mmap");
	vmm_layout_build(mem, MUMU_RAM_MIN_BYTES, 1, &(uint32_t){ 0 });
	memcpy(mem + MUMU_USER_GPA, code, sizeof(code));
	region.memory_size = MUMU_RAM_MIN_BYTES;
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
	cpuid->nent = 256;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
	    ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
		return fail("KVM_SET_CPUID2");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return fail("KVM_GET_SREGS");
	vmm_layout_sregs(&sregs, 0);
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return fail("KVM_SET_*REGS");

	/* Warm up, then measure. */
	for (long i = 0; i < n / 10 + 1; i++)
		if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_MMIO)
			return fail("KVM_RUN");
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		if (ioctl(vcpu, KVM_RUN, 0) < 0 || run->exit_reason != KVM_EXIT_MMIO)
			return fail("KVM_RUN");
	t1 = now_ns();
	printf("bare_kvm_exit_ns=%" PRIu64 "\n", (t1 - t0) / (uint64_t)n);
	return 0;
}
