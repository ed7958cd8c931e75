/* SPDX-License-Identifier: MIT */
/*
 * The partition OS's kernel (kernel.h): the ready queues, the upcall handler that switches
 * processes on each vCPU, a one-shot timer per vCPU for every time of its processes, and the
 * start: vCPU 0 sets the kernel up and runs the partition's apex_main() as its
 * initialisation process; the other vCPUs wait for it, then for their processes.
 */
#include "apex/kernel.h"

struct apex_kernel apex;
extern char _end[]; /* the image's end (guest.ld): the partition's memory starts there */

SYSTEM_TIME_TYPE k_now(void)
{
	return (SYSTEM_TIME_TYPE)mumu_clock_ns();
}

void *k_alloc(size_t bytes, size_t align)
{
	uint64_t p = ((uint64_t)apex.heap + align - 1) & ~(uint64_t)(align - 1);

	if (p > (uint64_t)apex.heap_end || bytes > (uint64_t)apex.heap_end - p)
		return NULL;
	apex.heap = (uint8_t *)(p + bytes);
	return (void *)p;
}

uint8_t *k_stack(size_t *bytes)
{
	size_t n = ((*bytes < APEX_STACK_MIN ? APEX_STACK_MIN : *bytes) + MUMU_PAGE_BYTES - 1) &
		   ~(size_t)(MUMU_PAGE_BYTES - 1);
	uint8_t *guard = k_alloc(MUMU_PAGE_BYTES + n, MUMU_PAGE_BYTES);

	if (!guard)
		return NULL;
	if (mumu_guard(guard) < 0) {
		apex.heap = guard; /* no spare page table left: the memory goes back */
		return NULL;
	}
	*bytes = n;
	return guard + MUMU_PAGE_BYTES;
}

struct apex_proc *k_proc(PROCESS_ID_TYPE id)
{
	if (id < 1 || id > SYSTEM_LIMIT_NUMBER_OF_PROCESSES || !apex.procs[id - 1].used)
		return NULL;
	return &apex.procs[id - 1];
}

PROCESS_ID_TYPE k_id(const struct apex_proc *p)
{
	return (PROCESS_ID_TYPE)(p - apex.procs) + 1;
}

bool k_name_eq(const char *a, const char *b)
{
	for (int i = 0; i < MAX_NAME_LENGTH; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			return true;
	}
	return true;
}

int k_lookup(const void *table, size_t size, int n, const char *name, int *unused)
{
	if (unused)
		*unused = -1;
	for (int i = 0; i < n; i++) {
		const struct apex_named *o = (const void *)((const char *)table + (size_t)i * size);

		if (o->used && k_name_eq(o->name, name))
			return i;
		if (!o->used && unused && *unused < 0)
			*unused = i;
	}
	return -1;
}

RETURN_CODE_TYPE k_name_id(const void *table, size_t size, int n, const char *name,
			   APEX_INTEGER *id)
{
	int i = k_lookup(table, size, n, name, NULL);

	if (i < 0)
		return INVALID_CONFIG;
	*id = i + 1;
	return NO_ERROR;
}

void k_name_copy(char *dst, const char *src)
{
	int i = 0;

	for (; i < MAX_NAME_LENGTH - 1 && src[i]; i++)
		dst[i] = src[i];
	for (; i < MAX_NAME_LENGTH; i++)
		dst[i] = '\0';
}

void k_unlock(void)
{
	uint32_t kicks;

	if (apex.n_cpus == 1)
		return;
	kicks = apex.kicks;
	apex.kicks = 0;
	__atomic_store_n(&apex.lock, 0, __ATOMIC_RELEASE);
	for (; kicks; kicks &= kicks - 1)
		mumu_hc(MUMU_HC_KICK, __builtin_ctz(kicks), 0, 0);
}

/*
 * An idle vCPU (NORMAL, no current process) polls its resched word: it takes the change
 * without an exit on either side. One that runs a process needs the kick (an exit and an
 * upcall there) to be preempted.
 */
void k_touch(const struct apex_proc *p)
{
	struct apex_cpu *c = &apex.cpu[p->core];

	if (p->core == mumu_vcpu_self())
		return;
	if (apex.mode == NORMAL && !c->current)
		__atomic_store_n(&c->resched, 1, __ATOMIC_RELEASE);
	else
		apex.kicks |= 1u << p->core;
}

void k_switch(void)
{
	struct apex_cpu *me = k_me();

	k_unlock();
	mumu_upcall_self(&me->up);
}

void k_stop(struct apex_proc *p)
{
	p->state = DORMANT;
	p->wait = WAIT_NONE;
	p->wait_obj = NULL;
	p->wake_at = p->release_at = p->deadline_at = 0;
	p->suspended = false;
	p->stop_req = false;
}

