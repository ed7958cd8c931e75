/* SPDX-License-Identifier: MIT */
/* APEX partition, process and time services (ARINC 653 P1 3.2-3.4) on the kernel (kernel.h). */
#include "apex/kernel.h"
#include "arinc653/mumu.h"

#define RETURN(rc)                   \
	do {                         \
		*RETURN_CODE = (rc); \
		k_leave();           \
		return;              \
	} while (0)

static bool is_time(SYSTEM_TIME_TYPE t)
{
	return t == INFINITE_TIME_VALUE || t >= 0;
}

/* --- partition --- */

void GET_PARTITION_STATUS(PARTITION_STATUS_TYPE *PARTITION_STATUS, RETURN_CODE_TYPE *RETURN_CODE)
{
	const struct mumu_info *info = (const struct mumu_info *)MUMU_INFO_GPA;
	struct mumu_partition_status st = { 0 };

	mumu_get_status(&st);
	k_enter();
	*PARTITION_STATUS = (PARTITION_STATUS_TYPE){
		.PERIOD = st.period_ns ? (SYSTEM_TIME_TYPE)st.period_ns : INFINITE_TIME_VALUE,
		.DURATION = st.duration_ns ? (SYSTEM_TIME_TYPE)st.duration_ns : INFINITE_TIME_VALUE,
		.IDENTIFIER = (PARTITION_ID_TYPE)st.partition_id,
		.LOCK_LEVEL = k_me()->lock_level,
		.OPERATING_MODE = apex.mode,
		.START_CONDITION = (START_CONDITION_TYPE)st.start_condition,
		.NUM_ASSIGNED_CORES = info->n_vcpus,
	};
	RETURN(NO_ERROR);
}

/* NORMAL: processes started in initialisation become ready (or wait for their delay and first
 * release point), and the initialisation process ends. */
static void go_normal(void)
{
	SYSTEM_TIME_TYPE now = k_now();

	apex.mode = NORMAL;
	apex.init_running = false;
	k_me()->current = NULL;
	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PROCESSES; i++) {
		struct apex_proc *p = &apex.procs[i];

		if (p->used)
			apex.cpu[p->core].n_procs++;
		if (!p->used || p->state != WAITING || p->wait != WAIT_NORMAL)
			continue;
		if (p->attr.PERIOD != INFINITE_TIME_VALUE) {
			p->wait = WAIT_PERIOD;
			p->release_at = now + p->start_delay;
		} else if (p->start_delay > 0) {
			p->wait = WAIT_START;
			p->wake_at = now + p->start_delay;
		} else {
			k_begin(p, now);
		}
	}
	for (uint32_t c = 1; c < apex.n_cpus; c++)
		apex.kicks |= 1u << c; /* the other vCPUs: their processes may run now */
	mumu_set_mode(MUMU_MODE_NORMAL);
	k_switch(); /* never back: the initialisation process is over */
	for (;;)
		;
}

void SET_PARTITION_MODE(OPERATING_MODE_TYPE OPERATING_MODE, RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	if (OPERATING_MODE > NORMAL || OPERATING_MODE < IDLE)
		RETURN(INVALID_PARAM);
	if (OPERATING_MODE == NORMAL && apex.mode == NORMAL)
		RETURN(NO_ACTION);
	if (OPERATING_MODE == WARM_START && apex.mode == COLD_START)
		RETURN(INVALID_MODE);
	if (OPERATING_MODE == NORMAL)
		go_normal();
	/* IDLE, COLD_START, WARM_START: mumu stops or restarts the partition. */
	*RETURN_CODE = NO_ERROR;
	mumu_set_mode(OPERATING_MODE == IDLE	     ? MUMU_MODE_IDLE
		      : OPERATING_MODE == COLD_START ? MUMU_MODE_COLD_START
						     : MUMU_MODE_WARM_START);
	for (;;)
		mumu_yield(); /* until the supervisor has done it */
}

/* --- module schedules (Part 2) --- */

/* Passed on to the supervisor, which switches at the end of the major frame or refuses (an
 * unknown id: ILLEGAL_REQUEST to mumu's health monitor, NEXT_SCHEDULE stays as it was). */
