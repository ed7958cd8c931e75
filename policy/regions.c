/* SPDX-License-Identifier: MIT */
/* Which shared memory each partition sees and where (docs/abi.md, "Shared regions and ports"). */
#include <stdio.h>

#include "mumu/port.h"
#include "policy/internal.h"

/* Memory objects: one per shared memory, then per channel its ring and, if queuing, its ACK. */
static size_t channel_object(const struct pol_system *sys, size_t c)
{
	size_t k = sys->n_shared_memories;

	for (size_t i = 0; i < c; i++)
		k += 1 + (sys->partitions[sys->channels[i].source.partition]
			      .ports[sys->channels[i].source.port]
			      .kind == POL_PORT_QUEUING);
	return k;
}

static const struct pol_port *channel_port(const struct pol_system *sys, size_t c)
{
	const struct pol_ref *src = &sys->channels[c].source;

	return &sys->partitions[src->partition].ports[src->port];
}

size_t pol_object_count(const struct pol_system *sys)
{
	return channel_object(sys, sys->n_channels);
}

uint64_t pol_object_bytes(const struct pol_system *sys, size_t object)
{
	if (object < sys->n_shared_memories)
		return sys->shared_memories[object].size_bytes;
	for (size_t c = 0; c < sys->n_channels; c++) {
		const struct pol_port *port = channel_port(sys, c);
		size_t k = channel_object(sys, c);

		if (object == k && port->kind == POL_PORT_SAMPLING)
			return mumu_sampling_bytes(port->max_message_bytes);
		if (object == k)
			return mumu_queue_bytes(port->max_message_bytes, port->max_nb_messages);
		if (object == k + 1 && port->kind == POL_PORT_QUEUING)
			return MUMU_PAGE_BYTES;
	}
	return 0;
}

static void add(struct pol_region *out, size_t max, size_t *n, uint64_t *gpa, const char *name,
		uint32_t kind, bool write, uint64_t size, size_t object)
{
	if (*n < max) {
		struct pol_region *r = &out[*n];

		*r = (struct pol_region){ .object = object };
		snprintf(r->region.name, sizeof(r->region.name), "%s", name);
		r->region.gpa = *gpa;
		r->region.size_bytes = size;
		r->region.kind = kind;
		r->region.access = write ? MUMU_ACCESS_WRITE : MUMU_ACCESS_READ;
	}
	(*n)++;
	*gpa += size;
}

size_t pol_partition_regions(const struct pol_system *sys, size_t p, struct pol_region *out,
			     size_t max)
{
	const struct pol_partition *part = &sys->partitions[p];
	uint64_t gpa = MUMU_REGION_GPA;
	size_t n = 0;

	for (size_t s = 0; s < sys->n_shared_memories; s++) {
		const struct pol_shared_memory *m = &sys->shared_memories[s];

		for (size_t a = 0; a < m->n_access; a++)
			if (m->access[a].partition == p)
				add(out, max, &n, &gpa, m->name, MUMU_REGION_SHARED_MEMORY,
				    m->access[a].write, m->size_bytes, s);
	}
	for (size_t k = 0; k < part->n_ports; k++) {
		const struct pol_port *port = &part->ports[k];
		size_t obj, first = n;

		if (port->channel >= sys->n_channels)
			continue;
		obj = channel_object(sys, port->channel);
		if (port->kind == POL_PORT_SAMPLING) {
			add(out, max, &n, &gpa, port->name, MUMU_REGION_SAMPLING_PORT, port->source,
			    mumu_sampling_bytes(port->max_message_bytes), obj);
		} else {
			add(out, max, &n, &gpa, port->name, MUMU_REGION_QUEUING_PORT, port->source,
			    mumu_queue_bytes(port->max_message_bytes, port->max_nb_messages), obj);
			add(out, max, &n, &gpa, port->name, MUMU_REGION_QUEUING_ACK, !port->source,
			    MUMU_PAGE_BYTES, obj + 1);
		}
		for (size_t i = first; i < n && i < max; i++) {
			out[i].region.max_message_bytes = port->max_message_bytes;
			out[i].region.max_nb_messages = port->max_nb_messages;
			out[i].region.refresh_period_ns = port->refresh_period_ns;
		}
	}
	return n;
}