void k_ready(struct apex_proc *p)
{
	k_touch(p);
	p->state = READY;
	p->wait = WAIT_NONE;
	p->wait_obj = NULL;
	p->wake_at = 0;
	p->ready_seq = ++apex.seq;
}

/* A process's first instruction: its entry point, then STOP_SELF should it return. */
static void process_start(void *arg)
{
	struct apex_proc *p = arg;

	p->attr.ENTRY_POINT();
	STOP_SELF();
}

/* DORMANT -> a fresh context at its entry point. */
void k_fresh(struct apex_proc *p)
{
	mumu_context_init(&p->ctx, process_start, p, p->stack, p->stack_bytes);
	p->prio = p->attr.BASE_PRIORITY;
	p->deadline_at = p->release_at = p->wake_at = 0;
	p->suspended = false;
}

/* Whether a goes before b: higher priority, then the longer ready (the preempted first). */
static bool before(const struct apex_proc *a, const struct apex_proc *b)
{
	return a->prio > b->prio || (a->prio == b->prio && a->ready_seq < b->ready_seq);
}

/* The process to run on a vCPU: its current one while preemption is locked, else the first
 * ready of its own. */
static struct apex_proc *pick(struct apex_cpu *me)
{
	struct apex_proc *best = NULL;

	if (me->current && me->current->state == RUNNING && me->lock_level > 0)
		return me->current;
	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PROCESSES; i++) {
		struct apex_proc *p = &apex.procs[i];

		if (p->used && p->core == me->id && (p->state == READY || p->state == RUNNING) &&
		    (!best || before(p, best)))
			best = p;
	}
	return best;
}

void k_preempt(void)
{
	if (apex.mode == NORMAL && !apex.init_running) {
		k_switch(); /* the handler switches; back here when this runs again */
		k_enter();
	}
}

void k_begin(struct apex_proc *p, SYSTEM_TIME_TYPE now)
{
	k_ready(p);
	if (p->attr.TIME_CAPACITY != INFINITE_TIME_VALUE)
		p->deadline_at = now + p->attr.TIME_CAPACITY;
}

SYSTEM_TIME_TYPE k_deadline(SYSTEM_TIME_TYPE time_out)
{
	return time_out == INFINITE_TIME_VALUE ? 0 : k_now() + time_out;
}

bool k_may_wait(void)
{
	struct apex_cpu *me = k_me();

	return !apex.init_running && me->current && me->lock_level == 0 &&
	       !me->current->error_handler;
}

RETURN_CODE_TYPE k_block(enum apex_wait wait, const void *obj, SYSTEM_TIME_TYPE wake_at)
{
	struct apex_proc *p = k_cur();

	p->state = WAITING;
	p->wait = wait;
	p->wait_obj = obj;
	p->wait_seq = ++apex.seq;
	p->wake_at = wake_at;
	p->wait_rc = NO_ERROR;
	k_switch();
	k_enter(); /* resumed unmasked and unlocked: the caller goes on inside */
	return p->wait_rc;
}

struct apex_proc *k_first_waiter(const void *obj, QUEUING_DISCIPLINE_TYPE discipline)
{
	struct apex_proc *best = NULL;

	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PROCESSES; i++) {
		struct apex_proc *p = &apex.procs[i];

		if (!p->used || p->state != WAITING || p->wait != WAIT_OBJECT || p->wait_obj != obj)
			continue;
		if (!best || (discipline == PRIORITY && p->prio > best->prio) ||
		    ((discipline == FIFO || p->prio == best->prio) && p->wait_seq < best->wait_seq))
			best = p;
	}
	return best;
}

WAITING_RANGE_TYPE k_waiters(const void *obj)
{
	WAITING_RANGE_TYPE n = 0;

	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PROCESSES; i++)
		n += apex.procs[i].used && apex.procs[i].state == WAITING &&
		     apex.procs[i].wait == WAIT_OBJECT && apex.procs[i].wait_obj == obj;
	return n;
}

void k_wake(struct apex_proc *p, RETURN_CODE_TYPE rc)
{
	k_touch(p);
	p->wait_rc = rc;
	if (p->suspended) { /* still suspended: it goes on waiting for RESUME */
		p->wait = WAIT_SUSPEND;
		p->wait_obj = NULL;
		p->wake_at = 0;
		return;
	}
	k_ready(p);
}

/* A released periodic process: its deadline from this release, its next release point. */
static void release(struct apex_proc *p, SYSTEM_TIME_TYPE now)
{
	SYSTEM_TIME_TYPE period = p->attr.PERIOD;

	if (p->attr.TIME_CAPACITY != INFINITE_TIME_VALUE)
		p->deadline_at = p->release_at + p->attr.TIME_CAPACITY;
	do /* release points missed meanwhile pass (the deadline check said so) */
		p->release_at += period;
	while (p->release_at <= now);
	k_ready(p);
}

