/* SPDX-License-Identifier: MIT */
/*
 * display.bin: the reading end of the demo's ports. Every window it reads the latest speed
 * from speed_in with its sequence number and validity, receives every waiting command from
 * cmd_in, and looks at the read-only shared memory `map`.
 */
#include "lib/mumu.h"
#include "lib/port.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	struct mumu_port speed, cmd;
	struct mumu_message_info mi;
	const volatile uint64_t *map;
	uint64_t size;
	bool writable;
	char msg[65];
	uint32_t len;
	long r;

	mumu_require(mumu_port_open(info, "speed_in", MUMU_REGION_SAMPLING_PORT, &speed),
		     "speed_in");
	mumu_require(mumu_port_open(info, "cmd_in", MUMU_REGION_QUEUING_PORT, &cmd), "cmd_in");
	map = mumu_region_find(info, "map", &size, &writable);
	mumu_require(map && !writable ? 0 : -MUMU_ENOENT, "map");
	mumu_printf("%s: listening\n", info->partition_name);
	mumu_set_mode(MUMU_MODE_NORMAL);
	for (;;) {
		r = mumu_sampling_read(&speed, msg, sizeof(msg) - 1, &len, &mi);
		if (r == 0) {
			msg[len] = '\0';
			mumu_printf("speed seq=%lu valid=%d age=%lu us: %s\n", mi.seq, mi.valid,
				    mi.age_ns / 1000, msg);
		} else {
			mumu_printf("speed: %s (%ld)\n", r == -MUMU_EAGAIN ? "none yet" : "error",
				    r);
		}
		while ((r = mumu_queuing_receive(&cmd, msg, sizeof(msg) - 1, &len, 0, &mi)) == 0) {
			msg[len] = '\0';
			mumu_printf("cmd seq=%lu%s: %s\n", mi.seq, mi.overflowed ? " overflow" : "",
				    msg);
		}
		if (r != -MUMU_EAGAIN)
			mumu_printf("cmd_in: %ld\n", r);
		mumu_printf("map %lu\n", map[0]);
		mumu_yield();
	}
}
