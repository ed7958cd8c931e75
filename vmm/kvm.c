/* SPDX-License-Identifier: MIT */
/* The KVM VM of a partition: capabilities, memory slots, the information page, vCPU state. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <x86intrin.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/vmm.h"

enum { SLOT_RAM = 0, SLOT_INFO = 1, SLOT_REGION0 = 2, SLOT_FLUSH = SLOT_REGION0 + MUMU_REGION_MAX };

static int set_slot(struct vmm *vmm, uint32_t slot, uint64_t gpa, uint64_t size, void *hva,
		    bool readonly)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = readonly ? KVM_MEM_READONLY : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vmm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

/* The guest TSC at a CLOCK_MONOTONIC instant: the host's (tsc_anchor) plus the vCPU's offset. */
static void clock_anchor(struct vmm *vmm, struct mumu_info *info)
{
	uint64_t offset = 0, tsc = 0;
	struct kvm_device_attr attr = { .group = KVM_VCPU_TSC_CTRL,
					.attr = KVM_VCPU_TSC_OFFSET,
					.addr = (uintptr_t)&offset };

	if (ioctl(vmm->vcpu[0].fd, KVM_GET_DEVICE_ATTR, &attr) < 0)
		return;
	tsc_anchor(&tsc, &info->clock_ns);
	info->clock_tsc = tsc + offset;
}

static void info_fill(struct vmm *vmm)
{
	struct mumu_info *info = vmm->info;
	uint32_t khz;

	info->magic = MUMU_INFO_MAGIC;
	info->abi_version = MUMU_ABI_VERSION;
	info->size_bytes = sizeof(*info);
	info->partition_id = vmm->cfg.partition_id;
	info->n_vcpus = vmm->cfg.n_vcpus;
	memcpy(info->partition_name, vmm->cfg.partition_name, sizeof(info->partition_name));
	memcpy(info->module_name, vmm->cfg.module_name, sizeof(info->module_name));
	info->ram_bytes = vmm->cfg.ram_bytes;
	info->image_bytes = vmm->cfg.image_bytes;
	khz = (uint32_t)ioctl(vmm->vcpu[0].fd, KVM_GET_TSC_KHZ, 0);
	info->tsc_khz = (int)khz > 0 ? khz : 0;
	clock_anchor(vmm, info);
	memcpy(info->physical_core_id, vmm->cfg.physical_core_id, sizeof(info->physical_core_id));
	info->n_regions = vmm->cfg.n_regions;
	memcpy(info->regions, vmm->cfg.regions, sizeof(info->regions));
	if (getrandom(&info->stack_guard, sizeof(info->stack_guard), GRND_NONBLOCK) !=
	    sizeof(info->stack_guard))
		info->stack_guard = __rdtsc() * 0x9e3779b97f4a7c15ULL; /* no entropy yet: unusual */
	info->stack_guard &= ~0xffULL; /* a zero byte first, as glibc's: string overruns stop */
	for (uint32_t v = 0; v < MUMU_VCPU_MAX; v++)
		info->vcpu_self[v] = v;
	info->mode = vmm->ctl->mode;
	info->start_condition = vmm->ctl->start_condition;
}

