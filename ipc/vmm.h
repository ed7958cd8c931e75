/* SPDX-License-Identifier: MIT */
/* The VMM channel: what a supervisor and one VMM exchange (messages, fds, shared pages). */
#ifndef MUMU_IPC_VMM_H
#define MUMU_IPC_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "mumu/abi.h"

/*
 * Channels of one VMM, all created by the supervisor:
 *  - the control socket, an AF_UNIX SOCK_SEQPACKET pair; the VMM's end is its fd
 *    IPC_CTL_FD. One datagram is one message: struct ipc_hdr then the payload.
 *  - the control page (struct ipc_ctl_page): a sealed memfd the supervisor writes and the
 *    VMM maps read-only (its fd is re-opened O_RDONLY).
 *  - the status page (struct ipc_status_page): a sealed memfd the VMM writes and the
 *    supervisor reads as untrusted data.
 *  - per vCPU a `go` eventfd (supervisor -> vCPU thread: a window started) and a `done`
 *    eventfd (vCPU thread -> supervisor: the vCPU left the guest; value IPC_DONE_*).
 * The supervisor sends IPC_CONFIG first, with the fds in the order of enum ipc_config_fd.
 */
#define IPC_CTL_FD	 3
#define IPC_BATON_MAX	 16 /* hand-over eventfds of one VMM (ipc_config.batons) */
#define IPC_FDS_MAX	 (IPC_CFG_FD_GO0 + 2 * MUMU_VCPU_MAX + MUMU_REGION_MAX + IPC_BATON_MAX)
#define IPC_CTL_MAGIC	 0x4c54434dU /* "MCTL" */
#define IPC_STATUS_MAGIC 0x5453534dU /* "MSST" */

#define IPC_CONSOLE_MAX 4096

enum ipc_config_fd {
	IPC_CFG_FD_KVM = 0,    /* /dev/kvm */
	IPC_CFG_FD_RAM = 1,    /* guest RAM, sealed memfd of ram_bytes, image already loaded */
	IPC_CFG_FD_CTL = 2,    /* control page, read-only */
	IPC_CFG_FD_STATUS = 3, /* status page, read-write */
	IPC_CFG_FD_GO0 = 4,    /* then n_vcpus go eventfds, n_vcpus done eventfds, n_regions,
				* n_batons */
};

#define IPC_CFG_SECCOMP_LOG  (1U << 0) /* seccomp filter logs instead of killing */
#define IPC_CFG_NO_SANDBOX   (1U << 1) /* development only: skip the sandbox */
#define IPC_CFG_SET_SCHEDULE (1U << 2) /* the partition may request schedules (SetModuleSchedule) */
#define IPC_CFG_USERNS	     (1U << 3) /* sandbox in a user namespace of its own: no root */

/* The unprivileged ids a VMM runs as when the supervisor does not say otherwise. */
#define IPC_DEFAULT_VMM_UID 65534 /* nobody */
#define IPC_DEFAULT_VMM_GID 65534 /* nogroup */

struct ipc_config {
	char partition_name[MUMU_NAME_MAX + 8];
	char module_name[MUMU_NAME_MAX + 8];
	uint32_t partition_id;
	uint32_t n_vcpus;
	uint32_t physical_core_id[MUMU_VCPU_MAX];
	uint64_t ram_bytes;
	uint64_t image_bytes; /* from MUMU_USER_GPA to the image's end (an ELF's last segment) */
	uint64_t entry;	      /* where every vCPU starts: MUMU_USER_GPA, or an ELF's entry */
	uint32_t flags;	      /* IPC_CFG_* */
	uint32_t n_regions;
	struct mumu_region regions[MUMU_REGION_MAX];
	uint32_t uid; /* the sandbox drops to these ids */
	uint32_t gid;
	uint64_t period_ns; /* PartitionPeriodicity (GET_STATUS), 0 when none */
	uint64_t duration_ns;
	/*
	 * Hand-over batons: one eventfd per pair of vCPUs of two partitions whose windows follow
	 * each other on a core. The leaving vCPU writes its "out" batons once it has left the
	 * guest; the entering one, told so by its control page (ipc_vcpu_ctl.handover), waits
	 * for its "in" baton before it enters, at most IPC_HANDOVER_MAX_NS past its start. Only
	 * the two VMMs and the supervisor (which empties it) hold a baton.
	 */
	uint32_t n_batons;
	struct ipc_baton {
		uint32_t vcpu; /* logical core id of this VMM's vCPU on the core */
		uint32_t out;  /* 1: written after every window; 0: waited on when told */
	} batons[IPC_BATON_MAX];
};

/* Guest faults and errors a VMM classifies and reports; the supervisor's HM maps them. */
enum ipc_fault_kind {
	IPC_FAULT_TRIPLE_FAULT = 0,    /* KVM_EXIT_SHUTDOWN */
	IPC_FAULT_INTERNAL_ERROR = 1,  /* KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_FAIL_ENTRY, ... */
	IPC_FAULT_UNMAPPED_ACCESS = 2, /* MMIO exit at a gpa without memory */
	IPC_FAULT_READONLY_WRITE = 3,  /* write to a read-only region */
	IPC_FAULT_BAD_HYPERCALL = 4,   /* unknown number or bad arguments */
	IPC_FAULT_APPLICATION = 5,     /* MUMU_HC_RAISE_ERROR */
	IPC_FAULT_VMM_ERROR = 6,       /* the VMM itself failed (a KVM ioctl, ...) */
	IPC_FAULT_SECCOMP = 7,	       /* the VMM made a forbidden system call: code = its number */
	IPC_FAULT_EXCEPTION = 8,       /* an exception in user code, not taken: code = vector */
	IPC_FAULT_COUNT
};

