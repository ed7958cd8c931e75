/* SPDX-License-Identifier: MIT */
/*
 * apex_services.bin: every APEX service of this version and its return codes, checked from
 * inside a partition (tests/e2e/apex.sh reads the lines). Each check prints
 *
 *     apex: ok NAME      or      apex: FAIL NAME (line L: got X)
 *
 * and the run ends with "apex: services done, N ok, M failed". The initialisation process
 * checks what may be done before NORMAL; the process "checker" the rest, with "helper"
 * (lower priority) signalling, displaying and sending what checker waits for.
 */
#include "apex_check.h"
#include "arinc653/apex.h"

static SEMAPHORE_ID_TYPE sem, sem_full;
static EVENT_ID_TYPE ev;
static BLACKBOARD_ID_TYPE bb;
static BUFFER_ID_TYPE buf;
static PROCESS_ID_TYPE checker_id, helper_id, sleeper_id;
static volatile int helper_step, handler_errors;
static volatile ERROR_CODE_TYPE handler_code;
static volatile PROCESS_ID_TYPE handler_pid;

static void error_handler(void)
{
	ERROR_STATUS_TYPE st;
	RETURN_CODE_TYPE rc;

	for (;;) {
		GET_ERROR_STATUS(&st, &rc);
		if (rc != NO_ERROR)
			break;
		handler_errors++;
		handler_code = st.ERROR_CODE;
		handler_pid = st.FAILED_PROCESS_ID;
		mumu_printf("apex: error handler: code %d process %d '%.*s'\n", st.ERROR_CODE,
			    st.FAILED_PROCESS_ID, st.LENGTH, (const char *)st.MESSAGE);
	}
	STOP_SELF();
}

/* Lower priority than checker: runs only when checker waits, and does what it waits for. */
static void helper(void)
{
	RETURN_CODE_TYPE rc;
	APEX_BYTE msg[8] = "board!!";

	helper_step = 1;
	SIGNAL_SEMAPHORE(sem, &rc); /* wakes checker on the semaphore */
	helper_step = 2;
	DISPLAY_BLACKBOARD(bb, msg, 8, &rc); /* wakes checker on the blackboard */
	helper_step = 3;
	SEND_BUFFER(buf, (MESSAGE_ADDR_TYPE) "direct", 7, 0, &rc); /* straight to checker */
	helper_step = 4;
	SET_EVENT(ev, &rc);
	helper_step = 5;
	SUSPEND_SELF(INFINITE_TIME_VALUE, &rc); /* checker RESUMEs it */
	helper_step = rc == NO_ERROR ? 6 : -6;
	STOP_SELF();
}

static void sleeper(void)
{
	RETURN_CODE_TYPE rc;

	for (;;)
		TIMED_WAIT(1000000000, &rc);
}

