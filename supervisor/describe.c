/* SPDX-License-Identifier: MIT */
/* --check: a short, human summary of a valid system: partitions, cores, per-core timelines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "supervisor/supervisor.h"

#define TIMELINE_WIDTH 50

static void print_ms(FILE *out, uint64_t ns)
{
	fprintf(out, "%4" PRIu64 ".%03" PRIu64, ns / 1000000, ns / 1000 % 1000);
}

static void report_schedule(const struct pol_system *sys, const struct pol_schedule *s, FILE *out)
{
	char bar[TIMELINE_WIDTH + 1];

	fprintf(out, "\nschedule %" PRIu32 "%s: major frame %.3f ms, %zu windows\n", s->id,
		s->initial ? " (initial)" : "", (double)s->major_frame_ns / 1e6, s->n_windows);
	for (uint32_t core = 0; core < POL_CPU_MAX; core++) {
		struct pol_core_window w[64];
		size_t n;

		if (!pol_core_used(sys, core))
			continue;
		pol_timeline_render(sys, s, core, bar, TIMELINE_WIDTH);
		fprintf(out, "  core %-3" PRIu32 " |%s|\n", core, bar);
		n = pol_core_windows(sys, s, core, w, 64);
		for (size_t i = 0; i < n && i < 64; i++) {
			fprintf(out, "           [");
			print_ms(out, w[i].offset_ns);
			fprintf(out, " ms, ");
			print_ms(out, w[i].offset_ns + w[i].duration_ns);
			fprintf(out, " ms)  %s", sys->partitions[w[i].partition].name);
			if (sys->partitions[w[i].partition].n_cores > 1)
				fprintf(out, " vcpu %" PRIu32, w[i].vcpu);
			fputc('\n', out);
		}
		if (n > 64)
			fprintf(out, "           ... %zu more\n", n - 64);
	}
}

/* What each partition sees at MUMU_REGION_GPA on: the information page's region table. */
static void report_regions(const struct pol_system *sys, FILE *out)
{
	static const char *const kinds[] = { "", "shared memory", "sampling port", "queuing port",
					     "queuing ack" };

	if (sys->n_channels == 0 && sys->n_shared_memories == 0)
		return;
	fprintf(out, "\n%zu channels, %zu shared memories; what each partition maps:\n",
		sys->n_channels, sys->n_shared_memories);
	for (size_t i = 0; i < sys->n_partitions; i++) {
		struct pol_region r[MUMU_REGION_MAX];
		size_t n = pol_partition_regions(sys, i, r, MUMU_REGION_MAX);

		for (size_t k = 0; k < n && k < MUMU_REGION_MAX; k++)
			fprintf(out, "  %-17s 0x%09" PRIx64 " %8" PRIu64 " bytes %-5s %s %s\n",
				k ? "" : sys->partitions[i].name, r[k].region.gpa,
				r[k].region.size_bytes,
				r[k].region.access == MUMU_ACCESS_WRITE ? "rw" : "ro",
				kinds[r[k].region.kind], r[k].region.name);
	}
}

void sup_describe(const struct pol_system *sys, FILE *out)
{
	fprintf(out, "%s: module '%s' is valid: %zu partitions, %zu schedules\n", sys->path,
		sys->name, sys->n_partitions, sys->n_schedules);
	fprintf(out, "\n  id  name              memory   cores (logical->physical)  binary\n");
	for (size_t i = 0; i < sys->n_partitions; i++) {
		const struct pol_partition *p = &sys->partitions[i];
		char cores[128];
		size_t len = 0;

		cores[0] = '\0';
		for (size_t v = 0; v < p->n_cores && len < sizeof(cores); v++)
			len += (size_t)snprintf(cores + len, sizeof(cores) - len,
						"%s%" PRIu32 "->%" PRIu32, v ? " " : "",
						p->cores[v].logical_core_id,
						p->cores[v].physical_core_id);
		char kind[64];

		if (p->binary_elf)
			snprintf(kind, sizeof(kind), "ELF, entry 0x%" PRIx64, p->binary_entry);
		else
			snprintf(kind, sizeof(kind), "flat binary");
		fprintf(out,
			"  %-3" PRIu32 " %-17s %4" PRIu64 " MiB %-27s %s (%s, %" PRIu64
			" bytes)%s%s\n",
			p->id, p->name, p->memory_bytes >> 20, cores, p->binary_resolved, kind,
			p->binary_bytes, p->system_partition ? " system" : "",
			p->set_module_schedule ? " may-set-schedule" : "");
		if (p->has_periodicity)
			fprintf(out, "      needs %.3f ms every %.3f ms\n",
				(double)p->duration_ns / 1e6, (double)p->period_ns / 1e6);
	}
	report_regions(sys, out);
	for (size_t i = 0; i < sys->n_schedules; i++)
		report_schedule(sys, &sys->schedules[i], out);
}
