/* SPDX-License-Identifier: MIT */
/* Unit tests of the VMM's pure parts: page tables, GDT, config validation, spin margin, ABI. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "ipc/ipc.h"
#include "vmm/vmm.h"

static uint64_t get64(const uint8_t *ram, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, ram + gpa, sizeof(v));
	return v;
}

/* Walk the guest page tables the way the MMU does; returns the gpa or UINT64_MAX. */
static uint64_t translate(const uint8_t *ram, uint64_t va)
{
	uint64_t pml4e = get64(ram, MUMU_PML4_GPA + ((va >> 39) & 511) * 8);
	uint64_t pdpte, pde, pte;

	if (!(pml4e & 1))
		return UINT64_MAX;
	pdpte = get64(ram, (pml4e & ~0xfffULL) + ((va >> 30) & 511) * 8);
	if (!(pdpte & 1))
		return UINT64_MAX;
	pde = get64(ram, (pdpte & ~0xfffULL) + ((va >> 21) & 511) * 8);
	if (!(pde & 1))
		return UINT64_MAX;
	if (pde & 0x80)
		return (pde & ~0x1fffffULL) | (va & 0x1fffff);
	pte = get64(ram, (pde & ~0xfffULL) + ((va >> 12) & 511) * 8);
	if (!(pte & 1))
		return UINT64_MAX;
	return (pte & ~0xfffULL) | (va & 0xfff);
}

static void test_page_tables(void **state)
{
	uint8_t *ram = calloc(1, MUMU_RAM_MIN_BYTES);
	uint32_t spare = 99;

	memset(ram, 0xaa, MUMU_PAGING_END_GPA); /* layout must not rely on zeroed RAM */
	assert_int_equal(vmm_layout_build(ram, MUMU_RAM_MIN_BYTES, 2, &spare), 0);
	assert_true(translate(ram, 0) == UINT64_MAX); /* null guard */
	assert_true(translate(ram, 0xfff) == UINT64_MAX);
	assert_true(translate(ram, 0x1000) == 0x1000);
	assert_true(translate(ram, MUMU_USER_GPA + 0x123) == MUMU_USER_GPA + 0x123);
	assert_true(translate(ram, 0x1fffff) == 0x1fffff);
	assert_true(translate(ram, 0x200000) == 0x200000); /* first 2 MiB page */
	assert_true(translate(ram, MUMU_REGION_GPA + 0x5000) == MUMU_REGION_GPA + 0x5000);
	assert_true(translate(ram, MUMU_INFO_GPA) == MUMU_INFO_GPA);
	assert_true(translate(ram, MUMU_MAP_BYTES - 1) == MUMU_MAP_BYTES - 1);
	assert_true(translate(ram, MUMU_MAP_BYTES) == UINT64_MAX); /* beyond 4 GiB */
	/* Writable by user mode everywhere it is present; 2 MiB pages carry PS ... */
	assert_true((get64(ram, MUMU_PD_GPA + 16) & 0x87) == 0x87);
	assert_true((get64(ram, MUMU_PML4_GPA) & 0x7) == 0x7);
	assert_true((get64(ram, MUMU_PT0_GPA + (MUMU_USER_GPA >> 12) * 8) & 0x7) == 0x7);
	/* ... but for the GDT and the page tables: supervisor pages, out of the guest's reach. */
	for (uint64_t gpa = MUMU_SYSTEM_GPA; gpa < MUMU_PAGING_END_GPA; gpa += MUMU_PAGE_BYTES)
		assert_true((get64(ram, MUMU_PT0_GPA + (gpa >> 12) * 8) & 0x7) == 0x3);
	assert_true(get64(ram, MUMU_PT0_GPA + (MUMU_PAGING_END_GPA >> 12) * 8) & 0x4);
	/* GDT: null, 64-bit code (L=1, D=0), data, both present with DPL 3. */
	assert_true(get64(ram, MUMU_SYSTEM_GPA) == 0);
	assert_true(get64(ram, MUMU_SYSTEM_GPA + (MUMU_SEL_CODE & ~3)) & (1ULL << 53));
	assert_false(get64(ram, MUMU_SYSTEM_GPA + (MUMU_SEL_CODE & ~3)) & (1ULL << 54));
	assert_true((get64(ram, MUMU_SYSTEM_GPA + (MUMU_SEL_CODE & ~3)) >> 45 & 7) == 7);
	assert_true((get64(ram, MUMU_SYSTEM_GPA + (MUMU_SEL_DATA & ~3)) >> 45 & 7) == 7);
	/* IDT: each exception vector to its stub in supervisor code; only INT3 and INTO may be
	 * raised by user code (DPL 3). Each stub reports its vector with out imm8. */
	for (uint32_t v = 0; v < VMM_IDT_VECTORS; v++) {
		uint64_t lo = get64(ram, VMM_IDT_GPA + v * 16), stub = VMM_STUB_GPA + v * 8;

		assert_true((lo & 0xffff) == (stub & 0xffff) && (lo >> 48) == (stub >> 16));
		assert_int_equal(lo >> 16 & 0xffff, VMM_SEL_KCODE);
		assert_int_equal(lo >> 45 & 3, v == 3 || v == 4 ? 3 : 0);
		assert_int_equal(ram[stub], 0xe6);
		assert_int_equal(ram[stub + 1], v);
		assert_int_equal(ram[stub + 6], 0x48); /* iretq */
		assert_int_equal(ram[stub + 7], 0xcf);
	}
	/* Each vCPU's TSS: RSP0 its own exception stack, no I/O bitmap. */
	for (uint32_t v = 0; v < MUMU_VCPU_MAX; v++) {
		uint64_t tss = VMM_TSS_GPA + v * VMM_TSS_STRIDE;

		assert_true(get64(ram, tss + 4) == vmm_exception_stack_top(v));
		assert_int_equal(get64(ram, tss + 0x60) >> 48, 0x68);
		assert_int_equal(get64(ram, MUMU_SYSTEM_GPA + vmm_sel_tss(v)) >> 40 & 0xff, 0x8b);
	}
	assert_int_equal(vmm_layout_build(ram, 4096, 1, &spare), -EINVAL);
	assert_int_equal(vmm_layout_build(ram, MUMU_RAM_MIN_BYTES, MUMU_VCPU_MAX + 1, &spare),
			 -EINVAL);
	free(ram);
}

