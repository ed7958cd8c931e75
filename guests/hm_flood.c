/* SPDX-License-Identifier: MIT */
/* hm_flood.bin: bad hypercalls as fast as it can, each one a health-monitor event. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	mumu_printf("hm_flood: booted\n");
	for (uint64_t n = 0;; n++)
		mumu_hc(999 + (long)(n % 4), 0, 0, 0); /* four distinct unknown numbers */
}