static void check_processes(void)
{
	PROCESS_STATUS_TYPE st;
	PROCESS_ID_TYPE id = 0;
	PROCESS_ATTRIBUTE_TYPE a = { 0 };
	LOCK_LEVEL_TYPE level;
	RETURN_CODE_TYPE rc;

	TIMED_WAIT(1000000, &rc); /* sleeper runs into its TIMED_WAIT */
	CREATE_PROCESS(&a, &id, &rc);
	CHECK("CREATE_PROCESS in NORMAL: INVALID_MODE", rc, INVALID_MODE);
	SET_PARTITION_MODE(NORMAL, &rc);
	CHECK("SET_PARTITION_MODE NORMAL again: NO_ACTION", rc, NO_ACTION);
	GET_MY_ID(&id, &rc);
	CHECK("GET_MY_ID", id, checker_id);
	GET_PROCESS_ID("checker", &id, &rc);
	CHECK("GET_PROCESS_ID", id, checker_id);
	GET_PROCESS_ID("nobody", &id, &rc);
	CHECK("GET_PROCESS_ID unknown: INVALID_CONFIG", rc, INVALID_CONFIG);
	GET_PROCESS_STATUS(checker_id, &st, &rc);
	CHECK("GET_PROCESS_STATUS: RUNNING", st.PROCESS_STATE, RUNNING);
	CHECK("GET_PROCESS_STATUS: priority", st.CURRENT_PRIORITY, 20);
	GET_PROCESS_STATUS(99, &st, &rc);
	CHECK("GET_PROCESS_STATUS bad id: INVALID_PARAM", rc, INVALID_PARAM);
	START(checker_id, &rc);
	CHECK("START a running process: NO_ACTION", rc, NO_ACTION);
	STOP(checker_id, &rc);
	CHECK("STOP itself: INVALID_PARAM", rc, INVALID_PARAM);
	SUSPEND(checker_id, &rc);
	CHECK("SUSPEND itself: INVALID_PARAM", rc, INVALID_PARAM);
	RESUME(sleeper_id, &rc);
	CHECK("RESUME a process not suspended: NO_ACTION", rc, NO_ACTION);
	SET_PRIORITY(checker_id, 0, &rc);
	CHECK("SET_PRIORITY 0: INVALID_PARAM", rc, INVALID_PARAM);
	SET_PRIORITY(checker_id, 21, &rc);
	GET_PROCESS_STATUS(checker_id, &st, &rc);
	CHECK("SET_PRIORITY", st.CURRENT_PRIORITY, 21);
	SET_PRIORITY(checker_id, 20, &rc);
	LOCK_PREEMPTION(&level, &rc);
	CHECK("LOCK_PREEMPTION", level, 1);
	UNLOCK_PREEMPTION(&level, &rc);
	CHECK("UNLOCK_PREEMPTION", level, 0);
	UNLOCK_PREEMPTION(&level, &rc);
	CHECK("UNLOCK_PREEMPTION unlocked: NO_ACTION", rc, NO_ACTION);
	SUSPEND(sleeper_id, &rc);
	CHECK("SUSPEND a waiting process", rc, NO_ERROR);
	SUSPEND(sleeper_id, &rc);
	CHECK("SUSPEND it again: NO_ACTION", rc, NO_ACTION);
	RESUME(sleeper_id, &rc);
	CHECK("RESUME it", rc, NO_ERROR);
	GET_PROCESS_STATUS(sleeper_id, &st, &rc);
	CHECK("it waits on (its delay)", st.PROCESS_STATE, WAITING);
	STOP(sleeper_id, &rc);
	GET_PROCESS_STATUS(sleeper_id, &st, &rc);
	CHECK("STOP: DORMANT", st.PROCESS_STATE, DORMANT);
	STOP(sleeper_id, &rc);
	CHECK("STOP a dormant process: NO_ACTION", rc, NO_ACTION);
}

static void check_time(void)
{
	SYSTEM_TIME_TYPE t0, t1;
	RETURN_CODE_TYPE rc;

	GET_TIME(&t0, &rc);
	TIMED_WAIT(2000000, &rc);
	GET_TIME(&t1, &rc);
	CHECK("TIMED_WAIT 2 ms", rc, NO_ERROR);
	CHECK("TIMED_WAIT waited 2 ms or more", t1 - t0 >= 2000000, 1);
	TIMED_WAIT(-5, &rc);
	CHECK("TIMED_WAIT negative: INVALID_PARAM", rc, INVALID_PARAM);
	PERIODIC_WAIT(&rc);
	CHECK("PERIODIC_WAIT aperiodic: INVALID_MODE", rc, INVALID_MODE);
	SUSPEND_SELF(1000000, &rc);
	CHECK("SUSPEND_SELF 1 ms: TIMED_OUT", rc, TIMED_OUT);
	REPLENISH(5000000, &rc);
	CHECK("REPLENISH", rc, NO_ERROR);
	REPLENISH(INFINITE_TIME_VALUE, &rc);
	CHECK("REPLENISH infinite", rc, NO_ERROR);
}

