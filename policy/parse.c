/* SPDX-License-Identifier: MIT */
/* Build the model from a config's validated DOM (xml.c reads it), then check it (check.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "common/util.h"
#include "policy/internal.h"

static const char *prop(xmlNodePtr node, const char *name, char *buf, size_t size)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)name);

	if (!v)
		return NULL;
	snprintf(buf, size, "%s", (const char *)v);
	xmlFree(v);
	return buf;
}

static bool is(xmlNodePtr node, const char *name)
{
	return node->type == XML_ELEMENT_NODE && xmlStrcmp(node->name, (const xmlChar *)name) == 0;
}

/* Attribute values passed the schema; a failure here is a number beyond 64 bits. */
static uint64_t num(xmlNodePtr node, const char *name, uint64_t dflt, const char *file,
		    struct pol_diags *diags)
{
	char buf[64];
	uint64_t v;

	if (!prop(node, name, buf, sizeof(buf)))
		return dflt;
	if (pol_parse_u64(buf, &v) < 0) {
		pol_diag_add(diags, file, (int)xmlGetLineNo(node),
			     "%s=\"%s\" is not a number; allowed: 0 to 18446744073709551615", name,
			     buf);
		return dflt;
	}
	return v;
}

static bool flag(xmlNodePtr node, const char *name)
{
	char buf[16];

	return prop(node, name, buf, sizeof(buf)) &&
	       (strcmp(buf, "true") == 0 || strcmp(buf, "1") == 0);
}

static enum pol_action action(const char *s)
{
	for (int a = 0; a < POL_ACTION_COUNT; a++)
		if (s && strcmp(s, pol_action_name(a)) == 0)
			return a;
	return POL_ACTION_IGNORE;
}

/* HealthMonitor: the restart budget and one ErrorAction per error at most. */
static void build_hm(struct pol_partition *p, xmlNodePtr hm, const char *file,
		     struct pol_diags *diags)
{
	int seen[POL_HM_ERROR_COUNT] = { 0 };
	char buf[64];

	p->restart_limit =
	    (uint32_t)num(hm, "RestartLimit", POL_HM_RESTART_LIMIT_DEFAULT, file, diags);
	p->restart_period_ns =
	    num(hm, "RestartPeriod", POL_HM_RESTART_PERIOD_DEFAULT_NS, file, diags);
	if (p->restart_period_ns == 0)
		pol_diag_add(diags, file, (int)xmlGetLineNo(hm),
			     "partition '%s': RestartPeriod=\"0\"; allowed: 1 ns or more (the span "
			     "in which at most RestartLimit restarts happen)",
			     p->name);
	for (xmlNodePtr e = hm->children; e; e = e->next) {
		int line = (int)xmlGetLineNo(e), k;

		if (!is(e, "ErrorAction"))
			continue;
		if (!prop(e, "Error", buf, sizeof(buf)))
			continue; /* the schema reported it */
		for (k = 0; k < POL_HM_ERROR_COUNT && strcmp(buf, pol_hm_error_name(k)) != 0; k++)
			;
		if (k == POL_HM_ERROR_COUNT)
			continue;
		if (seen[k]) {
			pol_diag_add(diags, file, line,
				     "partition '%s' gives %s a second action (first on line %d); "
				     "allowed: one ErrorAction per error",
				     p->name, buf, seen[k]);
			continue;
		}
		seen[k] = line;
		p->hm_actions[k] = action(prop(e, "Action", buf, sizeof(buf)));
	}
}

