/* SPDX-License-Identifier: MIT */
/* The rules of a linked system policy: everything the schema cannot say, every problem found. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "policy/internal.h"

#define MIB (1024ULL * 1024ULL)

#define problem pol_problem

bool pol_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > POL_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

size_t pol_check_name(struct pol_diags *diags, const char *file, int line, const char *what,
		      const char *name)
{
	if (pol_name_ok(name))
		return 0;
	pol_diag_add(diags, file, line,
		     "%s name '%s' is invalid; allowed: 1 to %d of A-Z a-z 0-9 _ -", what, name,
		     POL_NAME_MAX);
	return 1;
}

static void check_names(struct pol_pass *c)
{
	const struct pol_system *sys = c->sys;

	c->n += pol_check_name(c->diags, sys->path, sys->line, "module", sys->name);
	for (size_t i = 0; i < sys->n_partitions; i++) {
		const struct pol_partition *p = &sys->partitions[i];

		c->n += pol_check_name(c->diags, sys->path, p->line, "partition", p->name);
		for (size_t j = 0; j < i; j++) {
			if (sys->partitions[j].id == p->id)
				problem(
				    c, p->line,
				    "partition Identifier %u is already used by '%s' (line %d); "
				    "identifiers must be unique",
				    p->id, sys->partitions[j].name, sys->partitions[j].line);
			if (strcmp(sys->partitions[j].name, p->name) == 0)
				problem(
				    c, p->line,
				    "partition name '%s' is already used (line %d); names must be "
				    "unique",
				    p->name, sys->partitions[j].line);
		}
	}
}

static void check_cores(struct pol_pass *c, const struct pol_partition *p)
{
	if (p->n_cores == 0) {
		problem(c, p->line, "partition '%s' has no CoreMapping; allowed: 1 to %d", p->name,
			POL_VCPU_MAX);
		return;
	}
	for (size_t i = 0; i < p->n_cores; i++) {
		const struct pol_core_mapping *m = &p->cores[i];

		if (m->logical_core_id >= p->n_cores)
			problem(c, m->line,
				"partition '%s': LogicalCoreId %u out of range; allowed: 0 to %zu "
				"(one per CoreMapping, without gaps)",
				p->name, m->logical_core_id, p->n_cores - 1);
		if (m->physical_core_id >= POL_CPU_MAX || !c->host->cpu_online[m->physical_core_id])
			problem(
			    c, m->line,
			    "partition '%s': PhysicalCoreId %u is not an online CPU of this host; "
			    "allowed: %s",
			    p->name, m->physical_core_id, c->host->online_text);
		for (size_t j = 0; j < i; j++) {
			if (p->cores[j].logical_core_id == m->logical_core_id)
				problem(
				    c, m->line,
				    "partition '%s': LogicalCoreId %u is mapped twice (line %d); "
				    "each logical core once",
				    p->name, m->logical_core_id, p->cores[j].line);
			if (p->cores[j].physical_core_id == m->physical_core_id)
				problem(c, m->line,
					"partition '%s': two vCPUs on PhysicalCoreId %u (line %d); "
					"each vCPU of a partition needs its own physical core",
					p->name, m->physical_core_id, p->cores[j].line);
		}
	}
}

static void check_memory(struct pol_pass *c, const struct pol_partition *p)
{
	uint64_t avail;

	if (p->memory_bytes < MUMU_RAM_MIN_BYTES || p->memory_bytes > MUMU_RAM_MAX_BYTES ||
	    p->memory_bytes % (2 * MIB))
		problem(c, p->line,
			"partition '%s': MemorySize %llu is invalid; allowed: a multiple of 2 MiB "
			"from %llu to %llu bytes",
			p->name, (unsigned long long)p->memory_bytes,
			(unsigned long long)MUMU_RAM_MIN_BYTES,
			(unsigned long long)MUMU_RAM_MAX_BYTES);
	if (!p->binary_resolved[0])
		return; /* not found: pol_link said so */
	if (p->memory_bytes < MUMU_RAM_MIN_BYTES || p->memory_bytes > MUMU_RAM_MAX_BYTES)
		return;
	avail = p->memory_bytes - MUMU_USER_GPA - (uint64_t)p->n_cores * MUMU_STACK_BYTES;
	if (p->binary_elf && p->binary_problem[0])
		problem(c, p->line, "partition '%s': ELF image '%s' cannot be loaded: %s", p->name,
			p->binary_resolved, p->binary_problem);
	else if (!p->binary_elf && (p->binary_bytes == 0 || p->binary_bytes > avail))
		problem(
		    c, p->line,
		    "partition '%s': binary '%s' is %llu bytes; allowed: 1 to %llu bytes (MemorySize "
		    "less the first MiB and the vCPU stacks)",
		    p->name, p->binary_resolved, (unsigned long long)p->binary_bytes,
		    (unsigned long long)avail);
}