static void check_semaphores(void)
{
	SEMAPHORE_STATUS_TYPE st;
	SYSTEM_TIME_TYPE t0, t1;
	RETURN_CODE_TYPE rc;

	WAIT_SEMAPHORE(sem, 0, &rc);
	CHECK("WAIT_SEMAPHORE 0 at 0: NOT_AVAILABLE", rc, NOT_AVAILABLE);
	GET_TIME(&t0, &rc);
	WAIT_SEMAPHORE(sem, 1000000, &rc);
	CHECK("WAIT_SEMAPHORE 1 ms: TIMED_OUT", rc, TIMED_OUT);
	GET_TIME(&t1, &rc);
	CHECK("WAIT_SEMAPHORE timed out after 1 ms or more", t1 - t0 >= 1000000, 1);
	START(helper_id, &rc);
	CHECK("START helper", rc, NO_ERROR);
	WAIT_SEMAPHORE(sem, INFINITE_TIME_VALUE, &rc);
	CHECK("WAIT_SEMAPHORE, SIGNAL_SEMAPHORE by helper", rc, NO_ERROR);
	CHECK("helper had signalled", helper_step, 1);
	SIGNAL_SEMAPHORE(sem_full, &rc);
	CHECK("SIGNAL_SEMAPHORE at its maximum: NO_ACTION", rc, NO_ACTION);
	WAIT_SEMAPHORE(99, 0, &rc);
	CHECK("WAIT_SEMAPHORE bad id: INVALID_PARAM", rc, INVALID_PARAM);
	GET_SEMAPHORE_STATUS(sem_full, &st, &rc);
	CHECK("GET_SEMAPHORE_STATUS", st.CURRENT_VALUE * 100 + st.MAXIMUM_VALUE, 202);
}

static void check_messages(void)
{
	APEX_BYTE msg[16];
	MESSAGE_SIZE_TYPE len;
	BUFFER_STATUS_TYPE bs;
	RETURN_CODE_TYPE rc;

	READ_BLACKBOARD(bb, INFINITE_TIME_VALUE, msg, &len, &rc); /* helper displays it */
	CHECK("READ_BLACKBOARD woken by DISPLAY_BLACKBOARD", rc, NO_ERROR);
	CHECK("READ_BLACKBOARD message", len == 8 && __builtin_memcmp(msg, "board!!", 8) == 0, 1);
	READ_BLACKBOARD(bb, 0, msg, &len, &rc);
	CHECK("READ_BLACKBOARD displayed: NO_ERROR", rc, NO_ERROR);
	CLEAR_BLACKBOARD(bb, &rc);
	READ_BLACKBOARD(bb, 0, msg, &len, &rc);
	CHECK("READ_BLACKBOARD cleared: NOT_AVAILABLE", rc, NOT_AVAILABLE);
	DISPLAY_BLACKBOARD(bb, msg, 17, &rc);
	CHECK("DISPLAY_BLACKBOARD too long: INVALID_PARAM", rc, INVALID_PARAM);
	RECEIVE_BUFFER(buf, INFINITE_TIME_VALUE, msg, &len, &rc); /* helper sends */
	CHECK("RECEIVE_BUFFER woken by SEND_BUFFER", rc, NO_ERROR);
	CHECK("RECEIVE_BUFFER message", len == 7 && __builtin_memcmp(msg, "direct", 7) == 0, 1);
	SEND_BUFFER(buf, (MESSAGE_ADDR_TYPE) "one", 4, 0, &rc);
	SEND_BUFFER(buf, (MESSAGE_ADDR_TYPE) "two", 4, 0, &rc);
	CHECK("SEND_BUFFER two", rc, NO_ERROR);
	SEND_BUFFER(buf, (MESSAGE_ADDR_TYPE) "three", 6, 0, &rc);
	CHECK("SEND_BUFFER full: NOT_AVAILABLE", rc, NOT_AVAILABLE);
	SEND_BUFFER(buf, (MESSAGE_ADDR_TYPE) "three", 6, 1000000, &rc);
	CHECK("SEND_BUFFER full 1 ms: TIMED_OUT", rc, TIMED_OUT);
	GET_BUFFER_STATUS(buf, &bs, &rc);
	CHECK("GET_BUFFER_STATUS", bs.NB_MESSAGE * 10 + bs.MAX_NB_MESSAGE, 22);
	RECEIVE_BUFFER(buf, 0, msg, &len, &rc);
	CHECK("RECEIVE_BUFFER first in, first out", __builtin_memcmp(msg, "one", 4), 0);
	RECEIVE_BUFFER(buf, 0, msg, &len, &rc);
	RECEIVE_BUFFER(buf, 0, msg, &len, &rc);
	CHECK("RECEIVE_BUFFER empty: NOT_AVAILABLE", rc, NOT_AVAILABLE);
	SEND_BUFFER(buf, msg, 0, 0, &rc);
	CHECK("SEND_BUFFER length 0: INVALID_PARAM", rc, INVALID_PARAM);
}

