/* SPDX-License-Identifier: MIT */
/* The rules of ports, channels and shared memories, once pol_link resolved their references. */
#include <stdio.h>
#include <string.h>

#include "mumu/port.h"
#include "policy/internal.h"

#define REGION_SPACE_BYTES (MUMU_INFO_GPA - MUMU_REGION_GPA)

#define problem pol_problem

static const char *const kind_names[] = { "sampling", "queuing" };

static void check_port(struct pol_pass *c, const struct pol_partition *p, size_t k)
{
	const struct pol_port *port = &p->ports[k];

	c->n += pol_check_name(c->diags, c->sys->path, port->line, "port", port->name);
	for (size_t j = 0; j < k; j++)
		if (strcmp(p->ports[j].name, port->name) == 0)
			problem(c, port->line,
				"partition '%s' has a second port '%s' (first on line %d); port "
				"names are unique in a partition",
				p->name, port->name, p->ports[j].line);
	if (port->max_message_bytes == 0 || port->max_message_bytes > MUMU_PORT_MESSAGE_MAX)
		problem(c, port->line, "port '%s': MaxMessageSize=\"%u\"; allowed: 1 to %d bytes",
			port->name, port->max_message_bytes, MUMU_PORT_MESSAGE_MAX);
	if (port->kind == POL_PORT_QUEUING &&
	    (port->max_nb_messages == 0 || port->max_nb_messages > MUMU_QUEUE_DEPTH_MAX))
		problem(c, port->line, "port '%s': MaxNbMessages=\"%u\"; allowed: 1 to %d",
			port->name, port->max_nb_messages, MUMU_QUEUE_DEPTH_MAX);
	if (port->kind == POL_PORT_SAMPLING && port->refresh_period_ns == 0)
		problem(c, port->line,
			"port '%s': RefreshPeriod=\"0\"; allowed: 1 ns or more (a message older "
			"than it reads as invalid)",
			port->name);
}

/* A resolved end's port: its Direction is the end's. */
static void check_end(struct pol_pass *c, const struct pol_channel *ch, const struct pol_ref *r,
		      bool source)
{
	const struct pol_partition *p = &c->sys->partitions[r->partition];
	const struct pol_port *port = &p->ports[r->port];

	if (port->source != source)
		problem(c, r->line,
			"channel '%s': port '%s' of '%s' is a %s; a channel's %s needs "
			"Direction=\"%s\"",
			ch->name, port->name, p->name, port->source ? "SOURCE" : "DESTINATION",
			source ? "Source" : "Destination", source ? "SOURCE" : "DESTINATION");
}

static void check_channel(struct pol_pass *c, size_t i)
{
	const struct pol_channel *ch = &c->sys->channels[i];
	const struct pol_port *src;

	c->n += pol_check_name(c->diags, c->sys->path, ch->line, "channel", ch->name);
	for (size_t j = 0; j < i; j++)
		if (strcmp(c->sys->channels[j].name, ch->name) == 0)
			problem(c, ch->line,
				"a second channel '%s' (first on line %d); names are unique",
				ch->name, c->sys->channels[j].line);
	if (ch->source.port == SIZE_MAX)
		return; /* pol_link said why */
	check_end(c, ch, &ch->source, true);
	src = &c->sys->partitions[ch->source.partition].ports[ch->source.port];
	if (src->kind == POL_PORT_QUEUING && ch->n_destinations != 1)
		problem(c, ch->line,
			"channel '%s' has %zu Destinations; a queuing channel has exactly one",
			ch->name, ch->n_destinations);
	for (size_t d = 0; d < ch->n_destinations; d++) {
		const struct pol_ref *r = &ch->destinations[d];
		const struct pol_port *dst;

		if (r->port == SIZE_MAX)
			continue;
		check_end(c, ch, r, false);
		dst = &c->sys->partitions[r->partition].ports[r->port];
		if (dst->kind != src->kind)
			problem(c, r->line,
				"channel '%s': port '%s' is a %s port, its source '%s' a %s port; "
				"a channel joins ports of one kind",
				ch->name, dst->name, kind_names[dst->kind], src->name,
				kind_names[src->kind]);
		else if (dst->max_message_bytes != src->max_message_bytes)
			problem(
			    c, r->line,
			    "channel '%s': port '%s' has MaxMessageSize=\"%u\", its source '%s' "
			    "\"%u\"; the ends of a channel agree",
			    ch->name, dst->name, dst->max_message_bytes, src->name,
			    src->max_message_bytes);
		else if (dst->kind == POL_PORT_QUEUING &&
			 dst->max_nb_messages != src->max_nb_messages)
			problem(c, r->line,
				"channel '%s': port '%s' has MaxNbMessages=\"%u\", its source '%s' "
				"\"%u\"; the ends of a queuing channel share one queue",
				ch->name, dst->name, dst->max_nb_messages, src->name,
				src->max_nb_messages);
	}
}

