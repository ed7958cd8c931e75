/* SPDX-License-Identifier: MIT */
/* Line assembly of partition console output. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/console.h"

static void emit(struct sup_partition *p, int out_fd)
{
	char line[SUP_CONSOLE_LINE_MAX + MUMU_NAME_MAX + 16];
	int n = snprintf(line, sizeof(line), "[%s]%s %.*s\n", p->pol->name,
			 p->console_continued ? "+" : "", (int)p->console_len, p->console);
	const char *s = line;

	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	while (n > 0) {
		ssize_t k = write(out_fd, s, (size_t)n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		s += k;
		n -= (int)k;
	}
	p->console_len = 0;
}

/* Append one output character (or its escape); cut the line when it is full. */
static void put(struct sup_partition *p, const char *text, size_t len, int out_fd)
{
	if (p->console_len + len > SUP_CONSOLE_LINE_MAX) {
		emit(p, out_fd);
		p->console_continued = true;
	}
	memcpy(p->console + p->console_len, text, len);
	p->console_len += len;
}

void sup_console_feed(struct sup_partition *p, const uint8_t *buf, size_t len, int out_fd)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = buf[i];
		char esc[8];

		if (c == '\n') {
			emit(p, out_fd);
			p->console_continued = false;
		} else if (c == '\r') {
			continue;
		} else if (c >= 0x20 && c < 0x7f) {
			put(p, (const char *)&c, 1, out_fd);
		} else {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			put(p, esc, 4, out_fd);
		}
	}
}

void sup_console_flush(struct sup_partition *p, int out_fd)
{
	if (p->console_len > 0)
		emit(p, out_fd);
	p->console_continued = false;
}
