/* SPDX-License-Identifier: MIT */
/*
 * The partition OS inside a mumu guest (docs/apex.md): processes scheduled by priority on
 * each vCPU of the partition (a process runs on one, INITIALIZE_PROCESS_CORE_AFFINITY),
 * preempted by that vCPU's ABI 3 timer, and the APEX objects they wait on. Kernel state
 * changes under one lock with the vCPU's events masked; every switch goes through the vCPU's
 * upcall handler (a timer, a window's start, a kick from another vCPU, an exception, or a
 * process that blocks: k_switch).
 */
#ifndef MUMU_APEX_KERNEL_H
#define MUMU_APEX_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "arinc653/apex.h"
#include "lib/upcall.h"

#define APEX_STACK_MIN 4096

enum apex_wait {
	WAIT_NONE,
	WAIT_NORMAL,  /* started before NORMAL: waits for the mode (and its delay) */
	WAIT_DELAY,   /* TIMED_WAIT */
	WAIT_START,   /* DELAYED_START of an aperiodic process */
	WAIT_PERIOD,  /* PERIODIC_WAIT: the next release point */
	WAIT_SUSPEND, /* SUSPEND, SUSPEND_SELF: RESUME (or the time-out) */
	WAIT_OBJECT,  /* a semaphore, event, blackboard or buffer: its queue */
};

struct apex_proc {
	bool used;
	uint32_t core; /* the vCPU it runs on (INITIALIZE_PROCESS_CORE_AFFINITY; 0) */
	bool stop_req; /* STOP from another vCPU while it runs: its vCPU stops it */
	PROCESS_ATTRIBUTE_TYPE attr;
	PROCESS_STATE_TYPE state;
	PRIORITY_TYPE prio;
	uint64_t ready_seq; /* FIFO order within a priority: smaller goes first */
	bool suspended;	    /* SUSPEND of a process that also waits on something, or that
			     * runs on another vCPU (which suspends it) */
	bool error_handler;
	struct mumu_context ctx;
	uint8_t *stack;
	size_t stack_bytes;
	/* Times (ns, 0: none). */
	SYSTEM_TIME_TYPE wake_at;     /* end of a delay or a time-out */
	SYSTEM_TIME_TYPE release_at;  /* next release point of a periodic process */
	SYSTEM_TIME_TYPE deadline_at; /* the current release's deadline */
	SYSTEM_TIME_TYPE start_delay; /* DELAYED_START before NORMAL: after the mode change */
	/* Waiting. */
	enum apex_wait wait;
	const void *wait_obj; /* the object whose queue it is in (WAIT_OBJECT) */
	uint64_t wait_seq;
	RETURN_CODE_TYPE wait_rc; /* what its blocking call returns, set by who woke it */
	/* A message in transfer while it waits (buffers, blackboards). */
	MESSAGE_ADDR_TYPE msg;
	MESSAGE_SIZE_TYPE msg_len;
};

/* One vCPU's part of the kernel. */
struct apex_cpu {
	struct mumu_upcalls up;	   /* first: the handler finds its vCPU from its upcalls */
	uint32_t id;		   /* logical core id */
	uint32_t n_procs;	   /* processes with affinity to it (none: it gives windows away) */
	struct apex_proc *current; /* NULL: the initialisation process or idle */
	uint32_t resched;	   /* set for an idle vCPU instead of a kick: it polls */
	LOCK_LEVEL_TYPE lock_level;
	struct mumu_context idle_ctx;
	struct mumu_context discard;   /* where STOP_SELF's context goes: nobody resumes it */
	SYSTEM_TIME_TYPE timer_at;     /* what the vCPU's timer is set to, 0: nothing */
	SYSTEM_TIME_TYPE timer_period; /* and its period, 0: one-shot */
};

struct apex_kernel {
	OPERATING_MODE_TYPE mode;
	struct apex_proc *procs; /* SYSTEM_LIMIT_NUMBER_OF_PROCESSES, from partition memory */
	struct apex_cpu *cpu;	 /* n_cpus of them, from partition memory */
	uint32_t n_cpus;
	uint32_t lock;	   /* the kernel lock (more than one vCPU) */
	uint32_t kicks;	   /* vCPUs to kick when the lock is released: their processes changed */
	uint64_t boot;	   /* restarts + 1 once vCPU 0 set the kernel up: the others wait for it */
	bool init_running; /* the initialisation process (apex_main) runs, on vCPU 0 */
	uint64_t seq;
	uint8_t *heap, *heap_end; /* partition memory for stacks and messages */
	struct mumu_context init_ctx;
};

extern struct apex_kernel apex;

/* The vCPU this runs on, and its current process. */
static inline struct apex_cpu *k_me(void)
{
	return &apex.cpu[mumu_vcpu_self()];
}

static inline struct apex_proc *k_cur(void)
{
	return k_me()->current;
}

/* The kernel lock (with one vCPU there is nothing to exclude). k_unlock kicks the vCPUs whose
 * processes changed meanwhile (k_touch), once the lock is free. */