static void build_port(struct pol_partition *p, xmlNodePtr c, enum pol_port_kind kind,
		       const char *file, struct pol_diags *diags)
{
	struct pol_port *port;
	char buf[POL_NAME_MAX + 64];

	if (p->n_ports == MUMU_REGION_MAX) {
		pol_diag_add(diags, file, (int)xmlGetLineNo(c),
			     "partition '%s' has more than %d ports; allowed: %d shared regions "
			     "and ports together",
			     p->name, MUMU_REGION_MAX, MUMU_REGION_MAX);
		return;
	}
	port = &p->ports[p->n_ports++];
	port->line = (int)xmlGetLineNo(c);
	port->kind = kind;
	port->channel = SIZE_MAX;
	snprintf(port->name, sizeof(port->name), "%.*s", POL_NAME_MAX,
		 prop(c, "Name", buf, sizeof(buf)) ?: "");
	port->source = strcmp(prop(c, "Direction", buf, sizeof(buf)) ?: "", "SOURCE") == 0;
	port->max_message_bytes = (uint32_t)num(c, "MaxMessageSize", 0, file, diags);
	port->max_nb_messages = (uint32_t)num(c, "MaxNbMessages", 0, file, diags);
	port->refresh_period_ns = num(c, "RefreshPeriod", 0, file, diags);
}

static int build_partition(struct pol_partition *p, xmlNodePtr part, const char *file,
			   struct pol_diags *diags)
{
	char buf[POL_PATH_MAX];

	p->line = (int)xmlGetLineNo(part);
	p->restart_limit = POL_HM_RESTART_LIMIT_DEFAULT;
	p->restart_period_ns = POL_HM_RESTART_PERIOD_DEFAULT_NS;
	for (int k = 0; k < POL_HM_ERROR_COUNT; k++)
		p->hm_actions[k] = pol_hm_default_action(k);
	for (xmlNodePtr c = part->children; c; c = c->next) {
		if (is(c, "PartitionDefinition")) {
			p->line = (int)xmlGetLineNo(c);
			p->id = (uint32_t)num(c, "Identifier", 0, file, diags);
			snprintf(p->name, sizeof(p->name), "%.*s", POL_NAME_MAX,
				 prop(c, "Name", buf, sizeof(buf)) ?: "");
			snprintf(p->binary_path, sizeof(p->binary_path), "%s",
				 prop(c, "BinaryPath", buf, sizeof(buf)) ?: "");
			p->schedule_change_action =
			    action(prop(c, "ScheduleChangeAction", buf, sizeof(buf)));
			p->set_module_schedule = flag(c, "SetModuleSchedule");
			p->system_partition = flag(c, "SystemPartition");
			p->memory_bytes =
			    num(c, "MemorySize", POL_DEFAULT_MEMORY_BYTES, file, diags);
		} else if (is(c, "PartitionPeriodicity")) {
			p->has_periodicity = true;
			p->period_ns = num(c, "Period", 0, file, diags);
			p->duration_ns = num(c, "Duration", 0, file, diags);
			p->periodicity_line = (int)xmlGetLineNo(c);
		} else if (is(c, "HealthMonitor")) {
			build_hm(p, c, file, diags);
		} else if (is(c, "SamplingPort")) {
			build_port(p, c, POL_PORT_SAMPLING, file, diags);
		} else if (is(c, "QueuingPort")) {
			build_port(p, c, POL_PORT_QUEUING, file, diags);
		} else if (is(c, "CoreAffinity")) {
			for (xmlNodePtr m = c->children; m; m = m->next) {
				struct pol_core_mapping *cm;

				if (!is(m, "CoreMapping"))
					continue;
				if (p->n_cores == POL_VCPU_MAX) {
					pol_diag_add(
					    diags, file, (int)xmlGetLineNo(m),
					    "partition '%s' has more than %d CoreMappings; "
					    "allowed: 1 to %d vCPUs",
					    p->name, POL_VCPU_MAX, POL_VCPU_MAX);
					break;
				}
				cm = &p->cores[p->n_cores++];
				cm->line = (int)xmlGetLineNo(m);
				cm->logical_core_id =
				    (uint32_t)num(m, "LogicalCoreId", UINT32_MAX, file, diags);
				cm->physical_core_id =
				    (uint32_t)num(m, "PhysicalCoreId", UINT32_MAX, file, diags);
			}
		}
	}
	return 0;
}

