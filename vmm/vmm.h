/* SPDX-License-Identifier: MIT */
/* The VMM process of one partition: its KVM VM, vCPU threads and exit dispatch. */
#ifndef MUMU_VMM_VMM_H
#define MUMU_VMM_VMM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ipc/vmm.h"

enum vmm_outcome {
	VMM_CONTINUE, /* back into the guest */
	VMM_YIELD,    /* the window is over for this vCPU: the guest gave it away */
	VMM_FAULT,    /* a fatal fault: this vCPU never runs guest code again */
};

struct vmm;

/* A vCPU's upcall registration (MUMU_HC_UPCALL_REGISTER), checked when it was made. */
struct vmm_upcall {
	uint32_t events; /* MUMU_EV_* wanted; 0: not registered (ABI 2 behaviour) */
	uint64_t entry;
	uint64_t stack_top;
	uint64_t area; /* gpa of its struct mumu_vcpu_area; read by kicking siblings */
};

struct vmm_vcpu {
	struct vmm *vmm;
	uint32_t id;
	int fd;
	struct kvm_run *run;
	int go_fd;
	int done_fd;
	pthread_t thread;
	timer_t timer;	     /* the window's end */
	timer_t event_timer; /* its guest's deadline (ABI 3), only inside its windows */
	uint64_t event_at;   /* event_timer's expiry, 0: disarmed */
	uint64_t event_period;
	uint64_t end_ns; /* planned end of the current window */
	bool in_window;	 /* in run_window: a kick signals the thread */
	struct vmm_upcall upcall;
	bool fatal;
	uint64_t exits;
	uint64_t exits_by_reason[64]; /* indexed by KVM_EXIT_*; the last counts the rest */
	uint64_t window_seq;
	uint64_t entry_ns;		      /* first KVM_RUN of the current window */
	uint64_t report_period_ns;	      /* non-fatal reports: the current second */
	uint32_t reports;		      /* sent in it */
	uint32_t suppressed[IPC_FAULT_COUNT]; /* counted, not sent, per kind */
	uint64_t console_window;	      /* the window_seq console_bytes counts in */
	uint64_t console_bytes;		      /* written in it */
};

struct vmm {
	struct ipc_config cfg;
	int sock; /* IPC_CTL_FD, non-blocking */
	int kvm_fd;
	int vm_fd;
	int run_size;
	uint8_t *ram;		/* cfg.ram_bytes, MAP_SHARED of the RAM memfd */
	struct mumu_info *info; /* the information page, read-only to the guest */
	const volatile struct ipc_ctl_page *ctl;
	volatile struct ipc_status_page *status;
	int region_fd[MUMU_REGION_MAX]; /* closed once mapped */
	int baton_fd[IPC_BATON_MAX];	/* as cfg.batons */
	void *region_hva[MUMU_REGION_MAX];
	struct vmm_vcpu vcpu[MUMU_VCPU_MAX];
	pid_t supervisor_pid;	   /* for the test hooks' attacks on it */
	pthread_barrier_t started; /* vCPU threads set up, before the seccomp filter */
	pthread_mutex_t paging;	   /* guard pages: the page tables and spare_used */
	uint32_t spare_used;	   /* spare page tables taken (vmm_layout_guard) */
	uint32_t guards;	   /* guard pages the guest made (MUMU_GUARDS_MAX) */
};

/* config.c: every field of a received IPC_CONFIG checked. Returns 0 or -EINVAL. */
int vmm_config_validate(const struct ipc_config *cfg, char *why, size_t why_size);

/*
 * layout.c: the system page and identity page tables written into guest RAM, and the segment
 * and control registers every vCPU enters with (pure). The system page, supervisor-only:
 *   +0x000 GDT: null, user code 0x0B, user data 0x13, supervisor code 0x18, TSS of vCPU n at
 *          0x20 + 16 n
 *   +0x100 IDT: the 32 exception vectors, each to its stub
 *   +0x300 a TSS per vCPU (RSP0 = its exception stack)
 *   +0x700 stubs, 8 bytes a vector: out %al, $vector; [add $8, %rsp]; iretq
 *   +0x800 an exception stack per vCPU, 256 bytes (the CPU's frame is 48)
 */
#define VMM_SEL_KCODE	   0x18u
#define VMM_IDT_GPA	   (MUMU_SYSTEM_GPA + 0x100)
#define VMM_IDT_VECTORS	   32u
#define VMM_TSS_GPA	   (MUMU_SYSTEM_GPA + 0x300)
#define VMM_TSS_STRIDE	   0x70u
#define VMM_STUB_GPA	   (MUMU_SYSTEM_GPA + 0x700)
#define VMM_STUB_BYTES	   8u
#define VMM_EXC_STACK_GPA  (MUMU_SYSTEM_GPA + 0x800)
#define VMM_EXC_STACK_SIZE 0x100u
static inline uint32_t vmm_sel_tss(uint32_t vcpu)
{
	return 0x20 + 16 * vcpu;
}
static inline uint64_t vmm_exception_stack_top(uint32_t vcpu)
{
	return VMM_EXC_STACK_GPA + (uint64_t)(vcpu + 1) * VMM_EXC_STACK_SIZE;
}
_Static_assert(VMM_EXC_STACK_GPA + MUMU_VCPU_MAX * VMM_EXC_STACK_SIZE <=
		   MUMU_SYSTEM_GPA + MUMU_PAGE_BYTES,
	       "the system page holds every vCPU's exception stack");
