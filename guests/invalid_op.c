/* SPDX-License-Identifier: MIT */
/* invalid_op.bin: an exception (#UD) in a guest that registered no upcalls: a fault that ends
 * the partition, reported with its vector and rip. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	mumu_printf("invalid_op: booted\n");
	__asm__ volatile("ud2");
	return 0;
}
