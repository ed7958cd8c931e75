/* SPDX-License-Identifier: MIT */
/* --trace FILE: every window as Chrome Trace Event JSON (Perfetto, chrome://tracing). */
#ifndef MUMU_SUPERVISOR_TRACE_H
#define MUMU_SUPERVISOR_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "policy/policy.h"
#include "supervisor/window.h"

/* The planned windows of core N are on track SUP_TRACE_PLANNED_TID + N ("core N planned"). */
#define SUP_TRACE_PLANNED_TID 1000u

struct sup_trace {
	FILE *f;
	uint64_t epoch_ns; /* ts 0 of the trace */
	uint64_t n_events;
};

/* Create path and write the header; names the cores of sys as threads. 0 or -errno. */
int sup_trace_open(struct sup_trace *t, const char *path, const struct pol_system *sys,
		   uint64_t epoch_ns);
/* One window: a complete event ("ph":"X") as it ran and one as it was planned ("cat":
 * "planned", on the planned track), plus an instant event when missed or enforced. */
void sup_trace_window(void *trace, const struct sup_window_record *rec);
/* s as the body of a JSON string: quotes, backslashes, control and non-ASCII bytes escaped. */
void sup_json_string(FILE *f, const char *s);
/* A global instant event at ns: a schedule switch or request, a health-monitor event, an
 * operator's action. No-op when closed. */
void sup_trace_event(struct sup_trace *t, uint64_t ns, const char *name, const char *detail);
/* Write out what is buffered: whole lines, so that a supervisor killed later leaves a trace
 * that ends between lines (the main thread calls it once a major frame). */
void sup_trace_flush(struct sup_trace *t);
/* Finish the JSON and close; returns 0 or -errno (a write failed somewhere). */
int sup_trace_close(struct sup_trace *t);

#endif
