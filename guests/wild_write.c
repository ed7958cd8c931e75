/* SPDX-License-Identifier: MIT */
/* wild_write.bin: writes to a guest-physical address that has no memory behind it. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	mumu_printf("wild_write: booted\n");
	*(volatile uint64_t *)0x70000000 = 0xdeadbeef;
	mumu_printf("wild_write: survived\n");
	return 0;
}