/* Guard pages: the lowest page of each vCPU stack from the start; MUMU_HC_GUARD's pages split
 * their 2 MiB page into a spare table, as many as there are, once each. */
static void test_guard_pages(void **state)
{
	const uint64_t ram_bytes = 64ULL << 20, mib2 = 0x200000;
	uint8_t *ram = calloc(1, ram_bytes);
	uint32_t spare;

	assert_int_equal(vmm_layout_build(ram, ram_bytes, 3, &spare), 0);
	assert_int_equal(spare, 1); /* all three stacks lie in the last 2 MiB */
	for (uint32_t v = 0; v < 3; v++) {
		uint64_t g = vmm_stack_guard(ram_bytes, v);

		assert_true(g == ram_bytes - (v + 1) * MUMU_STACK_BYTES);
		assert_true(translate(ram, g) == UINT64_MAX);
		assert_true(translate(ram, g + 0xfff) == UINT64_MAX);
		assert_true(translate(ram, g - 1) == g - 1);	       /* the next stack */
		assert_true(translate(ram, g + 0x1000) == g + 0x1000); /* its own */
	}
	assert_true(translate(ram, vmm_stack_guard(ram_bytes, 3)) == vmm_stack_guard(ram_bytes, 3));
	/* In the first 2 MiB: its own table, no spare taken; twice is no change. */
	assert_int_equal(vmm_layout_guard(ram, MUMU_USER_GPA + 0x3000, &spare), 1);
	assert_int_equal(vmm_layout_guard(ram, MUMU_USER_GPA + 0x3000, &spare), 0);
	assert_int_equal(spare, 1);
	assert_true(translate(ram, MUMU_USER_GPA + 0x3008) == UINT64_MAX);
	assert_true(translate(ram, MUMU_USER_GPA + 0x4000) == MUMU_USER_GPA + 0x4000);
	/* A 2 MiB page split: the other 511 pages map as before, user-writable. */
	assert_int_equal(vmm_layout_guard(ram, 3 * mib2 + 0x5000, &spare), 1);
	assert_int_equal(spare, 2);
	assert_true(translate(ram, 3 * mib2 + 0x5000) == UINT64_MAX);
	for (uint64_t off = 0; off < mib2; off += 0x1000)
		if (off != 0x5000)
			assert_true(translate(ram, 3 * mib2 + off + 7) == 3 * mib2 + off + 7);
	assert_int_equal(get64(ram, MUMU_PT_SPARE_GPA + MUMU_PAGE_BYTES) & 7, 7);
	assert_int_equal(vmm_layout_guard(ram, 3 * mib2 + 0x6000, &spare), 1);
	assert_int_equal(spare, 2); /* the same 2 MiB: the same table */
	/* Until the spares run out: then nothing changes. */
	for (uint64_t r = 4; spare < MUMU_PT_SPARE_COUNT; r++)
		assert_int_equal(vmm_layout_guard(ram, r * mib2, &spare), 1);
	assert_int_equal(vmm_layout_guard(ram, 30 * mib2, &spare), -ENOSPC);
	assert_true(translate(ram, 30 * mib2) == 30 * mib2);
	assert_int_equal(spare, MUMU_PT_SPARE_COUNT);
	free(ram);
}

/* Every vCPU enters in 64-bit user mode: CPL 3 segments with RPL 3, paging from our tables. */
static void test_entry_sregs(void **state)
{
	struct kvm_sregs sr;

	memset(&sr, 0xaa, sizeof(sr));
	vmm_layout_sregs(&sr, 1);
	assert_int_equal(sr.cs.selector, MUMU_SEL_CODE);
	assert_int_equal(sr.cs.selector & 3, 3);
	assert_int_equal(sr.cs.dpl, 3);
	assert_int_equal(sr.cs.l, 1);
	assert_int_equal(sr.ss.selector & 3, 3);
	assert_int_equal(sr.ss.dpl, 3);
	assert_int_equal(sr.cr3, MUMU_PML4_GPA);
	assert_true(sr.cr0 & (1ULL << 31) && sr.cr0 & 1);
	assert_false(sr.cr4 & 4); /* TSD: RDTSC stays available in user mode */
	assert_int_equal(sr.efer & 0x500, 0x500);
	assert_true(sr.fs.base + 0x28 == MUMU_INFO_GPA + offsetof(struct mumu_info, stack_guard));
	assert_true(sr.gs.base == MUMU_INFO_GPA + offsetof(struct mumu_info, vcpu_self[1]));
	assert_int_equal(sr.idt.base, VMM_IDT_GPA);
	assert_int_equal(sr.idt.limit, 32 * 16 - 1);
	assert_int_equal(sr.tr.selector, vmm_sel_tss(1));
	assert_true(sr.tr.base == VMM_TSS_GPA + VMM_TSS_STRIDE);
}

