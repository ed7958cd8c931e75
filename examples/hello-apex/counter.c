/* SPDX-License-Identifier: MIT */
/*
 * An ARINC 653 partition program built outside mumu's tree against the installed SDK
 * (docs/sdk.md): a periodic process counts, an aperiodic one prints what it is told through
 * a buffer; each count also goes out through a sampling port to the monitor partition.
 * Built by this directory's Makefile (pkg-config mumu-apex) or its CMakeLists.txt.
 */
#include <math.h>

#include "arinc653/apex.h"
#include "arinc653/mumu.h"
#include "lib/mumu.h"

static BUFFER_ID_TYPE news;
static SAMPLING_PORT_ID_TYPE count;

static void counter(void)
{
	RETURN_CODE_TYPE rc;
	char line[64];

	for (int n = 1;; n++) {
		int len = mumu_snprintf(line, sizeof(line), "count %d, sqrt %d", n,
					(int)(1000 * sqrt((double)n)));

		SEND_BUFFER(news, (MESSAGE_ADDR_TYPE)line, len, 0, &rc);
		WRITE_SAMPLING_MESSAGE(count, (MESSAGE_ADDR_TYPE)line, len, &rc);
		PERIODIC_WAIT(&rc);
	}
}

static void printer(void)
{
	RETURN_CODE_TYPE rc;
	MESSAGE_SIZE_TYPE len;
	char line[64];

	for (;;) {
		RECEIVE_BUFFER(news, INFINITE_TIME_VALUE, (MESSAGE_ADDR_TYPE)line, &len, &rc);
		mumu_printf("printer: %.*s\n", (int)len, line);
	}
}

void apex_main(void)
{
	PROCESS_ID_TYPE id;
	RETURN_CODE_TYPE rc;

	CREATE_BUFFER("news", 64, 4, FIFO, &news, &rc);
	CREATE_SAMPLING_PORT("count_out", 64, SOURCE, 100000000, &count, &rc);
	apex_spawn("counter", counter, 20, 20000000, &id); /* every 20 ms */
	apex_spawn("printer", printer, 10, INFINITE_TIME_VALUE, &id);
	SET_PARTITION_MODE(NORMAL, &rc);
}
