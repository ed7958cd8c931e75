/* SPDX-License-Identifier: MIT */
/*
 * Upcalls (ABI 3, docs/abi.md): a registered vCPU's events, its virtual timer and its
 * exceptions, delivered by rewriting the vCPU's registers between two KVM_RUNs. The guest
 * stays in user mode throughout: no guest kernel, no interrupt, nothing for KVM to emulate.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/util.h"
#include "vmm/vmm.h"

/* A timer event while the vCPU is inside an exception stub (CPL 0): looked at again this soon,
 * once the stub has returned to user mode. */
#define STUB_RETRY_NS 20000ULL

static const char *const vector_names[VMM_IDT_VECTORS] = {
	[0] = "divide error (#DE)",
	[1] = "debug (#DB)",
	[2] = "NMI",
	[3] = "breakpoint (#BP)",
	[4] = "overflow (#OF)",
	[5] = "bound range (#BR)",
	[6] = "invalid opcode (#UD)",
	[7] = "device not available (#NM)",
	[8] = "double fault (#DF)",
	[10] = "invalid TSS (#TS)",
	[11] = "segment not present (#NP)",
	[12] = "stack fault (#SS)",
	[13] = "general protection (#GP)",
	[14] = "page fault (#PF)",
	[16] = "x87 floating-point error (#MF)",
	[17] = "alignment check (#AC)",
	[18] = "machine check (#MC)",
	[19] = "SIMD floating-point error (#XM)",
};

static volatile struct mumu_vcpu_area *area_of(const struct vmm *vmm, uint64_t gpa)
{
	return gpa ? (volatile struct mumu_vcpu_area *)(vmm->ram + gpa) : NULL;
}

static bool in_system_page(uint64_t rip)
{
	return rip - MUMU_SYSTEM_GPA < MUMU_PAGE_BYTES;
}

/* The registers as they are now become the upcall's frame; the vCPU enters its handler. */
static void enter_handler(struct vmm_vcpu *vcpu, volatile struct mumu_vcpu_area *a,
			  const struct mumu_upcall_frame *f)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;

	memcpy((void *)&a->frame, f, sizeof(*f));
	a->masked = 1;
	a->upcalls++;
	r->rdi = vcpu->upcall.area;
	vcpu->run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
}

static struct mumu_upcall_frame frame_of(const struct kvm_regs *r)
{
	return (struct mumu_upcall_frame){
		.rax = r->rax,
		.rbx = r->rbx,
		.rcx = r->rcx,
		.rdx = r->rdx,
		.rsi = r->rsi,
		.rdi = r->rdi,
		.rbp = r->rbp,
		.rsp = r->rsp,
		.r8 = r->r8,
		.r9 = r->r9,
		.r10 = r->r10,
		.r11 = r->r11,
		.r12 = r->r12,
		.r13 = r->r13,
		.r14 = r->r14,
		.r15 = r->r15,
		.rflags = r->rflags,
		.rip = r->rip,
	};
}

/* The first of at, at + period, ... after now (period 0: at, or 0 once passed). */
static uint64_t next_after(uint64_t at, uint64_t period, uint64_t now)
{
	uint64_t next;

	if (at == 0 || at > now)
		return at;
	if (period == 0)
		return 0;
	/* Ticks missed outside the windows are one event, not a burst. */
	next = at + ((now - at) / period + 1) * period;
	return next < at ? 0 : next; /* wrapped: a guest's nonsense ends its timer */
}

/*
 * The guest's timer: a passed deadline raises MUMU_EV_TIMER and moves on (periodic) or
 * clears. The event timer is aimed at the next deadline, with a system call only where the
 * kernel's timer is not already headed there (a periodic one re-arms itself, a one-shot one
 * that fired is spent).
 */
