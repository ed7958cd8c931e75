/* SPDX-License-Identifier: MIT */
/*
 * sensor.bin: the writing end of the demo's ports. Every window it publishes a speed on the
 * sampling port speed_out, every other window it queues a command on cmd_out (and says so
 * when the queue is full), and it counts its windows in the shared memory `map`.
 */
#include "lib/mumu.h"
#include "lib/port.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	struct mumu_port speed, cmd;
	volatile uint64_t *map;
	uint64_t size;
	bool writable;
	char msg[64];

	mumu_require(mumu_port_open(info, "speed_out", MUMU_REGION_SAMPLING_PORT, &speed),
		     "speed_out");
	mumu_require(mumu_port_open(info, "cmd_out", MUMU_REGION_QUEUING_PORT, &cmd), "cmd_out");
	map = mumu_region_find(info, "map", &size, &writable);
	mumu_require(map && writable ? 0 : -MUMU_ENOENT, "map");
	mumu_printf("%s: sending\n", info->partition_name);
	mumu_set_mode(MUMU_MODE_NORMAL);
	for (uint64_t n = 1;; n++) {
		int len = mumu_snprintf(msg, sizeof(msg), "speed %lu km/h", (n * 7) % 250);
		long r = mumu_sampling_write(&speed, msg, (uint32_t)len);

		if (r < 0)
			mumu_printf("speed_out: %ld\n", r);
		if (n % 2 == 1) {
			len = mumu_snprintf(msg, sizeof(msg), "cmd %lu", n);
			r = mumu_queuing_send(&cmd, msg, (uint32_t)len, 0);
			if (r == -MUMU_EAGAIN)
				mumu_printf("cmd_out: queue full, '%s' not sent\n", msg);
			else if (r < 0)
				mumu_printf("cmd_out: %ld\n", r);
		}
		map[0] = n;
		mumu_yield();
	}
}