static void test_stacks(void **state)
{
	assert_true(vmm_stack_top(MUMU_RAM_DEFAULT_BYTES, 0) == MUMU_RAM_DEFAULT_BYTES);
	assert_true(vmm_stack_top(MUMU_RAM_DEFAULT_BYTES, 1) ==
		    MUMU_RAM_DEFAULT_BYTES - MUMU_STACK_BYTES);
	assert_true(vmm_stack_top(MUMU_RAM_DEFAULT_BYTES, MUMU_VCPU_MAX - 1) % 16 == 0);
}

static struct ipc_config good(void)
{
	struct ipc_config c;

	memset(&c, 0, sizeof(c));
	strcpy(c.partition_name, "p");
	strcpy(c.module_name, "m");
	c.n_vcpus = 2;
	c.physical_core_id[0] = 0;
	c.physical_core_id[1] = 1;
	c.ram_bytes = MUMU_RAM_DEFAULT_BYTES;
	c.image_bytes = 4096;
	c.entry = MUMU_USER_GPA;
	return c;
}

static void test_config_validate(void **state)
{
	char why[64];
	struct ipc_config c = good();

	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), 0);
	c.n_vcpus = 0;
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c = good();
	c.n_vcpus = MUMU_VCPU_MAX + 1;
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c = good();
	memset(c.partition_name, 'x', sizeof(c.partition_name)); /* no NUL */
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "invalid partition name");
	c = good();
	c.ram_bytes = MUMU_RAM_MAX_BYTES + MUMU_PAGE_BYTES;
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c = good();
	c.ram_bytes = MUMU_RAM_DEFAULT_BYTES + 1;
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c = good();
	c.image_bytes = c.ram_bytes; /* would overlap the stacks */
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c = good();
	c.physical_core_id[1] = 0;
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c = good();
	c.flags = 1U << 7;
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c = good();
	c.n_batons = 1;
	c.batons[0] = (struct ipc_baton){ .vcpu = 1, .out = 1 };
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), 0);
	c.batons[0].vcpu = 2; /* a vCPU it does not have */
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "invalid baton");
	c.batons[0] = (struct ipc_baton){ .vcpu = 0, .out = 2 };
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c = good();
	c.n_batons = IPC_BATON_MAX + 1;
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c = good();
	c.n_regions = 1;
	strcpy(c.regions[0].name, "r");
	c.regions[0].gpa = MUMU_REGION_GPA;
	c.regions[0].size_bytes = 4096;
	c.regions[0].access = MUMU_ACCESS_READ;
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), 0);
	c.regions[0].gpa = MUMU_INFO_GPA; /* on top of the information page */
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
	c.regions[0].gpa = MUMU_REGION_GPA;
	c.regions[0].access = 3;
	assert_int_equal(vmm_config_validate(&c, why, sizeof(why)), -EINVAL);
}

/*
 * A VMM without KVM: made-up exits and hypercalls go through vmm_exit_handle and
 * vmm_hypercall, and what they send the supervisor is read back from the other end of the
 * control socket.
 */
struct fake {
	struct vmm vmm;
	struct kvm_run run;
	struct ipc_ctl_page ctl;
	struct ipc_status_page status;
	int peer; /* the supervisor's end */
};

static void fake_init(struct fake *f)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
	f->vmm.sock = sv[0];
	f->peer = sv[1];
	f->vmm.cfg = good();
	f->vmm.cfg.ram_bytes = MUMU_RAM_MIN_BYTES;
	f->vmm.ram = calloc(1, MUMU_RAM_MIN_BYTES);
	assert_non_null(f->vmm.ram);
	f->vmm.ctl = &f->ctl;
	f->vmm.status = &f->status;
	f->vmm.vcpu[0].vmm = &f->vmm;
	f->vmm.vcpu[0].run = &f->run;
}

static void fake_fini(struct fake *f)
{
	close(f->vmm.sock);
	close(f->peer);
	free(f->vmm.ram);
}

/* The next message the supervisor got: its type, and its payload in buf. -EAGAIN: none. */
static int sent(struct fake *f, void *buf)
{
	uint32_t type;
	size_t size, n_fds;
	int r = ipc_recv(f->peer, buf, &type, &size, NULL, 0, &n_fds);

	return r < 0 ? r : (int)type;
}

static enum vmm_outcome mmio(struct fake *f, uint64_t gpa, uint32_t len, bool write)
{
	f->run.exit_reason = KVM_EXIT_MMIO;
	f->run.mmio.phys_addr = gpa;
	f->run.mmio.len = len;
	f->run.mmio.is_write = write;
	return vmm_exit_handle(&f->vmm.vcpu[0]);
}

