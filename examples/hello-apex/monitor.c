/* SPDX-License-Identifier: MIT */
/*
 * The example's second partition, on the other core: a periodic process reads the counter
 * partition's latest count through a sampling port (the channel in system.xml) and says
 * whether it is still fresh.
 */
#include "arinc653/apex.h"
#include "arinc653/mumu.h"
#include "lib/mumu.h"

static SAMPLING_PORT_ID_TYPE count;

static void watch(void)
{
	VALIDITY_TYPE valid;
	MESSAGE_SIZE_TYPE len;
	RETURN_CODE_TYPE rc;
	char msg[64];

	for (;;) {
		READ_SAMPLING_MESSAGE(count, (MESSAGE_ADDR_TYPE)msg, &len, &valid, &rc);
		if (rc == NO_ERROR)
			mumu_printf("monitor: %.*s (%s)\n", (int)len, msg,
				    valid == VALID ? "valid" : "stale");
		PERIODIC_WAIT(&rc);
	}
}

void apex_main(void)
{
	PROCESS_ID_TYPE id;
	RETURN_CODE_TYPE rc;

	CREATE_SAMPLING_PORT("count_in", 64, DESTINATION, 100000000, &count, &rc);
	apex_spawn("watch", watch, 10, 40000000, &id); /* every 40 ms */
	SET_PARTITION_MODE(NORMAL, &rc);
}
