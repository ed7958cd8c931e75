/* SPDX-License-Identifier: MIT */
/* The operator's view of a run: mumu-ctl's answers (text, JSON) and the end-of-run table. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>

#include "common/log.h"
#include "common/util.h"
#include "supervisor/run.h"

static const char *mode_name(uint32_t mode)
{
	static const char *const names[] = {
		[MUMU_MODE_IDLE] = "IDLE",
		[MUMU_MODE_COLD_START] = "COLD_START",
		[MUMU_MODE_WARM_START] = "WARM_START",
		[MUMU_MODE_NORMAL] = "NORMAL",
	};

	return mode < sizeof(names) / sizeof(names[0]) && names[mode] ? names[mode] : "?";
}

static const struct sup_hm_entry *last_error(const struct run *run, size_t part)
{
	for (uint64_t k = sup_hm_log_kept(&run->hm_log); k-- > 0;) {
		const struct sup_hm_entry *e = sup_hm_log_get(&run->hm_log, k);

		if (e->partition == part)
			return e;
	}
	return NULL;
}

static void status_report(struct run *run, FILE *out, bool json)
{
	size_t cur = run->sys->initial_schedule, next = cur;
	uint64_t frames = run->sched_started ? sup_sched_frames_done(&run->sched) : 0;

	if (run->sched_started)
		sup_sched_current(&run->sched, &cur, &next);
	if (json)
		fprintf(out,
			"{\"module\":\"%s\",\"schedule\":%" PRIu32 ",\"next_schedule\":%" PRIu32
			",\"major_frames\":%" PRIu64 ",\"hm_events\":%" PRIu64 ",\"partitions\":[",
			run->sys->name, run->sys->schedules[cur].id, run->sys->schedules[next].id,
			frames, run->hm_log.n);
	else
		fprintf(out,
			"module %s: schedule %" PRIu32 " (next %" PRIu32 "), %" PRIu64
			" major frames, %" PRIu64 " health-monitor events\n"
			"%-16s %-10s %7s %-7s %6s %6s %7s %6s %8s %7s  %s\n",
			run->sys->name, run->sys->schedules[cur].id, run->sys->schedules[next].id,
			frames, run->hm_log.n, "partition", "mode", "pid", "cores", "restrt",
			"faults", "windows", "missed", "dropped", "late99", "last error");
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		const struct sup_partition *p = &run->parts[i];
		const struct sup_hm_entry *e = last_error(run, i);
		struct sup_part_stats st = { 0 };
		char cores[64] = "";
		size_t n = 0;

		if (run->sched_started)
			sup_sched_stats(&run->sched, i, &st);
		for (size_t k = 0; k < p->pol->n_cores && n < sizeof(cores); k++)
			n += (size_t)snprintf(cores + n, sizeof(cores) - n,
					      k ? ",%" PRIu32 : "%" PRIu32,
					      p->pol->cores[k].physical_core_id);
		if (json) {
			fprintf(out,
				"%s{\"name\":\"%s\",\"id\":%" PRIu32 ",\"mode\":\"%s\",\"pid\":%d,"
				"\"cores\":[%s],\"restarts\":%" PRIu64 ",\"faults\":%" PRIu64
				",\"windows\":{\"ran\":%" PRIu64 ",\"yielded\":%" PRIu64
				",\"missed\":%" PRIu64 ",\"enforced\":%" PRIu64 ",\"idle\":%" PRIu64
				"},\"console_dropped_bytes\":%" PRIu64
				",\"start_late_p99_ns\":%" PRIu64 ",\"last_error\":",
				i ? "," : "", p->pol->name, p->pol->id,
				mode_name(p->port.ctl->mode), p->proc.pid, cores, p->n_restarts,
				p->n_faults, st.ran, st.yielded, st.missed, st.enforced, st.idle,
				run_console_dropped(p), sup_hist_percentile(&st.lateness_ns, 99));
			if (e) {
				fprintf(out, "{\"error\":\"%s\",\"action\":\"%s\",\"detail\":\"",
					pol_hm_error_name(e->error), pol_action_name(e->action));
				sup_json_string(out, e->detail);
				fputs("\"}}", out);
			} else {
				fputs("null}", out);
			}
			continue;
		}
		fprintf(out,
			"%-16s %-10s %7d %-7s %6" PRIu64 " %6" PRIu64 " %7" PRIu64 " %6" PRIu64
			" %8" PRIu64 " %7.1f  %s%s%s\n",
			p->pol->name, mode_name(p->port.ctl->mode), p->proc.pid, cores,
			p->n_restarts, p->n_faults, st.ran + st.yielded + st.enforced, st.missed,
			run_console_dropped(p),
			(double)sup_hist_percentile(&st.lateness_ns, 99) / 1000.0,
			e ? pol_hm_error_name(e->error) : "-", e ? ": " : "", e ? e->detail : "");
	}
	if (json)
		fputs("]}\n", out);
}

static void hm_log_report(struct run *run, FILE *out, bool json)
{
	uint64_t kept = sup_hm_log_kept(&run->hm_log);

	if (json)
		fprintf(out, "{\"events\":%" PRIu64 ",\"kept\":%" PRIu64 ",\"log\":[",
			run->hm_log.n, kept);
	else if (run->hm_log.entries > kept)
		fprintf(out, "(the %" PRIu64 " oldest kinds of event are no longer kept)\n",
			run->hm_log.entries - kept);
	for (uint64_t k = 0; k < kept; k++) {
		const struct sup_hm_entry *e = sup_hm_log_get(&run->hm_log, k);
		double t = (double)(e->ns - run->start_ns) / 1e9;
		const char *name = run->sys->partitions[e->partition].name;

		if (json) {
			fprintf(out,
				"%s{\"time_ns\":%" PRIu64 ",\"last_time_ns\":%" PRIu64
				",\"repeats\":%" PRIu64 ",\"partition\":\"%s\",\"error\":\"%s\","
				"\"action\":\"%s\",\"budget_spent\":%s,\"detail\":\"",
				k ? "," : "", e->ns, e->last_ns, e->repeats, name,
				pol_hm_error_name(e->error), pol_action_name(e->action),
				e->budget_spent ? "true" : "false");
			sup_json_string(out, e->detail);
			fputs("\"}", out);
		} else {
			char more[64] = "";

			if (e->repeats)
				snprintf(more, sizeof(more), "(%" PRIu64 " more until %.3f s) ",
					 e->repeats, (double)(e->last_ns - run->start_ns) / 1e9);
			fprintf(out, "%10.3f s  %-16s %-17s %-10s %s%s%s\n", t, name,
				pol_hm_error_name(e->error), pol_action_name(e->action),
				e->budget_spent ? "(restart budget spent) " : "", more, e->detail);
		}
	}
	if (json)
		fputs("]}\n", out);
	else if (kept == 0)
		fputs("no health-monitor events\n", out);
}

/* An operator's action, in the trace (Perfetto and mumu-trace show it against the windows). */
static void operator_event(struct run *run, const char *what, const char *whom, const char *detail)
{
	char name[MUMU_NAME_MAX + 32], text[96];

	snprintf(name, sizeof(name), "operator %s %s", what, whom);
	snprintf(text, sizeof(text), "%s (mumu-ctl)", detail);
	sup_trace_event(&run->trace, mono_ns(), name, text);
}