static enum vmm_outcome hypercall(struct fake *f, uint64_t nr, uint64_t a0, uint64_t a1)
{
	f->run.s.regs.regs.rax = nr;
	f->run.s.regs.regs.rdi = a0;
	f->run.s.regs.regs.rsi = a1;
	return mmio(f, MUMU_HC_GPA, 4, true);
}

/* Every exit the guest can cause is classified: a fatal fault of the right kind, or handled. */
static void test_exits(void **state)
{
	static uint8_t buf[IPC_MSG_MAX];
	const struct ipc_fault *fault = (const void *)buf;
	struct fake f;

	(void)state;
	fake_init(&f);
	f.vmm.cfg.n_regions = 1;
	f.vmm.cfg.regions[0] = (struct mumu_region){ .gpa = MUMU_REGION_GPA,
						     .size_bytes = 4096,
						     .access = MUMU_ACCESS_READ };
	f.run.exit_reason = KVM_EXIT_SHUTDOWN;
	assert_int_equal(vmm_exit_handle(&f.vmm.vcpu[0]), VMM_FAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_TRIPLE_FAULT);
	assert_int_equal(fault->fatal, 1);
	/* a write to a read-only region, a read of no memory, a wrong-sized hypercall store */
	assert_int_equal(mmio(&f, MUMU_REGION_GPA + 8, 8, true), VMM_FAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_READONLY_WRITE);
	assert_int_equal(fault->addr, MUMU_REGION_GPA + 8);
	assert_int_equal(mmio(&f, 0x3ff00000, 4, false), VMM_FAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_UNMAPPED_ACCESS);
	assert_int_equal(mmio(&f, MUMU_HC_GPA, 8, true), VMM_FAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_UNMAPPED_ACCESS);
	/* an exit reason nobody handles */
	f.run.exit_reason = KVM_EXIT_HYPERCALL;
	assert_int_equal(vmm_exit_handle(&f.vmm.vcpu[0]), VMM_FAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_INTERNAL_ERROR);
	assert_int_equal(fault->code, KVM_EXIT_HYPERCALL);
	assert_int_equal(f.vmm.vcpu[0].exits_by_reason[KVM_EXIT_MMIO], 3);
	assert_int_equal(sent(&f, buf), -EAGAIN); /* nothing else was sent */
	fake_fini(&f);
}

/* Hypercalls: what each returns in rax, what reaches the supervisor, bad arguments refused. */
static void test_hypercalls(void **state)
{
	static uint8_t buf[IPC_MSG_MAX];
	const struct ipc_fault *fault = (const void *)buf;
	struct fake f;

	(void)state;
	fake_init(&f);
	memcpy(f.vmm.ram + 0x40000, "hello\n", 6);
	assert_int_equal(hypercall(&f, MUMU_HC_CONSOLE_WRITE, 0x40000, 6), VMM_CONTINUE);
	assert_int_equal(f.run.s.regs.regs.rax, 6);
	assert_int_equal(sent(&f, buf), IPC_CONSOLE);
	assert_memory_equal(buf, "hello\n", 6);
	/* a buffer over the page tables, past the RAM, too long: refused, reported, non-fatal */
	assert_int_equal(hypercall(&f, MUMU_HC_CONSOLE_WRITE, MUMU_PML4_GPA, 6), VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_EFAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_BAD_HYPERCALL);
	assert_int_equal(fault->fatal, 0);
	assert_int_equal(hypercall(&f, MUMU_HC_CONSOLE_WRITE, MUMU_RAM_MIN_BYTES - 2, 6),
			 VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_EFAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(hypercall(&f, MUMU_HC_CONSOLE_WRITE, 0x40000, MUMU_CONSOLE_MAX + 1),
			 VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_EINVAL);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	/* an unknown number */
	assert_int_equal(hypercall(&f, 999, 0, 0), VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_ENOSYS);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->code, 999);
	/* yield ends the window; a schedule request without the right is passed on, -EPERM */
	assert_int_equal(hypercall(&f, MUMU_HC_YIELD, 0, 0), VMM_YIELD);
	assert_int_equal(hypercall(&f, MUMU_HC_SET_SCHEDULE, 2, 0), VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_EPERM);
	assert_int_equal(sent(&f, buf), IPC_SCHEDULE_REQ);
	f.vmm.cfg.flags = IPC_CFG_SET_SCHEDULE;
	assert_int_equal(hypercall(&f, MUMU_HC_SET_SCHEDULE, 2, 0), VMM_CONTINUE);
	assert_int_equal(f.run.s.regs.regs.rax, 0);
	assert_int_equal(sent(&f, buf), IPC_SCHEDULE_REQ);
	/* a mode: passed on; one there is not, passed on (the supervisor reports it) and -EINVAL */
	assert_int_equal(hypercall(&f, MUMU_HC_SET_MODE, MUMU_MODE_NORMAL, 0), VMM_CONTINUE);
	assert_int_equal(f.run.s.regs.regs.rax, 0);
	assert_int_equal(sent(&f, buf), IPC_MODE_REQ);
	assert_int_equal(hypercall(&f, MUMU_HC_SET_MODE, MUMU_MODE_COUNT, 0), VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_EINVAL);
	assert_int_equal(sent(&f, buf), IPC_MODE_REQ);
	/* its status, from the control page */
	f.ctl.n_restarts = 3;
	f.vmm.cfg.period_ns = 50000000;
	f.vmm.cfg.duration_ns = 10000000;
	assert_int_equal(hypercall(&f, MUMU_HC_GET_STATUS, 0x20000, 0), VMM_CONTINUE);
	assert_int_equal(f.run.s.regs.regs.rax, 0);
	assert_int_equal(((struct mumu_partition_status *)(f.vmm.ram + 0x20000))->n_restarts, 3);
	assert_int_equal(((struct mumu_partition_status *)(f.vmm.ram + 0x20000))->period_ns,
			 50000000);
	assert_int_equal(((struct mumu_partition_status *)(f.vmm.ram + 0x20000))->duration_ns,
			 10000000);
	assert_int_equal(sent(&f, buf), -EAGAIN);
	fake_fini(&f);
}

