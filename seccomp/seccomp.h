/* SPDX-License-Identifier: MIT */
/* The VMM's seccomp filter: build, load, audit. */
#ifndef MUMU_SECCOMP_SECCOMP_H
#define MUMU_SECCOMP_SECCOMP_H

#include <stdbool.h>
#include <stdio.h>

#include <seccomp.h>

/* The filter; log_mode replaces the default action (report and kill) by SCMP_ACT_LOG. */
int vmm_seccomp_build(bool log_mode, scmp_filter_ctx *ret);

/* Install the SIGSYS reporter and load the filter into every thread of the process. */
int vmm_seccomp_load(bool log_mode);

/*
 * Print the filter: format "text" (readable, with reasons), "pfc" (libseccomp's pseudo filter
 * code), "bpf" (the raw program to out) or "bpf:PATH" (the raw program into the file PATH).
 * Returns 0, -EINVAL for an unknown format, or a negative errno.
 */
int vmm_seccomp_audit(FILE *out, const char *format);

/* The name of a system call number of this architecture ("?" when unknown). */
const char *vmm_syscall_name(int nr);

#endif
