/* SPDX-License-Identifier: MIT */
/* The supervisor's internal interfaces: options and the entry points main() dispatches to. */
#ifndef MUMU_SUPERVISOR_SUPERVISOR_H
#define MUMU_SUPERVISOR_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/policy.h"

struct sup_options {
	const char *config_path;
	const char *schema_path;
	uint64_t frames;	  /* stop after this many major frames; 0: no limit */
	uint64_t duration_ns;	  /* stop after this long; 0: no limit */
	const char *vmm_path;	  /* the mumu-vmm binary */
	const char *trace_path;	  /* --trace FILE, NULL when absent */
	const char *control_path; /* --control PATH for mumu-ctl, NULL: none */
	uint32_t vmm_flags;	  /* IPC_CFG_* for every VMM */
	uint32_t vmm_uid;	  /* the sandbox drops every VMM to these ids */
	uint32_t vmm_gid;
};

/* --check: print a short summary of a valid system (partitions, cores, per-core timelines). */
void sup_describe(const struct pol_system *sys, FILE *out);

/* The exit status of a run the health monitor ended with SHUTDOWN. */
#define SUP_EXIT_SHUTDOWN 3
/* The exit status of a run a second stopping signal (Ctrl-C twice) ended at once. */
#define SUP_EXIT_FORCED 130

/*
 * Run the system until the options say stop, SIGINT/SIGTERM/SIGHUP/SIGQUIT or a
 * health-monitor SHUTDOWN. Returns a process exit code: 0, 1 on errors, SUP_EXIT_SHUTDOWN,
 * SUP_EXIT_FORCED.
 */
int sup_run(const struct pol_system *sys, const struct sup_options *opts);

#endif