/* GUARD: bad pages refused and reported; a page guarded already needs nothing; KVM refusing
 * the slot that makes it forget the old tables ends the partition (the fake has no VM). */
static void test_hypercall_guard(void **state)
{
	static uint8_t buf[IPC_MSG_MAX];
	const struct ipc_fault *fault = (const void *)buf;
	struct fake f;

	(void)state;
	fake_init(&f);
	f.vmm.vm_fd = -1;
	assert_int_equal(vmm_layout_build(f.vmm.ram, MUMU_RAM_MIN_BYTES, 1, &f.vmm.spare_used), 0);
	pthread_mutex_init(&f.vmm.paging, NULL);
	for (size_t i = 0; i < 4; i++) {
		static const uint64_t bad[] = { 0x40008, MUMU_PML4_GPA, MUMU_RAM_MIN_BYTES,
						MUMU_INFO_GPA };

		assert_int_equal(hypercall(&f, MUMU_HC_GUARD, bad[i], 0), VMM_CONTINUE);
		assert_int_equal((int64_t)f.run.s.regs.regs.rax, i ? -MUMU_EFAULT : -MUMU_EINVAL);
		assert_int_equal(sent(&f, buf), IPC_FAULT);
		assert_int_equal(fault->kind, IPC_FAULT_BAD_HYPERCALL);
		assert_int_equal(fault->code, MUMU_HC_GUARD);
		assert_int_equal(fault->fatal, 0);
	}
	assert_int_equal(hypercall(&f, MUMU_HC_GUARD, vmm_stack_guard(MUMU_RAM_MIN_BYTES, 0), 0),
			 VMM_CONTINUE);
	assert_int_equal(f.run.s.regs.regs.rax, 0);
	assert_int_equal(sent(&f, buf), -EAGAIN);
	/* Past the guards a start may make: -ENOSPC, the page as it was, nothing reported. */
	f.vmm.guards = MUMU_GUARDS_MAX;
	assert_int_equal(hypercall(&f, MUMU_HC_GUARD, 0x40000, 0), VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_ENOSPC);
	assert_true(vmm_layout_mapped(f.vmm.ram, 0x40000));
	assert_int_equal(sent(&f, buf), -EAGAIN);
	f.vmm.guards = 0;
	assert_int_equal(hypercall(&f, MUMU_HC_GUARD, 0x40000, 0), VMM_FAULT);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_EFAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_VMM_ERROR);
	assert_int_equal(fault->fatal, 1);
	fake_fini(&f);
}

#define SETUP 0x40000ULL
#define STACK 0x20000ULL
#define AREA  0x30000ULL
#define AREA1 0x31000ULL

static struct mumu_vcpu_area *area_at(struct fake *f, uint64_t gpa)
{
	return (struct mumu_vcpu_area *)(f->vmm.ram + gpa);
}

static int64_t do_register(struct fake *f, uint64_t entry, uint64_t stack, uint64_t area,
			   uint32_t events)
{
	*(struct mumu_upcall_setup *)(f->vmm.ram + SETUP) = (struct mumu_upcall_setup){
		.entry = entry, .stack_top = stack, .area = area, .events = events
	};
	assert_int_equal(hypercall(f, MUMU_HC_UPCALL_REGISTER, SETUP, 0), VMM_CONTINUE);
	return (int64_t)f->run.s.regs.regs.rax;
}