void SET_MODULE_SCHEDULE(SCHEDULE_ID_TYPE SCHEDULE_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	long r = SCHEDULE_ID < 0 ? -MUMU_EINVAL : mumu_set_schedule((uint32_t)SCHEDULE_ID);

	*RETURN_CODE = r == 0		   ? NO_ERROR
		       : r == -MUMU_EPERM  ? INVALID_CONFIG /* no SetModuleSchedule */
		       : r == -MUMU_EAGAIN ? NOT_AVAILABLE  /* requests over the VMM's rate */
					   : INVALID_PARAM;
}

void GET_MODULE_SCHEDULE_STATUS(SCHEDULE_STATUS_TYPE *SCHEDULE_STATUS,
				RETURN_CODE_TYPE *RETURN_CODE)
{
	struct mumu_schedule_status st = { 0 };

	mumu_get_schedule(&st);
	*SCHEDULE_STATUS = (SCHEDULE_STATUS_TYPE){
		.TIME_OF_LAST_SCHEDULE_SWITCH = (SYSTEM_TIME_TYPE)st.time_of_last_switch_ns,
		.CURRENT_SCHEDULE = (SCHEDULE_ID_TYPE)st.current_schedule_id,
		.NEXT_SCHEDULE = (SCHEDULE_ID_TYPE)st.next_schedule_id,
	};
	*RETURN_CODE = NO_ERROR;
}

void GET_MODULE_SCHEDULE_ID(const char *SCHEDULE_NAME, SCHEDULE_ID_TYPE *SCHEDULE_ID,
			    RETURN_CODE_TYPE *RETURN_CODE)
{
	uint64_t id = 0;
	int n = 0;

	for (; n < MAX_NAME_LENGTH && SCHEDULE_NAME[n] >= '0' && SCHEDULE_NAME[n] <= '9'; n++)
		if ((id = id * 10 + (uint64_t)(SCHEDULE_NAME[n] - '0')) > INT32_MAX)
			break;
	if (n == 0 || id > INT32_MAX || (n < MAX_NAME_LENGTH && SCHEDULE_NAME[n])) {
		*RETURN_CODE = INVALID_CONFIG; /* no schedule has that name */
		return;
	}
	*SCHEDULE_ID = (SCHEDULE_ID_TYPE)id;
	*RETURN_CODE = NO_ERROR;
}

/* --- processes --- */

static bool valid_attributes(const PROCESS_ATTRIBUTE_TYPE *a)
{
	return a->ENTRY_POINT && a->BASE_PRIORITY >= MIN_PRIORITY_VALUE &&
	       a->BASE_PRIORITY <= MAX_PRIORITY_VALUE &&
	       (a->PERIOD == INFINITE_TIME_VALUE || a->PERIOD > 0) &&
	       (a->TIME_CAPACITY == INFINITE_TIME_VALUE || a->TIME_CAPACITY > 0) &&
	       (a->PERIOD == INFINITE_TIME_VALUE || a->TIME_CAPACITY == INFINITE_TIME_VALUE ||
		a->TIME_CAPACITY <= a->PERIOD) &&
	       (a->DEADLINE == SOFT || a->DEADLINE == HARD) && a->NAME[0];
}

void CREATE_PROCESS(PROCESS_ATTRIBUTE_TYPE *ATTRIBUTES, PROCESS_ID_TYPE *PROCESS_ID,
		    RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p = NULL;
	size_t stack;

	k_enter();
	if (apex.mode == NORMAL)
		RETURN(INVALID_MODE);
	if (!valid_attributes(ATTRIBUTES))
		RETURN(INVALID_PARAM);
	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PROCESSES; i++) {
		if (apex.procs[i].used && k_name_eq(apex.procs[i].attr.NAME, ATTRIBUTES->NAME))
			RETURN(NO_ACTION);
		if (!apex.procs[i].used && !p)
			p = &apex.procs[i];
	}
	stack = (size_t)ATTRIBUTES->STACK_SIZE;
	if (!p || !(p->stack = k_stack(&stack)))
		RETURN(INVALID_CONFIG); /* no room for another process or its stack */
	p->used = true;
	p->attr = *ATTRIBUTES;
	k_name_copy(p->attr.NAME, ATTRIBUTES->NAME);
	p->stack_bytes = stack;
	p->state = DORMANT;
	k_fresh(p);
	*PROCESS_ID = k_id(p);
	RETURN(NO_ERROR);
}

