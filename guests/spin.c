/* SPDX-License-Identifier: MIT */
/* spin.bin: never yields; only the end of its window takes the core away. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	volatile uint64_t n = 0;

	mumu_printf("spin: booted\n");
	for (;;)
		n++;
}