/* Registrations: every pointer the guest gives checked, each refusal reported. */
static void test_upcall_register(void **state)
{
	static uint8_t buf[IPC_MSG_MAX];
	const struct ipc_fault *fault = (const void *)buf;
	const struct {
		uint64_t entry, stack, area;
		uint32_t events;
		int64_t ret;
	} bad[] = {
		{ MUMU_USER_GPA, STACK, AREA, 1u << 7, -MUMU_EINVAL }, /* unknown event */
		{ 0, STACK, AREA, MUMU_EV_TIMER, -MUMU_EFAULT },       /* no entry */
		{ MUMU_USER_GPA, STACK, AREA, 0, -MUMU_EINVAL },       /* no events */
		{ MUMU_USER_GPA, STACK + 8, AREA, MUMU_EV_TIMER, -MUMU_EFAULT },
		{ MUMU_USER_GPA, MUMU_PAGING_END_GPA + 512, AREA, MUMU_EV_TIMER, -MUMU_EFAULT },
		{ MUMU_USER_GPA, MUMU_RAM_MIN_BYTES + 16, AREA, MUMU_EV_TIMER, -MUMU_EFAULT },
		{ MUMU_USER_GPA, STACK, AREA + 4, MUMU_EV_TIMER, -MUMU_EFAULT },
		{ MUMU_USER_GPA, STACK, MUMU_RAM_MIN_BYTES - 64, MUMU_EV_TIMER, -MUMU_EFAULT },
		{ MUMU_USER_GPA, STACK, MUMU_SYSTEM_GPA, MUMU_EV_TIMER, -MUMU_EFAULT },
	};
	struct fake f;

	(void)state;
	fake_init(&f);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(
		    do_register(&f, bad[i].entry, bad[i].stack, bad[i].area, bad[i].events),
		    bad[i].ret);
		assert_int_equal(sent(&f, buf), IPC_FAULT);
		assert_int_equal(fault->kind, IPC_FAULT_BAD_HYPERCALL);
		assert_int_equal(f.vmm.vcpu[0].upcall.events, 0);
	}
	assert_int_equal(hypercall(&f, MUMU_HC_UPCALL_REGISTER, MUMU_PML4_GPA, 0), VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_EFAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	/* The timer needs a registration with timer events. */
	assert_int_equal(hypercall(&f, MUMU_HC_TIMER_SET, 1, 0), VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_EINVAL);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(do_register(&f, MUMU_USER_GPA, STACK, AREA, MUMU_EV_ALL), 0);
	assert_int_equal(f.vmm.vcpu[0].upcall.area, AREA);
	assert_int_equal(hypercall(&f, MUMU_HC_TIMER_SET, 12345, 678), VMM_CONTINUE);
	assert_int_equal(f.run.s.regs.regs.rax, 0);
	assert_int_equal(area_at(&f, AREA)->deadline_ns, 12345);
	assert_int_equal(area_at(&f, AREA)->period_ns, 678);
	/* Unregistering: back to ABI 2. */
	assert_int_equal(do_register(&f, 0, 0, 0, 0), 0);
	assert_int_equal(f.vmm.vcpu[0].upcall.events, 0);
	assert_int_equal(f.vmm.vcpu[0].upcall.area, 0);
	assert_int_equal(sent(&f, buf), -EAGAIN);
	fake_fini(&f);
}

/* Before an entry: a passed deadline is an upcall with the registers saved, unless masked. */
static void test_upcall_timer(void **state)
{
	struct kvm_regs *r;
	struct mumu_vcpu_area *a;
	struct vmm_vcpu *v;
	struct fake f;
	uint64_t now;

	(void)state;
	fake_init(&f);
	v = &f.vmm.vcpu[0];
	r = &f.run.s.regs.regs;
	a = area_at(&f, AREA);
	assert_int_equal(
	    do_register(&f, MUMU_USER_GPA + 0x40, STACK, AREA, MUMU_EV_TIMER | MUMU_EV_WINDOW), 0);
	now = mono_ns();
	v->end_ns = now + 1000000000ULL;
	/* Not due: nothing delivered, the timer aimed at the deadline. */
	a->deadline_ns = now + 5000000;
	r->rip = 0x100123;
	vmm_upcall_before_entry(v);
	assert_int_equal(r->rip, 0x100123);
	assert_int_equal(a->armed_ns, now + 5000000);
	assert_int_equal(v->event_at, now + 5000000);
	assert_int_equal(a->window_end_ns, v->end_ns);
	/* Due: the frame saved, the handler entered with the area, events masked. */
	a->deadline_ns = now - 1000;
	r->rax = 7;
	r->r15 = 15;
	r->rsp = 0x80000;
	r->rflags = 0x246;
	vmm_upcall_before_entry(v);
	assert_int_equal(r->rip, MUMU_USER_GPA + 0x40);
	assert_int_equal(r->rsp, STACK);
	assert_int_equal(r->rdi, AREA);
	assert_int_equal(r->rflags, 0x2);
	assert_int_equal(a->frame.rip, 0x100123);
	assert_int_equal(a->frame.rsp, 0x80000);
	assert_int_equal(a->frame.rax, 7);
	assert_int_equal(a->frame.r15, 15);
	assert_int_equal(a->frame.rflags, 0x246);
	assert_int_equal(a->masked, 1);
	assert_int_equal(a->pending, MUMU_EV_TIMER);
	assert_int_equal(a->upcalls, 1);
	assert_int_equal(a->deadline_ns, 0); /* one-shot */
	assert_int_equal(a->armed_ns, v->end_ns);
	/* Masked: the event waits in pending, the registers stay. */
	a->pending = 0;
	a->deadline_ns = now - 1000;
	r->rip = 0x100200;
	vmm_upcall_before_entry(v);
	assert_int_equal(r->rip, 0x100200);
	assert_int_equal(a->pending, MUMU_EV_TIMER);
	assert_int_equal(a->upcalls, 1);
	/* Periodic: missed periods are one event; the next deadline is the next whole period. */
	a->masked = 0;
	a->pending = 0;
	a->period_ns = 1000000;
	a->deadline_ns = now - 3500000;
	vmm_upcall_before_entry(v);
	assert_int_equal(a->pending, MUMU_EV_TIMER);
	assert_int_equal(a->deadline_ns, now + 500000);
	assert_int_equal(a->upcalls, 2);
	assert_int_equal(v->event_at, now + 500000);
	assert_int_equal(v->event_period, 1000000);
	/* A period below the minimum counts as the minimum. */
	a->masked = 0;
	a->period_ns = 1;
	a->deadline_ns = now - 10;
	vmm_upcall_before_entry(v);
	assert_true(a->deadline_ns == now - 10 + MUMU_TIMER_PERIOD_MIN_NS ||
		    a->deadline_ns == now - 10 + 2 * MUMU_TIMER_PERIOD_MIN_NS);
	/* Inside an exception stub (CPL 0): not now, looked at again very soon. */
	a->masked = 0;
	a->pending = MUMU_EV_WINDOW;
	a->period_ns = 0;
	a->deadline_ns = 0;
	r->rip = VMM_STUB_GPA + 2;
	vmm_upcall_before_entry(v);
	assert_int_equal(r->rip, VMM_STUB_GPA + 2);
	assert_true(a->armed_ns < mono_ns() + 1000000);
	/* An event not asked for is not delivered. */
	r->rip = 0x100300;
	a->pending = MUMU_EV_KICK;
	vmm_upcall_before_entry(v);
	assert_int_equal(r->rip, 0x100300);
	fake_fini(&f);
}

