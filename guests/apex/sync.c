/* SPDX-License-Identifier: MIT */
/* APEX semaphores and events (ARINC 653 P1 3.7.2.3-4): counters and flags processes wait on. */
#include "apex/kernel.h"

#define RETURN(rc)                   \
	do {                         \
		*RETURN_CODE = (rc); \
		k_leave();           \
		return;              \
	} while (0)

struct semaphore {
	bool used;
	NAME_TYPE name;
	SEMAPHORE_VALUE_TYPE value, max;
	QUEUING_DISCIPLINE_TYPE discipline;
};

struct event {
	bool used;
	NAME_TYPE name;
	EVENT_STATE_TYPE state;
};

APEX_NAMED(struct semaphore);
APEX_NAMED(struct event);

static struct semaphore sems[SYSTEM_LIMIT_NUMBER_OF_SEMAPHORES];
static struct event events[SYSTEM_LIMIT_NUMBER_OF_EVENTS];

void k_sync_reset(void)
{
	__builtin_memset(sems, 0, sizeof(sems));
	__builtin_memset(events, 0, sizeof(events));
}

static struct semaphore *sem(SEMAPHORE_ID_TYPE id)
{
	return id >= 1 && id <= SYSTEM_LIMIT_NUMBER_OF_SEMAPHORES && sems[id - 1].used
		   ? &sems[id - 1]
		   : NULL;
}

static struct event *event(EVENT_ID_TYPE id)
{
	return id >= 1 && id <= SYSTEM_LIMIT_NUMBER_OF_EVENTS && events[id - 1].used
		   ? &events[id - 1]
		   : NULL;
}

void CREATE_SEMAPHORE(const char *SEMAPHORE_NAME, SEMAPHORE_VALUE_TYPE CURRENT_VALUE,
		      SEMAPHORE_VALUE_TYPE MAXIMUM_VALUE,
		      QUEUING_DISCIPLINE_TYPE QUEUING_DISCIPLINE, SEMAPHORE_ID_TYPE *SEMAPHORE_ID,
		      RETURN_CODE_TYPE *RETURN_CODE)
{
	struct semaphore *free;
	int unused;

	k_enter();
	if (apex.mode == NORMAL)
		RETURN(INVALID_MODE);
	if (MAXIMUM_VALUE < 0 || MAXIMUM_VALUE > MAX_SEMAPHORE_VALUE || CURRENT_VALUE < 0 ||
	    CURRENT_VALUE > MAXIMUM_VALUE ||
	    (QUEUING_DISCIPLINE != FIFO && QUEUING_DISCIPLINE != PRIORITY))
		RETURN(INVALID_PARAM);
	if (k_lookup(sems, sizeof(sems[0]), SYSTEM_LIMIT_NUMBER_OF_SEMAPHORES, SEMAPHORE_NAME,
		     &unused) >= 0)
		RETURN(NO_ACTION);
	if (unused < 0)
		RETURN(INVALID_CONFIG);
	free = &sems[unused];
	*free = (struct semaphore){ .used = true,
				    .value = CURRENT_VALUE,
				    .max = MAXIMUM_VALUE,
				    .discipline = QUEUING_DISCIPLINE };
	k_name_copy(free->name, SEMAPHORE_NAME);
	*SEMAPHORE_ID = (SEMAPHORE_ID_TYPE)(free - sems) + 1;
	RETURN(NO_ERROR);
}

void WAIT_SEMAPHORE(SEMAPHORE_ID_TYPE SEMAPHORE_ID, SYSTEM_TIME_TYPE TIME_OUT,
		    RETURN_CODE_TYPE *RETURN_CODE)
{
	struct semaphore *s;

	k_enter();
	s = sem(SEMAPHORE_ID);
	if (!s || TIME_OUT < INFINITE_TIME_VALUE)
		RETURN(INVALID_PARAM);
	if (s->value > 0) {
		s->value--;
		RETURN(NO_ERROR);
	}
	if (TIME_OUT == 0)
		RETURN(NOT_AVAILABLE);
	if (!k_may_wait())
		RETURN(INVALID_MODE);
	RETURN(k_block(WAIT_OBJECT, s, k_deadline(TIME_OUT)));
}

void SIGNAL_SEMAPHORE(SEMAPHORE_ID_TYPE SEMAPHORE_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct semaphore *s;
	struct apex_proc *w;

	k_enter();
	s = sem(SEMAPHORE_ID);
	if (!s)
		RETURN(INVALID_PARAM);
	w = k_first_waiter(s, s->discipline);
	if (w) { /* the count stays 0: the waiter has it */
		k_wake(w, NO_ERROR);
		k_preempt();
		RETURN(NO_ERROR);
	}
	if (s->value == s->max)
		RETURN(NO_ACTION);
	s->value++;
	RETURN(NO_ERROR);
}

