/* SPDX-License-Identifier: MIT */
/* Exit dispatch: a handler per KVM exit reason, a counter per reason, nothing unclassified. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "vmm/vmm.h"

typedef enum vmm_outcome (*exit_handler)(struct vmm_vcpu *vcpu);

static uint64_t rip(struct vmm_vcpu *vcpu)
{
	return vcpu->run->s.regs.regs.rip;
}

/*
 * A guest access that KVM could not back with memory: a hypercall (a 4-byte store to the
 * hypercall page), a write to a read-only slot, or an access to no memory at all.
 */
static enum vmm_outcome on_mmio(struct vmm_vcpu *vcpu)
{
	const struct kvm_run *run = vcpu->run;
	const struct vmm *vmm = vcpu->vmm;
	uint64_t gpa = run->mmio.phys_addr;
	bool readonly = gpa >= MUMU_INFO_GPA && gpa - MUMU_INFO_GPA < MUMU_PAGE_BYTES;

	if (gpa == MUMU_HC_GPA && run->mmio.is_write && run->mmio.len == 4)
		return vmm_hypercall(vcpu);
	if (gpa >= MUMU_HC_GPA && gpa - MUMU_HC_GPA < MUMU_PAGE_BYTES) {
		vmm_report_fault(vcpu, IPC_FAULT_UNMAPPED_ACCESS, true, 0, gpa,
				 "%s of %u bytes at gpa 0x%llx (rip 0x%llx) on the hypercall page;"
				 " only a 4-byte store to 0x%llx is a hypercall",
				 run->mmio.is_write ? "write" : "read", run->mmio.len,
				 (unsigned long long)gpa, (unsigned long long)rip(vcpu),
				 (unsigned long long)MUMU_HC_GPA);
		return VMM_FAULT;
	}

	for (uint32_t i = 0; i < vmm->cfg.n_regions; i++) {
		const struct mumu_region *r = &vmm->cfg.regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size_bytes && r->access == MUMU_ACCESS_READ)
			readonly = true;
	}
	if (readonly && run->mmio.is_write) {
		vmm_report_fault(vcpu, IPC_FAULT_READONLY_WRITE, true, 0, gpa,
				 "write to read-only gpa 0x%llx at rip 0x%llx",
				 (unsigned long long)gpa, (unsigned long long)rip(vcpu));
		return VMM_FAULT;
	}
	vmm_report_fault(vcpu, IPC_FAULT_UNMAPPED_ACCESS, true, 0, gpa,
			 "%s unmapped gpa 0x%llx at rip 0x%llx",
			 run->mmio.is_write ? "write to" : "read from", (unsigned long long)gpa,
			 (unsigned long long)rip(vcpu));
	return VMM_FAULT;
}

static enum vmm_outcome on_shutdown(struct vmm_vcpu *vcpu)
{
	vmm_report_fault(vcpu, IPC_FAULT_TRIPLE_FAULT, true, 0, 0,
			 "triple fault (shutdown) at rip 0x%llx", (unsigned long long)rip(vcpu));
	return VMM_FAULT;
}

static enum vmm_outcome on_internal_error(struct vmm_vcpu *vcpu)
{
	vmm_report_fault(vcpu, IPC_FAULT_INTERNAL_ERROR, true, vcpu->run->internal.suberror, 0,
			 "KVM internal error %u at rip 0x%llx", vcpu->run->internal.suberror,
			 (unsigned long long)rip(vcpu));
	return VMM_FAULT;
}

static enum vmm_outcome on_fail_entry(struct vmm_vcpu *vcpu)
{
	vmm_report_fault(vcpu, IPC_FAULT_INTERNAL_ERROR, true, 0, 0,
			 "VM entry failed, hardware reason 0x%llx",
			 (unsigned long long)vcpu->run->fail_entry.hardware_entry_failure_reason);
	return VMM_FAULT;
}

static const exit_handler handlers[] = {
	[KVM_EXIT_IO] = vmm_exception, /* only the system page's exception stubs do port I/O */
	[KVM_EXIT_MMIO] = on_mmio,
	[KVM_EXIT_SHUTDOWN] = on_shutdown,
	[KVM_EXIT_INTERNAL_ERROR] = on_internal_error,
	[KVM_EXIT_FAIL_ENTRY] = on_fail_entry,
};

enum vmm_outcome vmm_exit_handle(struct vmm_vcpu *vcpu)
{
	uint32_t reason = vcpu->run->exit_reason;
	size_t slot = reason < ARRAY_SIZE(vcpu->exits_by_reason)
			  ? reason
			  : ARRAY_SIZE(vcpu->exits_by_reason) - 1;

	vcpu->exits_by_reason[slot]++;
	if (reason < ARRAY_SIZE(handlers) && handlers[reason])
		return handlers[reason](vcpu);
	vmm_report_fault(vcpu, IPC_FAULT_INTERNAL_ERROR, true, reason, 0,
			 "unexpected KVM exit reason %u at rip 0x%llx", reason,
			 (unsigned long long)rip(vcpu));
	return VMM_FAULT;
}