/* The CPU's frame on the vCPU's exception stack, as the stub leaves it; returns the frame. */
static uint64_t *exception_exit(struct fake *f, uint32_t vector, uint64_t rip, uint64_t err)
{
	bool ec = vmm_vector_has_error_code(vector);
	uint64_t rsp = vmm_exception_stack_top(0) - (ec ? 48 : 40);
	uint64_t *hw = (uint64_t *)(f->vmm.ram + rsp);

	if (ec)
		*hw++ = err;
	hw[0] = rip;
	hw[1] = MUMU_SEL_CODE;
	hw[2] = 0x202;
	hw[3] = 0x7000f0;
	hw[4] = MUMU_SEL_DATA;
	f->run.exit_reason = KVM_EXIT_IO;
	f->run.io.direction = KVM_EXIT_IO_OUT;
	f->run.io.port = (uint16_t)vector;
	f->run.s.regs.regs.rip = VMM_STUB_GPA + vector * VMM_STUB_BYTES + 2;
	f->run.s.regs.regs.rsp = rsp;
	return hw;
}

/* Exceptions: an upcall with vector and error code when asked for, else a named fault. */
static void test_upcall_exceptions(void **state)
{
	static uint8_t buf[IPC_MSG_MAX];
	const struct ipc_fault *fault = (const void *)buf;
	struct mumu_vcpu_area *a;
	struct fake f;
	uint64_t *hw;

	(void)state;
	fake_init(&f);
	a = area_at(&f, AREA);
	/* Not registered: the partition's fault, named. */
	exception_exit(&f, 6, 0x100abc, 0);
	assert_int_equal(vmm_exit_handle(&f.vmm.vcpu[0]), VMM_FAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_EXCEPTION);
	assert_int_equal(fault->code, 6);
	assert_int_equal(fault->rip, 0x100abc);
	assert_non_null(strstr(fault->msg, "invalid opcode (#UD)"));
	/* Registered: the frame rewritten to the handler, the event's details in the area. */
	assert_int_equal(do_register(&f, MUMU_USER_GPA + 0x40, STACK, AREA, MUMU_EV_EXCEPTION), 0);
	hw = exception_exit(&f, 13, 0x100def, 0x18);
	f.run.s.regs.regs.rbx = 0xb;
	assert_int_equal(vmm_exit_handle(&f.vmm.vcpu[0]), VMM_CONTINUE);
	assert_int_equal(hw[0], MUMU_USER_GPA + 0x40);
	assert_int_equal(hw[1], MUMU_SEL_CODE);
	assert_int_equal(hw[2], 0x2);
	assert_int_equal(hw[3], STACK);
	assert_int_equal(f.run.s.regs.regs.rdi, AREA);
	assert_int_equal(f.run.s.regs.regs.rip, VMM_STUB_GPA + 13 * VMM_STUB_BYTES + 2);
	assert_int_equal(a->vector, 13);
	assert_int_equal(a->error_code, 0x18);
	assert_int_equal(a->pending, MUMU_EV_EXCEPTION);
	assert_int_equal(a->frame.rip, 0x100def);
	assert_int_equal(a->frame.rsp, 0x7000f0);
	assert_int_equal(a->frame.rflags, 0x202);
	assert_int_equal(a->frame.rbx, 0xb);
	assert_int_equal(a->masked, 1);
	/* Again with events masked (in the handler): the partition's fault, never a loop. */
	exception_exit(&f, 0, 0x100111, 0);
	assert_int_equal(vmm_exit_handle(&f.vmm.vcpu[0]), VMM_FAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->code, 0);
	assert_non_null(strstr(fault->msg, "divide error (#DE) at rip 0x100111 in the upcall"));
	/* A nested exception in the stub itself (the stack not one frame deep). */
	a->masked = 0;
	exception_exit(&f, 14, 0x100111, 4);
	f.run.s.regs.regs.rsp -= 48;
	assert_int_equal(vmm_exit_handle(&f.vmm.vcpu[0]), VMM_FAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_TRIPLE_FAULT);
	/* Port I/O from anywhere but a stub is not an exception. */
	exception_exit(&f, 3, 0x100111, 0);
	f.run.s.regs.regs.rip = 0x100111;
	assert_int_equal(vmm_exit_handle(&f.vmm.vcpu[0]), VMM_FAULT);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	assert_int_equal(fault->kind, IPC_FAULT_INTERNAL_ERROR);
	fake_fini(&f);
}

