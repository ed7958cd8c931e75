/* SPDX-License-Identifier: MIT */
/*
 * apex_warm.bin: a warm start of an APEX partition (tests/e2e/apex.sh). The first boot counts
 * in a global (RAM, which a warm start keeps) and restarts itself WARM_START from a process
 * on the partition's last vCPU; the second
 * creates the same process and semaphore again (the OS starts afresh: NO_ERROR, not
 * NO_ACTION) and finds the count kept:
 *
 *     apex: warm boot 2, count 7 kept, process NO_ERROR, semaphore NO_ERROR
 */
#include "arinc653/apex.h"
#include "arinc653/mumu.h"
#include "lib/mumu.h"

static volatile int boots, count;

static void worker(void)
{
	RETURN_CODE_TYPE rc;

	for (int i = 0; i < 7; i++)
		count++;
	if (boots == 1)
		SET_PARTITION_MODE(WARM_START, &rc);
	STOP_SELF();
}

void apex_main(void)
{
	PARTITION_STATUS_TYPE st;
	SEMAPHORE_ID_TYPE sem;
	PROCESS_ID_TYPE id;
	RETURN_CODE_TYPE p, s, rc;

	boots++;
	GET_PARTITION_STATUS(&st, &rc);
	p = apex_spawn("worker", worker, 10, INFINITE_TIME_VALUE, &id);
	/* On the last vCPU: the restart comes from there, and that vCPU waits for this boot's
	 * kernel, not the one before it (the same RAM). */
	INITIALIZE_PROCESS_CORE_AFFINITY(id, (PROCESSOR_CORE_ID_TYPE)st.NUM_ASSIGNED_CORES - 1,
					 &rc);
	CREATE_SEMAPHORE("sem", 0, 1, FIFO, &sem, &s);
	if (boots == 2)
		mumu_printf(
		    "apex: warm boot %d (mode %d), count %d kept, process %s, semaphore %s\n",
		    boots, st.OPERATING_MODE, count, p == NO_ERROR ? "NO_ERROR" : "REFUSED",
		    s == NO_ERROR ? "NO_ERROR" : "REFUSED");
	if (boots == 2)
		for (;;)
			mumu_yield();
	SET_PARTITION_MODE(NORMAL, &rc);
}
