/* SPDX-License-Identifier: MIT */
/*
 * apex_sched.bin: the process scheduling of mumu's partition OS, judged from inside a
 * partition (tests/e2e/apex.sh): FIFO order within a priority, preemption by a released
 * higher-priority process, LOCK_PREEMPTION, periodic releases never early, a SOFT and a HARD
 * deadline miss, an exception and a stack overflow reaching the error handler while the other
 * processes go on. "judge", the highest priority, starts each case and checks its log:
 *
 *     apex: ok NAME   /   apex: FAIL NAME (...)   /   apex: sched done, N ok, M failed
 *
 * and prints what it measured (never judged: timings are this machine's):
 *
 *     apex: preemption latency L us, periodic release jitter p50 P max M us over N jobs
 */
#include "arinc653/apex.h"
#include "lib/mumu.h"

static int n_ok, n_failed;
static char log[64];
static volatile int log_len;
static volatile int handler_seen[8];
static volatile PROCESS_ID_TYPE handler_pid[8];
static PROCESS_ID_TYPE ids[16];

enum { A, B, C, LOW, HIGH, LOCKER, LOCKED, PERIODIC, LATE, HARD_LATE, FAULTY, OVERFLOW };

static void check(const char *name, bool good, const char *got)
{
	if (good)
		n_ok++;
	else
		n_failed++;
	mumu_printf("apex: %s %s%s%s%s\n", good ? "ok" : "FAIL", name, good ? "" : " (got ",
		    good ? "" : got, good ? "" : ")");
}

static void note(char c)
{
	if (log_len < (int)sizeof(log) - 1)
		log[log_len++] = c;
}

static void wait_ms(int ms)
{
	RETURN_CODE_TYPE rc;

	TIMED_WAIT((SYSTEM_TIME_TYPE)ms * 1000000, &rc);
}

static SYSTEM_TIME_TYPE now(void)
{
	SYSTEM_TIME_TYPE t;
	RETURN_CODE_TYPE rc;

	GET_TIME(&t, &rc);
	return t;
}

/* A, B and C: one priority, each notes its letter and goes to the end of the queue, twice. */
static void fifo(void)
{
	PROCESS_ID_TYPE me;
	RETURN_CODE_TYPE rc;

	GET_MY_ID(&me, &rc);
	for (int i = 0; i < 2; i++) {
		note(me == ids[A] ? 'A' : me == ids[B] ? 'B' : 'C');
		TIMED_WAIT(0, &rc);
	}
	STOP_SELF();
}

static volatile SYSTEM_TIME_TYPE high_due, high_ran;
static volatile bool high_done;

/* Spins until HIGH has run: HIGH preempts it. */
static void low(void)
{
	SYSTEM_TIME_TYPE until = now() + 50000000;

	note('L');
	while (!high_done && now() < until)
		;
	note(high_done ? 'l' : 'x');
	STOP_SELF();
}

static void high(void)
{
	high_due = now() + 2000000;
	wait_ms(2);
	high_ran = now();
	note('H');
	high_done = true;
	STOP_SELF();
}

/* Locks preemption, starts LOCKED (higher priority), which runs only at the unlock. */
static void locker(void)
{
	LOCK_LEVEL_TYPE level;
	RETURN_CODE_TYPE rc;

	LOCK_PREEMPTION(&level, &rc);
	START(ids[LOCKED], &rc);
	note('1');
	UNLOCK_PREEMPTION(&level, &rc);
	note('2');
	STOP_SELF();
}

static void locked(void)
{
	note('K');
	STOP_SELF();
}

#define JOBS 24
static SYSTEM_TIME_TYPE job_start[JOBS];
static volatile int jobs;

static void periodic(void)
{
	RETURN_CODE_TYPE rc;

	for (;;) {
		if (jobs < JOBS)
			job_start[jobs] = now();
		jobs++;
		PERIODIC_WAIT(&rc);
	}
}

/* Runs past its 2 ms time capacity, then finishes: a SOFT deadline lets it (D), a HARD one
 * stops it at the deadline (never d). */
