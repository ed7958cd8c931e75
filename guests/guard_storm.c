/* SPDX-License-Identifier: MIT */
/*
 * guard_storm.bin: an attacker for the isolation benchmark (bench/interference.sh). Every
 * new guard page makes KVM drop all it derived from the partition's page tables (a memory
 * slot added and deleted, docs/abi.md "Guard pages"): it guards page after page of its
 * free RAM until the VMM refuses (MUMU_GUARDS_MAX from a start), then restarts itself to do
 * it again. All of it must cost only its own windows.
 */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	/* Below the image, then from the second 2 MiB up to the last (the stacks'). */
	uint64_t end = info->ram_bytes - 0x200000ULL;

	if (vcpu != 0)
		for (;;)
			mumu_yield();
	for (uint64_t p = MUMU_PAGING_END_GPA; p < end;) {
		if (p == MUMU_USER_GPA)
			p = 0x200000ULL; /* the image */
		if (mumu_guard((void *)p) < 0)
			break; /* the start's guards are made (MUMU_GUARDS_MAX) */
		p += MUMU_PAGE_BYTES;
	}
	mumu_set_mode(MUMU_MODE_COLD_START);
	for (;;)
		mumu_yield();
}