static void check_flags(struct pol_pass *c, const struct pol_partition *p)
{
	if (p->set_module_schedule && !p->system_partition)
		problem(
		    c, p->line,
		    "partition '%s': SetModuleSchedule=\"true\" needs SystemPartition=\"true\"; "
		    "only system partitions may switch the module schedule",
		    p->name);
}

static void check_schedules(struct pol_pass *c)
{
	const struct pol_system *sys = c->sys;
	size_t n_initial = 0;

	if (sys->n_schedules == 0)
		problem(c, sys->line, "no Schedules; allowed: at least one, exactly one initial");
	for (size_t i = 0; i < sys->n_schedules; i++) {
		const struct pol_schedule *s = &sys->schedules[i];

		if (s->initial) {
			if (n_initial++ > 0)
				problem(
				    c, s->line,
				    "schedule %u: a second InitialModuleSchedule=\"true\" (schedule "
				    "%u is initial); exactly one schedule is initial",
				    s->id, sys->schedules[sys->initial_schedule].id);
		}
		for (size_t j = 0; j < i; j++)
			if (sys->schedules[j].id == s->id)
				problem(
				    c, s->line,
				    "ScheduleIdentifier %u is already used (line %d); identifiers must "
				    "be unique",
				    s->id, sys->schedules[j].line);
		if (s->major_frame_ns < POL_MIN_WINDOW_NS)
			problem(c, s->line,
				"schedule %u: MajorFrameDuration %llu ns is too short; allowed: at "
				"least %llu ns",
				s->id, (unsigned long long)s->major_frame_ns,
				(unsigned long long)POL_MIN_WINDOW_NS);
		for (size_t w = 0; w < s->n_windows; w++) {
			const struct pol_window *win = &s->windows[w];

			if (win->duration_ns < POL_MIN_WINDOW_NS)
				problem(
				    c, win->line,
				    "window Duration %llu ns is too short; allowed: at least %llu ns",
				    (unsigned long long)win->duration_ns,
				    (unsigned long long)POL_MIN_WINDOW_NS);
			if (!range_ok(win->offset_ns, win->duration_ns, s->major_frame_ns))
				problem(
				    c, win->line,
				    "window [%llu, %llu + %llu) ns ends after the major frame of %llu "
				    "ns; allowed: Offset + Duration <= MajorFrameDuration",
				    (unsigned long long)win->offset_ns,
				    (unsigned long long)win->offset_ns,
				    (unsigned long long)win->duration_ns,
				    (unsigned long long)s->major_frame_ns);
		}
	}
	if (sys->n_schedules > 0 && n_initial == 0)
		problem(c, sys->schedules[0].line,
			"no schedule has InitialModuleSchedule=\"true\"; exactly one schedule is "
			"initial");
}