static void late(void)
{
	SYSTEM_TIME_TYPE until = now() + 6000000;
	PROCESS_ID_TYPE me;
	RETURN_CODE_TYPE rc;

	GET_MY_ID(&me, &rc);
	while (now() < until)
		;
	note(me == ids[LATE] ? 'D' : 'd');
	STOP_SELF();
}

static void faulty(void)
{
	note('F');
	__asm__ volatile("ud2");
	note('!'); /* never */
	STOP_SELF();
}

/* Deeper than any stack: it ends at the guard page under its stack. */
static uint64_t deep(uint64_t depth)
{
	volatile uint8_t frame[256];

	frame[0] = (uint8_t)depth;
	if (depth < (1ULL << 40))
		depth = deep(depth + 1);
	return depth + frame[0];
}

static void overflow(void)
{
	note('O');
	deep(0);
	note('!'); /* never */
	STOP_SELF();
}

static void error_handler(void)
{
	ERROR_STATUS_TYPE st;
	RETURN_CODE_TYPE rc;

	for (;;) {
		GET_ERROR_STATUS(&st, &rc);
		if (rc != NO_ERROR)
			break;
		if (st.ERROR_CODE < 8) {
			handler_seen[st.ERROR_CODE]++;
			handler_pid[st.ERROR_CODE] = st.FAILED_PROCESS_ID;
		}
	}
	STOP_SELF();
}

/* Each case starts at a window's start (the partition gives the rest of this one away): it
 * is over well within the 10 ms window, whatever happened before it. Without this a case
 * that began late in a window saw its releases come due between windows and the judge
 * first at the next start. */
static void fresh_window(void)
{
	mumu_yield();
	log_len = 0;
}

static void start_all(const int *which, int n)
{
	RETURN_CODE_TYPE rc;

	fresh_window();
	for (int i = 0; i < n; i++)
		START(ids[which[i]], &rc);
}

static void log_is(const char *name, const char *want)
{
	log[log_len] = '\0';
	check(name,
	      mumu_strlen(want) == (size_t)log_len &&
		  __builtin_memcmp(log, want, (size_t)log_len) == 0,
	      log);
}

