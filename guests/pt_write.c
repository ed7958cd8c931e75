/* SPDX-License-Identifier: MIT */
/* pt_write.bin: the page tables are supervisor pages; a user-mode write to them faults. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	mumu_printf("pt_write: booted\n");
	*(volatile uint64_t *)MUMU_PML4_GPA = 0; /* would unmap everything */
	mumu_printf("pt_write: survived\n");
	return 0;
}
