/* SPDX-License-Identifier: MIT */
/* hello.bin: says who it is (from the information page), then one tick per window. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	if (vcpu != 0) {
		mumu_printf("hello from %s vcpu %lu on core %u\n", info->partition_name, vcpu,
			    info->physical_core_id[vcpu < MUMU_VCPU_MAX ? vcpu : 0]);
		for (;;)
			mumu_yield();
	}
	mumu_printf("hello from %s\n", info->partition_name);
	for (uint64_t n = 1;; n++) {
		mumu_printf("tick %lu\n", n);
		mumu_yield();
	}
}