void GET_SEMAPHORE_ID(const char *SEMAPHORE_NAME, SEMAPHORE_ID_TYPE *SEMAPHORE_ID,
		      RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	RETURN(k_name_id(sems, sizeof(sems[0]), SYSTEM_LIMIT_NUMBER_OF_SEMAPHORES, SEMAPHORE_NAME,
			 SEMAPHORE_ID));
}

void GET_SEMAPHORE_STATUS(SEMAPHORE_ID_TYPE SEMAPHORE_ID, SEMAPHORE_STATUS_TYPE *SEMAPHORE_STATUS,
			  RETURN_CODE_TYPE *RETURN_CODE)
{
	struct semaphore *s;

	k_enter();
	s = sem(SEMAPHORE_ID);
	if (!s)
		RETURN(INVALID_PARAM);
	*SEMAPHORE_STATUS = (SEMAPHORE_STATUS_TYPE){ .CURRENT_VALUE = s->value,
						     .MAXIMUM_VALUE = s->max,
						     .WAITING_PROCESSES = k_waiters(s) };
	RETURN(NO_ERROR);
}

void CREATE_EVENT(const char *EVENT_NAME, EVENT_ID_TYPE *EVENT_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct event *free;
	int unused;

	k_enter();
	if (apex.mode == NORMAL)
		RETURN(INVALID_MODE);
	if (k_lookup(events, sizeof(events[0]), SYSTEM_LIMIT_NUMBER_OF_EVENTS, EVENT_NAME,
		     &unused) >= 0)
		RETURN(NO_ACTION);
	if (unused < 0)
		RETURN(INVALID_CONFIG);
	free = &events[unused];
	*free = (struct event){ .used = true, .state = DOWN };
	k_name_copy(free->name, EVENT_NAME);
	*EVENT_ID = (EVENT_ID_TYPE)(free - events) + 1;
	RETURN(NO_ERROR);
}

void SET_EVENT(EVENT_ID_TYPE EVENT_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct event *e;
	struct apex_proc *w;
	bool woke = false;

	k_enter();
	e = event(EVENT_ID);
	if (!e)
		RETURN(INVALID_PARAM);
	e->state = UP;
	while ((w = k_first_waiter(e, FIFO))) { /* every waiter goes on */
		k_wake(w, NO_ERROR);
		woke = true;
	}
	if (woke)
		k_preempt();
	RETURN(NO_ERROR);
}

void RESET_EVENT(EVENT_ID_TYPE EVENT_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct event *e;

	k_enter();
	e = event(EVENT_ID);
	if (!e)
		RETURN(INVALID_PARAM);
	e->state = DOWN;
	RETURN(NO_ERROR);
}

void WAIT_EVENT(EVENT_ID_TYPE EVENT_ID, SYSTEM_TIME_TYPE TIME_OUT, RETURN_CODE_TYPE *RETURN_CODE)
{
	struct event *e;

	k_enter();
	e = event(EVENT_ID);
	if (!e || TIME_OUT < INFINITE_TIME_VALUE)
		RETURN(INVALID_PARAM);
	if (e->state == UP)
		RETURN(NO_ERROR);
	if (TIME_OUT == 0)
		RETURN(NOT_AVAILABLE);
	if (!k_may_wait())
		RETURN(INVALID_MODE);
	RETURN(k_block(WAIT_OBJECT, e, k_deadline(TIME_OUT)));
}

void GET_EVENT_ID(const char *EVENT_NAME, EVENT_ID_TYPE *EVENT_ID, RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	RETURN(k_name_id(events, sizeof(events[0]), SYSTEM_LIMIT_NUMBER_OF_EVENTS, EVENT_NAME,
			 EVENT_ID));
}

void GET_EVENT_STATUS(EVENT_ID_TYPE EVENT_ID, EVENT_STATUS_TYPE *EVENT_STATUS,
		      RETURN_CODE_TYPE *RETURN_CODE)
{
	struct event *e;

	k_enter();
	e = event(EVENT_ID);
	if (!e)
		RETURN(INVALID_PARAM);
	*EVENT_STATUS =
	    (EVENT_STATUS_TYPE){ .EVENT_STATE = e->state, .WAITING_PROCESSES = k_waiters(e) };
	RETURN(NO_ERROR);
}