static void check_events(void)
{
	EVENT_STATUS_TYPE st;
	RETURN_CODE_TYPE rc;

	WAIT_EVENT(ev, INFINITE_TIME_VALUE, &rc); /* helper sets it */
	CHECK("WAIT_EVENT woken by SET_EVENT", rc, NO_ERROR);
	WAIT_EVENT(ev, 0, &rc);
	CHECK("WAIT_EVENT up: NO_ERROR", rc, NO_ERROR);
	RESET_EVENT(ev, &rc);
	WAIT_EVENT(ev, 0, &rc);
	CHECK("WAIT_EVENT down, 0: NOT_AVAILABLE", rc, NOT_AVAILABLE);
	WAIT_EVENT(ev, 1000000, &rc);
	CHECK("WAIT_EVENT down, 1 ms: TIMED_OUT", rc, TIMED_OUT);
	GET_EVENT_STATUS(ev, &st, &rc);
	CHECK("GET_EVENT_STATUS", st.EVENT_STATE, DOWN);
	SET_EVENT(77, &rc);
	CHECK("SET_EVENT bad id: INVALID_PARAM", rc, INVALID_PARAM);
}

static void check_hm(void)
{
	RETURN_CODE_TYPE rc;
	ERROR_STATUS_TYPE st;

	RAISE_APPLICATION_ERROR(NUMERIC_ERROR, (MESSAGE_ADDR_TYPE) "x", 1, &rc);
	CHECK("RAISE_APPLICATION_ERROR other code: INVALID_PARAM", rc, INVALID_PARAM);
	RAISE_APPLICATION_ERROR(APPLICATION_ERROR, (MESSAGE_ADDR_TYPE) "sensor stuck", 12, &rc);
	CHECK("RAISE_APPLICATION_ERROR", rc, NO_ERROR);
	CHECK("the error handler ran first", handler_errors, 1);
	CHECK("it got APPLICATION_ERROR", handler_code, APPLICATION_ERROR);
	CHECK("from this process", handler_pid, checker_id);
	GET_ERROR_STATUS(&st, &rc);
	CHECK("GET_ERROR_STATUS not the handler: INVALID_CONFIG", rc, INVALID_CONFIG);
}

/* Part 2. This partition may not switch schedules: the request reaches the supervisor, which
 * refuses it (one ILLEGAL_REQUEST, IGNORE by default), and it is INVALID_CONFIG here. */
static void check_schedules(void)
{
	SCHEDULE_STATUS_TYPE st;
	SCHEDULE_ID_TYPE id = 0;
	RETURN_CODE_TYPE rc;

	GET_MODULE_SCHEDULE_STATUS(&st, &rc);
	CHECK("GET_MODULE_SCHEDULE_STATUS", rc, NO_ERROR);
	CHECK("GET_MODULE_SCHEDULE_STATUS: schedule 1, no switch pending",
	      st.CURRENT_SCHEDULE * 10 + st.NEXT_SCHEDULE, 11);
	GET_MODULE_SCHEDULE_ID("1", &id, &rc);
	CHECK("GET_MODULE_SCHEDULE_ID of \"1\"", id, 1);
	GET_MODULE_SCHEDULE_ID("night", &id, &rc);
	CHECK("GET_MODULE_SCHEDULE_ID unknown: INVALID_CONFIG", rc, INVALID_CONFIG);
	SET_MODULE_SCHEDULE(-1, &rc);
	CHECK("SET_MODULE_SCHEDULE -1: INVALID_PARAM", rc, INVALID_PARAM);
	SET_MODULE_SCHEDULE(1, &rc);
	CHECK("SET_MODULE_SCHEDULE without SetModuleSchedule: INVALID_CONFIG", rc, INVALID_CONFIG);
}

