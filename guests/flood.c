/* SPDX-License-Identifier: MIT */
/* flood.bin: console output as fast as it can, long lines and short ones, and escapes. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	static char line[MUMU_CONSOLE_MAX];

	mumu_printf("flood: booted\n");
	for (size_t i = 0; i < sizeof(line) - 1; i++)
		line[i] = (char)('a' + i % 26);
	line[sizeof(line) - 1] = '\n';
	for (uint64_t n = 0;; n++) {
		mumu_console_write(line, sizeof(line));
		mumu_printf("flood %lu \033[2J\n", n);
	}
}
