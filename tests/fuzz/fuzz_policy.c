/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes through the whole policy pipeline (parse, schema, checks). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pol_host host;
	static int ready;
	struct pol_diags diags = { 0 };
	struct pol_system *sys = NULL;

	if (!ready) {
		pol_host_parse_cpulist(&host, "0-1");
		host.guest_dirs[host.n_guest_dirs++] = MUMU_BUILD_GUEST_DIR;
		ready = 1;
	}
	if (pol_load_buffer("fuzz.xml", (const char *)data, size, MUMU_SOURCE_DIR "/etc/mumu.xsd",
			    &host, &sys, &diags) == 0) {
		/* A valid system must be internally consistent. */
		for (size_t i = 0; i < sys->n_schedules; i++)
			for (size_t w = 0; w < sys->schedules[i].n_windows; w++)
				if (sys->schedules[i].windows[w].partition >= sys->n_partitions)
					__builtin_trap();
		pol_free(sys);
	} else if (diags.n == 0) {
		__builtin_trap(); /* every rejection explains itself */
	}
	pol_diags_free(&diags);
	return 0;
}
