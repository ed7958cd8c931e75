/* SPDX-License-Identifier: MIT */
/*
 * apex_smp.bin: processes on both vCPUs of a partition (INITIALIZE_PROCESS_CORE_AFFINITY),
 * judged from inside (tests/e2e/apex.sh): two processes run at the same time on the two
 * vCPUs; a semaphore, a buffer and RESUME wake a process on the other vCPU; STOP and SUSPEND
 * of a process running there take it off at once; a process woken from vCPU 0 preempts the
 * one running there; a process that stops itself there is started again at once, 200 times;
 * an exception there reaches the error handler on vCPU 0; a periodic
 * process there keeps its releases; LOCK_PREEMPTION on one vCPU does not hold the other.
 * "judge" (vCPU 0, highest priority) runs each case:
 *
 *     apex: ok NAME   /   apex: FAIL NAME (...)   /   apex: smp done, N ok, M failed
 *
 * and prints the cross-vCPU wake-up latencies it saw (never judged): of an idle vCPU (it
 * polls, no exit) and of one that must be preempted (a kick).
 */
#include "apex_check.h"
#include "arinc653/apex.h"

enum { SPIN0, SPIN1, WAITER, RUNNER, PREEMPTER, ONESHOT, FAULTY, PERIODIC, N_PROCS };

static PROCESS_ID_TYPE ids[N_PROCS], judge_id;
static SEMAPHORE_ID_TYPE sem, sem2;
static BUFFER_ID_TYPE buf;
static volatile SYSTEM_TIME_TYPE spin_from[2], spin_to[2], woke_at, signalled_at, preempted_at,
    signalled2_at;
static volatile RETURN_CODE_TYPE preempter_rc = -1;
static volatile PROCESSOR_CORE_ID_TYPE spin_core[2] = { -1, -1 }, waiter_core = -1;
static volatile RETURN_CODE_TYPE waiter_rc[3] = { -1, -1, -1 };
static volatile char waiter_msg[8];
static volatile uint64_t runner_count, runner_starts;
static volatile int jobs, handler_seen, handler_code = -1, handler_pid;

static SYSTEM_TIME_TYPE now(void)
{
	SYSTEM_TIME_TYPE t;
	RETURN_CODE_TYPE rc;

	GET_TIME(&t, &rc);
	return t;
}

static void wait_ms(int ms)
{
	RETURN_CODE_TYPE rc;

	TIMED_WAIT((SYSTEM_TIME_TYPE)ms * 1000000, &rc);
}

/* SPIN0 on vCPU 0 and SPIN1 on vCPU 1: 4 ms of work each, started together. */
static void spin(void)
{
	PROCESS_ID_TYPE me;
	PROCESSOR_CORE_ID_TYPE core;
	RETURN_CODE_TYPE rc;
	int k;

	GET_MY_ID(&me, &rc);
	k = me == ids[SPIN1];
	GET_MY_PROCESSOR_CORE_ID(&core, &rc);
	spin_core[k] = core;
	spin_from[k] = now();
	while (now() < spin_from[k] + 4000000)
		;
	spin_to[k] = now();
	STOP_SELF();
}

/* On vCPU 1: woken from vCPU 0 by a semaphore, a buffer message, RESUME. */
static void waiter(void)
{
	PROCESSOR_CORE_ID_TYPE core;
	MESSAGE_SIZE_TYPE len = 0;
	RETURN_CODE_TYPE rc;

	GET_MY_PROCESSOR_CORE_ID(&core, &rc);
	waiter_core = core;
	WAIT_SEMAPHORE(sem, 1000000000, &rc);
	woke_at = now();
	waiter_rc[0] = rc;
	RECEIVE_BUFFER(buf, 1000000000, (MESSAGE_ADDR_TYPE)waiter_msg, &len, &rc);
	waiter_rc[1] = rc == NO_ERROR && len == 6 ? NO_ERROR : rc;
	SUSPEND_SELF(INFINITE_TIME_VALUE, &rc);
	waiter_rc[2] = rc;
	STOP_SELF();
}

/* On vCPU 1: counts for ever, from a fresh start each time it is started. */
static void runner(void)
{
	runner_starts++;
	runner_count = 0;
	for (;;)
		runner_count++;
}

/* On vCPU 1 above the runner: woken from vCPU 0 while the runner runs there (a kick). */
static void preempter(void)
{
	RETURN_CODE_TYPE rc;

	WAIT_SEMAPHORE(sem2, 1000000000, &rc);
	preempted_at = now();
	preempter_rc = rc;
	STOP_SELF();
}

/* On vCPU 1: counts once and stops itself; vCPU 0 starts it again at once, each time. */
static volatile int oneshots;

static void oneshot(void)
{
	oneshots++;
	STOP_SELF();
}

