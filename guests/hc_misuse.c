/* SPDX-License-Identifier: MIT */
/* hc_misuse.bin: a read of the hypercall page, which only a 4-byte store may touch. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	mumu_printf("hc_misuse: booted\n");
	(void)*(volatile uint32_t *)MUMU_HC_GPA;
	mumu_printf("hc_misuse: survived\n");
	return 0;
}
