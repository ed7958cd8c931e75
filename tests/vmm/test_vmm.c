/* SPDX-License-Identifier: MIT */
/* Unit tests of the VMM's pure parts: page tables, GDT, config validation, spin margin, ABI. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

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

	memset(ram, 0xaa, MUMU_PAGING_END_GPA); /* layout must not rely on zeroed RAM */
	assert_int_equal(vmm_layout_build(ram, MUMU_RAM_MIN_BYTES), 0);
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
	assert_true((get64(ram, MUMU_PD_GPA + 8) & 0x87) == 0x87);
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
	assert_int_equal(vmm_layout_build(ram, 4096), -EINVAL);
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
	memcpy(f.vmm.ram + 0x10000, "hello\n", 6);
	assert_int_equal(hypercall(&f, MUMU_HC_CONSOLE_WRITE, 0x10000, 6), VMM_CONTINUE);
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
	assert_int_equal(hypercall(&f, MUMU_HC_CONSOLE_WRITE, 0x10000, MUMU_CONSOLE_MAX + 1),
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

static void test_abi_layout(void **state)
{
	assert_int_equal(sizeof(struct mumu_info), 1504);
	assert_int_equal(offsetof(struct mumu_info, partition_id), 8);
	assert_int_equal(offsetof(struct mumu_info, partition_name), 16);
	assert_int_equal(offsetof(struct mumu_info, ram_bytes), 96);
	assert_int_equal(offsetof(struct mumu_info, tsc_khz), 112);
	assert_int_equal(offsetof(struct mumu_info, regions), 160);
	assert_int_equal(offsetof(struct mumu_info, mode), 160 + 16 * 80);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_tables),	cmocka_unit_test(test_stacks),
		cmocka_unit_test(test_config_validate), cmocka_unit_test(test_exits),
		cmocka_unit_test(test_hypercalls),	cmocka_unit_test(test_abi_layout),
		cmocka_unit_test(test_entry_sregs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