/* START and DELAYED_START: in NORMAL at once, before it once the mode changes. */
static RETURN_CODE_TYPE start(PROCESS_ID_TYPE id, SYSTEM_TIME_TYPE delay)
{
	struct apex_proc *p = k_proc(id);
	SYSTEM_TIME_TYPE now = k_now();

	if (!p || p->error_handler || !is_time(delay) || delay == INFINITE_TIME_VALUE ||
	    (p->attr.PERIOD != INFINITE_TIME_VALUE && delay >= p->attr.PERIOD))
		return INVALID_PARAM;
	if (p->state != DORMANT)
		return NO_ACTION;
	k_fresh(p);
	k_touch(p); /* another vCPU's: it arms its timer, or runs it */
	p->state = WAITING;
	p->wait_seq = ++apex.seq;
	if (apex.mode != NORMAL) {
		p->wait = WAIT_NORMAL;
		p->start_delay = delay;
	} else if (p->attr.PERIOD != INFINITE_TIME_VALUE) {
		p->wait = WAIT_PERIOD;
		p->release_at = now + delay;
	} else if (delay > 0) {
		p->wait = WAIT_START;
		p->wake_at = now + delay;
	} else {
		k_begin(p, now);
	}
	return NO_ERROR;
}

void START(PROCESS_ID_TYPE PROCESS_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	DELAYED_START(PROCESS_ID, 0, RETURN_CODE);
}

void DELAYED_START(PROCESS_ID_TYPE PROCESS_ID, SYSTEM_TIME_TYPE DELAY_TIME,
		   RETURN_CODE_TYPE *RETURN_CODE)
{
	RETURN_CODE_TYPE rc;

	k_enter();
	rc = start(PROCESS_ID, DELAY_TIME);
	if (rc == NO_ERROR)
		k_preempt();
	RETURN(rc);
}

void STOP(PROCESS_ID_TYPE PROCESS_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p;

	k_enter();
	p = k_proc(PROCESS_ID);
	if (!p || p == k_cur())
		RETURN(INVALID_PARAM);
	if (p->state == DORMANT)
		RETURN(NO_ACTION);
	k_touch(p);
	/* Current on its vCPU (another), its context maybe being saved: that vCPU stops it
	 * once it is (at once, a kick). A START in between would be overwritten. */
	if (apex.cpu[p->core].current == p)
		p->stop_req = true;
	else
		k_stop(p);
	RETURN(NO_ERROR);
}

void STOP_SELF(void)
{
	k_enter();
	if (!k_cur()) { /* the initialisation process: nothing to stop */
		k_leave();
		return;
	}
	k_stop(k_cur());	/* the error handler too: the next error starts it afresh */
	k_me()->lock_level = 0; /* a stopped process holds no lock (P1 3.3.2.6) */
	/* Its context is not saved into it: another vCPU may START it (a fresh context) before
	 * this one has switched away. */
	k_me()->up.current = &k_me()->discard;
	k_switch();
	for (;;) /* never resumed: START makes a fresh context */
		;
}

void SUSPEND(PROCESS_ID_TYPE PROCESS_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p;

	k_enter();
	p = k_proc(PROCESS_ID);
	if (!p || p == k_cur())
		RETURN(INVALID_PARAM);
	if (p->attr.PERIOD != INFINITE_TIME_VALUE)
		RETURN(INVALID_MODE); /* a periodic process cannot be suspended */
	if (p->state == DORMANT)
		RETURN(INVALID_MODE);
	if (p->suspended || (p->state == WAITING && p->wait == WAIT_SUSPEND))
		RETURN(NO_ACTION);
	k_touch(p);
	if (p->state == WAITING || p->state == RUNNING) {
		/* Waiting: it goes on waiting, and needs RESUME as well. Running (on another
		 * vCPU): that vCPU suspends it at once (a kick), or, should it wait first, it
		 * waits suspended. */
		p->suspended = true;
	} else {
		p->state = WAITING;
		p->wait = WAIT_SUSPEND;
		p->wake_at = 0;
	}
	RETURN(NO_ERROR);
}

