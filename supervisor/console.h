/* SPDX-License-Identifier: MIT */
/* Partition console output: whole lines, prefixed with the partition's name, made harmless. */
#ifndef MUMU_SUPERVISOR_CONSOLE_H
#define MUMU_SUPERVISOR_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "supervisor/partition.h"

/*
 * Add bytes a partition wrote; every completed line goes to out_fd as "[name] line\n" in one
 * write(2), so lines of different partitions never interleave. Bytes that are not printable
 * ASCII are written as \xNN (a guest cannot drive the terminal); a line longer than
 * SUP_CONSOLE_LINE_MAX is cut and continued on a line marked "[name]+".
 */
void sup_console_feed(struct sup_partition *p, const uint8_t *buf, size_t len, int out_fd);

/* Print what is left of an incomplete line. */
void sup_console_flush(struct sup_partition *p, int out_fd);

#endif