struct ipc_fault {
	uint32_t kind;	/* enum ipc_fault_kind */
	uint32_t vcpu;	/* logical core id */
	uint32_t fatal; /* 1: the partition stopped running guest code */
	uint32_t code;	/* APPLICATION: the guest's code; BAD_HYPERCALL: the number; ... */
	uint64_t rip;
	uint64_t addr; /* gpa or port */
	char msg[MUMU_ERROR_MSG_MAX + 8];
	uint32_t suppressed; /* reports of this kind the VMM counted but did not send since */
	uint32_t reserved;
};

/*
 * The window protocol's timing: one home for both sides (docs/scheduling.md).
 *
 * IPC_KICK_LEAD_NS: the supervisor sends a window's go this long before its start
 * (sup_kick_time, sup_kick_ahead), so that no wake-up of the VMM lies between the planned
 * start and the guest; and it decides each frame's schedule this long before the frame (a
 * request in the last IPC_KICK_LEAD_NS takes the next one).
 *
 * IPC_SPIN_NS: a vCPU sleeps until this long before its start and spins on the clock to it,
 * so that a window starts a clock read after its time, not a timer wake-up after it. Always
 * the whole of it: an idle core here wakes 50-200 us late now and then, more than a margin
 * fitted to the usual wake-up covered. The spin is in a gap, time no partition has; it must
 * not outrun the kick.
 *
 * IPC_HANDOVER_MAX_NS: a vCPU told to wait for the one leaving the core (ipc_vcpu_ctl
 * .handover) waits at most this long past its start, and the supervisor as long for a
 * leaving vCPU it hands over itself: a leaving VMM that never says so costs the next one
 * this, never more.
 */
#define IPC_KICK_LEAD_NS    1000000ULL
#define IPC_SPIN_NS	    500000ULL
#define IPC_HANDOVER_MAX_NS 1000000ULL
_Static_assert(IPC_SPIN_NS < IPC_KICK_LEAD_NS, "a vCPU must not wake before its kick");

/* Non-fatal fault reports a vCPU sends per second at most; the rest are counted and the
 * count travels with the next report of the kind (ipc_fault.suppressed). */
#define IPC_FAULT_REPORTS_PER_S 16

struct ipc_u32 {
	uint32_t value;
	uint32_t reserved;
};

/*
 * Whether a guest may make a request of the module at all (IPC_SCHEDULE_REQ, IPC_MODE_REQ),
 * before what it asks for is looked at: 0, or the negative MUMU_E* the guest gets. The one
 * statement of the rule: the VMM answers its guest by it, the supervisor refuses by it
 * whatever a VMM passes on. flags: the partition's IPC_CFG_* rights.
 */
static inline int ipc_request_allowed(uint32_t flags, uint32_t type, uint32_t value)
{
	if (type == IPC_SCHEDULE_REQ)
		return flags & IPC_CFG_SET_SCHEDULE ? 0 : -MUMU_EPERM;
	if (type == IPC_MODE_REQ)
		return value < MUMU_MODE_COUNT ? 0 : -MUMU_EINVAL;
	return -MUMU_ENOSYS;
}

enum ipc_done {
	IPC_DONE_DEADLINE = 1, /* the window's end timer fired */
	IPC_DONE_YIELD = 2,    /* the guest yielded or halted */
	IPC_DONE_FAULT = 3,    /* the vCPU stopped on a fatal fault */
};

/* Supervisor -> VMM, read-only to the VMM. Fields are written before the go eventfd. */
struct ipc_vcpu_ctl {
	uint64_t window_seq; /* incremented at every window start */
	uint64_t start_ns;   /* planned start of the window, CLOCK_MONOTONIC */
	uint64_t end_ns;     /* planned end of the window, CLOCK_MONOTONIC */
	uint32_t handover;   /* 0, or 1 + the index in ipc_config.batons of the baton to wait on */
	uint32_t reserved0;
	uint64_t reserved[4];
};

struct ipc_ctl_page {
	uint32_t magic;
	uint32_t n_vcpus;
	uint32_t mode;		  /* enum mumu_mode */
	uint32_t start_condition; /* enum mumu_start_condition */
	uint32_t current_schedule_id;
	uint32_t next_schedule_id;
	uint64_t time_of_last_switch_ns;
	uint32_t n_restarts;
	uint32_t reserved0;
	uint64_t reserved[3];
	struct ipc_vcpu_ctl vcpu[MUMU_VCPU_MAX];
};
_Static_assert(sizeof(struct ipc_ctl_page) <= 4096, "one page");

/* VMM -> supervisor, untrusted: the supervisor only reads and range-checks it. */
struct ipc_vcpu_status {
	uint64_t window_seq; /* the window these times belong to */
	uint64_t entry_ns;   /* first KVM_RUN entry of the window */
	uint64_t exit_ns;    /* last KVM_RUN return of the window */
	uint64_t exits;	     /* all exits since start */
	uint64_t cpu;	     /* the physical core the vCPU thread ran on (sched_getcpu) */
	uint64_t outcome;    /* enum ipc_done of the window */
	uint64_t reserved[2];
};

struct ipc_status_page {
	uint32_t magic;
	uint32_t n_vcpus;
	uint64_t console_dropped_bytes; /* the VMM's own count (its word: shown, never trusted) */
	uint64_t reserved[2];
	struct ipc_vcpu_status vcpu[MUMU_VCPU_MAX];
};
_Static_assert(sizeof(struct ipc_status_page) <= 4096, "one page");

/* The name of an IPC_FAULT_* kind. */
const char *ipc_fault_name(uint32_t kind);

#endif
