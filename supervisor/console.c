/* SPDX-License-Identifier: MIT */
/* Line assembly of partition console output, queued for stdout. */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "supervisor/console.h"

static void emit(struct sup_partition *p, struct sup_output *out, int out_fd)
{
	char line[SUP_CONSOLE_LINE_MAX + MUMU_NAME_MAX + 16];
	int n = snprintf(line, sizeof(line), "[%s]%s %.*s\n", p->pol->name,
			 p->chan.console_continued ? "+" : "", (int)p->chan.console_len,
			 p->chan.console);

	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (!sup_output_put(out, p->index, out_fd, line, (size_t)n))
		p->chan.console_dropped_bytes += (uint64_t)n;
	p->chan.console_len = 0;
}

/* Append one output character (or its escape); cut the line when it is full. */
static void put(struct sup_partition *p, const char *text, size_t len, struct sup_output *out,
		int out_fd)
{
	if (p->chan.console_len + len > SUP_CONSOLE_LINE_MAX) {
		emit(p, out, out_fd);
		p->chan.console_continued = true;
	}
	memcpy(p->chan.console + p->chan.console_len, text, len);
	p->chan.console_len += len;
}

void sup_console_feed(struct sup_partition *p, const uint8_t *buf, size_t len,
		      struct sup_output *out, int out_fd)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		char esc[8];

		if (c == '\n') {
			emit(p, out, out_fd);
			p->chan.console_continued = false;
		} else if (c == '\r') {
			continue;
		} else if (is_printable(c)) {
			put(p, (const char *)&c, 1, out, out_fd);
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			put(p, esc, 4, out, out_fd);
		}
	}
}

void sup_console_flush(struct sup_partition *p, struct sup_output *out, int out_fd)
{
	if (p->chan.console_len > 0)
		emit(p, out, out_fd);
	p->chan.console_continued = false;
}
