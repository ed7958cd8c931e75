/* SPDX-License-Identifier: MIT */
/* Partition console output: whole lines, prefixed with the partition's name, made harmless. */
#ifndef MUMU_SUPERVISOR_CONSOLE_H
#define MUMU_SUPERVISOR_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/output.h"
#include "supervisor/partition.h"

/*
 * Add bytes a partition wrote; every completed line is queued for out_fd on out as
 * "[name] line\n", whole, so lines of different partitions never interleave (a line the full
 * queue refuses is counted in p->console_dropped_bytes). Bytes that are not printable
 * ASCII are written as \xNN (a guest cannot drive the terminal); a line longer than
 * SUP_CONSOLE_LINE_MAX is cut and continued on a line marked "[name]+".
 */
void sup_console_feed(struct sup_partition *p, const uint8_t *buf, size_t len,
		      struct sup_output *out, int out_fd);

/* Print what is left of an incomplete line. */
void sup_console_flush(struct sup_partition *p, struct sup_output *out, int out_fd);

#endif
