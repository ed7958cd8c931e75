/* SPDX-License-Identifier: MIT */
/*
 * What a guard page's forced MMU reload costs the host's other cores, done bare (bench/
 * interference.sh): a minimal KVM VM whose process adds and deletes a one-page memory slot,
 * as vmm_kvm_flush_mmu does for every new guard page. Usage:
 *
 *     slot_churn SECONDS [PER_SECOND]
 *
 * PER_SECOND 0 (the default): as fast as it can. Prints the rate it reached:
 *
 *     slot_churn_per_s=N us_each=U
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "common/util.h"
#include "mumu/abi.h"

int main(int argc, char **argv)
{
	struct kvm_userspace_memory_region ram = { .memory_size = MUMU_RAM_MIN_BYTES };
	struct kvm_userspace_memory_region slot = { .slot = 1,
						    .flags = KVM_MEM_READONLY,
						    .guest_phys_addr = MUMU_MAP_BYTES };
	uint64_t per_s, t0, end, n = 0, busy = 0;
	int kvm, vm;
	void *mem, *page;

	if (argc < 2) {
		fprintf(stderr, "usage: slot_churn SECONDS [PER_SECOND]\n");
		return 2;
	}
	per_s = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
	mem = mmap(NULL, MUMU_RAM_MIN_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		   0);
	page = mmap(NULL, MUMU_PAGE_BYTES, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ram.userspace_addr = (uintptr_t)mem;
	slot.userspace_addr = (uintptr_t)page;
	if (vm < 0 || mem == MAP_FAILED || page == MAP_FAILED ||
	    ioctl(vm, KVM_SET_USER_MEMORY_REGION, &ram) < 0) {
		perror("slot_churn: a KVM VM");
		return 1;
	}
	t0 = mono_ns();
	end = t0 + strtoull(argv[1], NULL, 10) * 1000000000ULL;
	for (uint64_t now = t0; now < end; now = mono_ns()) {
		uint64_t b = now;

		if (per_s && now < t0 + n * 1000000000ULL / per_s) {
			struct timespec ts = ns_timespec(t0 + n * 1000000000ULL / per_s);

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			continue;
		}
		slot.memory_size = MUMU_PAGE_BYTES;
		ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot);
		slot.memory_size = 0;
		ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot);
		busy += mono_ns() - b;
		n++;
	}
	printf("slot_churn_per_s=%llu us_each=%.1f\n",
	       (unsigned long long)(n * 1000000000ULL / (mono_ns() - t0)),
	       n ? (double)busy / (double)n / 1000.0 : 0.0);
	return 0;
}
