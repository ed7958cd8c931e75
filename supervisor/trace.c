/* SPDX-License-Identifier: MIT */
/*
 * Chrome Trace Event JSON, one event per line: every window as it ran on its core's track, and
 * as it was planned on the core's planned track, and the events (health monitor, schedule
 * switches, requests, operator actions) on their own.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/util.h"
#include "supervisor/trace.h"

static const char *outcome_name(enum sup_window_outcome o)
{
	static const char *const names[SUP_WINDOW_OUTCOME_COUNT] = {
		[SUP_WINDOW_RAN] = "ran",	[SUP_WINDOW_YIELDED] = "yielded",
		[SUP_WINDOW_MISSED] = "missed", [SUP_WINDOW_ENFORCED] = "enforced",
		[SUP_WINDOW_IDLE] = "idle",
	};

	return (unsigned)o < SUP_WINDOW_OUTCOME_COUNT ? names[o] : "?";
}

/* Microseconds since the trace's epoch, with ns precision. */
static void put_us(FILE *f, uint64_t ns, uint64_t epoch_ns)
{
	uint64_t d = ns > epoch_ns ? ns - epoch_ns : 0;

	fprintf(f, "%" PRIu64 ".%03" PRIu64, d / 1000, d % 1000);
}

int sup_trace_open(struct sup_trace *t, const char *path, const struct pol_system *sys,
		   uint64_t epoch_ns)
{
	memset(t, 0, sizeof(*t));
	t->f = fopen(path, "we");
	if (!t->f)
		return -errno;
	t->epoch_ns = epoch_ns;
	fprintf(t->f,
		"{\"displayTimeUnit\":\"ns\",\"otherData\":{\"module\":\"%s\",\"epoch_ns\":%" PRIu64
		"},\"traceEvents\":[\n",
		sys->name, epoch_ns);
	fprintf(t->f,
		"{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"mumu "
		"%s\"}}",
		sys->name);
	for (uint32_t core = 0; core < POL_CPU_MAX; core++)
		if (pol_core_used(sys, core))
			fprintf(
			    t->f,
			    ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%" PRIu32
			    ",\"args\":{\"name\":\"core %" PRIu32 "\"}}"
			    ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%" PRIu32
			    ",\"args\":{\"name\":\"core %" PRIu32 " planned\"}}",
			    core, core, SUP_TRACE_PLANNED_TID + core, core);
	return 0;
}

void sup_trace_window(void *trace, const struct sup_window_record *r)
{
	struct sup_trace *t = trace;
	uint64_t start = r->start_ns ? r->start_ns : r->planned_start_ns;
	uint64_t end = r->start_ns ? r->end_ns : r->planned_end_ns;

	if (end < start)
		end = start;
	fprintf(t->f,
		",\n{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":%" PRIu32
		",\"ts\":",
		r->partition, outcome_name(r->outcome), r->core);
	put_us(t->f, start, t->epoch_ns);
	fprintf(t->f, ",\"dur\":");
	put_us(t->f, end - start, 0);
	fprintf(t->f,
		",\"args\":{\"outcome\":\"%s\",\"schedule\":%" PRIu32 ",\"frame\":%" PRIu64
		",\"core\":%" PRIu32 ",\"vcpu\":%" PRIu32 ",\"offset_ns\":%" PRIu64
		",\"planned_start_ns\":%" PRIu64 ",\"planned_end_ns\":%" PRIu64
		",\"start_ns\":%" PRIu64 ",\"end_ns\":%" PRIu64 "}}",
		outcome_name(r->outcome), r->schedule_id, r->frame, r->core, r->vcpu, r->offset_ns,
		r->planned_start_ns, r->planned_end_ns, r->start_ns, r->end_ns);
	/* The plan, on the core's planned track: Perfetto shows it above what ran. */
	fprintf(t->f,
		",\n{\"name\":\"%s\",\"cat\":\"planned\",\"ph\":\"X\",\"pid\":1,\"tid\":%" PRIu32
		",\"ts\":",
		r->partition, SUP_TRACE_PLANNED_TID + r->core);
	put_us(t->f, r->planned_start_ns, t->epoch_ns);
	fprintf(t->f, ",\"dur\":");
	put_us(t->f, r->planned_end_ns - r->planned_start_ns, 0);
	fprintf(t->f, ",\"args\":{\"schedule\":%" PRIu32 ",\"frame\":%" PRIu64 "}}", r->schedule_id,
		r->frame);
	if (r->outcome == SUP_WINDOW_MISSED || r->outcome == SUP_WINDOW_ENFORCED) {
		fprintf(t->f,
			",\n{\"name\":\"%s %s\",\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%" PRIu32
			",\"ts\":",
			outcome_name(r->outcome), r->partition, r->core);
		put_us(t->f, r->planned_end_ns, t->epoch_ns);
		fputs("}", t->f);
	}
	t->n_events++;
}

void sup_json_string(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (!is_printable(c))
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void sup_trace_event(struct sup_trace *t, uint64_t ns, const char *name, const char *detail)
{
	if (!t->f)
		return;
	fputs(",\n{\"name\":\"", t->f);
	sup_json_string(t->f, name);
	fputs("\",\"cat\":\"event\",\"ph\":\"i\",\"s\":\"g\",\"pid\":1,\"tid\":0,\"ts\":", t->f);
	put_us(t->f, ns, t->epoch_ns);
	fprintf(t->f, ",\"args\":{\"time_ns\":%" PRIu64 ",\"detail\":\"", ns);
	sup_json_string(t->f, detail);
	fputs("\"}}", t->f);
	t->n_events++;
}

void sup_trace_flush(struct sup_trace *t)
{
	if (t->f)
		fflush(t->f);
}

int sup_trace_close(struct sup_trace *t)
{
	int r;

	if (!t->f)
		return 0;
	fputs("\n]}\n", t->f);
	r = ferror(t->f) ? -EIO : 0;
	if (fclose(t->f) != 0 && r == 0)
		r = -errno;
	t->f = NULL;
	return r;
}