int vmm_kvm_create(struct vmm *vmm)
{
	static const struct {
		int cap;
		const char *name;
	} caps[] = {
		{ KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },
		{ KVM_CAP_GET_TSC_KHZ, "KVM_CAP_GET_TSC_KHZ" },
	};
	int r;

	if (ioctl(vmm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		log_error("KVM API version is not %d", KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (ioctl(vmm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			log_error("KVM lacks %s", caps[i].name);
			return -ENOTSUP;
		}
	vmm->run_size = ioctl(vmm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vmm->run_size < (int)sizeof(struct kvm_run))
		return -EIO;
	vmm->vm_fd = ioctl(vmm->kvm_fd, KVM_CREATE_VM, 0);
	if (vmm->vm_fd < 0)
		return -errno;
	/* Intel needs a TSS address for real-mode emulation; harmless elsewhere. Above RAM. */
	if (ioctl(vmm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		return -errno;

	r = set_slot(vmm, SLOT_RAM, 0, vmm->cfg.ram_bytes, vmm->ram, false);
	if (r < 0)
		return r;
	vmm->info =
	    mmap(NULL, MUMU_PAGE_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vmm->info == MAP_FAILED) {
		vmm->info = NULL;
		return -errno;
	}
	for (uint32_t i = 0; i < vmm->cfg.n_regions; i++) {
		const struct mumu_region *reg = &vmm->cfg.regions[i];
		bool ro = reg->access == MUMU_ACCESS_READ;
		void *hva = mmap(NULL, reg->size_bytes, PROT_READ | (ro ? 0 : PROT_WRITE),
				 MAP_SHARED, vmm->region_fd[i], 0);

		if (hva == MAP_FAILED)
			return -errno;
		/* The mapping holds the memory: the VMM keeps no fd it could map again. */
		closep(&vmm->region_fd[i]);
		vmm->region_hva[i] = hva;
		r = set_slot(vmm, SLOT_REGION0 + i, reg->gpa, reg->size_bytes, hva, ro);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * KVM shadows the guest's page tables (always under PVM, which has no nested paging) and
 * notices the guest's own writes to them by write-protecting them; the VMM's writes through
 * its mapping of guest RAM go past that. Deleting a memory slot makes KVM drop every
 * translation of the VM (KVM_X86_QUIRK_SLOT_ZAP_ALL, on by default), every vCPU's included:
 * a page of the information page's memory, a moment at 4 GiB where no guest table reaches.
 * tests/e2e/guard.sh checks that a page cached on another vCPU faults afterwards.
 */
int vmm_kvm_flush_mmu(struct vmm *vmm)
{
	int r = set_slot(vmm, SLOT_FLUSH, MUMU_MAP_BYTES, MUMU_PAGE_BYTES, vmm->info, true);

	return r < 0 ? r : set_slot(vmm, SLOT_FLUSH, MUMU_MAP_BYTES, 0, vmm->info, true);
}

/* The information page needs vCPU 0 for the TSC frequency: register it after the vCPUs. */
static int info_register(struct vmm *vmm)
{
	info_fill(vmm);
	return set_slot(vmm, SLOT_INFO, MUMU_INFO_GPA, MUMU_PAGE_BYTES, vmm->info, true);
}

static int set_cpuid(struct vmm *vmm, struct vmm_vcpu *vcpu)
{
	size_t n = 256;
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
	int r = 0;

	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = (uint32_t)n;
	if (ioctl(vmm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0)
		r = -errno;
	free(cpuid);
	return r;
}

int vmm_kvm_vcpu_init(struct vmm *vmm, struct vmm_vcpu *vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs *regs;
	int r;

	vcpu->fd = ioctl(vmm->vm_fd, KVM_CREATE_VCPU, vcpu->id);
	if (vcpu->fd < 0)
		return -errno;
	vcpu->run =
	    mmap(NULL, (size_t)vmm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return -errno;
	}
	r = set_cpuid(vmm, vcpu);
	if (r < 0)
		return r;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	vmm_layout_sregs(&sregs, vcpu->id);
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	/* General registers through the shared kvm_run page from now on (KVM_CAP_SYNC_REGS). */
	vcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	regs = &vcpu->run->s.regs.regs;
	memset(regs, 0, sizeof(*regs));
	regs->rip = vmm->cfg.entry; /* in the image (vmm_config_validate) */
	regs->rdi = vcpu->id;
	regs->rsi = MUMU_INFO_GPA;
	regs->rsp = vmm_stack_top(vmm->cfg.ram_bytes, vcpu->id);
	regs->rflags = 0x2;
	vcpu->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	if (vcpu->id == vmm->cfg.n_vcpus - 1)
		return info_register(vmm);
	return 0;
}