/* The layout, with the guard page under each vCPU's stack; spare_used counts the spare page
 * tables taken. 0, or -EINVAL (RAM too small, too many vCPUs). */
int vmm_layout_build(uint8_t *ram, uint64_t ram_bytes, uint32_t n_vcpus, uint32_t *spare_used);
/* Unmap the page at gpa (page-aligned, below 4 GiB) in the guest's page tables, taking a
 * spare table where its 2 MiB page must be split. 1: done; 0: it was a guard already;
 * -ENOSPC: no spare table left. Only the tables change: KVM does not see it until
 * vmm_kvm_flush_mmu. */
int vmm_layout_guard(uint8_t *ram, uint64_t gpa, uint32_t *spare_used);
/* Whether the page at gpa (below 4 GiB) is mapped, not a guard. */
bool vmm_layout_mapped(const uint8_t *ram, uint64_t gpa);
void vmm_layout_sregs(struct kvm_sregs *sregs, uint32_t vcpu);
/* Whether the CPU pushes an error code for an exception vector. */
bool vmm_vector_has_error_code(uint32_t vector);
uint64_t vmm_stack_top(uint64_t ram_bytes, uint32_t vcpu);
uint64_t vmm_stack_guard(uint64_t ram_bytes, uint32_t vcpu); /* the lowest page of its stack */

/* kvm.c */
int vmm_kvm_create(struct vmm *vmm);
int vmm_kvm_vcpu_init(struct vmm *vmm, struct vmm_vcpu *vcpu);
/* Make KVM drop every translation it derived from the guest's page tables: after the VMM
 * changed them behind the guest's back (a guard page). */
int vmm_kvm_flush_mmu(struct vmm *vmm);

/* vcpu.c */
int vmm_vcpu_start(struct vmm_vcpu *vcpu);

/* exit.c: one KVM exit of one vCPU, dispatched by reason. */
enum vmm_outcome vmm_exit_handle(struct vmm_vcpu *vcpu);

/* hypercall.c */
enum vmm_outcome vmm_hypercall(struct vmm_vcpu *vcpu);
/* The host address of [gpa, gpa + len) if the guest's own stores may reach all of it, else
 * NULL (RAM from MUMU_PAGING_END_GPA on). */
void *vmm_guest_ptr(const struct vmm *vmm, uint64_t gpa, uint64_t len);

/*
 * upcall.c: the ABI 3 events (docs/abi.md "Upcalls"). Before every entry into the guest of a
 * registered vCPU: the timer's deadline checked, pending events delivered, the vCPU's timer
 * armed for the earlier of its deadline and the window's end. Exceptions reach
 * vmm_exception from the system page's stubs.
 */
void vmm_upcall_before_entry(struct vmm_vcpu *vcpu);
/* Raise events on the vCPU's own area (it is registered). */
void vmm_upcall_raise(struct vmm_vcpu *vcpu, uint32_t events);
enum vmm_outcome vmm_exception(struct vmm_vcpu *vcpu);
int64_t vmm_upcall_register(struct vmm_vcpu *vcpu, uint64_t setup_gpa, const char **why);
int64_t vmm_timer_set(struct vmm_vcpu *vcpu, uint64_t deadline_ns, uint64_t period_ns,
		      const char **why);
int64_t vmm_kick(struct vmm_vcpu *vcpu, uint64_t target, const char **why);
/* vcpu.c: the vCPU's event timer at an absolute CLOCK_MONOTONIC time (0: disarmed), then
 * every period_ns (0: once). */
void vmm_vcpu_arm_event(struct vmm_vcpu *vcpu, uint64_t at_ns, uint64_t period_ns);
/* Interrupt another vCPU's KVM_RUN (the window-end signal: it checks its events). */
void vmm_vcpu_interrupt(struct vmm_vcpu *vcpu);

/* report.c: whether a non-fatal report or request may go to the supervisor this second
 * (IPC_FAULT_REPORTS_PER_S); counts it when it may. */
bool vmm_may_send(struct vmm_vcpu *vcpu);
/* Send a fault report to the supervisor (never dropped; waits briefly when the socket is full). */
void vmm_report_fault(struct vmm_vcpu *vcpu, enum ipc_fault_kind kind, bool fatal, uint32_t code,
		      uint64_t addr, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * sandbox.c: confine this process (everything but seccomp, which vmm_seccomp_load adds once
 * the vCPU threads exist). keep_fds: the fds that stay open. On failure *ret_step names the
 * step that failed.
 */
int vmm_jail_enter(const struct ipc_config *cfg, const int *keep_fds, size_t n_keep,
		   const char **ret_step);
/* Without the sandbox (IPC_CFG_NO_SANDBOX, development only): only die with the supervisor. */
int vmm_sandbox_minimal(void);

/* testhook.c (builds with MUMU_TEST_HOOKS): attempt what $MUMU_TEST_ATTEMPT names. */
void vmm_test_hook(struct vmm *vmm);
/* Test hook "ignore_window_end": vCPUs never arm their end timer (a VMM that will not stop). */
extern bool vmm_test_ignore_window_end;
/* Test hook "lie_window_end": the same, and every window's status says it ended on time. */
extern bool vmm_test_lie_window_end;
/* Test hook "hold_batons": its vCPUs never pass their hand-over batons (withheld). */
extern bool vmm_test_hold_batons;

#endif
