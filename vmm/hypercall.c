/* SPDX-License-Identifier: MIT */
/* Hypercalls (docs/abi.md): arguments in rax/rdi/rsi/rdx, every guest pointer checked. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/vmm.h"

/*
 * Guest-physical [gpa, gpa + len) inside the guest's own RAM as the guest itself may access
 * it (from MUMU_PAGING_END_GPA to the end of RAM), else NULL. Never the null page, the GDT
 * or the page tables: a hypercall must not do what the guest's own stores cannot.
 */
void *vmm_guest_ptr(const struct vmm *vmm, uint64_t gpa, uint64_t len)
{
	if (gpa < MUMU_PAGING_END_GPA || !range_ok(gpa, len, vmm->cfg.ram_bytes))
		return NULL;
	return vmm->ram + gpa;
}

static int64_t bad_args(struct vmm_vcpu *vcpu, uint64_t nr, int64_t err, const char *what)
{
	vmm_report_fault(vcpu, IPC_FAULT_BAD_HYPERCALL, false, (uint32_t)nr, 0,
			 "hypercall %llu: %s", (unsigned long long)nr, what);
	return err;
}

static int64_t hc_console_write(struct vmm_vcpu *vcpu, uint64_t gpa, uint64_t len)
{
	struct vmm *vmm = vcpu->vmm;
	const void *buf;
	int r;

	if (len == 0)
		return 0;
	if (len > MUMU_CONSOLE_MAX)
		return bad_args(vcpu, MUMU_HC_CONSOLE_WRITE, -MUMU_EINVAL, "length above 4096");
	buf = vmm_guest_ptr(vmm, gpa, len);
	if (!buf)
		return bad_args(vcpu, MUMU_HC_CONSOLE_WRITE, -MUMU_EFAULT,
				"buffer outside the guest's RAM");
	if (vcpu->console_window != vcpu->window_seq) {
		vcpu->console_window = vcpu->window_seq;
		vcpu->console_bytes = 0;
	}
	/* Over its window's budget, or the supervisor is behind: this partition's own output
	 * is lost (and counted), nothing else. */
	r = vcpu->console_bytes + len > MUMU_CONSOLE_WINDOW_BYTES
		? -EAGAIN
		: ipc_send(vmm->sock, IPC_CONSOLE, buf, len, NULL, 0);
	if (r == -EAGAIN) {
		__atomic_add_fetch((uint64_t *)&vmm->status->console_dropped_bytes, len,
				   __ATOMIC_RELAXED);
		return -MUMU_EAGAIN;
	}
	vcpu->console_bytes += len;
	return r < 0 ? -MUMU_EINVAL : (int64_t)len;
}

static int64_t hc_raise_error(struct vmm_vcpu *vcpu, uint64_t code, uint64_t gpa, uint64_t len)
{
	const char *msg;

	if (len > MUMU_ERROR_MSG_MAX)
		return bad_args(vcpu, MUMU_HC_RAISE_ERROR, -MUMU_EINVAL, "message above 128 bytes");
	msg = len ? vmm_guest_ptr(vcpu->vmm, gpa, len) : "";
	if (!msg)
		return bad_args(vcpu, MUMU_HC_RAISE_ERROR, -MUMU_EFAULT,
				"message outside the guest's RAM");
	vmm_report_fault(vcpu, IPC_FAULT_APPLICATION, false, (uint32_t)code, 0, "%.*s", (int)len,
			 msg);
	return 0;
}

/* Passed on either way: the supervisor decides, and reports a refusal; the guest gets the
 * rule's answer (ipc_request_allowed) at once. */
static int64_t hc_request(struct vmm_vcpu *vcpu, uint32_t type, uint64_t value)
{
	struct ipc_u32 req = { .value = (uint32_t)value };

	if (value > UINT32_MAX)
		return bad_args(vcpu,
				type == IPC_SCHEDULE_REQ ? MUMU_HC_SET_SCHEDULE : MUMU_HC_SET_MODE,
				-MUMU_EINVAL, "value above 32 bits");
	if (!vmm_may_send(vcpu))
		return -MUMU_EAGAIN; /* too many requests this second: nothing was passed on */
	if (ipc_send(vcpu->vmm->sock, type, &req, sizeof(req), NULL, 0) < 0)
		return -MUMU_EAGAIN;
	return ipc_request_allowed(vcpu->vmm->cfg.flags, type, req.value);
}

static int64_t hc_get_schedule(struct vmm_vcpu *vcpu, uint64_t gpa)
{
	struct mumu_schedule_status *s = vmm_guest_ptr(vcpu->vmm, gpa, sizeof(*s));
	const volatile struct ipc_ctl_page *ctl = vcpu->vmm->ctl;

	if (!s)
		return bad_args(vcpu, MUMU_HC_GET_SCHEDULE, -MUMU_EFAULT,
				"buffer outside the guest's RAM");
	s->time_of_last_switch_ns = ctl->time_of_last_switch_ns;
	s->current_schedule_id = ctl->current_schedule_id;
	s->next_schedule_id = ctl->next_schedule_id;
	return 0;
}

