/* SPDX-License-Identifier: MIT */
/*
 * privileged.bin: a guest runs in user mode. Port I/O (or HLT, CLI, a control register) and a
 * write to its own page tables (pt_write.bin) are exceptions (#GP, #PF) that end the partition.
 */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	mumu_printf("privileged: booted\n");
	__asm__ volatile("outb %%al, $0x80" : : "a"(0));
	mumu_printf("privileged: survived\n");
	return 0;
}
