/* SPDX-License-Identifier: MIT */
/*
 * bench_apex_smp.bin: a wake-up across the vCPUs of a partition (bench/apex.sh): a driver
 * process on vCPU 0 signals a semaphore that a higher-priority process on vCPU 1 waits on;
 * from just before SIGNAL_SEMAPHORE to the waiter's first instruction after its wait. First
 * with vCPU 1 idle (it polls: no exit), then with a process running there (a kick: an exit
 * on each side and an upcall). One line:
 *
 *     smp_idle_ns=P50 P99 MAX smp_kick_ns=P50 P99 MAX n=N
 */
#include <stdlib.h>

#include "arinc653/apex.h"
#include "arinc653/mumu.h"
#include "lib/upcall.h"

#define ROUNDS 200

static SEMAPHORE_ID_TYPE sem;
static PROCESS_ID_TYPE waiter_id, busy_id, driver_id;
static volatile SYSTEM_TIME_TYPE signalled, woke;
static volatile int wakes;
static int64_t idle_ns[ROUNDS], kick_ns[ROUNDS];

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static SYSTEM_TIME_TYPE now(void)
{
	return (SYSTEM_TIME_TYPE)mumu_clock_ns();
}

static void waiter(void)
{
	RETURN_CODE_TYPE rc;

	for (;;) {
		WAIT_SEMAPHORE(sem, INFINITE_TIME_VALUE, &rc);
		woke = now();
		__atomic_add_fetch(&wakes, 1, __ATOMIC_RELEASE);
	}
}

static void busy(void)
{
	for (;;)
		__builtin_ia32_pause();
}

/* ROUNDS wake-ups, 300 us apart; a round lost to a window's end is taken again. */
static void rounds(int64_t *out)
{
	RETURN_CODE_TYPE rc;

	for (int k = 0; k < ROUNDS;) {
		SYSTEM_TIME_TYPE t0 = now();
		int w = wakes;

		while (now() < t0 + 300000)
			;
		signalled = now();
		SIGNAL_SEMAPHORE(sem, &rc);
		while (__atomic_load_n(&wakes, __ATOMIC_ACQUIRE) == w &&
		       now() < signalled + 5000000)
			;
		if (wakes != w && woke > signalled && woke - signalled < 2000000)
			out[k++] = woke - signalled;
	}
	qsort(out, ROUNDS, sizeof(*out), cmp); /* musl's */
}

static void driver(void)
{
	RETURN_CODE_TYPE rc;

	rounds(idle_ns);
	START(busy_id, &rc);
	rounds(kick_ns);
	mumu_printf("smp_idle_ns=%ld %ld %ld smp_kick_ns=%ld %ld %ld n=%d\n",
		    (long)idle_ns[ROUNDS / 2], (long)idle_ns[ROUNDS * 99 / 100],
		    (long)idle_ns[ROUNDS - 1], (long)kick_ns[ROUNDS / 2],
		    (long)kick_ns[ROUNDS * 99 / 100], (long)kick_ns[ROUNDS - 1], ROUNDS);
	STOP_SELF();
}

void apex_main(void)
{
	RETURN_CODE_TYPE rc;

	CREATE_SEMAPHORE("wake", 0, 1, FIFO, &sem, &rc);
	apex_spawn("waiter", waiter, 50, INFINITE_TIME_VALUE, &waiter_id);
	INITIALIZE_PROCESS_CORE_AFFINITY(waiter_id, 1, &rc);
	{
		PROCESS_ATTRIBUTE_TYPE a = { .PERIOD = INFINITE_TIME_VALUE,
					     .TIME_CAPACITY = INFINITE_TIME_VALUE,
					     .ENTRY_POINT = busy,
					     .STACK_SIZE = 4096,
					     .BASE_PRIORITY = 5,
					     .DEADLINE = SOFT,
					     .NAME = "busy" };

		CREATE_PROCESS(&a, &busy_id, &rc);
		INITIALIZE_PROCESS_CORE_AFFINITY(busy_id, 1, &rc);
	}
	apex_spawn("driver", driver, 10, INFINITE_TIME_VALUE, &driver_id);
	if (rc != NO_ERROR)
		mumu_printf("bench_apex_smp: set-up failed (%d)\n", rc);
	SET_PARTITION_MODE(NORMAL, &rc);
}