/* One request from mumu-ctl (already checked by sup_control_check). */
int run_control_request(void *ctx, const struct ipc_ctl_request *req, FILE *out)
{
	struct run *run = ctx;
	const struct pol_partition *pol = NULL;
	struct sup_partition *p = NULL;
	size_t idx;

	if (req->op == IPC_CTL_RESTART || req->op == IPC_CTL_STOP) {
		pol = pol_partition_by_name(run->sys, req->partition);
		if (!pol) {
			fprintf(out, "no partition '");
			for (const char *c = req->partition; *c; c++)
				fputc(is_printable(*c) ? *c : '?', out);
			fprintf(out, "' in module %s\n", run->sys->name);
			return -ENOENT;
		}
		p = &run->parts[pol - run->sys->partitions];
	}
	switch (req->op) {
	case IPC_CTL_STATUS:
		status_report(run, out, req->flags & IPC_CTL_JSON);
		return 0;
	case IPC_CTL_HM_LOG:
		hm_log_report(run, out, req->flags & IPC_CTL_JSON);
		return 0;
	case IPC_CTL_RESTART: {
		bool cold = !(req->flags & IPC_CTL_WARM);

		log_info("partition '%s': %s requested by the operator", pol->name,
			 cold ? "COLD_START" : "WARM_START");
		operator_event(run, "restart", pol->name, cold ? "COLD_START" : "WARM_START");
		run_restart(run, p, cold, MUMU_START_PARTITION_RESTART);
		if (p->proc.pid <= 0) {
			fprintf(out, "partition '%s' could not be restarted: it is IDLE\n",
				pol->name);
			return -EIO;
		}
		fprintf(out, "partition '%s': %s, new VMM pid %d\n", pol->name,
			cold ? "COLD_START" : "WARM_START", p->proc.pid);
		return 0;
	}
	case IPC_CTL_STOP:
		log_info("partition '%s': set IDLE by the operator", pol->name);
		operator_event(run, "stop", pol->name, "IDLE");
		run_go_idle(run, p);
		fprintf(out, "partition '%s' is IDLE\n", pol->name);
		return 0;
	case IPC_CTL_SCHEDULE:
		idx = pol_schedule_index_by_id(run->sys, req->schedule_id);
		if (idx == SIZE_MAX) {
			fprintf(out, "no schedule %" PRIu32 " in module %s\n", req->schedule_id,
				run->sys->name);
			return -ENOENT;
		}
		if (!run->sched_started) {
			fprintf(out, "the schedule is not running yet\n");
			return -EAGAIN;
		}
		sup_sched_request(&run->sched, idx);
		log_info("the operator requests schedule %" PRIu32 " from the next major frame",
			 req->schedule_id);
		{
			char id[16];

			snprintf(id, sizeof(id), "%" PRIu32, req->schedule_id);
			operator_event(run, "schedule", id, "from the next major frame");
		}
		fprintf(out, "schedule %" PRIu32 " from the next major frame\n", req->schedule_id);
		return 0;
	}
	return -EINVAL;
}

