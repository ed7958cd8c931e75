/* SPDX-License-Identifier: MIT */
/*
 * apex_sensor.bin: the demo's sensor partition (etc/mumu.xml) as an ARINC 653 application on
 * mumu's partition OS (docs/apex.md). Process "producer", periodic (one major frame): each
 * job publishes a speed on the sampling port speed_out, queues a command on cmd_out every
 * other job, counts its jobs in the shared memory `map`, and tells process "logger"
 * (aperiodic, lower priority) what it did through a buffer; logger prints it.
 */
#include "arinc653/apex.h"
#include "arinc653/mumu.h"
#include "lib/mumu.h"
#include "lib/port.h"

static SAMPLING_PORT_ID_TYPE speed;
static QUEUING_PORT_ID_TYPE cmd;
static BUFFER_ID_TYPE log_buf;
static volatile uint64_t *map;

static void producer(void)
{
	RETURN_CODE_TYPE rc;
	char msg[64], order[32], line[64];

	for (uint64_t n = 1;; n++) {
		int len = mumu_snprintf(msg, sizeof(msg), "speed %lu km/h", (n * 7) % 250);
		int l;

		WRITE_SAMPLING_MESSAGE(speed, (MESSAGE_ADDR_TYPE)msg, len, &rc);
		l = mumu_snprintf(line, sizeof(line), "job %lu: %s", n, msg);
		if (n % 2 == 1) {
			len = mumu_snprintf(order, sizeof(order), "cmd %lu", n);
			SEND_QUEUING_MESSAGE(cmd, (MESSAGE_ADDR_TYPE)order, len, 0, &rc);
			l = mumu_snprintf(line, sizeof(line), "job %lu: %s, %s %s", n, msg,
					  rc == NO_ERROR ? "sent" : "queue full, not sent:", order);
		}
		map[0] = n;
		SEND_BUFFER(log_buf, (MESSAGE_ADDR_TYPE)line, l, 0, &rc);
		PERIODIC_WAIT(&rc);
	}
}

static void logger(void)
{
	RETURN_CODE_TYPE rc;
	MESSAGE_SIZE_TYPE len;
	char line[65];

	for (;;) {
		RECEIVE_BUFFER(log_buf, INFINITE_TIME_VALUE, (MESSAGE_ADDR_TYPE)line, &len, &rc);
		if (rc == NO_ERROR)
			mumu_printf("logger: %.*s\n", (int)len, line);
	}
}

void apex_main(void)
{
	const struct mumu_info *info = (const struct mumu_info *)MUMU_INFO_GPA;
	PROCESS_ID_TYPE id;
	RETURN_CODE_TYPE rc;
	uint64_t size;
	bool writable;

	CREATE_SAMPLING_PORT("speed_out", 64, SOURCE, 150000000, &speed, &rc);
	mumu_require(rc == NO_ERROR ? 0 : -MUMU_EINVAL, "speed_out");
	CREATE_QUEUING_PORT("cmd_out", 64, 16, SOURCE, FIFO, &cmd, &rc);
	mumu_require(rc == NO_ERROR ? 0 : -MUMU_EINVAL, "cmd_out");
	map = mumu_region_find(info, "map", &size, &writable);
	mumu_require(map && writable ? 0 : -MUMU_ENOENT, "map");
	CREATE_BUFFER("log", 64, 8, FIFO, &log_buf, &rc);
	apex_spawn("producer", producer, 20, 100000000, &id); /* one major frame */
	apex_spawn("logger", logger, 5, INFINITE_TIME_VALUE, &id);
	mumu_printf("%s: sending (processes producer and logger)\n", info->partition_name);
	SET_PARTITION_MODE(NORMAL, &rc);
}