/* Two windows overlap on a physical core when both their partitions map a vCPU there. */
static void check_overlaps(struct pol_pass *c)
{
	const struct pol_system *sys = c->sys;

	for (size_t i = 0; i < sys->n_schedules; i++) {
		const struct pol_schedule *s = &sys->schedules[i];

		for (size_t a = 0; a < s->n_windows; a++) {
			for (size_t b = 0; b < a; b++) {
				struct pol_window *wa = &s->windows[a], *wb = &s->windows[b];
				const struct pol_partition *pa, *pb;

				if (wa->partition == SIZE_MAX || wb->partition == SIZE_MAX)
					continue;
				if (wa->offset_ns >= wb->offset_ns + wb->duration_ns ||
				    wb->offset_ns >= wa->offset_ns + wa->duration_ns)
					continue;
				pa = &sys->partitions[wa->partition];
				pb = &sys->partitions[wb->partition];
				for (size_t x = 0; x < pa->n_cores; x++) {
					bool shared = false;

					for (size_t y = 0; y < pb->n_cores; y++)
						shared |= pa->cores[x].physical_core_id ==
							  pb->cores[y].physical_core_id;
					if (!shared)
						continue;
					problem(
					    c, wa->line,
					    "schedule %u: window of '%s' overlaps the window of '%s' "
					    "(line %d) on physical core %u; windows on one core must not "
					    "overlap",
					    s->id, pa->name, pb->name, wb->line,
					    pa->cores[x].physical_core_id);
					break;
				}
			}
		}
	}
}

static void check_periodicity(struct pol_pass *c, size_t pi)
{
	const struct pol_partition *p = &c->sys->partitions[pi];
	int line = p->periodicity_line ? p->periodicity_line : p->line;

	if (!p->has_periodicity)
		return;
	if (p->duration_ns == 0 || p->duration_ns > p->period_ns) {
		problem(
		    c, line,
		    "partition '%s': PartitionPeriodicity Duration %llu, Period %llu; allowed: 0 < "
		    "Duration <= Period",
		    p->name, (unsigned long long)p->duration_ns, (unsigned long long)p->period_ns);
		return;
	}
	for (size_t i = 0; i < c->sys->n_schedules; i++) {
		const struct pol_schedule *s = &c->sys->schedules[i];

		if (s->major_frame_ns == 0 || s->major_frame_ns % p->period_ns) {
			problem(
			    c, line,
			    "partition '%s': Period %llu ns does not divide the major frame of "
			    "schedule %u (%llu ns); allowed: a divisor of every MajorFrameDuration",
			    p->name, (unsigned long long)p->period_ns, s->id,
			    (unsigned long long)s->major_frame_ns);
			continue;
		}
		for (uint64_t t = 0; t < s->major_frame_ns; t += p->period_ns) {
			uint64_t got = pol_window_time_in(s, pi, t, t + p->period_ns);

			if (got >= p->duration_ns)
				continue;
			problem(
			    c, line,
			    "partition '%s': schedule %u gives it %llu ns in [%llu, %llu) ns; "
			    "PartitionPeriodicity needs at least Duration %llu ns in every Period",
			    p->name, s->id, (unsigned long long)got, (unsigned long long)t,
			    (unsigned long long)(t + p->period_ns),
			    (unsigned long long)p->duration_ns);
			break;
		}
	}
}

static void check_scheduled(struct pol_pass *c, size_t pi)
{
	const struct pol_partition *p = &c->sys->partitions[pi];

	for (size_t i = 0; i < c->sys->n_schedules; i++)
		for (size_t w = 0; w < c->sys->schedules[i].n_windows; w++)
			if (c->sys->schedules[i].windows[w].partition == pi)
				return;
	problem(c, p->line,
		"partition '%s' has no PartitionTimeWindow in any schedule; every partition "
		"needs at least one window",
		p->name);
}

size_t pol_check(const struct pol_system *sys, const struct pol_host *host, struct pol_diags *diags)
{
	struct pol_pass c = { .sys = sys, .host = host, .diags = diags };

	check_names(&c);
	if (sys->n_partitions == 0)
		problem(&c, sys->line, "no Partition; allowed: at least one");
	for (size_t i = 0; i < sys->n_partitions; i++) {
		check_cores(&c, &sys->partitions[i]);
		check_memory(&c, &sys->partitions[i]);
		check_flags(&c, &sys->partitions[i]);
	}
	check_schedules(&c);
	check_overlaps(&c);
	for (size_t i = 0; i < sys->n_partitions; i++) {
		check_periodicity(&c, i);
		check_scheduled(&c, i);
	}
	return c.n + pol_check_comms(sys, diags);
}
