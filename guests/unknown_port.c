/* SPDX-License-Identifier: MIT */
/* unknown_port.bin: port I/O to a port that is not the hypercall port. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info);

int main(uint64_t vcpu, const struct mumu_info *info)
{
	mumu_printf("unknown_port: booted\n");
	__asm__ volatile("outb %%al, $0x80" : : "a"(0));
	mumu_printf("unknown_port: survived\n");
	return 0;
}