/* A kick raises the event on a registered sibling; anything else is refused. */
static void test_upcall_kick(void **state)
{
	static uint8_t buf[IPC_MSG_MAX];
	struct fake f;

	(void)state;
	fake_init(&f);
	f.vmm.vcpu[1].vmm = &f.vmm;
	assert_int_equal(hypercall(&f, MUMU_HC_KICK, 1, 0), VMM_CONTINUE);
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_ENOENT); /* not registered */
	f.vmm.vcpu[1].upcall = (struct vmm_upcall){ .events = MUMU_EV_KICK, .area = AREA1 };
	assert_int_equal(hypercall(&f, MUMU_HC_KICK, 1, 0), VMM_CONTINUE);
	assert_int_equal(f.run.s.regs.regs.rax, 0);
	assert_int_equal(area_at(&f, AREA1)->pending, MUMU_EV_KICK);
	assert_int_equal(sent(&f, buf), -EAGAIN);
	assert_int_equal(hypercall(&f, MUMU_HC_KICK, 2, 0), VMM_CONTINUE); /* n_vcpus is 2 */
	assert_int_equal((int64_t)f.run.s.regs.regs.rax, -MUMU_EINVAL);
	assert_int_equal(sent(&f, buf), IPC_FAULT);
	fake_fini(&f);
}

static void test_abi_layout(void **state)
{
	assert_int_equal(sizeof(struct mumu_info), 1504);
	assert_int_equal(offsetof(struct mumu_info, partition_id), 8);
	assert_int_equal(offsetof(struct mumu_info, partition_name), 16);
	assert_int_equal(offsetof(struct mumu_info, ram_bytes), 96);
	assert_int_equal(offsetof(struct mumu_info, tsc_khz), 112);
	assert_int_equal(offsetof(struct mumu_info, regions), 160);
	assert_int_equal(offsetof(struct mumu_info, mode), 160 + 16 * 80);
	assert_int_equal(offsetof(struct mumu_info, vcpu_self), 1472);
	assert_int_equal(sizeof(struct mumu_region), 80);
	assert_int_equal(offsetof(struct mumu_region, gpa), 40);
	assert_int_equal(sizeof(struct mumu_schedule_status), 16);
	assert_int_equal(sizeof(struct mumu_partition_status), 32);
	assert_true(MUMU_RAM_MAX_BYTES <= MUMU_REGION_GPA);
	assert_true(MUMU_PAGING_END_GPA <= MUMU_USER_GPA);
	/* the hypercall page: above any RAM, below the regions, reachable by a disp32 store */
	assert_true(MUMU_HC_GPA >= MUMU_RAM_MAX_BYTES && MUMU_HC_GPA < MUMU_REGION_GPA);
	assert_true(MUMU_HC_GPA < 0x80000000ULL);
}

/* What a child that entered the sandbox as uid 65534 found: 0 when all holds. */
static int jail_child(uint32_t flags, const char *want_step)
{
	const struct ipc_config cfg = { .flags = flags, .uid = 65534, .gid = 65534 };
	const int keep[] = { 0, 1, 2 };
	const char *step = "";
	int r;

	/* As the supervisor's exec of the VMM would: a change of ids without one leaves the
	 * process undumpable, its /proc/self files root's. */
	if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0 ||
	    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return 10;
	r = vmm_jail_enter(&cfg, keep, ARRAY_SIZE(keep), &step);
	if (want_step)
		return r == -EPERM && strcmp(step, want_step) == 0 ? 0 : 11;
	if (r < 0) {
		fprintf(stderr, "jail: %s: %s\n", step, strerror(-r));
		return 12;
	}
	if (getuid() != 65534 || getgid() != 65534)
		return 13;
	if (access("/etc/passwd", F_OK) == 0 || errno != ENOENT)
		return 14; /* the host's files are gone */
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 15;
	if (setresuid(0, 0, 0) == 0)
		return 16; /* only its own ids are mapped */
	return 0;
}

static int jail_status(uint32_t flags, const char *want_step)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(jail_child(flags, want_step));
	assert_true(pid > 0 && waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Without root the sandbox is a user namespace of the VMM's own; without it, unshare fails. */
static void test_jail_userns(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip(); /* the child must be able to become uid 65534 */
	assert_int_equal(jail_status(IPC_CFG_USERNS, NULL), 0);
	assert_int_equal(jail_status(0, "unshare"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_tables),	cmocka_unit_test(test_guard_pages),
		cmocka_unit_test(test_stacks),		cmocka_unit_test(test_config_validate),
		cmocka_unit_test(test_exits),		cmocka_unit_test(test_hypercalls),
		cmocka_unit_test(test_hypercall_guard), cmocka_unit_test(test_abi_layout),
		cmocka_unit_test(test_entry_sregs),	cmocka_unit_test(test_upcall_register),
		cmocka_unit_test(test_upcall_timer),	cmocka_unit_test(test_upcall_exceptions),
		cmocka_unit_test(test_upcall_kick),	cmocka_unit_test(test_jail_userns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
