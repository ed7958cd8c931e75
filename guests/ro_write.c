/* SPDX-License-Identifier: MIT */
/* ro_write.bin: writes where it may only read: the shared memory `map` when the partition has
 * read access to one, else its information page. */
#include "lib/mumu.h"
#include "lib/port.h"

int main(uint64_t vcpu, const struct mumu_info *info)
{
	uint64_t size;
	bool writable;
	volatile uint64_t *map = mumu_region_find(info, "map", &size, &writable);

	mumu_printf("ro_write: booted\n");
	if (map && !writable) {
		mumu_printf("ro_write: map reads %lu; writing to it\n", map[0]);
		map[0] = 666;
	} else {
		((volatile struct mumu_info *)info)->partition_id = 666;
	}
	mumu_printf("ro_write: survived\n");
	return 0;
}