/* START right after the process stopped itself on the other vCPU: the new context must not be
 * overwritten by the old one, still being saved there. */
static int restart_storm(void)
{
	RETURN_CODE_TYPE rc;
	int started = 0;

	for (int k = 0; k < 200; k++) {
		SYSTEM_TIME_TYPE t0 = now();
		int seen = oneshots;

		do
			START(ids[ONESHOT], &rc);
		while (rc == NO_ACTION && now() < t0 + 2000000); /* until it is DORMANT */
		started += rc == NO_ERROR;
		while (oneshots == seen && now() < t0 + 4000000)
			;
	}
	return oneshots == started ? started : -oneshots;
}

static void faulty(void)
{
	__asm__ volatile("ud2");
}

/* On vCPU 1: a 2 ms period, its own releases on its own vCPU's timer. */
static void periodic(void)
{
	RETURN_CODE_TYPE rc;

	for (;;) {
		jobs++;
		PERIODIC_WAIT(&rc);
	}
}

static void error_handler(void)
{
	ERROR_STATUS_TYPE st;
	RETURN_CODE_TYPE rc;

	for (;;) {
		GET_ERROR_STATUS(&st, &rc);
		if (rc != NO_ERROR)
			break;
		handler_seen++;
		handler_code = st.ERROR_CODE;
		handler_pid = st.FAILED_PROCESS_ID;
	}
	STOP_SELF();
}

/* Whether the runner on vCPU 1 counts: it does within 1 ms. */
static bool runner_moves(void)
{
	uint64_t c0 = runner_count;
	SYSTEM_TIME_TYPE t0 = now();

	while (now() < t0 + 1000000 && runner_count == c0)
		;
	return runner_count != c0;
}

static void judge(void)
{
	PROCESS_STATUS_TYPE st;
	LOCK_LEVEL_TYPE level;
	RETURN_CODE_TYPE rc;
	SYSTEM_TIME_TYPE overlap;

	INITIALIZE_PROCESS_CORE_AFFINITY(ids[SPIN0], 1, &rc);
	CHECK("INITIALIZE_PROCESS_CORE_AFFINITY in NORMAL: INVALID_MODE", rc, INVALID_MODE);
	mumu_yield(); /* a fresh window (10 ms): each case fits in one */
	START(ids[SPIN1], &rc);
	START(ids[SPIN0], &rc);
	wait_ms(6);
	CHECK("each process on its vCPU", spin_core[0] * 10 + spin_core[1], 1);
	overlap = (spin_to[0] < spin_to[1] ? spin_to[0] : spin_to[1]) -
		  (spin_from[0] > spin_from[1] ? spin_from[0] : spin_from[1]);
	CHECK("the two ran at the same time (3 ms of 4 or more together)", overlap >= 3000000, 1);

	mumu_yield();
	START(ids[WAITER], &rc);
	wait_ms(1);
	CHECK("the waiter runs on vCPU 1", waiter_core, 1);
	signalled_at = now();
	SIGNAL_SEMAPHORE(sem, &rc);
	wait_ms(1);
	CHECK("a semaphore from vCPU 0 wakes a process on vCPU 1", waiter_rc[0], NO_ERROR);
	SEND_BUFFER(buf, (MESSAGE_ADDR_TYPE) "smp!!", 6, 0, &rc);
	wait_ms(1);
	CHECK("a buffer message from vCPU 0 reaches it", waiter_rc[1], NO_ERROR);
	CHECK("the message", waiter_msg[0] == 's' && waiter_msg[3] == '!', 1);
	RESUME(ids[WAITER], &rc);
	wait_ms(1);
	CHECK("RESUME from vCPU 0", waiter_rc[2], NO_ERROR);

	mumu_yield();
	START(ids[RUNNER], &rc);
	wait_ms(1);
	CHECK("a process runs on vCPU 1 while vCPU 0 runs the judge", runner_moves(), 1);
	LOCK_PREEMPTION(&level, &rc);
	CHECK("LOCK_PREEMPTION on vCPU 0 does not hold vCPU 1", runner_moves(), 1);
	UNLOCK_PREEMPTION(&level, &rc);
	SUSPEND(ids[RUNNER], &rc);
	CHECK("SUSPEND of a process running on vCPU 1", rc, NO_ERROR);
	wait_ms(1);
	CHECK("it stopped counting", runner_moves(), 0);
	RESUME(ids[RUNNER], &rc);
	wait_ms(1);
	CHECK("RESUME: it counts again", runner_moves(), 1);
	START(ids[PREEMPTER], &rc);
	wait_ms(1);
	signalled2_at = now();
	SIGNAL_SEMAPHORE(sem2, &rc);
	wait_ms(1);
	CHECK("a process woken from vCPU 0 preempts the one running on vCPU 1", preempter_rc,
	      NO_ERROR);
	mumu_yield();
	STOP(ids[RUNNER], &rc);
	CHECK("STOP of a process running on vCPU 1", rc, NO_ERROR);
	wait_ms(1);
	GET_PROCESS_STATUS(ids[RUNNER], &st, &rc);
	CHECK("it is DORMANT", st.PROCESS_STATE, DORMANT);
	CHECK("and counts no more", runner_moves(), 0);
	START(ids[RUNNER], &rc);
	wait_ms(1);
	CHECK("START again: a fresh start", runner_starts * 10 + runner_moves(), 21);
	STOP(ids[RUNNER], &rc);

	mumu_yield();
	CHECK("START right after STOP_SELF on vCPU 1, 200 times: each ran once", restart_storm(),
	      200);

	mumu_yield();
	START(ids[FAULTY], &rc);
	wait_ms(2);
	GET_PROCESS_STATUS(ids[FAULTY], &st, &rc);
	CHECK("an exception on vCPU 1 to the error handler on vCPU 0",
	      handler_seen == 1 && handler_code == ILLEGAL_REQUEST && handler_pid == ids[FAULTY] &&
		  st.PROCESS_STATE == FAULTED,
	      1);

	START(ids[PERIODIC], &rc);
	wait_ms(30);
	STOP(ids[PERIODIC], &rc);
	CHECK("a periodic process on vCPU 1: its releases (5 or more in 30 ms)", jobs >= 5, 1);

	mumu_printf("apex: cross-vCPU wake-up %ld ns (idle vCPU), %ld ns (preempting)\n",
		    (long)(woke_at - signalled_at), (long)(preempted_at - signalled2_at));
	mumu_printf("apex: smp done, %d ok, %d failed\n", n_ok, n_failed);
	STOP_SELF();
}

