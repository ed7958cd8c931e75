/* SPDX-License-Identifier: MIT */
/* The model's lifetime, lookups and the diagnostics list. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "policy/internal.h"

void pol_free(struct pol_system *sys)
{
	if (!sys)
		return;
	for (size_t i = 0; i < sys->n_schedules; i++) {
		free(sys->schedules[i].windows);
		free(sys->schedules[i].window_refs);
	}
	free(sys->schedules);
	for (size_t i = 0; i < sys->n_channels; i++)
		free(sys->channels[i].destinations);
	free(sys->channels);
	for (size_t i = 0; i < sys->n_shared_memories; i++)
		free(sys->shared_memories[i].access);
	free(sys->shared_memories);
	free(sys->partitions);
	free(sys);
}

int pol_diag_add(struct pol_diags *diags, const char *file, int line, const char *fmt, ...)
{
	struct pol_diag *d;
	va_list ap;

	if (diags->n == diags->cap) {
		size_t cap = diags->cap ? 2 * diags->cap : 16;
		struct pol_diag *items = realloc(diags->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		diags->items = items;
		diags->cap = cap;
	}
	d = &diags->items[diags->n++];
	snprintf(d->file, sizeof(d->file), "%s", file);
	d->line = line;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return 0;
}

void pol_diags_free(struct pol_diags *diags)
{
	free(diags->items);
	*diags = (struct pol_diags){ 0 };
}

int pol_parse_u64(const char *s, uint64_t *ret)
{
	return parse_u64(s, ret);
}

const char *pol_action_name(enum pol_action action)
{
	static const char *const names[POL_ACTION_COUNT] = {
		[POL_ACTION_IGNORE] = "IGNORE",		[POL_ACTION_IDLE] = "IDLE",
		[POL_ACTION_COLD_START] = "COLD_START", [POL_ACTION_WARM_START] = "WARM_START",
		[POL_ACTION_SHUTDOWN] = "SHUTDOWN",
	};

	return (unsigned)action < POL_ACTION_COUNT ? names[action] : "?";
}

const char *pol_hm_error_name(enum pol_hm_error error)
{
	static const char *const names[POL_HM_ERROR_COUNT] = {
		[POL_HM_VMM_DIED] = "VMM_DIED",
		[POL_HM_GUEST_CRASH] = "GUEST_CRASH",
		[POL_HM_MEMORY_VIOLATION] = "MEMORY_VIOLATION",
		[POL_HM_ILLEGAL_REQUEST] = "ILLEGAL_REQUEST",
		[POL_HM_DEADLINE_MISSED] = "DEADLINE_MISSED",
		[POL_HM_APPLICATION_ERROR] = "APPLICATION_ERROR",
	};

	return (unsigned)error < POL_HM_ERROR_COUNT ? names[error] : "?";
}

enum pol_action pol_hm_default_action(enum pol_hm_error error)
{
	switch (error) {
	case POL_HM_VMM_DIED:
	case POL_HM_GUEST_CRASH:
	case POL_HM_MEMORY_VIOLATION:
		return POL_ACTION_COLD_START;
	default:
		return POL_ACTION_IGNORE;
	}
}

const struct pol_partition *pol_partition_by_name(const struct pol_system *sys, const char *name)
{
	for (size_t i = 0; i < sys->n_partitions; i++)
		if (strcmp(sys->partitions[i].name, name) == 0)
			return &sys->partitions[i];
	return NULL;
}

size_t pol_schedule_index_by_id(const struct pol_system *sys, uint32_t id)
{
	for (size_t i = 0; i < sys->n_schedules; i++)
		if (sys->schedules[i].id == id)
			return i;
	return SIZE_MAX;
}