static void print_us(uint64_t ns)
{
	printf(" %7.1f", (double)ns / 1000.0);
}

static double tv_ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

void run_summary(struct run *run)
{
	size_t cur = run->sys->initial_schedule, next;
	uint64_t windows = 0;
	struct rusage ru;

	if (run->sched_started)
		sup_sched_current(&run->sched, &cur, &next);
	printf("\nmumu: %s after %" PRIu64 " major frames; schedule %" PRIu32 " (%" PRIu64
	       " switches)\n",
	       run->stop_reason ? run->stop_reason : "stopped",
	       run->sched_started ? sup_sched_frames_done(&run->sched) : 0,
	       run->sys->schedules[cur].id, run->switches_seen);
	printf("%-16s %6s %6s %6s %6s %6s %6s %6s  %-25s %-25s %9s\n", "partition", "ran", "yield",
	       "missed", "enforc", "idle", "faults", "restrt", "start late us p50/p99/max",
	       "end overrun us p50/p99/max", "dropped B");
	for (size_t i = 0; i < run->sys->n_partitions; i++) {
		struct sup_part_stats st = { 0 };

		if (run->sched_started)
			sup_sched_stats(&run->sched, i, &st);
		printf("%-16s %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
		       " %6" PRIu64 " %6" PRIu64 " ",
		       run->parts[i].pol->name, st.ran, st.yielded, st.missed, st.enforced, st.idle,
		       run->parts[i].n_faults, run->parts[i].n_restarts);
		print_us(sup_hist_percentile(&st.lateness_ns, 50));
		print_us(sup_hist_percentile(&st.lateness_ns, 99));
		print_us(st.lateness_ns.max);
		print_us(sup_hist_percentile(&st.overrun_ns, 50));
		print_us(sup_hist_percentile(&st.overrun_ns, 99));
		print_us(st.overrun_ns.max);
		printf(" %9" PRIu64 "\n", run_console_dropped(&run->parts[i]));
		windows += st.ran + st.yielded + st.missed + st.enforced + st.idle;
	}
	/* One vocabulary (docs/scheduling.md), said where the figures are read. Every line starts
	 * "legend:", which no partition name can be (scripts read the rows by name). */
	printf("legend: ran = ran to its end, yield = given away (YIELD), missed = never entered,\n"
	       "legend: enforc = stopped after the grace, idle = no VMM, faults = health-monitor "
	       "events,\n"
	       "legend: restrt = restarts, dropped B = console bytes not printed "
	       "(docs/scheduling.md)\n");
	/* The scheduler's own cost: every thread of the supervisor, never the VMMs. */
	getrusage(RUSAGE_SELF, &ru);
	printf("mumu: supervisor CPU %.1f ms (user %.1f, system %.1f) for %" PRIu64 " windows\n",
	       tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime), tv_ms(&ru.ru_utime), tv_ms(&ru.ru_stime),
	       windows);
	fflush(stdout);
}
