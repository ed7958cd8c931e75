/* SPDX-License-Identifier: MIT */
/*
 * Finish the model parse.c built (internal.h, pol_link): references resolved to indexes, the
 * initial schedule, the vCPUs in logical order, each binary found. The checks after it only
 * read the model.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/elf.h"
#include "common/util.h"
#include "policy/internal.h"

#define problem	      pol_problem
#define SELFMAG_BYTES 4

/* Beside the config, then in the guest directories; an absolute path as it is. */
static int find_binary(struct pol_partition *p, const char *config, const struct pol_host *h)
{
	char dir[POL_PATH_MAX], cand[POL_PATH_MAX];
	const char *slash = strrchr(config, '/');
	struct stat st;
	int n;

	if (p->binary_path[0] == '/') {
		snprintf(cand, sizeof(cand), "%s", p->binary_path);
		if (stat(cand, &st) < 0 || !S_ISREG(st.st_mode))
			return -ENOENT;
		goto found;
	}
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - config), config);
	else
		snprintf(dir, sizeof(dir), ".");
	for (size_t i = 0; i <= h->n_guest_dirs; i++) {
		const char *d = i == 0 ? dir : h->guest_dirs[i - 1];

		n = snprintf(cand, sizeof(cand), "%s/%s", d, p->binary_path);
		if (n < 0 || (size_t)n >= sizeof(cand))
			continue;
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode))
			goto found;
	}
	return -ENOENT;
found:
	snprintf(p->binary_resolved, sizeof(p->binary_resolved), "%s", cand);
	p->binary_bytes = (uint64_t)st.st_size;
	return 0;
}

/*
 * An ELF image: where its segments go (elf.h), within the partition's user area (what its
 * RAM leaves above MUMU_USER_GPA and below the vCPU stacks); check_memory reports a problem.
 * A file too big for the RAM is check_memory's to say.
 */
