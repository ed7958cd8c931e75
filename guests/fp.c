/* SPDX-License-Identifier: MIT */
/*
 * fp.bin: floating point that spans windows. It runs one long double-precision series twice
 * with its own rounding mode (MXCSR; the partition id picks it; the same series otherwise) and compares the two results
 * bit for bit: a register or MXCSR bit lost or mixed up with another partition's at any
 * window switch shows as a mismatch. Then it restarts itself warm (RAM kept, a new VMM) and
 * computes the series once more against the result it kept.
 *
 *     fp: pass N ok RESULT_BITS    or    fp: MISMATCH ...
 */
#include "lib/mumu.h"

#define STEPS 4000000 /* a few windows' worth each */

static uint64_t kept_bits; /* survives a warm restart */

static uint64_t series(uint32_t seed)
{
	volatile double x = 1.0 + seed * 0.001, y = 0.0;
	double a = x, b = 0.5;
	uint64_t bits;

	for (uint32_t i = 1; i <= STEPS; i++) {
		a = a * 1.0000001 + b / (double)i;
		b = b * 0.9999999 + a * 1e-9;
	}
	y = a + b;
	__builtin_memcpy(&bits, (const void *)&y, sizeof(bits));
	(void)x;
	return bits;
}

int main(uint64_t vcpu, const struct mumu_info *info)
{
	struct mumu_partition_status st = { 0 };
	/* Round to nearest, or toward zero (RC = 11), all exceptions masked. */
	uint32_t mxcsr = info->partition_id % 2 ? 0x1f80 : 0x7f80, now;
	uint64_t first, again;

	if (vcpu != 0)
		for (;;)
			mumu_yield();
	mumu_get_status(&st);
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
	if (st.mode == MUMU_MODE_WARM_START && kept_bits) {
		again = series(1);
		mumu_printf("fp: after a warm restart %s %lx\n",
			    again == kept_bits ? "ok" : "MISMATCH", again);
		for (;;)
			mumu_yield();
	}
	first = series(1);
	again = series(1);
	__asm__ volatile("stmxcsr %0" : "=m"(now)); /* its flags (low 6 bits) aside */
	mumu_printf("fp: pass 1 %s %lx mxcsr %x\n",
		    first == again && (now & ~0x3fU) == mxcsr ? "ok" : "MISMATCH", first, now);
	kept_bits = first;
	mumu_set_mode(MUMU_MODE_WARM_START);
	for (;;)
		mumu_yield();
}
