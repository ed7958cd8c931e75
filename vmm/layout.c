/* SPDX-License-Identifier: MIT */
/*
 * The fixed guest layout (docs/abi.md): the system page (GDT, IDT, a TSS per vCPU, exception
 * stubs and their stacks), 1:1 page tables over 4 GiB with guard pages, the entry state.
 */
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

static uint64_t get64(const uint8_t *ram, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, ram + gpa, sizeof(v));
	return v;
}

bool vmm_layout_mapped(const uint8_t *ram, uint64_t gpa)
{
	uint64_t pde = get64(ram, MUMU_PD_GPA + (gpa >> 21) * 8);

	return (pde & PTE_PS) || (get64(ram, (pde & ~0xfffULL) + (gpa >> 12 & 511) * 8) & PTE_P);
}

int vmm_layout_guard(uint8_t *ram, uint64_t gpa, uint32_t *spare_used)
{
	uint64_t pde_gpa = MUMU_PD_GPA + (gpa >> 21) * 8, pde = get64(ram, pde_gpa), pte_gpa;

	if (pde & PTE_PS) {
		/* A 2 MiB page: its 512 small pages in a spare table, filled before the PD entry
		 * points to it (another vCPU may walk it meanwhile). */
		uint64_t pt = MUMU_PT_SPARE_GPA + (uint64_t)*spare_used * MUMU_PAGE_BYTES;

		if (*spare_used >= MUMU_PT_SPARE_COUNT)
			return -ENOSPC;
		for (uint64_t k = 0; k < 512; k++)
			put64(ram, pt + k * 8, ((gpa & ~0x1fffffULL) + (k << 12)) | PTE);
		__atomic_store_n((uint64_t *)(ram + pde_gpa), pt | PTE, __ATOMIC_RELEASE);
		++*spare_used;
		pde = pt | PTE;
	}
	pte_gpa = (pde & ~0xfffULL) + (gpa >> 12 & 511) * 8;
	if (!(get64(ram, pte_gpa) & PTE_P))
		return 0;
	__atomic_store_n((uint64_t *)(ram + pte_gpa), 0, __ATOMIC_RELEASE);
	return 1;
}

int vmm_layout_build(uint8_t *ram, uint64_t ram_bytes, uint32_t n_vcpus, uint32_t *spare_used)
{
	if (ram_bytes < MUMU_RAM_MIN_BYTES || n_vcpus > MUMU_VCPU_MAX)
		return -EINVAL;
	memset(ram, 0, MUMU_PAGING_END_GPA);
	*spare_used = 0;

	/* Null, flat 64-bit code, flat data, both DPL 3: loaded into the segment registers
	 * directly (vmm_layout_sregs); the guest runs in user mode and never reloads them. The
	 * supervisor code segment is the exception stubs'. */
	put64(ram, MUMU_SYSTEM_GPA + 0x00, 0);
	put64(ram, MUMU_SYSTEM_GPA + (MUMU_SEL_CODE & ~3), 0x00affa000000ffffULL);
	put64(ram, MUMU_SYSTEM_GPA + (MUMU_SEL_DATA & ~3), 0x00cff2000000ffffULL);
	put64(ram, MUMU_SYSTEM_GPA + VMM_SEL_KCODE, 0x00af9a000000ffffULL);
	for (uint32_t v = 0; v < MUMU_VCPU_MAX; v++) {
		uint64_t tss = VMM_TSS_GPA + v * VMM_TSS_STRIDE;

		/* A 64-bit TSS (busy) whose only use is RSP0: the stack an exception from user
		 * mode switches to. No I/O bitmap: port I/O from user mode is a #GP. */
		put64(ram, MUMU_SYSTEM_GPA + vmm_sel_tss(v),
		      0x67 | (tss & 0xffffff) << 16 | 0x8bULL << 40 | (tss >> 24 & 0xff) << 56);
		put64(ram, MUMU_SYSTEM_GPA + vmm_sel_tss(v) + 8, tss >> 32);
		put64(ram, tss + 4, vmm_exception_stack_top(v));
		put64(ram, tss + 0x60, 0x68ULL << 48); /* I/O map base past the limit: none */
	}
	for (uint64_t vec = 0; vec < VMM_IDT_VECTORS; vec++) {
		uint64_t stub = VMM_STUB_GPA + vec * VMM_STUB_BYTES;
		uint8_t *c = ram + stub;
		/* #BP and #OF are raised by instructions user code may execute (INT3, INTO): their
		 * gates are DPL 3. Any other INT n from user mode is a #GP. */
		uint64_t dpl = vec == 3 || vec == 4 ? 3 : 0;

		put64(ram, VMM_IDT_GPA + vec * 16,
		      (stub & 0xffff) | (uint64_t)VMM_SEL_KCODE << 16 | (0x8eULL | dpl << 5) << 40 |
			  (stub >> 16 & 0xffff) << 48);
		put64(ram, VMM_IDT_GPA + vec * 16 + 8, stub >> 32);
		/* out %al, $vec: the VMM reads the CPU's frame on this vCPU's stack and rewrites
		 * it; add $8, %rsp drops an error code; iretq returns to user mode. */
		c[0] = 0xe6;
		c[1] = (uint8_t)vec;
		if (vmm_vector_has_error_code((uint32_t)vec))
			memcpy(c + 2, "\x48\x83\xc4\x08", 4);
		else
			memcpy(c + 2, "\x0f\x1f\x40\x00", 4); /* nopl 0(%rax) */
		memcpy(c + 6, "\x48\xcf", 2);
	}

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
	/* The lowest page of each vCPU stack: an overflow faults instead of writing the next. */
	for (uint32_t v = 0; v < n_vcpus; v++)
		if (vmm_layout_guard(ram, vmm_stack_guard(ram_bytes, v), spare_used) < 0)
			return -ENOSPC;
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

void vmm_layout_sregs(struct kvm_sregs *sregs, uint32_t vcpu)
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
	/* %fs:0x28, the stack protector's canary in the x86-64 ABI, is the information page's
	 * stack_guard (read-only): libraries built with -fstack-protector work in a guest. */
	sregs->fs.base = MUMU_FS_BASE;
	sregs->gs.base = MUMU_GS_BASE(vcpu); /* %gs:0 is this vCPU's logical core id */
	sregs->tr = (struct kvm_segment){ .base = VMM_TSS_GPA + vcpu * VMM_TSS_STRIDE,
					  .selector = (uint16_t)vmm_sel_tss(vcpu),
					  .limit = 0x67,
					  .type = 11,
					  .present = 1 };
	sregs->gdt.base = MUMU_SYSTEM_GPA;
	sregs->gdt.limit = (uint16_t)(vmm_sel_tss(MUMU_VCPU_MAX) - 1);
	sregs->idt.base = VMM_IDT_GPA;
	sregs->idt.limit = VMM_IDT_VECTORS * 16 - 1; /* INT n above: a #GP */
}

bool vmm_vector_has_error_code(uint32_t vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
	       vector == 29 || vector == 30;
}

uint64_t vmm_stack_top(uint64_t ram_bytes, uint32_t vcpu)
{
	return ram_bytes - (uint64_t)vcpu * MUMU_STACK_BYTES;
}

uint64_t vmm_stack_guard(uint64_t ram_bytes, uint32_t vcpu)
{
	return vmm_stack_top(ram_bytes, vcpu) - MUMU_STACK_BYTES;
}
