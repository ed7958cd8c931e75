/* SPDX-License-Identifier: MIT */
/* The fixed guest layout (docs/abi.md): GDT and 1:1 page tables over the first 4 GiB. */
#include <errno.h>
#include <string.h>

#include "vmm/vmm.h"

#define PTE_P  0x1ULL
#define PTE_RW 0x2ULL
#define PTE_PS 0x80ULL /* a 2 MiB page in a PD entry */

static void put64(uint8_t *ram, uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, sizeof(v));
}

int vmm_layout_build(uint8_t *ram, uint64_t ram_bytes)
{
	if (ram_bytes < MUMU_RAM_MIN_BYTES)
		return -EINVAL;
	memset(ram, 0, MUMU_PAGING_END_GPA);

	/* Null, flat 64-bit code, flat data: loaded into the segment registers directly. */
	put64(ram, MUMU_GDT_GPA + 0x00, 0);
	put64(ram, MUMU_GDT_GPA + MUMU_SEL_CODE, 0x00af9a000000ffffULL);
	put64(ram, MUMU_GDT_GPA + MUMU_SEL_DATA, 0x00cf92000000ffffULL);

	put64(ram, MUMU_PML4_GPA, MUMU_PDPT_GPA | PTE_P | PTE_RW);
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t pd = MUMU_PD_GPA + i * MUMU_PAGE_BYTES;

		put64(ram, MUMU_PDPT_GPA + i * 8, pd | PTE_P | PTE_RW);
		for (uint64_t j = 0; j < 512; j++)
			put64(ram, pd + j * 8, ((i << 30) | (j << 21)) | PTE_P | PTE_RW | PTE_PS);
	}
	/* The first 2 MiB in 4 KiB pages so that page 0 stays unmapped: a null pointer faults. */
	put64(ram, MUMU_PD_GPA, MUMU_PT0_GPA | PTE_P | PTE_RW);
	for (uint64_t k = 1; k < 512; k++)
		put64(ram, MUMU_PT0_GPA + k * 8, (k << 12) | PTE_P | PTE_RW);
	return 0;
}

uint64_t vmm_stack_top(uint64_t ram_bytes, uint32_t vcpu)
{
	return ram_bytes - (uint64_t)vcpu * MUMU_STACK_BYTES;
}
