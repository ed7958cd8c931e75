/* SPDX-License-Identifier: MIT */
/* restarter.bin: restarts itself (SET_MODE COLD_START) at once after every boot. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	struct mumu_partition_status st = { 0 };

	mumu_get_status(&st);
	mumu_printf("restarter: booted, restarts %u\n", st.n_restarts);
	mumu_set_mode(MUMU_MODE_COLD_START);
	for (;;)
		mumu_yield();
}
