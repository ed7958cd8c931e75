/* SPDX-License-Identifier: MIT */
/*
 * apex_display.bin: the demo's display partition (etc/mumu.xml) as an ARINC 653 application
 * on mumu's partition OS (docs/apex.md). Process "consumer", periodic (one major frame), reads
 * the latest speed from the sampling port speed_in with its validity, receives every waiting
 * command from cmd_in, and displays the speed on a blackboard, where process "panel" (lower
 * priority) reads it with the shared memory `map`. Every fifth job consumer raises an
 * application error on purpose: the error handler process reports it.
 */
#include "arinc653/apex.h"
#include "arinc653/mumu.h"
#include "lib/mumu.h"
#include "lib/port.h"

static SAMPLING_PORT_ID_TYPE speed;
static QUEUING_PORT_ID_TYPE cmd;
static BLACKBOARD_ID_TYPE board;
static const volatile uint64_t *map;

static void consumer(void)
{
	RETURN_CODE_TYPE rc;
	MESSAGE_SIZE_TYPE len;
	VALIDITY_TYPE valid;
	char msg[65];

	for (uint64_t n = 1;; n++) {
		READ_SAMPLING_MESSAGE(speed, (MESSAGE_ADDR_TYPE)msg, &len, &valid, &rc);
		if (rc == NO_ERROR) {
			mumu_printf("consumer: %s %.*s\n", valid == VALID ? "valid" : "stale",
				    (int)len, msg);
			DISPLAY_BLACKBOARD(board, (MESSAGE_ADDR_TYPE)msg, len, &rc);
		} else {
			mumu_printf("consumer: no speed yet\n");
		}
		for (;;) {
			RECEIVE_QUEUING_MESSAGE(cmd, 0, (MESSAGE_ADDR_TYPE)msg, &len, &rc);
			if (rc != NO_ERROR && rc != INVALID_CONFIG)
				break;
			mumu_printf("consumer: %.*s%s\n", (int)len, msg,
				    rc == INVALID_CONFIG ? " (the queue overflowed before it)"
							 : "");
		}
		if (n % 5 == 0)
			RAISE_APPLICATION_ERROR(APPLICATION_ERROR,
						(MESSAGE_ADDR_TYPE) "every fifth job, on purpose",
						27, &rc);
		PERIODIC_WAIT(&rc);
	}
}

static void panel(void)
{
	RETURN_CODE_TYPE rc;
	MESSAGE_SIZE_TYPE len;
	char msg[65];

	for (;;) {
		READ_BLACKBOARD(board, INFINITE_TIME_VALUE, (MESSAGE_ADDR_TYPE)msg, &len, &rc);
		mumu_printf("panel: %.*s, sensor job %lu\n", (int)len, msg, map[0]);
		CLEAR_BLACKBOARD(board, &rc);
	}
}

static void error_handler(void)
{
	static const char *const codes[] = { "DEADLINE_MISSED", "APPLICATION_ERROR",
					     "NUMERIC_ERROR",	"ILLEGAL_REQUEST",
					     "STACK_OVERFLOW",	"MEMORY_VIOLATION",
					     "HARDWARE_FAULT",	"POWER_FAIL" };
	ERROR_STATUS_TYPE st;
	PROCESS_STATUS_TYPE ps;
	RETURN_CODE_TYPE rc;

	for (;;) {
		GET_ERROR_STATUS(&st, &rc);
		if (rc != NO_ERROR)
			break;
		GET_PROCESS_STATUS(st.FAILED_PROCESS_ID, &ps, &rc);
		mumu_printf("error handler: %s from %s: %.*s\n",
			    st.ERROR_CODE < 8 ? codes[st.ERROR_CODE] : "?", ps.ATTRIBUTES.NAME,
			    (int)st.LENGTH, (const char *)st.MESSAGE);
	}
	STOP_SELF();
}

void apex_main(void)
{
	const struct mumu_info *info = (const struct mumu_info *)MUMU_INFO_GPA;
	PROCESS_ID_TYPE id;
	RETURN_CODE_TYPE rc;
	uint64_t size;
	bool writable;

	CREATE_SAMPLING_PORT("speed_in", 64, DESTINATION, 150000000, &speed, &rc);
	mumu_require(rc == NO_ERROR ? 0 : -MUMU_EINVAL, "speed_in");
	CREATE_QUEUING_PORT("cmd_in", 64, 16, DESTINATION, FIFO, &cmd, &rc);
	mumu_require(rc == NO_ERROR ? 0 : -MUMU_EINVAL, "cmd_in");
	map = mumu_region_find(info, "map", &size, &writable);
	mumu_require(map && !writable ? 0 : -MUMU_ENOENT, "map");
	CREATE_BLACKBOARD("speed", 64, &board, &rc);
	CREATE_ERROR_HANDLER(error_handler, 8192, &rc);
	apex_spawn("consumer", consumer, 20, 100000000, &id);
	apex_spawn("panel", panel, 10, INFINITE_TIME_VALUE, &id);
	mumu_printf("%s: listening (processes consumer and panel, an error handler)\n",
		    info->partition_name);
	SET_PARTITION_MODE(NORMAL, &rc);
}