/* Time passed: time-outs, delays, release points and deadlines of a vCPU's processes. */
static void k_time(const struct apex_cpu *me, SYSTEM_TIME_TYPE now)
{
	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PROCESSES; i++) {
		struct apex_proc *p = &apex.procs[i];

		if (!p->used || p->core != me->id || p->state == DORMANT)
			continue;
		if (p->deadline_at && now >= p->deadline_at) {
			SYSTEM_TIME_TYPE missed = p->deadline_at;

			p->deadline_at = 0;
			k_error(DEADLINE_MISSED, p, "deadline missed", 15, (uint64_t)missed);
			if (!p->used || p->state == DORMANT || p->state == FAULTED)
				continue;
		}
		if (p->state != WAITING)
			continue;
		if (p->wait == WAIT_PERIOD && p->release_at && p->release_at <= now) {
			if (!p->suspended)
				release(p, now);
		} else if (p->wait == WAIT_START && p->wake_at && p->wake_at <= now) {
			k_begin(p, now);
		} else if (p->wake_at && p->wake_at <= now) {
			/* A time-out on an object or a suspension; the end of a delay. */
			k_wake(p, p->wait == WAIT_OBJECT || p->wait == WAIT_SUSPEND ? TIMED_OUT
										    : NO_ERROR);
		}
	}
}

/*
 * The earliest time anything is due: the vCPU's timer is set to it. Where that is a periodic
 * process's release point the timer is periodic too: the VMM moves it on by itself, and the
 * next release costs no TIMER_SET exit (mumu_timer_set sees it armed already).
 */
static void k_arm(struct apex_cpu *me)
{
	SYSTEM_TIME_TYPE next = 0, period = 0;

	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PROCESSES; i++) {
		const struct apex_proc *p = &apex.procs[i];
		SYSTEM_TIME_TYPE t[3] = { p->state == WAITING ? p->wake_at : 0, p->release_at,
					  p->deadline_at };

		if (!p->used || p->core != me->id || p->state == DORMANT || p->state == FAULTED)
			continue;
		for (int k = 0; k < 3; k++)
			if (t[k] > 0 && (next == 0 || t[k] < next)) {
				next = t[k];
				period = k == 1 ? p->attr.PERIOD : 0;
			}
	}
	if (next != me->timer_at || period != me->timer_period) {
		me->timer_at = next;
		me->timer_period = period;
		mumu_timer_set(&me->up, (uint64_t)next, (uint64_t)period);
	}
}

static void exception(struct apex_proc *p, const volatile struct mumu_vcpu_area *a)
{
	static const char *const names[20] = {
		[0] = "divide error",	     [6] = "invalid opcode", [12] = "stack fault",
		[13] = "general protection", [14] = "page fault",    [16] = "x87 error",
		[17] = "alignment check",    [19] = "SIMD error"
	};
	uint32_t v = a->vector;
	/* A #PF in the guard page under its own stack (k_stack) is its stack's end. */
	bool overflow = v == 14 && (uint64_t)p->stack - a->fault_addr - 1 < MUMU_PAGE_BYTES;
	ERROR_CODE_TYPE code = v == 0 || v == 16 || v == 19 ? NUMERIC_ERROR
			       : v == 12 || overflow	    ? STACK_OVERFLOW
			       : v == 13 || v == 14	    ? MEMORY_VIOLATION
							    : ILLEGAL_REQUEST;
	const char *name = overflow		? "stack overflow"
			   : v < 20 && names[v] ? names[v]
						: "exception";

	k_error(code, p, name, mumu_strlen(name), a->frame.rip);
}

static struct mumu_context *on_upcall(struct mumu_upcalls *u, uint32_t events,
				      struct mumu_context *interrupted)
{
	struct apex_cpu *me = (struct apex_cpu *)u;
	struct apex_proc *cur = me->current, *next;

	k_lock();
	if (events & MUMU_EV_EXCEPTION) {
		/* In the initialisation process or idle: the partition's fault. Without the
		 * exception event the instruction faults again, and mumu ends the partition. */
		if (!cur || apex.init_running)
			mumu_upcall_events(u, MUMU_EV_TIMER | MUMU_EV_WINDOW | MUMU_EV_KICK);
		else
			exception(cur, &u->area);
	}
	if (cur && cur->stop_req)
		k_stop(cur);				      /* STOP from another vCPU */
	if (cur && cur->suspended && cur->state == RUNNING) { /* SUSPEND from another vCPU */
		cur->suspended = false;
		cur->state = WAITING;
		cur->wait = WAIT_SUSPEND;
		cur->wake_at = 0;
	}
	__atomic_store_n(&me->resched, 0, __ATOMIC_RELAXED);
	k_time(me, k_now());
	if (apex.init_running || apex.mode != NORMAL) {
		k_arm(me);
		k_unlock();
		return interrupted;
	}
	next = pick(me);
	if (cur && cur != next && cur->state == RUNNING)
		cur->state = READY; /* preempted: keeps its place before the others */
	me->current = next;
	if (next)
		next->state = RUNNING;
	k_arm(me);
	k_unlock();
	return next ? &next->ctx : &me->idle_ctx;
}

