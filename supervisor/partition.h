/* SPDX-License-Identifier: MIT */
/* One partition as the supervisor holds it: its memfds, eventfds, control socket and VMM. */
#ifndef MUMU_SUPERVISOR_PARTITION_H
#define MUMU_SUPERVISOR_PARTITION_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/elf.h"
#include "ipc/vmm.h"
#include "policy/policy.h"
#include "supervisor/hm.h"

enum sup_partition_state {
	SUP_PART_STOPPED,  /* no VMM process */
	SUP_PART_STARTING, /* VMM forked, IPC_CONFIG sent, IPC_READY not yet received */
	SUP_PART_RUNNING,  /* IPC_READY received: windows are given to it */
	SUP_PART_FAULTED,  /* a fatal fault stopped its guest; its VMM may still live */
	SUP_PART_STATE_COUNT
};

/* Console bytes of one partition until a whole line is there. */
#define SUP_CONSOLE_LINE_MAX 512
/* Messages the supervisor reads from one VMM per major frame; the rest wait in its socket. */
#define SUP_MSGS_PER_FRAME 1024
/* Console bytes a partition may have printed per major frame; the rest is dropped, counted. */
#define SUP_CONSOLE_FRAME_BYTES 16384

/*
 * A hand-over baton (ipc_config.batons): vCPU from_vcpu of partition `from` leaves a core
 * right before a window of vCPU to_vcpu of partition `to` there, in some schedule.
 */
struct sup_baton {
	size_t from, to; /* partition indexes */
	uint32_t from_vcpu, to_vcpu;
	uint32_t from_idx, to_idx; /* its index in each VMM's ipc_config.batons */
	int fd; /* eventfd, non-blocking, owned by the caller of sup_batons_plan */
};

/*
 * What the core threads give a partition its windows through (sched.c, outcome.c): set up by
 * sup_partition_init and fixed after, but for the kick count.
 */
struct sup_port {
	struct ipc_ctl_page *ctl;		       /* mapped read-write here */
	const volatile struct ipc_status_page *status; /* mapped read-only here, untrusted */
	int go_fd[MUMU_VCPU_MAX];	/* eventfd: supervisor -> vCPU thread, a window started */
	int done_fd[MUMU_VCPU_MAX];	/* eventfd (non-blocking): vCPU thread -> supervisor */
	const struct sup_baton *batons; /* every partition's (sup_batons_plan) */
	size_t n_batons;
	uint64_t kicks; /* windows started, across cores: a late check never stops a newer one */
};

/*
 * The partition's VMM process (process.c). The core threads signal it while the main thread
 * may reap and replace it: lock guards pid and pidfd, and signals go through the pidfd, never
 * to a recycled pid. Only the main thread writes the rest.
 */
struct sup_proc {
	pthread_mutex_t lock;
	pid_t pid;	     /* the VMM, 0 when none */
	int pidfd;	     /* pidfd of the VMM, -1 when none */
	uint32_t generation; /* incremented at every spawn: a window belongs to one VMM */
	uint32_t rt_vcpus;   /* vCPUs that run SCHED_FIFO (sup_partition_threads), fixed */
	pid_t vcpu_tid[MUMU_VCPU_MAX]; /* of the current VMM, 0 before READY (under lock) */
	clockid_t cpu_clock;	       /* the VMM's process CPU-time clock (under lock, with pid) */
	bool stopped_by_sup; /* the VMM is SIGSTOPped by window enforcement (under lock) */
	uint64_t spawn_ns;   /* when the VMM was forked */
};

/* What its VMM sends, as the main thread takes it (channel.c), and the budgets on it. */
struct sup_chan {
	int sock; /* supervisor's end of the SOCK_SEQPACKET pair, non-blocking; -1 when none */
	char console[SUP_CONSOLE_LINE_MAX]; /* an incomplete console line */
	size_t console_len;
	bool console_continued;		/* the line being assembled continues a cut one */
	uint64_t console_frame_bytes;	/* received in this major frame */
	uint64_t console_dropped_bytes; /* over the budget or the output queue, all runs */
	uint64_t console_dropped_seen;	/* of those and the VMM's, already traced */
	uint32_t frame_msgs;		/* messages read from its VMM in this major frame */
	bool sock_paused;	  /* over SUP_MSGS_PER_FRAME: its socket waits for the next frame */
	bool msgs_warned;	  /* said so once */
	uint64_t first_output_ns; /* its first console message, 0 before */
};

/* One partition as the supervisor holds it: its memory, and the three parts above. */
struct sup_partition {
	const struct pol_partition *pol; /* lives as long as the policy */
	size_t index;			 /* in pol_system.partitions */
	enum sup_partition_state state;

	int ram_fd;	      /* sealed memfd of pol->memory_bytes, the image at MUMU_USER_GPA */
	int image_fd;	      /* sealed memfd holding the pristine binary (cold start reloads it) */
	int ctl_fd;	      /* sealed memfd, one page; the VMM gets it re-opened O_RDONLY */
	int status_fd;	      /* sealed memfd, one page; the VMM writes it */
	uint64_t image_bytes; /* MUMU_USER_GPA to the end of what is loaded */
	struct elf_plan elf;  /* an ELF image's segments (n 0: a flat binary) */

	struct sup_port port;
	struct sup_proc proc;
	struct sup_chan chan;