static int64_t hc_get_status(struct vmm_vcpu *vcpu, uint64_t gpa)
{
	struct mumu_partition_status *s = vmm_guest_ptr(vcpu->vmm, gpa, sizeof(*s));
	const volatile struct ipc_ctl_page *ctl = vcpu->vmm->ctl;

	if (!s)
		return bad_args(vcpu, MUMU_HC_GET_STATUS, -MUMU_EFAULT,
				"buffer outside the guest's RAM");
	*s = (struct mumu_partition_status){
		.partition_id = vcpu->vmm->cfg.partition_id,
		.mode = ctl->mode,
		.start_condition = ctl->start_condition,
		.n_restarts = ctl->n_restarts,
		.period_ns = vcpu->vmm->cfg.period_ns,
		.duration_ns = vcpu->vmm->cfg.duration_ns,
	};
	return 0;
}

/*
 * A guard page: gone from the guest's page tables, then KVM told to drop what it derived
 * from them, every vCPU's (vmm_kvm_flush_mmu), before this vCPU goes on. An access is a #PF.
 */
static int64_t hc_guard(struct vmm_vcpu *vcpu, uint64_t gpa, enum vmm_outcome *o, const char **why)
{
	struct vmm *vmm = vcpu->vmm;
	int r;

	if (gpa % MUMU_PAGE_BYTES) {
		*why = "guard page not page-aligned";
		return -MUMU_EINVAL;
	}
	if (!vmm_guest_ptr(vmm, gpa, MUMU_PAGE_BYTES)) {
		*why = "guard page outside the guest's RAM";
		return -MUMU_EFAULT;
	}
	pthread_mutex_lock(&vmm->paging);
	r = !vmm_layout_mapped(vmm->ram, gpa) ? 0
	    : vmm->guards >= MUMU_GUARDS_MAX  ? -ENOSPC
					      : vmm_layout_guard(vmm->ram, gpa, &vmm->spare_used);
	if (r > 0) {
		vmm->guards++;
		r = vmm_kvm_flush_mmu(vmm);
	}
	pthread_mutex_unlock(&vmm->paging);
	if (r == -ENOSPC)
		return -MUMU_ENOSPC; /* the guest's limits (docs/abi.md), not a misuse */
	if (r < 0) {
		vmm_report_fault(vcpu, IPC_FAULT_VMM_ERROR, true, MUMU_HC_GUARD, gpa,
				 "guard page: KVM refused the memory slot: %s", strerror(-r));
		*o = VMM_FAULT; /* the tables and KVM's view of them may differ: stop here */
		return -MUMU_EFAULT;
	}
	return 0;
}

enum vmm_outcome vmm_hypercall(struct vmm_vcpu *vcpu)
{
	struct kvm_regs *regs = &vcpu->run->s.regs.regs;
	uint64_t nr = regs->rax, a0 = regs->rdi, a1 = regs->rsi, a2 = regs->rdx;
	enum vmm_outcome o = VMM_CONTINUE;
	const char *why = NULL;
	int64_t ret;

	switch (nr) {
	case MUMU_HC_CONSOLE_WRITE:
		ret = hc_console_write(vcpu, a0, a1);
		break;
	case MUMU_HC_YIELD:
		ret = 0;
		o = VMM_YIELD;
		break;
	case MUMU_HC_TIME_NS:
		ret = (int64_t)mono_ns();
		break;
	case MUMU_HC_RAISE_ERROR:
		ret = hc_raise_error(vcpu, a0, a1, a2);
		break;
	case MUMU_HC_SET_SCHEDULE:
		ret = hc_request(vcpu, IPC_SCHEDULE_REQ, a0);
		break;
	case MUMU_HC_GET_SCHEDULE:
		ret = hc_get_schedule(vcpu, a0);
		break;
	case MUMU_HC_SET_MODE:
		ret = hc_request(vcpu, IPC_MODE_REQ, a0);
		break;
	case MUMU_HC_GET_STATUS:
		ret = hc_get_status(vcpu, a0);
		break;
	case MUMU_HC_UPCALL_REGISTER:
		ret = vmm_upcall_register(vcpu, a0, &why);
		break;
	case MUMU_HC_TIMER_SET:
		ret = vmm_timer_set(vcpu, a0, a1, &why);
		break;
	case MUMU_HC_KICK:
		ret = vmm_kick(vcpu, a0, &why);
		break;
	case MUMU_HC_GUARD:
		ret = hc_guard(vcpu, a0, &o, &why);
		break;
	default:
		ret = bad_args(vcpu, nr, -MUMU_ENOSYS, "unknown hypercall number");
	}
	if (why)
		ret = bad_args(vcpu, nr, ret, why);
	regs->rax = (uint64_t)ret;
	vcpu->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
	return o;
}