static void create(int slot, const char *name, void (*entry)(void), PRIORITY_TYPE prio,
		   SYSTEM_TIME_TYPE period, PROCESSOR_CORE_ID_TYPE core)
{
	PROCESS_ATTRIBUTE_TYPE a = { .PERIOD = period,
				     .TIME_CAPACITY = INFINITE_TIME_VALUE,
				     .ENTRY_POINT = entry,
				     .STACK_SIZE = 8192,
				     .BASE_PRIORITY = prio,
				     .DEADLINE = SOFT };
	PROCESS_ID_TYPE *id = slot >= 0 ? &ids[slot] : &judge_id;
	RETURN_CODE_TYPE rc;

	__builtin_memcpy(a.NAME, name, mumu_strlen(name) + 1);
	CREATE_PROCESS(&a, id, &rc);
	if (rc == NO_ERROR)
		INITIALIZE_PROCESS_CORE_AFFINITY(*id, core, &rc);
	if (rc != NO_ERROR)
		mumu_printf("apex: FAIL create %s (%d)\n", name, rc);
}

void apex_main(void)
{
	const SYSTEM_TIME_TYPE inf = INFINITE_TIME_VALUE;
	PROCESSOR_CORE_ID_TYPE core = -1;
	RETURN_CODE_TYPE rc;

	GET_MY_PROCESSOR_CORE_ID(&core, &rc);
	CHECK("the initialisation process on vCPU 0", core, 0);
	create(SPIN0, "spin0", spin, 10, inf, 0);
	create(SPIN1, "spin1", spin, 10, inf, 1);
	create(WAITER, "waiter", waiter, 10, inf, 1);
	create(RUNNER, "runner", runner, 5, inf, 1);
	create(PREEMPTER, "preempter", preempter, 50, inf, 1);
	create(ONESHOT, "oneshot", oneshot, 10, inf, 1);
	create(FAULTY, "faulty", faulty, 10, inf, 1);
	create(PERIODIC, "periodic", periodic, 20, 2000000, 1);
	create(-1, "judge", judge, 100, inf, CORE_AFFINITY_NO_PREFERENCE);
	INITIALIZE_PROCESS_CORE_AFFINITY(ids[SPIN0], 2, &rc);
	CHECK("INITIALIZE_PROCESS_CORE_AFFINITY to a vCPU there is not: INVALID_PARAM", rc,
	      INVALID_PARAM);
	INITIALIZE_PROCESS_CORE_AFFINITY(99, 0, &rc);
	CHECK("INITIALIZE_PROCESS_CORE_AFFINITY of no process: INVALID_PARAM", rc, INVALID_PARAM);
	CREATE_SEMAPHORE("sem", 0, 1, FIFO, &sem, &rc);
	CREATE_SEMAPHORE("sem2", 0, 1, FIFO, &sem2, &rc);
	CREATE_BUFFER("buf", 8, 2, FIFO, &buf, &rc);
	CREATE_ERROR_HANDLER(error_handler, 8192, &rc);
	START(judge_id, &rc);
	SET_PARTITION_MODE(NORMAL, &rc);
}
