/* SPDX-License-Identifier: MIT */
/* One small logging module for the host processes: levels, one line per message. */
#ifndef MUMU_COMMON_LOG_H
#define MUMU_COMMON_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_LEVEL_COUNT };

/* Messages with a level above this are dropped. Default LOG_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Prefix every line with this tag (e.g. "mumu-vmm 'nav'"); the string must outlive the log. */
void log_set_tag(const char *tag);

/* Hand every line to sink (whole, with its newline) instead of writing it; NULL: write it. */
void log_set_sink(void (*sink)(const char *line, size_t len));

/* Writes "tag: level: message\n" to stderr in one write(2), so lines never interleave. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
