/* SPDX-License-Identifier: MIT */
/* ro_write.bin: writes to its read-only information page. */
#include "lib/mumu.h"

int main(uint64_t vcpu, const struct mumu_info *info);

int main(uint64_t vcpu, const struct mumu_info *info)
{
	mumu_printf("ro_write: booted\n");
	((volatile struct mumu_info *)info)->partition_id = 666;
	mumu_printf("ro_write: survived\n");
	return 0;
}
