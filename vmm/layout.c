/* SPDX-License-Identifier: MIT */
/* The fixed guest layout (docs/abi.md): GDT, 1:1 page tables over 4 GiB, the entry state. */
#include <errno.h>
#include <string.h>

#include "vmm/vmm.h"

#define PTE_P  0x1ULL
#define PTE_RW 0x2ULL
#define PTE_US 0x4ULL  /* user mode may access */
#define PTE_PS 0x80ULL /* a 2 MiB page in a PD entry */
#define PTE    (PTE_P | PTE_RW | PTE_US)

static void put64(uint8_t *ram, uint64_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, sizeof(v));
}

int vmm_layout_build(uint8_t *ram, uint64_t ram_bytes)
{
	if (ram_bytes < MUMU_RAM_MIN_BYTES)
		return -EINVAL;
	memset(ram, 0, MUMU_PAGING_END_GPA);

	/* Null, flat 64-bit code, flat data, both DPL 3: loaded into the segment registers
	 * directly (vmm_layout_sregs); the guest runs in user mode and never reloads them. */
	put64(ram, MUMU_GDT_GPA + 0x00, 0);
	put64(ram, MUMU_GDT_GPA + (MUMU_SEL_CODE & ~3), 0x00affa000000ffffULL);
	put64(ram, MUMU_GDT_GPA + (MUMU_SEL_DATA & ~3), 0x00cff2000000ffffULL);

	put64(ram, MUMU_PML4_GPA, MUMU_PDPT_GPA | PTE);
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t pd = MUMU_PD_GPA + i * MUMU_PAGE_BYTES;

		put64(ram, MUMU_PDPT_GPA + i * 8, pd | PTE);
		for (uint64_t j = 0; j < 512; j++)
			put64(ram, pd + j * 8, ((i << 30) | (j << 21)) | PTE | PTE_PS);
	}
	/* The first 2 MiB in 4 KiB pages so that page 0 stays unmapped (a null pointer faults)
	 * and the GDT and page tables are supervisor pages: the guest cannot touch them. */
	put64(ram, MUMU_PD_GPA, MUMU_PT0_GPA | PTE);
	for (uint64_t k = 1; k < 512; k++)
		put64(ram, MUMU_PT0_GPA + k * 8,
		      (k << 12) | (k << 12 < MUMU_PAGING_END_GPA ? PTE_P | PTE_RW : PTE));
	return 0;
}

static void seg64(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 3,
		.s = 1,
		.l = code,
		.db = !code,
		.g = 1,
	};
}

void vmm_layout_sregs(struct kvm_sregs *sregs)
{
	/* Long mode from the first instruction: paging on, PAE, EFER.LME|LMA, 64-bit CS. */
	sregs->cr0 = 0x80050033; /* PG | AM | WP | NE | ET | MP | PE */
	sregs->cr3 = MUMU_PML4_GPA;
	sregs->cr4 = 0x620;  /* OSXMMEXCPT | OSFXSR | PAE; TSD clear: RDTSC works in user mode */
	sregs->efer = 0x500; /* LMA | LME */
	/* CPL 3: privileged instructions fault, and a KVM that runs user mode natively (PVM
	 * on a host without hardware virtualization) need not emulate the guest. */
	seg64(&sregs->cs, MUMU_SEL_CODE, 11, true);
	seg64(&sregs->ds, MUMU_SEL_DATA, 3, false);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	sregs->tr =
	    (struct kvm_segment){ .selector = 0x18, .limit = 0x67, .type = 11, .present = 1 };
	sregs->gdt.base = MUMU_GDT_GPA;
	sregs->gdt.limit = 3 * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0; /* no IDT: any exception escalates to a triple fault */
}

uint64_t vmm_stack_top(uint64_t ram_bytes, uint32_t vcpu)
{
	return ram_bytes - (uint64_t)vcpu * MUMU_STACK_BYTES;
}
