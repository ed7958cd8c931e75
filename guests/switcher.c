/* SPDX-License-Identifier: MIT */
/*
 * switcher.bin: a system partition's view of module schedules. It goes NORMAL, then every
 * fourth window asks for the other of schedules 1 and 2 and says when the switch happened.
 * Without SetModuleSchedule the request is refused (-EPERM) and the supervisor reports it.
 * It counts its boots in RAM: a warm start keeps RAM (boot 2, 3, ...), a cold start reloads
 * the pristine image (boot 1).
 */
#include "lib/mumu.h"

static const char *const modes[] = { "IDLE", "COLD_START", "WARM_START", "NORMAL" };
static volatile uint32_t boots; /* .bss, zero in the image */

int main(uint64_t vcpu, const struct mumu_info *info)
{
	struct mumu_partition_status ps;
	struct mumu_schedule_status st;
	uint32_t seen = 0;

	if (vcpu != 0) {
		mumu_printf("hello from %s vcpu %lu on core %u\n", info->partition_name, vcpu,
			    info->physical_core_id[vcpu < MUMU_VCPU_MAX ? vcpu : 0]);
		for (;;)
			mumu_yield();
	}
	mumu_get_status(&ps);
	boots = boots + 1;
	mumu_printf("%s: %s, start condition %u, restarts %u, boot %u\n", info->partition_name,
		    ps.mode < MUMU_MODE_COUNT ? modes[ps.mode] : "?", ps.start_condition,
		    ps.n_restarts, boots);
	mumu_set_mode(MUMU_MODE_NORMAL);
	for (uint64_t n = 1;; n++) {
		mumu_get_schedule(&st);
		if (st.current_schedule_id != seen) {
			mumu_printf("window %lu: schedule %u\n", n, st.current_schedule_id);
			seen = st.current_schedule_id;
		}
		if (n % 4 == 0) { /* even when a switch is pending: asking again is harmless */
			uint32_t want = st.current_schedule_id == 1 ? 2 : 1;

			mumu_printf("window %lu: request schedule %u: %ld\n", n, want,
				    mumu_set_schedule(want));
		}
		mumu_yield();
	}
}