void SUSPEND_SELF(SYSTEM_TIME_TYPE TIME_OUT, RETURN_CODE_TYPE *RETURN_CODE)
{
	RETURN_CODE_TYPE rc;

	k_enter();
	if (!is_time(TIME_OUT))
		RETURN(INVALID_PARAM);
	if (!k_may_wait())
		RETURN(INVALID_MODE);
	if (k_cur()->attr.PERIOD != INFINITE_TIME_VALUE)
		RETURN(INVALID_MODE);
	if (TIME_OUT == 0)
		RETURN(NO_ERROR);
	rc = k_block(WAIT_SUSPEND, NULL, k_deadline(TIME_OUT));
	RETURN(rc);
}

void RESUME(PROCESS_ID_TYPE PROCESS_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p;

	k_enter();
	p = k_proc(PROCESS_ID);
	if (!p || p == k_cur())
		RETURN(INVALID_PARAM);
	if (p->state == DORMANT || p->attr.PERIOD != INFINITE_TIME_VALUE)
		RETURN(INVALID_MODE);
	if (!p->suspended && !(p->state == WAITING && p->wait == WAIT_SUSPEND))
		RETURN(NO_ACTION);
	p->suspended = false;
	if (p->wait == WAIT_SUSPEND)
		k_wake(p, NO_ERROR);
	k_preempt();
	RETURN(NO_ERROR);
}

void SET_PRIORITY(PROCESS_ID_TYPE PROCESS_ID, PRIORITY_TYPE PRIORITY, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p;

	k_enter();
	p = k_proc(PROCESS_ID);
	if (!p || PRIORITY < MIN_PRIORITY_VALUE || PRIORITY > MAX_PRIORITY_VALUE)
		RETURN(INVALID_PARAM);
	if (p->state == DORMANT)
		RETURN(INVALID_MODE);
	p->prio = PRIORITY;
	p->ready_seq = ++apex.seq; /* the youngest of its new priority */
	k_touch(p);
	k_preempt();
	RETURN(NO_ERROR);
}

/* The lock level is the vCPU's: it keeps other processes of this vCPU off it, not those of
 * the partition's other vCPUs (docs/apex.md). */
void LOCK_PREEMPTION(LOCK_LEVEL_TYPE *LOCK_LEVEL, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_cpu *me;

	k_enter();
	me = k_me();
	if (apex.mode != NORMAL || !me->current || me->current->error_handler) {
		*LOCK_LEVEL = me->lock_level;
		RETURN(NO_ACTION);
	}
	if (me->lock_level >= MAX_LOCK_LEVEL)
		RETURN(INVALID_CONFIG);
	*LOCK_LEVEL = ++me->lock_level;
	RETURN(NO_ERROR);
}

void UNLOCK_PREEMPTION(LOCK_LEVEL_TYPE *LOCK_LEVEL, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_cpu *me;

	k_enter();
	me = k_me();
	if (apex.mode != NORMAL || !me->current || me->current->error_handler ||
	    me->lock_level == 0) {
		*LOCK_LEVEL = me->lock_level;
		RETURN(NO_ACTION);
	}
	*LOCK_LEVEL = --me->lock_level;
	if (me->lock_level == 0)
		k_preempt();
	RETURN(NO_ERROR);
}

void GET_MY_ID(PROCESS_ID_TYPE *PROCESS_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	if (!k_cur())
		RETURN(INVALID_MODE); /* the initialisation process has no id */
	*PROCESS_ID = k_id(k_cur());
	RETURN(NO_ERROR);
}

void GET_PROCESS_ID(const char *PROCESS_NAME, PROCESS_ID_TYPE *PROCESS_ID,
		    RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PROCESSES; i++)
		if (apex.procs[i].used && !apex.procs[i].error_handler &&
		    k_name_eq(apex.procs[i].attr.NAME, PROCESS_NAME)) {
			*PROCESS_ID = i + 1;
			RETURN(NO_ERROR);
		}
	RETURN(INVALID_CONFIG);
}

void GET_PROCESS_STATUS(PROCESS_ID_TYPE PROCESS_ID, PROCESS_STATUS_TYPE *PROCESS_STATUS,
			RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p;

	k_enter();
	p = k_proc(PROCESS_ID);
	if (!p)
		RETURN(INVALID_PARAM);
	*PROCESS_STATUS = (PROCESS_STATUS_TYPE){
		.DEADLINE_TIME = p->deadline_at ? p->deadline_at : INFINITE_TIME_VALUE,
		.CURRENT_PRIORITY = p->prio,
		.PROCESS_STATE = p->state,
		.ATTRIBUTES = p->attr,
	};
	RETURN(NO_ERROR);
}