static void sort(SYSTEM_TIME_TYPE *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			SYSTEM_TIME_TYPE t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void judge(void)
{
	static const int abc[] = { A, B, C }, lh[] = { LOW, HIGH }, lk[] = { LOCKER };
	SYSTEM_TIME_TYPE jitter[JOBS], first;
	PROCESS_STATUS_TYPE st;
	RETURN_CODE_TYPE rc;
	bool early = false;

	start_all(abc, 3);
	wait_ms(5);
	log_is("FIFO within a priority", "ABCABC");

	start_all(lh, 2);
	wait_ms(10);
	log_is("preemption by a released higher priority", "LHl");

	start_all(lk, 1);
	wait_ms(5);
	log_is("LOCK_PREEMPTION holds a higher priority until the unlock", "1K2");

	GET_PROCESS_STATUS(ids[PERIODIC], &st, &rc);
	first = now();
	START(ids[PERIODIC], &rc);
	while (jobs < JOBS)
		wait_ms(10);
	STOP(ids[PERIODIC], &rc);
	/* A release point outside the partition's windows releases at the next start: a job
	 * is late from the last release point before it, never before the one it is for. */
	for (int k = 0; k < JOBS; k++) {
		early |= job_start[k] < first + (SYSTEM_TIME_TYPE)k * 4000000;
		jitter[k] = (job_start[k] - first) % 4000000;
	}
	check("PERIODIC_WAIT: no job before its release point", !early && jobs >= JOBS,
	      "an early job");

	fresh_window();
	START(ids[LATE], &rc);
	wait_ms(10);
	log_is("the late process finished", "D");
	check("DEADLINE_MISSED to the error handler",
	      handler_seen[DEADLINE_MISSED] == 1 && handler_pid[DEADLINE_MISSED] == ids[LATE],
	      "no report");

	fresh_window();
	START(ids[HARD_LATE], &rc);
	wait_ms(10);
	log_is("a HARD deadline: the late process went no further", "");
	GET_PROCESS_STATUS(ids[HARD_LATE], &st, &rc);
	check("a HARD deadline: DEADLINE_MISSED to the error handler, the process FAULTED",
	      handler_seen[DEADLINE_MISSED] == 2 &&
		  handler_pid[DEADLINE_MISSED] == ids[HARD_LATE] && st.PROCESS_STATE == FAULTED,
	      "no report");

	fresh_window();
	START(ids[FAULTY], &rc);
	wait_ms(5);
	log_is("the faulty process went no further", "F");
	GET_PROCESS_STATUS(ids[FAULTY], &st, &rc);
	check("an exception: ILLEGAL_REQUEST to the error handler, the process FAULTED",
	      handler_seen[ILLEGAL_REQUEST] == 1 && handler_pid[ILLEGAL_REQUEST] == ids[FAULTY] &&
		  st.PROCESS_STATE == FAULTED,
	      "no report");
	STOP(ids[FAULTY], &rc);
	GET_PROCESS_STATUS(ids[FAULTY], &st, &rc);
	check("STOP of a faulted process: DORMANT", st.PROCESS_STATE == DORMANT, "not dormant");

	fresh_window();
	START(ids[OVERFLOW], &rc);
	wait_ms(5);
	log_is("the overflowing process went no further", "O");
	GET_PROCESS_STATUS(ids[OVERFLOW], &st, &rc);
	check("a stack overflow: STACK_OVERFLOW to the error handler, the process FAULTED",
	      handler_seen[STACK_OVERFLOW] == 1 && handler_pid[STACK_OVERFLOW] == ids[OVERFLOW] &&
		  st.PROCESS_STATE == FAULTED,
	      "no report");

	sort(jitter, JOBS);
	mumu_printf("apex: preemption latency %ld us, periodic release jitter p50 %ld max %ld us "
		    "over %d jobs\n",
		    (long)(high_ran - high_due) / 1000, (long)jitter[JOBS / 2] / 1000,
		    (long)jitter[JOBS - 1] / 1000, JOBS);
	mumu_printf("apex: sched done, %d ok, %d failed\n", n_ok, n_failed);
	STOP_SELF();
}

static void create(int slot, const char *name, void (*entry)(void), PRIORITY_TYPE prio,
		   SYSTEM_TIME_TYPE period, SYSTEM_TIME_TYPE capacity)
{
	PROCESS_ATTRIBUTE_TYPE a = { .PERIOD = period,
				     .TIME_CAPACITY = capacity,
				     .ENTRY_POINT = entry,
				     .STACK_SIZE = 8192,
				     .BASE_PRIORITY = prio,
				     .DEADLINE = slot == HARD_LATE ? HARD : SOFT };
	RETURN_CODE_TYPE rc;

	__builtin_memcpy(a.NAME, name, mumu_strlen(name) + 1);
	CREATE_PROCESS(&a, slot >= 0 ? &ids[slot] : &ids[15], &rc);
	if (rc != NO_ERROR)
		mumu_printf("apex: FAIL create %s (%d)\n", name, rc);
}

void apex_main(void)
{
	const SYSTEM_TIME_TYPE inf = INFINITE_TIME_VALUE;
	RETURN_CODE_TYPE rc;

	create(A, "a", fifo, 10, inf, inf);
	create(B, "b", fifo, 10, inf, inf);
	create(C, "c", fifo, 10, inf, inf);
	create(LOW, "low", low, 5, inf, inf);
	create(HIGH, "high", high, 50, inf, inf);
	create(LOCKER, "locker", locker, 5, inf, inf);
	create(LOCKED, "locked", locked, 50, inf, inf);
	create(PERIODIC, "periodic", periodic, 60, 4000000, inf);
	create(LATE, "late", late, 20, inf, 2000000);
	create(HARD_LATE, "hard late", late, 20, inf, 2000000);
	create(FAULTY, "faulty", faulty, 20, inf, inf);
	create(OVERFLOW, "overflow", overflow, 20, inf, inf);
	create(-1, "judge", judge, 100, inf, inf);
	CREATE_ERROR_HANDLER(error_handler, 8192, &rc);
	START(ids[15], &rc);
	SET_PARTITION_MODE(NORMAL, &rc);
}