static inline void k_lock(void)
{
	if (apex.n_cpus > 1)
		while (__atomic_exchange_n(&apex.lock, 1, __ATOMIC_ACQUIRE))
			while (__atomic_load_n(&apex.lock, __ATOMIC_RELAXED))
				__builtin_ia32_pause();
}
void k_unlock(void);

/* Kernel entry and exit around a service: events masked and the lock taken, then the lock
 * released and events unmasked (pending events taken). */
static inline void k_enter(void)
{
	mumu_events_mask(&k_me()->up);
	k_lock();
}

static inline void k_leave(void)
{
	k_unlock();
	mumu_events_unmask(&k_me()->up);
}

/* A process of another vCPU changed (ready, times, priority, stopped): that vCPU looks again
 * when the lock is released (a kick). */
void k_touch(const struct apex_proc *p);
/* To the upcall handler from a service (inside k_enter): the lock is released first. The
 * context comes back (if ever) with events unmasked and without the lock. */
void k_switch(void);
/* A process stopped: DORMANT, out of every queue, its times gone. */
void k_stop(struct apex_proc *p);

SYSTEM_TIME_TYPE k_now(void);
/* Memory of the partition, during initialisation only (NULL when none left). */
void *k_alloc(size_t bytes, size_t align);
/* A process stack of *bytes (rounded up to pages, at least APEX_STACK_MIN, the size put
 * back) with a guard page under it (MUMU_HC_GUARD): an overflow is a #PF there,
 * STACK_OVERFLOW, not a write into what lies below. NULL: no room, or no spare page table. */
uint8_t *k_stack(size_t *bytes);
/* Process by id (1..), NULL when none. */
struct apex_proc *k_proc(PROCESS_ID_TYPE id);
PROCESS_ID_TYPE k_id(const struct apex_proc *p);
/* A DORMANT process made new: a context at its entry point, base priority, no times. */
void k_fresh(struct apex_proc *p);
/* Make p ready (at the end of its priority's queue). */
void k_ready(struct apex_proc *p);
/*
 * The current process waits (wait kind, on obj, until the absolute time wake_at or for ever:
 * 0) and another runs; returns what woke it (wait_rc). With events masked; returns so.
 */
RETURN_CODE_TYPE k_block(enum apex_wait wait, const void *obj, SYSTEM_TIME_TYPE wake_at);
/* The waiter of obj that goes first by the discipline, NULL when none. */
struct apex_proc *k_first_waiter(const void *obj, QUEUING_DISCIPLINE_TYPE discipline);
/* Wake a waiting process with rc (its queue, time-out and suspension left). */
void k_wake(struct apex_proc *p, RETURN_CODE_TYPE rc);
WAITING_RANGE_TYPE k_waiters(const void *obj);
/* Reschedule after a change (times re-read, the timer set): a process that goes before the
 * current one runs, unless preemption is locked. Nothing before NORMAL. */
void k_preempt(void);
/* An aperiodic process begins: ready, its deadline TIME_CAPACITY from now. */
void k_begin(struct apex_proc *p, SYSTEM_TIME_TYPE now);
/* An absolute time-out from a relative one: 0 for INFINITE_TIME_VALUE. */
SYSTEM_TIME_TYPE k_deadline(SYSTEM_TIME_TYPE time_out);
/* Whether the caller is a process that may wait (not the initialisation process, not with
 * preemption locked, not the error handler). */
bool k_may_wait(void);
/* What every named APEX object (semaphore, event, blackboard, buffer) starts with. */
struct apex_named {
	bool used;
	NAME_TYPE name;
};
#define APEX_NAMED(type) \
	_Static_assert(offsetof(type, name) == offsetof(struct apex_named, name), #type)
/*
 * The object named name in a table of n objects of size bytes, each starting as a struct
 * apex_named: its index, or -1. *unused (when not NULL): the first unused index, or -1.
 */
int k_lookup(const void *table, size_t size, int n, const char *name, int *unused);
/* A GET_*_ID service: the id (index + 1) of the object named name, or INVALID_CONFIG. */
RETURN_CODE_TYPE k_name_id(const void *table, size_t size, int n, const char *name,
			   APEX_INTEGER *id);

/* Names: equal as APEX compares them (at most MAX_NAME_LENGTH characters). */
bool k_name_eq(const char *a, const char *b);
void k_name_copy(char *dst, const char *src);

/* Each service file's tables empty again (main, before the initialisation process). */
void k_sync_reset(void);
void k_message_reset(void);
void k_ports_reset(void);
void k_hm_reset(void);

/* hm.c: an error of a process (or the partition when p is NULL): to the error handler when
 * there is one, else to mumu's health monitor; the faulty process is stopped. */
void k_error(ERROR_CODE_TYPE code, struct apex_proc *p, const char *msg, size_t len,
	     uint64_t address);
/* hm.c: the error handler process, NULL when none. */
struct apex_proc *k_error_handler(void);

#endif