static void timer_check(struct vmm_vcpu *vcpu, volatile struct mumu_vcpu_area *a, uint64_t now)
{
	uint64_t deadline = a->deadline_ns, period = a->period_ns, next;

	if (period && period < MUMU_TIMER_PERIOD_MIN_NS)
		period = MUMU_TIMER_PERIOD_MIN_NS;
	next = next_after(deadline, period, now);
	if (deadline && deadline <= now) {
		__atomic_fetch_or(&a->pending, MUMU_EV_TIMER, __ATOMIC_RELAXED);
		/* Only if the guest did not set another meanwhile (another vCPU may write it). */
		if (!__atomic_compare_exchange_n((uint64_t *)&a->deadline_ns, &deadline, next,
						 false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			next = deadline;
	}
	if (next == next_after(vcpu->event_at, vcpu->event_period, now) &&
	    (next == 0 || period == vcpu->event_period))
		vcpu->event_at = next;
	else
		vmm_vcpu_arm_event(vcpu, next, period);
}

void vmm_upcall_raise(struct vmm_vcpu *vcpu, uint32_t events)
{
	__atomic_fetch_or(&area_of(vcpu->vmm, vcpu->upcall.area)->pending, events,
			  __ATOMIC_RELAXED);
}

void vmm_upcall_before_entry(struct vmm_vcpu *vcpu)
{
	const struct vmm_upcall *u = &vcpu->upcall;
	volatile struct mumu_vcpu_area *a = area_of(vcpu->vmm, u->area);
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	uint64_t now = mono_ns();

	if (u->events & MUMU_EV_TIMER)
		timer_check(vcpu, a, now);
	if ((a->pending & u->events) && !a->masked) {
		if (in_system_page(r->rip)) {
			/* The stub returns to user mode without an exit: look again very soon. */
			if (!vcpu->event_at || vcpu->event_at > now + STUB_RETRY_NS)
				vmm_vcpu_arm_event(vcpu, now + STUB_RETRY_NS, 0);
		} else {
			struct mumu_upcall_frame f = frame_of(r);

			enter_handler(vcpu, a, &f);
			r->rip = u->entry;
			r->rsp = u->stack_top;
			r->rflags = 0x2;
		}
	}
	a->window_end_ns = vcpu->end_ns;
	a->armed_ns =
	    vcpu->event_at && vcpu->event_at < vcpu->end_ns ? vcpu->event_at : vcpu->end_ns;
}

/*
 * An exception in user mode: the CPU went through the IDT to the vector's stub, whose
 * `out %al, $vector` brought it here, with the CPU's frame on this vCPU's exception stack.
 * Delivered as an upcall by rewriting that frame (the stub's iretq enters the handler), or
 * a fault that ends the partition.
 */
enum vmm_outcome vmm_exception(struct vmm_vcpu *vcpu)
{
	struct kvm_regs *r = &vcpu->run->s.regs.regs;
	uint32_t vec = vcpu->run->io.port;
	bool ec = vmm_vector_has_error_code(vec);
	uint64_t expect = vmm_exception_stack_top(vcpu->id) - (ec ? 48 : 40), *hw, cr2 = 0;
	const struct vmm_upcall *u = &vcpu->upcall;
	volatile struct mumu_vcpu_area *a = area_of(vcpu->vmm, u->area);
	const char *name =
	    vec < VMM_IDT_VECTORS && vector_names[vec] ? vector_names[vec] : "exception";
	static const char masked_note[] = " in the upcall handler or with events masked";
	struct mumu_upcall_frame f;
	struct kvm_sregs sregs;

	/* Only a stub does port I/O (user mode cannot): anything else is KVM's or ours. */
	if (vcpu->run->io.direction != KVM_EXIT_IO_OUT || vec >= VMM_IDT_VECTORS ||
	    r->rip - VMM_STUB_GPA >= VMM_IDT_VECTORS * VMM_STUB_BYTES) {
		vmm_report_fault(vcpu, IPC_FAULT_INTERNAL_ERROR, true, vec, 0,
				 "port I/O exit (port 0x%x) at rip 0x%llx", vec,
				 (unsigned long long)r->rip);
		return VMM_FAULT;
	}
	hw = (uint64_t *)(vcpu->vmm->ram + expect) + ec; /* rip, cs, rflags, rsp, ss */
	/* An exception in the stub itself (nested: the stack is not where one frame puts it). */
	if (r->rsp != expect || (hw[1] & 3) != 3) {
		vmm_report_fault(vcpu, IPC_FAULT_TRIPLE_FAULT, true, vec, 0,
				 "%s in supervisor mode (the VMM's exception stub)", name);
		return VMM_FAULT;
	}
	if (vec == 14 && ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) == 0)
		cr2 = sregs.cr2;
	f = frame_of(r);
	f.rip = hw[0];
	f.rflags = hw[2];
	f.rsp = hw[3];
	if ((u->events & MUMU_EV_EXCEPTION) && !a->masked) {
		a->vector = vec;
		a->error_code = ec ? hw[-1] : 0;
		a->fault_addr = cr2;
		__atomic_fetch_or(&a->pending, MUMU_EV_EXCEPTION, __ATOMIC_RELAXED);
		enter_handler(vcpu, a, &f);
		hw[0] = u->entry; /* the stub's iretq: user mode, at the handler */
		hw[2] = 0x2;
		hw[3] = u->stack_top;
		return VMM_CONTINUE;
	}
	r->rip = f.rip; /* the report names the guest's instruction; this vCPU is done */
	if (vec == 14 &&
	    cr2 - vmm_stack_guard(vcpu->vmm->cfg.ram_bytes, vcpu->id) < MUMU_PAGE_BYTES)
		vmm_report_fault(
		    vcpu, IPC_FAULT_EXCEPTION, true, vec, cr2,
		    "%s at rip 0x%llx: stack overflow: %s of vCPU %u's guard page 0x%llx%s", name,
		    (unsigned long long)f.rip, hw[-1] & 2 ? "write" : "read", vcpu->id,
		    (unsigned long long)(cr2 & ~(MUMU_PAGE_BYTES - 1)),
		    (u->events & MUMU_EV_EXCEPTION) ? masked_note : "");
	else if (vec == 14)
		vmm_report_fault(vcpu, IPC_FAULT_EXCEPTION, true, vec, cr2,
				 "%s at rip 0x%llx: %s of address 0x%llx%s", name,
				 (unsigned long long)f.rip, hw[-1] & 2 ? "write" : "read",
				 (unsigned long long)cr2,
				 (u->events & MUMU_EV_EXCEPTION) ? masked_note : "");
	else
		vmm_report_fault(vcpu, IPC_FAULT_EXCEPTION, true, vec, 0, "%s at rip 0x%llx%s",
				 name, (unsigned long long)f.rip,
				 (u->events & MUMU_EV_EXCEPTION) ? masked_note : "");
	return VMM_FAULT;
}

int64_t vmm_upcall_register(struct vmm_vcpu *vcpu, uint64_t setup_gpa, const char **why)
{
	const struct vmm *vmm = vcpu->vmm;
	const struct mumu_upcall_setup *s = vmm_guest_ptr(vmm, setup_gpa, sizeof(*s));
	struct mumu_upcall_setup c;

	if (!s) {
		*why = "setup outside the guest's RAM";
		return -MUMU_EFAULT;
	}
	memcpy(&c, s, sizeof(c)); /* one read: the guest may change it meanwhile */
	if (c.events & ~(uint32_t)MUMU_EV_ALL || c.reserved) {
		*why = "unknown event bits or reserved field set";
		return -MUMU_EINVAL;
	}
	if (c.events == 0 && c.entry == 0) {
		__atomic_store_n(&vcpu->upcall.area, 0, __ATOMIC_RELEASE);
		vcpu->upcall = (struct vmm_upcall){ 0 };
		if (vcpu->event_at)
			vmm_vcpu_arm_event(vcpu, 0, 0);
		return 0;
	}
	if (!c.events || !vmm_guest_ptr(vmm, c.entry, 1)) {
		*why = c.events ? "entry outside the guest's RAM" : "no events";
		return !c.events ? -MUMU_EINVAL : -MUMU_EFAULT;
	}
	if (c.stack_top % 16 || c.stack_top < MUMU_UPCALL_STACK_MIN ||
	    !vmm_guest_ptr(vmm, c.stack_top - MUMU_UPCALL_STACK_MIN, MUMU_UPCALL_STACK_MIN)) {
		*why = "upcall stack not 16-byte aligned or not 1 KiB of the guest's RAM";
		return -MUMU_EFAULT;
	}
	if (c.area % 8 || !vmm_guest_ptr(vmm, c.area, sizeof(struct mumu_vcpu_area))) {
		*why = "area not 8-byte aligned or outside the guest's RAM";
		return -MUMU_EFAULT;
	}
	vcpu->upcall.events = c.events;
	vcpu->upcall.entry = c.entry;
	vcpu->upcall.stack_top = c.stack_top;
	__atomic_store_n(&vcpu->upcall.area, c.area, __ATOMIC_RELEASE);
	return 0;
}

int64_t vmm_timer_set(struct vmm_vcpu *vcpu, uint64_t deadline_ns, uint64_t period_ns,
		      const char **why)
{
	volatile struct mumu_vcpu_area *a = area_of(vcpu->vmm, vcpu->upcall.area);

	if (!(vcpu->upcall.events & MUMU_EV_TIMER)) {
		*why = "no timer events registered";
		return -MUMU_EINVAL;
	}
	a->period_ns = period_ns;
	a->deadline_ns = deadline_ns;
	return 0; /* armed before the guest goes on (vmm_upcall_before_entry) */
}

int64_t vmm_kick(struct vmm_vcpu *vcpu, uint64_t target, const char **why)
{
	struct vmm *vmm = vcpu->vmm;
	struct vmm_vcpu *t;
	volatile struct mumu_vcpu_area *a;

	if (target >= vmm->cfg.n_vcpus) {
		*why = "no such vCPU";
		return -MUMU_EINVAL;
	}
	t = &vmm->vcpu[target];
	a = area_of(vmm, __atomic_load_n(&t->upcall.area, __ATOMIC_ACQUIRE));
	if (!a)
		return -MUMU_ENOENT; /* not registered: nothing to raise */
	__atomic_fetch_or(&a->pending, MUMU_EV_KICK, __ATOMIC_SEQ_CST);
	/* In its window, out of KVM_RUN now; otherwise its next window delivers it. */
	if (t != vcpu && __atomic_load_n(&t->in_window, __ATOMIC_SEQ_CST))
		vmm_vcpu_interrupt(t);
	return 0;
}
