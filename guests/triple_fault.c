/* SPDX-License-Identifier: MIT */
/* triple_fault.bin: an exception without an IDT, which the CPU escalates to a shutdown. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	mumu_printf("triple_fault: booted\n");
	__asm__ volatile("ud2");
	return 0;
}
