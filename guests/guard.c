/* SPDX-License-Identifier: MIT */
/*
 * guard.bin: guard pages (MUMU_HC_GUARD) and the vCPU stacks' guard pages, checked from inside
 * on two vCPUs (tests/e2e/guard.sh reads its lines). vCPU 0, in order:
 *
 *   guard: bad R1 R2 R3 R4          misaligned, beyond RAM, a page table, the info page
 *   guard: self 0 1                 each vCPU's %gs:0 (mumu_vcpu_self), not a guard: ABI 3
 *   guard: read #PF at A error E    a page both vCPUs used, guarded, read, then written
 *   guard: write #PF at A error E
 *   guard: again R                  guarding it twice is fine
 *   guard: vcpu 1 #PF at A          vCPU 1 read the page before; after the guard it faults
 *   guard: N regions, then R        a spare table per 2 MiB, until -ENOSPC; then one more page
 *                                   in a region already split is still fine (R2)
 *   guard: budget spent after N more, then -28   MUMU_GUARDS_MAX guards from a start
 *   guard: overflow                 recursion down vCPU 0's stack, exceptions off: the
 *                                   partition ends at the guard page under it
 *
 * After the restart (GET_STATUS n_restarts > 0): "guard: restarted, page mapped R" (the
 * tables were built anew: the page guarded before reads again).
 */
#include "lib/upcall.h"

static struct mumu_upcalls up[2];
static uint8_t page[2][MUMU_PAGE_BYTES] __attribute__((aligned(4096)));
static volatile uint64_t seen_addr[2], seen_error[2], faults[2], reads1;
static volatile bool guarded, vcpu1_done;
static volatile uint32_t self1 = 99;

/* A load and a store of 3 bytes each: the handler goes on past them. */
static void load(const void *p)
{
	__asm__ volatile("movq (%0), %%rax" : : "D"(p) : "rax", "memory");
}
static void store(void *p)
{
	__asm__ volatile("movq %%rax, (%0)" : : "D"(p), "a"(0) : "memory");
}

static struct mumu_context *on_upcall(struct mumu_upcalls *u, uint32_t events,
				      struct mumu_context *ctx)
{
	size_t v = (size_t)(u - up);

	if (events & MUMU_EV_EXCEPTION) {
		seen_addr[v] = u->area.fault_addr;
		seen_error[v] = u->area.error_code;
		faults[v]++;
		ctx->frame.rip += 3;
	}
	return ctx;
}

static void bad_requests(const struct mumu_info *info)
{
	long r[4];

	r[0] = mumu_guard(page[0] + 8);
	r[1] = mumu_guard((void *)info->ram_bytes);
	r[2] = mumu_guard((void *)MUMU_PD_GPA);
	r[3] = mumu_guard((void *)MUMU_INFO_GPA);
	mumu_printf("guard: bad %ld %ld %ld %ld\n", r[0], r[1], r[2], r[3]);
}

static void fault(const char *what, void (*access)(void *), void *p)
{
	uint64_t before = faults[0];

	access(p);
	if (faults[0] == before)
		mumu_printf("guard: %s NO FAULT\n", what);
	else
		mumu_printf("guard: %s #PF at 0x%lx error %lu\n", what, seen_addr[0],
			    seen_error[0]);
}

static void read_page(void *p)
{
	load(p);
}

/* vCPU 1 reads page[1] until vCPU 0 guarded it, then once more. */
static void cross_vcpu(void)
{
	uint64_t t0 = mumu_clock_ns();

	while (!reads1 && mumu_clock_ns() - t0 < 2000000000ULL)
		;
	page[1][0] = 1;
	guarded = mumu_guard(page[1]) == 0;
	while (!vcpu1_done && mumu_clock_ns() - t0 < 2000000000ULL)
		;
	if (faults[1] && seen_addr[1] == (uint64_t)page[1])
		mumu_printf("guard: vcpu 1 #PF at 0x%lx\n", seen_addr[1]);
	else
		mumu_printf("guard: vcpu 1 NO FAULT (%lu faults)\n", faults[1]);
}

static void spare_tables(const struct mumu_info *info)
{
	uint64_t region = 2 * 0x200000ULL, top = info->ram_bytes - 0x200000ULL;
	long r = 0, again;
	int n = 0;

	/* Page tables split so far: the vCPU stacks' 2 MiB. This image is in the first 2 MiB,
	 * which has its own table. Every 2 MiB from 4 MiB up to the stacks': one spare each. */
	for (; region < top && (r = mumu_guard((void *)region)) == 0; region += 0x200000ULL)
		n++;
	again = mumu_guard((void *)(2 * 0x200000ULL + MUMU_PAGE_BYTES));
	mumu_printf("guard: %d regions, then %ld; again %ld\n", n, r, again);
}

/* New guards in the first 2 MiB (its own table) until the start's MUMU_GUARDS_MAX are made. */
static void budget(void)
{
	uint64_t p = MUMU_PAGING_END_GPA;
	long r = 0;
	int n = 0;

	for (; p < MUMU_USER_GPA && (r = mumu_guard((void *)p)) == 0; p += MUMU_PAGE_BYTES)
		n++;
	mumu_printf("guard: budget %s after %d more, then %ld\n", n > 0 ? "spent" : "NONE", n, r);
}

/* Deeper than any stack: it ends at the guard page. */
static uint64_t recurse(uint64_t depth)
{
	volatile uint8_t frame[512];

	frame[0] = (uint8_t)depth;
	if (depth < (1ULL << 40))
		depth = recurse(depth + 1);
	return depth + frame[0];
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	struct mumu_partition_status st;

	if (vcpu == 1) {
		self1 = mumu_vcpu_self();
		mumu_upcall_init(&up[1], MUMU_EV_EXCEPTION, on_upcall);
		while (!guarded && !faults[1]) {
			load(page[1]);
			reads1++;
		}
		load(page[1]);
		vcpu1_done = true;
		for (;;)
			mumu_yield();
	}
	mumu_get_status(&st);
	mumu_upcall_init(&up[0], MUMU_EV_EXCEPTION, on_upcall);
	if (st.n_restarts > 0) {
		uint64_t before = faults[0];

		load(page[0]);
		mumu_printf("guard: restarted, page mapped %s\n",
			    faults[0] == before ? "yes" : "NO");
		for (;;)
			mumu_yield();
	}
	bad_requests(info);
	while (self1 == 99)
		;
	mumu_printf("guard: self %u %u\n", mumu_vcpu_self(), self1);
	store(page[0]);
	load(page[0]);
	mumu_printf("guard: guard %ld\n", mumu_guard(page[0]));
	fault("read", read_page, page[0]);
	fault("write", store, page[0]);
	mumu_printf("guard: again %ld\n", mumu_guard(page[0]));
	cross_vcpu();
	spare_tables(info);
	budget();
	mumu_printf("guard: overflow\n");
	mumu_upcall_events(&up[0], 0);
	recurse(0);
	return 0;
}