static void check_shared_memory(struct pol_pass *c, size_t i)
{
	const struct pol_shared_memory *m = &c->sys->shared_memories[i];
	size_t writers = 0;

	c->n += pol_check_name(c->diags, c->sys->path, m->line, "shared memory", m->name);
	for (size_t j = 0; j < i; j++)
		if (strcmp(c->sys->shared_memories[j].name, m->name) == 0)
			problem(c, m->line,
				"a second shared memory '%s' (first on line %d); names are unique",
				m->name, c->sys->shared_memories[j].line);
	if (m->size_bytes == 0 || m->size_bytes % MUMU_PAGE_BYTES ||
	    m->size_bytes > REGION_SPACE_BYTES)
		problem(c, m->line,
			"shared memory '%s': Size=\"%llu\"; allowed: a multiple of 4096 bytes, "
			"at most %llu",
			m->name, (unsigned long long)m->size_bytes,
			(unsigned long long)REGION_SPACE_BYTES);
	for (size_t a = 0; a < m->n_access; a++) {
		const struct pol_ref *r = &m->access[a];

		writers += r->write;
		if (r->partition == SIZE_MAX)
			continue; /* pol_link said why */
		for (size_t b = 0; b < a; b++)
			if (m->access[b].partition == r->partition)
				problem(c, r->line,
					"shared memory '%s': a second Access for '%s' (first on "
					"line %d); one Access per partition",
					m->name, c->sys->partitions[r->partition].name,
					m->access[b].line);
	}
	if (writers != 1)
		problem(c, m->line,
			"shared memory '%s' has %zu writers; exactly one Access has "
			"Mode=\"WRITE\", every other partition only reads",
			m->name, writers);
}

/* After everything resolved: what each partition sees must fit its information page. */
static void check_fit(struct pol_pass *c, size_t pi)
{
	const struct pol_partition *p = &c->sys->partitions[pi];
	struct pol_region regions[MUMU_REGION_MAX];
	size_t n = pol_partition_regions(c->sys, pi, regions, MUMU_REGION_MAX);
	uint64_t bytes = 0;

	if (n > MUMU_REGION_MAX) {
		problem(c, p->line,
			"partition '%s' sees %zu shared regions and port pages (a queuing port "
			"counts twice); allowed: %d",
			p->name, n, MUMU_REGION_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		bytes += regions[i].region.size_bytes;
		for (size_t j = 0; j < i; j++)
			if (regions[i].region.kind != MUMU_REGION_QUEUING_ACK &&
			    regions[j].region.kind != MUMU_REGION_QUEUING_ACK &&
			    strcmp(regions[i].region.name, regions[j].region.name) == 0)
				problem(c, p->line,
					"partition '%s' sees two regions named '%s' (a port and a "
					"shared memory); names a partition sees are unique",
					p->name, regions[i].region.name);
	}
	if (bytes > REGION_SPACE_BYTES)
		problem(c, p->line,
			"partition '%s' sees %llu bytes of shared regions and ports; allowed: %llu",
			p->name, (unsigned long long)bytes, (unsigned long long)REGION_SPACE_BYTES);
}

/* Every channel end and shared memory access names what it should (pol_link). */
static bool all_linked(const struct pol_system *sys)
{
	for (size_t i = 0; i < sys->n_channels; i++) {
		if (sys->channels[i].source.port == SIZE_MAX)
			return false;
		for (size_t d = 0; d < sys->channels[i].n_destinations; d++)
			if (sys->channels[i].destinations[d].port == SIZE_MAX)
				return false;
	}
	for (size_t i = 0; i < sys->n_shared_memories; i++)
		for (size_t a = 0; a < sys->shared_memories[i].n_access; a++)
			if (sys->shared_memories[i].access[a].partition == SIZE_MAX)
				return false;
	return true;
}

size_t pol_check_comms(const struct pol_system *sys, struct pol_diags *diags)
{
	struct pol_pass c = { .sys = sys, .diags = diags };

	for (size_t i = 0; i < sys->n_partitions; i++)
		for (size_t k = 0; k < sys->partitions[i].n_ports; k++)
			check_port(&c, &sys->partitions[i], k);
	for (size_t i = 0; i < sys->n_channels; i++)
		check_channel(&c, i);
	for (size_t i = 0; i < sys->n_shared_memories; i++)
		check_shared_memory(&c, i);
	for (size_t i = 0; i < sys->n_partitions; i++)
		for (size_t k = 0; k < sys->partitions[i].n_ports; k++)
			if (sys->partitions[i].ports[k].channel == SIZE_MAX)
				problem(
				    &c, sys->partitions[i].ports[k].line,
				    "port '%s' of '%s' is in no Channel; every port is connected",
				    sys->partitions[i].ports[k].name, sys->partitions[i].name);
	if (c.n == 0 && all_linked(sys)) /* pol_partition_regions needs every reference */
		for (size_t i = 0; i < sys->n_partitions; i++)
			check_fit(&c, i);
	return c.n;
}