static int build_schedule(struct pol_schedule *s, xmlNodePtr node, const char *file,
			  struct pol_diags *diags)
{
	size_t n = 0;
	char buf[POL_NAME_MAX + 64];

	s->line = (int)xmlGetLineNo(node);
	s->id = (uint32_t)num(node, "ScheduleIdentifier", 0, file, diags);
	s->major_frame_ns = num(node, "MajorFrameDuration", 0, file, diags);
	s->initial = flag(node, "InitialModuleSchedule");
	for (xmlNodePtr c = node->children; c; c = c->next)
		n += is(c, "PartitionTimeWindow");
	s->windows = calloc(n ? n : 1, sizeof(*s->windows));
	s->window_refs = calloc(n ? n : 1, sizeof(*s->window_refs));
	if (!s->windows || !s->window_refs)
		return -ENOMEM;
	for (xmlNodePtr c = node->children; c; c = c->next) {
		struct pol_window *w;

		if (!is(c, "PartitionTimeWindow"))
			continue;
		w = &s->windows[s->n_windows];
		w->line = (int)xmlGetLineNo(c);
		w->offset_ns = num(c, "Offset", 0, file, diags);
		w->duration_ns = num(c, "Duration", 0, file, diags);
		w->partition = SIZE_MAX;
		snprintf(s->window_refs[s->n_windows], sizeof(s->window_refs[0]), "%.*s",
			 POL_NAME_MAX + 32, prop(c, "PartitionNameRef", buf, sizeof(buf)) ?: "");
		s->n_windows++;
	}
	return 0;
}

static void build_ref(struct pol_ref *r, xmlNodePtr node)
{
	char buf[POL_NAME_MAX + 64];

	r->line = (int)xmlGetLineNo(node);
	r->partition = SIZE_MAX;
	r->port = SIZE_MAX;
	snprintf(r->partition_ref, sizeof(r->partition_ref), "%.*s", POL_NAME_MAX + 32,
		 prop(node, "PartitionNameRef", buf, sizeof(buf)) ?: "");
	snprintf(r->port_ref, sizeof(r->port_ref), "%.*s", POL_NAME_MAX + 32,
		 prop(node, "PortNameRef", buf, sizeof(buf)) ?: "");
	r->write = strcmp(prop(node, "Mode", buf, sizeof(buf)) ?: "", "WRITE") == 0;
}

static size_t count(xmlNodePtr node, const char *name)
{
	size_t n = 0;

	for (xmlNodePtr c = node->children; c; c = c->next)
		n += is(c, name);
	return n;
}

/* Channels and SharedMemories: names and references as written; check.c resolves them. */
static int build_comms(struct pol_system *sys, xmlNodePtr node, const char *file,
		       struct pol_diags *diags)
{
	bool channels = is(node, "Channels");
	const char *item = channels ? "Channel" : "SharedMemory";
	size_t n = count(node, item);
	char buf[POL_NAME_MAX + 64];