static void classify_binary(struct pol_partition *p)
{
	_cleanup_close_ int fd =
	    open(p->binary_resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	uint64_t hi = p->memory_bytes - (uint64_t)p->n_cores * MUMU_STACK_BYTES;
	struct elf_plan plan;
	uint8_t head[SELFMAG_BYTES];
	char *buf;

	p->binary_entry = MUMU_USER_GPA;
	p->binary_end = MUMU_USER_GPA + p->binary_bytes;
	if (fd < 0 || read(fd, head, sizeof(head)) != (ssize_t)sizeof(head) ||
	    !elf_is(head, sizeof(head)))
		return;
	p->binary_elf = true;
	if (p->binary_bytes > MUMU_RAM_MAX_BYTES || hi <= MUMU_USER_GPA ||
	    p->memory_bytes > MUMU_RAM_MAX_BYTES) {
		snprintf(p->binary_problem, sizeof(p->binary_problem), "larger than any RAM");
		return;
	}
	buf = malloc(p->binary_bytes ? p->binary_bytes : 1);
	if (!buf || pread(fd, buf, p->binary_bytes, 0) != (ssize_t)p->binary_bytes)
		snprintf(p->binary_problem, sizeof(p->binary_problem), "cannot be read");
	else if (elf_plan(buf, p->binary_bytes, MUMU_USER_GPA, hi, &plan, p->binary_problem,
			  sizeof(p->binary_problem)) == 0) {
		p->binary_entry = plan.entry;
		p->binary_end = plan.end;
	}
	free(buf);
}

static void link_partition(struct pol_pass *c, struct pol_partition *p)
{
	struct pol_core_mapping sorted[POL_VCPU_MAX];

	if (find_binary(p, c->sys->path, c->host) < 0)
		problem(c, p->line,
			"partition '%s': BinaryPath '%s' not found; looked beside the config, then "
			"in the guest directories (%s)",
			p->name, p->binary_path,
			c->host->n_guest_dirs ? c->host->guest_dirs[0] : "-");
	else
		classify_binary(p);
	/* The vCPUs by logical id, once those are a permutation of 0..n-1 (check_cores says
	 * what else they are). */
	memset(sorted, 0, sizeof(sorted));
	for (size_t i = 0; i < p->n_cores; i++) {
		if (p->cores[i].logical_core_id >= p->n_cores)
			return;
		sorted[p->cores[i].logical_core_id] = p->cores[i];
	}
	for (size_t i = 0; i < p->n_cores; i++)
		if (sorted[i].line == 0)
			return;
	memcpy(p->cores, sorted, sizeof(sorted[0]) * p->n_cores);
}

static void link_schedules(struct pol_pass *c, struct pol_system *sys)
{
	bool initial = false;

	for (size_t i = 0; i < sys->n_schedules; i++) {
		struct pol_schedule *s = &sys->schedules[i];

		if (s->initial && !initial) {
			sys->initial_schedule = i;
			initial = true;
		}
		for (size_t w = 0; w < s->n_windows; w++) {
			const struct pol_partition *p =
			    pol_partition_by_name(sys, s->window_refs[w]);

			if (p)
				s->windows[w].partition = (size_t)(p - sys->partitions);
			else
				problem(
				    c, s->windows[w].line,
				    "PartitionNameRef '%s' names no partition; allowed: a Name of "
				    "a PartitionDefinition",
				    s->window_refs[w]);
		}
	}
}

/* One end of a channel: its partition and port, and the port's channel (one each). */
static void link_end(struct pol_pass *c, struct pol_system *sys, size_t ch, struct pol_ref *r)
{
	const struct pol_partition *p = pol_partition_by_name(sys, r->partition_ref);
	const char *name = sys->channels[ch].name;
	struct pol_port *port = NULL;

	if (!p) {
		problem(c, r->line, "channel '%s': PartitionNameRef=\"%s\" names no partition",
			name, r->partition_ref);
		return;
	}
	for (size_t k = 0; k < p->n_ports; k++)
		if (strcmp(p->ports[k].name, r->port_ref) == 0) {
			r->partition = (size_t)(p - sys->partitions);
			r->port = k;
			port = &sys->partitions[r->partition].ports[k];
		}
	if (!port) {
		problem(c, r->line, "channel '%s': partition '%s' has no port '%s'", name, p->name,
			r->port_ref);
		return;
	}
	if (port->channel != SIZE_MAX)
		problem(c, r->line, "channel '%s': port '%s' of '%s' is already in channel '%s'",
			name, port->name, p->name, sys->channels[port->channel].name);
	else
		port->channel = ch;
}

static void link_comms(struct pol_pass *c, struct pol_system *sys)
{
	for (size_t i = 0; i < sys->n_channels; i++) {
		link_end(c, sys, i, &sys->channels[i].source);
		for (size_t d = 0; d < sys->channels[i].n_destinations; d++)
			link_end(c, sys, i, &sys->channels[i].destinations[d]);
	}
	for (size_t i = 0; i < sys->n_shared_memories; i++) {
		struct pol_shared_memory *m = &sys->shared_memories[i];

		for (size_t a = 0; a < m->n_access; a++) {
			struct pol_ref *r = &m->access[a];
			const struct pol_partition *p =
			    pol_partition_by_name(sys, r->partition_ref);

			if (p)
				r->partition = (size_t)(p - sys->partitions);
			else
				problem(c, r->line,
					"shared memory '%s': PartitionNameRef=\"%s\" names no "
					"partition",
					m->name, r->partition_ref);
		}
	}
}

size_t pol_link(struct pol_system *sys, const struct pol_host *host, struct pol_diags *diags)
{
	struct pol_pass c = { .sys = sys, .host = host, .diags = diags };

	for (size_t i = 0; i < sys->n_partitions; i++)
		link_partition(&c, &sys->partitions[i]);
	link_schedules(&c, sys);
	link_comms(&c, sys);
	return c.n;
}
