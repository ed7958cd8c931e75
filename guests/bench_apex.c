/* SPDX-License-Identifier: MIT */
/*
 * bench_apex.bin: what the partition OS costs, measured inside the guest (bench/apex.sh).
 * - process switch: a high-priority process's TIMED_WAIT ends (the release) while a low one
 *   spins; from the release time to the high one's first instruction after it;
 * - PERIODIC_WAIT release jitter: a 1 ms periodic process, its job's first instruction
 *   against its release point;
 * - an APEX call (SIGNAL_SEMAPHORE then WAIT_SEMAPHORE, never blocking) against the same
 *   work as a plain function call.
 * One line: switch_ns=P50 P99 MAX jitter_ns=P50 P99 MAX call_ns=C plain_ns=P n=N
 */
#include "arinc653/apex.h"
#include "arinc653/mumu.h"
#include "lib/upcall.h"

#define ROUNDS	  300
#define JOBS	  300
#define CALLS	  20000
#define PERIOD_NS 1000000

static int64_t sw[ROUNDS], jit[JOBS];
static volatile int jobs;
static SYSTEM_TIME_TYPE first_release;
static SEMAPHORE_ID_TYPE sem;
static volatile int plain_value;

static void sort(int64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			int64_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static void spin(void)
{
	for (;;)
		__builtin_ia32_pause();
}

static void periodic(void)
{
	RETURN_CODE_TYPE rc;

	for (;;) {
		SYSTEM_TIME_TYPE t = (SYSTEM_TIME_TYPE)mumu_clock_ns();

		if (jobs < JOBS)
			jit[jobs] = (t - first_release) % PERIOD_NS;
		jobs++;
		PERIODIC_WAIT(&rc);
	}
}

/* The plain call: the same work as the two APEX calls, without the kernel. */
static __attribute__((noinline)) void plain(volatile int *v)
{
	*v = *v + 1;
	*v = *v - 1;
}

static void bench(void)
{
	PROCESS_ID_TYPE pid;
	RETURN_CODE_TYPE rc;
	uint64_t t0, t1, t2;

	for (int i = 0; i < ROUNDS; i++) {
		SYSTEM_TIME_TYPE d = 200000 + (i * 7919) % 300000, due, ran;

		due = (SYSTEM_TIME_TYPE)mumu_clock_ns() + d;
		TIMED_WAIT(d, &rc);
		ran = (SYSTEM_TIME_TYPE)mumu_clock_ns();
		sw[i] = ran - due;
	}
	GET_PROCESS_ID("periodic", &pid, &rc);
	first_release = (SYSTEM_TIME_TYPE)mumu_clock_ns();
	START(pid, &rc);
	while (jobs < JOBS)
		TIMED_WAIT(10000000, &rc);
	STOP(pid, &rc);

	t0 = mumu_rdtsc();
	for (int i = 0; i < CALLS; i++) {
		SIGNAL_SEMAPHORE(sem, &rc);
		WAIT_SEMAPHORE(sem, 0, &rc);
	}
	t1 = mumu_rdtsc();
	for (int i = 0; i < CALLS; i++)
		plain(&plain_value);
	t2 = mumu_rdtsc();

	sort(sw, ROUNDS);
	sort(jit, JOBS);
	{
		const struct mumu_info *info = (const struct mumu_info *)MUMU_INFO_GPA;
		uint64_t call = (t1 - t0) * 1000000 / info->tsc_khz / (2 * CALLS);
		uint64_t plainns = (t2 - t1) * 1000000000 / info->tsc_khz / CALLS;

		mumu_printf("switch_ns=%ld %ld %ld jitter_ns=%ld %ld %ld call_ns=%lu plain_ps=%lu "
			    "n=%d\n",
			    (long)sw[ROUNDS / 2], (long)sw[ROUNDS * 99 / 100], (long)sw[ROUNDS - 1],
			    (long)jit[JOBS / 2], (long)jit[JOBS * 99 / 100], (long)jit[JOBS - 1],
			    call, plainns, ROUNDS);
	}
	STOP_SELF();
}

void apex_main(void)
{
	RETURN_CODE_TYPE rc;
	PROCESS_ATTRIBUTE_TYPE a = { .PERIOD = PERIOD_NS,
				     .TIME_CAPACITY = INFINITE_TIME_VALUE,
				     .ENTRY_POINT = periodic,
				     .STACK_SIZE = 8192,
				     .BASE_PRIORITY = 60,
				     .NAME = "periodic" };
	PROCESS_ID_TYPE id;

	CREATE_SEMAPHORE("s", 0, 1, FIFO, &sem, &rc);
	apex_spawn("bench", bench, 50, INFINITE_TIME_VALUE, &id);
	CREATE_PROCESS(&a, &id, &rc); /* started by bench */
	apex_spawn("spin", spin, 1, INFINITE_TIME_VALUE, &id);
	SET_PARTITION_MODE(NORMAL, &rc);
}
