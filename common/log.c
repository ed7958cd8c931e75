/* SPDX-License-Identifier: MIT */
/* One small logging module for the host processes: levels, one line per message. */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static enum log_level max_level = LOG_INFO;
static const char *log_tag = "mumu";
static void (*log_sink)(const char *line, size_t len);

static const char *const level_names[LOG_LEVEL_COUNT] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	if (level < LOG_LEVEL_COUNT)
		max_level = level;
}

enum log_level log_get_level(void)
{
	return max_level;
}

void log_set_tag(const char *tag)
{
	log_tag = tag;
}

void log_set_sink(void (*sink)(const char *line, size_t len))
{
	log_sink = sink;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	int saved_errno = errno;
	va_list ap;
	int n, m;

	if (level > max_level || level >= LOG_LEVEL_COUNT)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: ", log_tag, level_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (log_sink) {
		log_sink(line, (size_t)n);
		errno = saved_errno;
		return;
	}
	/* One write: a line from the supervisor and one from a VMM never interleave. */
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report to. */
	}
	errno = saved_errno;
}