/* --- multicore (Part 1 supplement 4) --- */

void INITIALIZE_PROCESS_CORE_AFFINITY(PROCESS_ID_TYPE PROCESS_ID,
				      PROCESSOR_CORE_ID_TYPE PROCESSOR_CORE_ID,
				      RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p;

	k_enter();
	p = k_proc(PROCESS_ID);
	if (!p || p->error_handler ||
	    (PROCESSOR_CORE_ID != CORE_AFFINITY_NO_PREFERENCE &&
	     (PROCESSOR_CORE_ID < 0 || (uint32_t)PROCESSOR_CORE_ID >= apex.n_cpus)))
		RETURN(INVALID_PARAM);
	if (apex.mode == NORMAL)
		RETURN(INVALID_MODE);
	p->core =
	    PROCESSOR_CORE_ID == CORE_AFFINITY_NO_PREFERENCE ? 0 : (uint32_t)PROCESSOR_CORE_ID;
	RETURN(NO_ERROR);
}

void GET_MY_PROCESSOR_CORE_ID(PROCESSOR_CORE_ID_TYPE *PROCESSOR_CORE_ID,
			      RETURN_CODE_TYPE *RETURN_CODE)
{
	*PROCESSOR_CORE_ID = (PROCESSOR_CORE_ID_TYPE)mumu_vcpu_self();
	*RETURN_CODE = NO_ERROR;
}

/* --- time --- */

void GET_TIME(SYSTEM_TIME_TYPE *SYSTEM_TIME, RETURN_CODE_TYPE *RETURN_CODE)
{
	*SYSTEM_TIME = k_now();
	*RETURN_CODE = NO_ERROR;
}

void TIMED_WAIT(SYSTEM_TIME_TYPE DELAY_TIME, RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	if (!is_time(DELAY_TIME) || DELAY_TIME == INFINITE_TIME_VALUE)
		RETURN(INVALID_PARAM);
	if (!k_may_wait())
		RETURN(INVALID_MODE);
	if (DELAY_TIME == 0) { /* to the end of its priority's queue */
		k_cur()->ready_seq = ++apex.seq;
		k_preempt();
		RETURN(NO_ERROR);
	}
	k_block(WAIT_DELAY, NULL, k_now() + DELAY_TIME);
	RETURN(NO_ERROR);
}

void PERIODIC_WAIT(RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p;

	k_enter();
	p = k_cur();
	if (!k_may_wait())
		RETURN(INVALID_MODE);
	if (p->attr.PERIOD == INFINITE_TIME_VALUE)
		RETURN(INVALID_MODE);
	p->deadline_at = 0; /* this release is done */
	k_block(WAIT_PERIOD, NULL, 0);
	RETURN(NO_ERROR);
}

void REPLENISH(SYSTEM_TIME_TYPE BUDGET_TIME, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p;
	SYSTEM_TIME_TYPE deadline;

	k_enter();
	p = k_cur();
	if (!p || apex.mode != NORMAL)
		RETURN(NO_ACTION);
	if (!is_time(BUDGET_TIME))
		RETURN(INVALID_PARAM);
	deadline = BUDGET_TIME == INFINITE_TIME_VALUE ? 0 : k_now() + BUDGET_TIME;
	/* Not past the next release point of a periodic process. */
	if (p->attr.PERIOD != INFINITE_TIME_VALUE && (deadline == 0 || deadline > p->release_at))
		RETURN(INVALID_MODE);
	p->deadline_at = deadline;
	RETURN(NO_ERROR);
}

RETURN_CODE_TYPE apex_spawn(const char *name, void (*entry)(void), PRIORITY_TYPE priority,
			    SYSTEM_TIME_TYPE period, PROCESS_ID_TYPE *id)
{
	PROCESS_ATTRIBUTE_TYPE a = { .PERIOD = period,
				     .TIME_CAPACITY = INFINITE_TIME_VALUE,
				     .ENTRY_POINT = entry,
				     .STACK_SIZE = 8192,
				     .BASE_PRIORITY = priority,
				     .DEADLINE = SOFT };
	RETURN_CODE_TYPE rc;

	k_name_copy(a.NAME, name);
	CREATE_PROCESS(&a, id, &rc);
	if (rc == NO_ERROR)
		START(*id, &rc);
	return rc;
}