/*
 * No process ready. Alone, the vCPU spins in the window while a time is due in it, else
 * gives the window away; with siblings, a process of its own may become ready at any time,
 * so it spins watching its resched word, unless it has no processes at all.
 */
static void idle(void *arg)
{
	struct apex_cpu *me = arg;

	for (;;) {
		if (__atomic_load_n(&me->resched, __ATOMIC_ACQUIRE))
			mumu_upcall_self(&me->up); /* another vCPU made a process of ours ready */
		if (apex.n_cpus == 1
			? me->timer_at == 0 || (uint64_t)me->timer_at >= me->up.area.window_end_ns
			: me->n_procs == 0 && apex.mode == NORMAL)
			mumu_yield();
		__builtin_ia32_pause();
	}
}

#define APEX_EVENTS (MUMU_EV_TIMER | MUMU_EV_WINDOW | MUMU_EV_KICK | MUMU_EV_EXCEPTION)

/* vCPUs other than 0: once vCPU 0 has set the kernel up, register and idle until a process
 * of their own is ready. */
static void secondary(uint32_t id)
{
	struct mumu_partition_status st = { 0 };
	struct apex_cpu *me;

	mumu_get_status(&st);
	while (__atomic_load_n(&apex.boot, __ATOMIC_ACQUIRE) != st.n_restarts + 1)
		__builtin_ia32_pause();
	me = &apex.cpu[id];
	if (mumu_upcall_init(&me->up, APEX_EVENTS, on_upcall) < 0)
		for (;;)
			mumu_yield();
	mumu_upcall_self(&me->up); /* NORMAL came before it registered: its processes run */
	idle(me);
}

/*
 * The kernel's memory, from the partition's rather than the image's (its process table is
 * some 28 KB, mostly FPU areas): the process table, the vCPUs' parts, each with an idle stack.
 */
static bool setup(const struct mumu_info *info)
{
	size_t procs = SYSTEM_LIMIT_NUMBER_OF_PROCESSES * sizeof(*apex.procs);

	apex.heap = (uint8_t *)_end;
	apex.heap_end = (uint8_t *)(info->ram_bytes - info->n_vcpus * MUMU_STACK_BYTES);
	apex.n_cpus = info->n_vcpus;
	apex.procs = k_alloc(procs, 64);
	apex.cpu = k_alloc(info->n_vcpus * sizeof(*apex.cpu), 64);
	if (!apex.procs || !apex.cpu)
		return false;
	__builtin_memset(apex.procs, 0, procs); /* a warm start finds the old ones there */
	__builtin_memset(apex.cpu, 0, info->n_vcpus * sizeof(*apex.cpu));
	for (uint32_t c = 0; c < info->n_vcpus; c++) {
		size_t bytes = 4096;
		uint8_t *stack = k_stack(&bytes);

		if (!stack)
			return false;
		apex.cpu[c].id = c;
		mumu_context_init(&apex.cpu[c].idle_ctx, idle, &apex.cpu[c], stack, bytes);
	}
	return true;
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	struct mumu_partition_status st = { 0 };

	if (vcpu != 0)
		secondary((uint32_t)vcpu);
	/* A warm start keeps RAM, the application's data: the OS's own state starts again, and
	 * the initialisation process creates the processes and objects anew. */
	__builtin_memset(&apex, 0, sizeof(apex));
	k_sync_reset();
	k_message_reset();
	k_ports_reset();
	k_hm_reset();
	apex.mode = info->mode == MUMU_MODE_WARM_START ? WARM_START : COLD_START;
	apex.init_running = true;
	if (!setup(info) || mumu_upcall_init(&apex.cpu[0].up, APEX_EVENTS, on_upcall) < 0) {
		mumu_printf("apex: cannot start (ABI %u, %lu bytes of RAM)\n", info->abi_version,
			    (unsigned long)info->ram_bytes);
		return 0;
	}
	apex.cpu[0].up.current = &apex.init_ctx;
	mumu_get_status(&st);
	__atomic_store_n(&apex.boot, st.n_restarts + 1, __ATOMIC_RELEASE);
	apex_main();
	/* An initialisation process that ends without SET_PARTITION_MODE: NORMAL. */
	{
		RETURN_CODE_TYPE rc;

		SET_PARTITION_MODE(NORMAL, &rc);
	}
	return 0;
}
