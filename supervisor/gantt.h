/* SPDX-License-Identifier: MIT */
/* mumu-trace: a --trace file rendered as an SVG Gantt chart, planned against actual per core. */
#ifndef MUMU_SUPERVISOR_GANTT_H
#define MUMU_SUPERVISOR_GANTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GANTT_NAME_MAX 64

struct gantt_window {
	char name[GANTT_NAME_MAX];
	char outcome[16];
	uint32_t core, schedule;
	uint64_t frame;
	uint64_t planned_start_ns, planned_end_ns, start_ns, end_ns; /* start_ns 0: never ran */
};

struct gantt_event {
	char name[GANTT_NAME_MAX];
	char detail[160];
	uint64_t ns;
};

struct gantt {
	uint64_t epoch_ns;
	struct gantt_window *windows;
	size_t n_windows, cap_windows;
	struct gantt_event *events;
	size_t n_events, cap_events;
};

/*
 * Read a trace written by `mumu-supervisor --trace` (one event per line). Lines that are no
 * window or event are skipped; a window or event line that lacks a field is an error, reported
 * as PATH:LINE on stderr. Returns 0 or -errno (-EINVAL for a bad line or no trace at all).
 */
int gantt_read(struct gantt *g, FILE *f, const char *path);

/* Draw the windows that overlap [from_ns, to_ns) after the epoch (to_ns 0: to the end). */
void gantt_svg(const struct gantt *g, FILE *out, uint64_t from_ns, uint64_t to_ns);

void gantt_free(struct gantt *g);

#endif