	if (channels) {
		sys->channels = calloc(n ? n : 1, sizeof(*sys->channels));
		if (!sys->channels)
			return -ENOMEM;
	} else {
		sys->shared_memories = calloc(n ? n : 1, sizeof(*sys->shared_memories));
		if (!sys->shared_memories)
			return -ENOMEM;
	}
	for (xmlNodePtr c = node->children; c; c = c->next) {
		const char *ref = channels ? "Destination" : "Access";
		size_t k = 0, nr = count(c, ref);
		struct pol_ref *refs;

		if (!is(c, item))
			continue;
		refs = calloc(nr ? nr : 1, sizeof(*refs));
		if (!refs)
			return -ENOMEM;
		if (channels) {
			struct pol_channel *ch = &sys->channels[sys->n_channels++];

			ch->line = (int)xmlGetLineNo(c);
			snprintf(ch->name, sizeof(ch->name), "%.*s", POL_NAME_MAX,
				 prop(c, "Name", buf, sizeof(buf)) ?: "");
			ch->destinations = refs;
			ch->n_destinations = nr;
			ch->source.partition = SIZE_MAX;
		} else {
			struct pol_shared_memory *m =
			    &sys->shared_memories[sys->n_shared_memories++];

			m->line = (int)xmlGetLineNo(c);
			snprintf(m->name, sizeof(m->name), "%.*s", POL_NAME_MAX,
				 prop(c, "Name", buf, sizeof(buf)) ?: "");
			m->size_bytes = num(c, "Size", 0, file, diags);
			m->access = refs;
			m->n_access = nr;
		}
		for (xmlNodePtr e = c->children; e; e = e->next) {
			if (is(e, ref))
				build_ref(&refs[k++], e);
			else if (channels && is(e, "Source"))
				build_ref(&sys->channels[sys->n_channels - 1].source, e);
		}
	}
	return 0;
}

static int build_model(xmlDocPtr doc, const char *file, struct pol_system *sys,
		       struct pol_diags *diags)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	size_t np = 0, ns = 0;
	char buf[POL_NAME_MAX + 64];
	int r;

	snprintf(sys->name, sizeof(sys->name), "%.*s", POL_NAME_MAX,
		 prop(root, "Name", buf, sizeof(buf)) ?: "");
	sys->line = (int)xmlGetLineNo(root);
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (is(c, "Partitions"))
			for (xmlNodePtr p = c->children; p; p = p->next)
				np += is(p, "Partition");
		ns += is(c, "Schedules");
	}
	sys->partitions = calloc(np ? np : 1, sizeof(*sys->partitions));
	sys->schedules = calloc(ns ? ns : 1, sizeof(*sys->schedules));
	if (!sys->partitions || !sys->schedules)
		return -ENOMEM;
	for (xmlNodePtr c = root->children; c; c = c->next) {
		if (is(c, "Partitions")) {
			for (xmlNodePtr p = c->children; p; p = p->next) {
				if (!is(p, "Partition"))
					continue;
				r = build_partition(&sys->partitions[sys->n_partitions++], p, file,
						    diags);
				if (r < 0)
					return r;
			}
		} else if (is(c, "Schedules")) {
			r = build_schedule(&sys->schedules[sys->n_schedules++], c, file, diags);
			if (r < 0)
				return r;
		} else if (is(c, "Channels") || is(c, "SharedMemories")) {
			r = build_comms(sys, c, file, diags);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int pol_load_buffer(const char *name, const char *buf, size_t size, const char *schema_path,
		    const struct pol_host *host, struct pol_system **ret_sys,
		    struct pol_diags *diags)
{
	struct pol_system *sys = NULL;
	size_t before = diags->n;
	xmlDocPtr doc = NULL;
	int r;

	r = pol_xml_read(name, buf, size, schema_path, diags, &doc);
	if (r < 0)
		return r;
	sys = calloc(1, sizeof(*sys));
	if (!sys) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(sys->path, sizeof(sys->path), "%s", name);
	r = build_model(doc, name, sys, diags);
	if (r < 0)
		goto out;
	pol_link(sys, host, diags);
	pol_check(sys, host, diags);
	if (diags->n > before) {
		r = -EINVAL;
		goto out;
	}
	*ret_sys = sys;
	sys = NULL;
	r = 0;
out:
	xmlFreeDoc(doc);
	pol_free(sys);
	return r;
}

int pol_load(const char *path, const char *schema_path, const struct pol_host *host,
	     struct pol_system **ret_sys, struct pol_diags *diags)
{
	_cleanup_free_ char *buf = NULL;
	size_t size;
	int r;

	r = pol_xml_read_file(path, &buf, &size, diags);
	if (r < 0)
		return r;
	return pol_load_buffer(path, buf, size, schema_path, host, ret_sys, diags);
}
