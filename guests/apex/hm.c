/* SPDX-License-Identifier: MIT */
/*
 * APEX health monitoring (ARINC 653 P1 3.8): a process's errors go to the partition's error
 * handler process, which takes them with GET_ERROR_STATUS; without one, and for errors of the
 * handler itself, they go to mumu's health monitor (RAISE_ERROR: the partition's HM table).
 */
#include "apex/kernel.h"

#define RETURN(rc)                   \
	do {                         \
		*RETURN_CODE = (rc); \
		k_leave();           \
		return;              \
	} while (0)

#define ERRORS_MAX 16 /* errors waiting for the handler; more are counted, not kept */

static struct {
	ERROR_STATUS_TYPE q[ERRORS_MAX];
	unsigned head, n;
	uint64_t lost;
	struct apex_proc *handler;
} hm;

void k_hm_reset(void)
{
	__builtin_memset(&hm, 0, sizeof(hm));
}

struct apex_proc *k_error_handler(void)
{
	return hm.handler;
}

/* To mumu: the partition's error, as its health monitor sees it (docs/apex.md). */
static void to_mumu(ERROR_CODE_TYPE code, struct apex_proc *p, const char *msg, size_t len)
{
	char text[MUMU_ERROR_MSG_MAX];
	int n = mumu_snprintf(text, sizeof(text), "process '%s': %.*s",
			      p ? p->attr.NAME : "(partition)", (int)len, msg);

	mumu_raise_error((uint32_t)code, text, n > 0 ? (size_t)n : 0);
}

void k_error(ERROR_CODE_TYPE code, struct apex_proc *p, const char *msg, size_t len,
	     uint64_t address)
{
	ERROR_STATUS_TYPE *e;

	if (len > MAX_ERROR_MESSAGE_SIZE)
		len = MAX_ERROR_MESSAGE_SIZE;
	/* A faulty process cannot go on from where it is: it is FAULTED until STOP and START.
	 * So is one that missed a HARD deadline; a SOFT miss only reports. */
	if (p && code != APPLICATION_ERROR &&
	    (code != DEADLINE_MISSED || p->attr.DEADLINE == HARD)) {
		p->state = FAULTED;
		p->wait = WAIT_NONE;
		p->wait_obj = NULL;
		p->wake_at = p->release_at = p->deadline_at = 0;
		if (p == apex.cpu[p->core].current)
			apex.cpu[p->core].lock_level = 0;
	}
	if (!hm.handler || !p || p == hm.handler) {
		to_mumu(code, p, msg, len);
		return;
	}
	if (hm.n == ERRORS_MAX) {
		hm.lost++;
		return;
	}
	e = &hm.q[(hm.head + hm.n++) % ERRORS_MAX];
	*e = (ERROR_STATUS_TYPE){ .ERROR_CODE = code,
				  .LENGTH = (ERROR_MESSAGE_SIZE_TYPE)len,
				  .FAILED_PROCESS_ID = k_id(p),
				  .FAILED_ADDRESS = (SYSTEM_ADDRESS_TYPE)address };
	__builtin_memcpy(e->MESSAGE, msg, len);
	if (hm.handler->state == DORMANT) { /* it runs before every process */
		k_fresh(hm.handler);
		hm.handler->prio = MAX_PRIORITY_VALUE + 1;
		k_ready(hm.handler);
	}
}

void RAISE_APPLICATION_ERROR(ERROR_CODE_TYPE ERROR_CODE, MESSAGE_ADDR_TYPE MESSAGE_ADDR,
			     ERROR_MESSAGE_SIZE_TYPE LENGTH, RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	if (ERROR_CODE != APPLICATION_ERROR || LENGTH < 0 || LENGTH > MAX_ERROR_MESSAGE_SIZE ||
	    (LENGTH > 0 && !MESSAGE_ADDR))
		RETURN(INVALID_PARAM);
	k_error(APPLICATION_ERROR, k_cur(), (const char *)MESSAGE_ADDR, (size_t)LENGTH, 0);
	k_preempt(); /* the error handler, if there is one, runs now */
	RETURN(NO_ERROR);
}

void CREATE_ERROR_HANDLER(SYSTEM_ADDRESS_TYPE ENTRY_POINT, STACK_SIZE_TYPE STACK_SIZE,
			  RETURN_CODE_TYPE *RETURN_CODE)
{
	struct apex_proc *p = NULL;
	size_t stack;

	k_enter();
	if (apex.mode == NORMAL)
		RETURN(INVALID_MODE);
	if (hm.handler)
		RETURN(NO_ACTION);
	if (!ENTRY_POINT)
		RETURN(INVALID_PARAM);
	for (int i = 0; i < SYSTEM_LIMIT_NUMBER_OF_PROCESSES && !p; i++)
		if (!apex.procs[i].used)
			p = &apex.procs[i];
	stack = (size_t)STACK_SIZE;
	if (!p || !(p->stack = k_stack(&stack)))
		RETURN(INVALID_CONFIG);
	p->used = true;
	p->error_handler = true;
	p->attr = (PROCESS_ATTRIBUTE_TYPE){ .PERIOD = INFINITE_TIME_VALUE,
					    .TIME_CAPACITY = INFINITE_TIME_VALUE,
					    .ENTRY_POINT = ENTRY_POINT,
					    .STACK_SIZE = (STACK_SIZE_TYPE)stack,
					    .BASE_PRIORITY = MAX_PRIORITY_VALUE,
					    .DEADLINE = SOFT };
	k_name_copy(p->attr.NAME, "error handler");
	p->stack_bytes = stack;
	p->state = DORMANT;
	k_fresh(p);
	hm.handler = p;
	RETURN(NO_ERROR);
}

void GET_ERROR_STATUS(ERROR_STATUS_TYPE *ERROR_STATUS, RETURN_CODE_TYPE *RETURN_CODE)
{
	k_enter();
	if (!k_cur() || k_cur() != hm.handler)
		RETURN(INVALID_CONFIG);
	if (hm.n == 0)
		RETURN(NO_ACTION);
	*ERROR_STATUS = hm.q[hm.head];
	hm.head = (hm.head + 1) % ERRORS_MAX;
	hm.n--;
	RETURN(NO_ERROR);
}
