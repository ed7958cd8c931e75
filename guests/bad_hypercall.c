/* SPDX-License-Identifier: MIT */
/* bad_hypercall.bin: hypercalls with bad arguments; each must fail cleanly, never the VMM.
 * Then a well-formed application error (ARINC RAISE_APPLICATION_ERROR). */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	long a, b, c, d, e, f, g;

	mumu_printf("bad_hypercall: booted\n");
	a = mumu_console_write((const char *)0x70000000, 16);	   /* outside RAM */
	b = mumu_console_write((const char *)0x100000, 1UL << 40); /* huge length */
	c = mumu_hc(999, 0, 0, 0);				   /* unknown number */
	d = mumu_raise_error(1, (const char *)-4096L, 8);	   /* message pointer wraps */
	/* RAM the guest's own stores cannot reach: the page tables, the GDT. Had the VMM
	 * written them, the guest would not survive to print the results. */
	e = mumu_get_status((struct mumu_partition_status *)MUMU_PML4_GPA);
	f = mumu_get_schedule((struct mumu_schedule_status *)MUMU_SYSTEM_GPA);
	g = mumu_console_write((const char *)MUMU_PT0_GPA, 64);
	mumu_printf("bad_hypercall: results %ld %ld %ld %ld %ld %ld %ld\n", a, b, c, d, e, f, g);
	mumu_printf("bad_hypercall: raised %ld\n", mumu_raise_error(42, "sensor stuck", 12));
	mumu_printf("bad_hypercall: survived\n");
	return 0;
}