static void checker(void)
{
	RETURN_CODE_TYPE rc;

	check_processes();
	check_time();
	check_semaphores();
	check_messages();
	check_events();
	CHECK("helper suspended itself", helper_step, 5);
	RESUME(helper_id, &rc);
	CHECK("RESUME helper", rc, NO_ERROR);
	TIMED_WAIT(1000000, &rc); /* helper runs to its end */
	CHECK("helper resumed and stopped", helper_step, 6);
	check_hm();
	check_schedules();
	mumu_printf("apex: services done, %d ok, %d failed\n", n_ok, n_failed);
	STOP_SELF();
}

static void idle_process(void)
{
	STOP_SELF();
}

/* The table's limits: objects up to SYSTEM_LIMIT_*, then INVALID_CONFIG. */
static void check_limits(void)
{
	PROCESS_ATTRIBUTE_TYPE a = { .PERIOD = INFINITE_TIME_VALUE,
				     .TIME_CAPACITY = INFINITE_TIME_VALUE,
				     .ENTRY_POINT = idle_process,
				     .STACK_SIZE = 4096,
				     .BASE_PRIORITY = 1 };
	RETURN_CODE_TYPE rc = NO_ERROR;
	PROCESS_ID_TYPE id;
	EVENT_ID_TYPE e;
	int n = 4; /* checker, helper, sleeper and the error handler */

	for (; rc == NO_ERROR && n <= SYSTEM_LIMIT_NUMBER_OF_PROCESSES; n++) {
		mumu_snprintf(a.NAME, sizeof(a.NAME), "filler %d", n);
		CREATE_PROCESS(&a, &id, &rc);
	}
	CHECK("CREATE_PROCESS up to the limit", n - 1, SYSTEM_LIMIT_NUMBER_OF_PROCESSES);
	CHECK("CREATE_PROCESS beyond it: INVALID_CONFIG", rc, INVALID_CONFIG);
	n = 1; /* ev */
	for (rc = NO_ERROR; rc == NO_ERROR && n <= SYSTEM_LIMIT_NUMBER_OF_EVENTS; n++) {
		char name[16];

		mumu_snprintf(name, sizeof(name), "e%d", n);
		CREATE_EVENT(name, &e, &rc);
	}
	CHECK("CREATE_EVENT beyond the limit: INVALID_CONFIG", rc, INVALID_CONFIG);
}

static PROCESS_ID_TYPE create(const char *name, void (*entry)(void), PRIORITY_TYPE prio)
{
	PROCESS_ATTRIBUTE_TYPE a = { .PERIOD = INFINITE_TIME_VALUE,
				     .TIME_CAPACITY = INFINITE_TIME_VALUE,
				     .ENTRY_POINT = entry,
				     .STACK_SIZE = 16384,
				     .BASE_PRIORITY = prio,
				     .DEADLINE = SOFT };
	PROCESS_ID_TYPE id = 0;
	RETURN_CODE_TYPE rc;

	__builtin_memcpy(a.NAME, name, mumu_strlen(name) + 1);
	CREATE_PROCESS(&a, &id, &rc);
	CHECK(name, rc, NO_ERROR);
	return id;
}