	/* The health monitor's, main thread only. */
	uint64_t n_faults;
	uint64_t n_restarts;
	struct sup_budget budget; /* restarts by the health monitor */
	/* Windows of the current VMM the core threads enforced (from their records), not yet
	 * reported, and since when. */
	uint64_t overruns;
	uint64_t overrun_since_ns;
	/* A schedule switch asked for this action (enum pol_action); IGNORE when none pending.
	 * Set by a core thread, applied and cleared by the main thread; no windows meanwhile. */
	int switch_action;
};

/*
 * A VMM's address-space limit (RLIMIT_AS, set before exec): its guest RAM and regions, and
 * SUP_VMM_AS_OVERHEAD_BYTES for the program, its libraries, threads and KVM's mappings (a
 * VMM maps some 4 MiB of its own here; glibc reserves address space for each thread's
 * stack and malloc arena).
 */
#define SUP_VMM_AS_OVERHEAD_BYTES (256ULL << 20)
uint64_t sup_vmm_as_bytes(const struct pol_partition *pol, const struct pol_region *regions,
			  size_t n_regions);

/*
 * Allocate everything but the process: memfds (sealed against shrink and grow), the image
 * copied into RAM at MUMU_USER_GPA and into image_fd, the control and status pages, the
 * eventfds. Returns 0 or a negative errno; on failure nothing stays allocated.
 */
int sup_partition_init(struct sup_partition *p, const struct pol_system *sys, size_t index);

/* The partition's rights as its VMM is told them (IPC_CFG_*, ipc_request_allowed). */
static inline uint32_t sup_partition_rights(const struct pol_partition *pol)
{
	return pol->set_module_schedule ? IPC_CFG_SET_SCHEDULE : 0;
}

/* How every VMM is started (the same for all partitions of a run). */
struct sup_spawn {
	const int *objects;   /* the fds of sup_objects_create */
	const char *vmm_path; /* the mumu-vmm binary */
	int kvm_fd;	      /* /dev/kvm, passed on */
	uint32_t flags;	      /* IPC_CFG_* */
	uint32_t uid, gid;    /* the ids the VMM's sandbox drops to */
};

/*
 * process.c: fork and exec the VMM as `vmm_path <partition name>` with only its control socket
 * (as IPC_CTL_FD) open, then send IPC_CONFIG with the fds in the order of enum ipc_config_fd.
 * The VMM answers IPC_READY on p->sock.
 */
int sup_partition_spawn(struct sup_partition *p, const struct pol_system *sys,
			const struct sup_spawn *how);

/*
 * The memory objects of shared memories and channels (pol_object_count of them, see
 * pol_partition_regions): one sealed memfd each, zeroed, owned by the supervisor so that
 * their contents outlive any VMM. A writer gets the memfd, a reader it re-opened O_RDONLY.
 */
int sup_objects_create(const struct pol_system *sys, int **ret_fds);
void sup_objects_close(const struct pol_system *sys, int *fds);

/*
 * Window enforcement, from the core threads, through the pidfd. stop: SIGSTOP the VMM of that
 * generation, never its successor (the main thread may have replaced it since the window,
 * and a successor stopped before READY would never start), sent to its vCPU thread vcpu
 * first: a process-wide SIGSTOP wakes one thread to stop the others, and the VMM's main
 * thread would wait behind a real-time vCPU spinning in its guest for ever. resume: SIGCONT
 * the VMM if enforcement stopped it. Both return whether they sent a signal.
 */
bool sup_partition_stop(struct sup_partition *p, uint32_t generation, uint32_t vcpu);
bool sup_partition_resume(struct sup_partition *p);

/*
 * The CPU time the VMM of that generation has used, all its threads, as the kernel counts it
 * (never the VMM's word). False when it is gone or replaced.
 */
bool sup_partition_cpu_ns(struct sup_partition *p, uint32_t generation, uint64_t *ret_ns);

/*
 * At READY, before the VMM ran any guest code (so the thread names, vcpuN, are still its own):
 * note each vCPU thread's id (p->vcpu_tid, for sup_partition_stop), and make those in
 * p->rt_vcpus run SCHED_FIFO at SUP_VCPU_PRIORITY, below the core threads: nothing of another
 * VMM preempts a window, and at a boundary the kernel's FIFO order holds the vCPU entering
 * until the one leaving has left the guest (docs/scheduling.md). The sandbox's seccomp filter
 * forbids the VMM any change after. Returns 0, or -ESRCH when a vCPU thread was not found or
 * could not be set.
 */
#define SUP_VCPU_PRIORITY 50
int sup_partition_threads(struct sup_partition *p);

/* Ask the VMM to exit (IPC_SHUTDOWN, and SIGCONT if enforcement stopped it); no more windows. */
void sup_partition_ask_exit(struct sup_partition *p);

/*
 * sup_partition_ask_exit, wait up to timeout_ns for the VMM's exit, then SIGKILL; reap it.
 * Returns its wait status (0 when there was none).
 */
int sup_partition_kill(struct sup_partition *p, uint64_t timeout_ns);

/* Zero the RAM and copy the pristine image to MUMU_USER_GPA again (a cold start). */
int sup_partition_load_ram(struct sup_partition *p);

/* Release everything sup_partition_init allocated (kills the VMM first when there is one);
 * p->pol is NULL after, and a second call does nothing. */
void sup_partition_fini(struct sup_partition *p);

#endif