void apex_main(void)
{
	PARTITION_STATUS_TYPE ps;
	PROCESS_ATTRIBUTE_TYPE a = { .PERIOD = INFINITE_TIME_VALUE,
				     .TIME_CAPACITY = INFINITE_TIME_VALUE,
				     .ENTRY_POINT = checker,
				     .BASE_PRIORITY = 20,
				     .NAME = "checker" };
	PROCESS_ID_TYPE id;
	SEMAPHORE_ID_TYPE s;
	BLACKBOARD_ID_TYPE b;
	BUFFER_ID_TYPE f;
	RETURN_CODE_TYPE rc;

	GET_PARTITION_STATUS(&ps, &rc);
	CHECK("GET_PARTITION_STATUS: COLD_START", ps.OPERATING_MODE, COLD_START);
	a.BASE_PRIORITY = 0;
	CREATE_PROCESS(&a, &id, &rc);
	CHECK("CREATE_PROCESS priority 0: INVALID_PARAM", rc, INVALID_PARAM);
	a.BASE_PRIORITY = 20;
	a.PERIOD = 1000000;
	a.TIME_CAPACITY = 2000000;
	CREATE_PROCESS(&a, &id, &rc);
	CHECK("CREATE_PROCESS capacity above period: INVALID_PARAM", rc, INVALID_PARAM);
	a.PERIOD = a.TIME_CAPACITY = INFINITE_TIME_VALUE;
	a.ENTRY_POINT = 0;
	CREATE_PROCESS(&a, &id, &rc);
	CHECK("CREATE_PROCESS no entry: INVALID_PARAM", rc, INVALID_PARAM);
	a.ENTRY_POINT = checker;
	checker_id = create("checker", checker, 20);
	CREATE_PROCESS(&a, &id, &rc);
	CHECK("CREATE_PROCESS same name: NO_ACTION", rc, NO_ACTION);
	helper_id = create("helper", helper, 10);
	sleeper_id = create("sleeper", sleeper, 5);
	GET_MY_ID(&id, &rc);
	CHECK("GET_MY_ID in initialisation: INVALID_MODE", rc, INVALID_MODE);
	TIMED_WAIT(1000, &rc);
	CHECK("TIMED_WAIT in initialisation: INVALID_MODE", rc, INVALID_MODE);
	CREATE_SEMAPHORE("sem", 3, 2, FIFO, &s, &rc);
	CHECK("CREATE_SEMAPHORE value above maximum: INVALID_PARAM", rc, INVALID_PARAM);
	CREATE_SEMAPHORE("sem", 0, 1, PRIORITY, &sem, &rc);
	CHECK("CREATE_SEMAPHORE", rc, NO_ERROR);
	CREATE_SEMAPHORE("sem", 0, 1, PRIORITY, &s, &rc);
	CHECK("CREATE_SEMAPHORE same name: NO_ACTION", rc, NO_ACTION);
	CREATE_SEMAPHORE("full", 2, 2, FIFO, &sem_full, &rc);
	GET_SEMAPHORE_ID("full", &s, &rc);
	CHECK("GET_SEMAPHORE_ID", s, sem_full);
	GET_SEMAPHORE_ID("none", &s, &rc);
	CHECK("GET_SEMAPHORE_ID unknown: INVALID_CONFIG", rc, INVALID_CONFIG);
	CREATE_EVENT("ev", &ev, &rc);
	CHECK("CREATE_EVENT", rc, NO_ERROR);
	CREATE_BLACKBOARD("bb", 0, &b, &rc);
	CHECK("CREATE_BLACKBOARD size 0: INVALID_PARAM", rc, INVALID_PARAM);
	CREATE_BLACKBOARD("bb", 16, &bb, &rc);
	CHECK("CREATE_BLACKBOARD", rc, NO_ERROR);
	CREATE_BUFFER("buf", 16, 0, FIFO, &f, &rc);
	CHECK("CREATE_BUFFER no room: INVALID_PARAM", rc, INVALID_PARAM);
	CREATE_BUFFER("buf", 16, 2, FIFO, &buf, &rc);
	CHECK("CREATE_BUFFER", rc, NO_ERROR);
	CREATE_ERROR_HANDLER(error_handler, 16384, &rc);
	CHECK("CREATE_ERROR_HANDLER", rc, NO_ERROR);
	CREATE_ERROR_HANDLER(error_handler, 16384, &rc);
	CHECK("CREATE_ERROR_HANDLER again: NO_ACTION", rc, NO_ACTION);
	START(99, &rc);
	CHECK("START bad id: INVALID_PARAM", rc, INVALID_PARAM);
	check_limits();
	START(checker_id, &rc);
	CHECK("START before NORMAL", rc, NO_ERROR);
	START(sleeper_id, &rc);
	SET_PARTITION_MODE(NORMAL, &rc);
	CHECK("SET_PARTITION_MODE NORMAL does not return", 0, 1);
}
