/* SPDX-License-Identifier: MIT */
/* A trace as an SVG Gantt chart: per core, the planned windows above what actually ran. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "supervisor/gantt.h"

#define CORES_MAX    1024
#define PARTS_MAX    256
#define LEFT	     110 /* px: the row labels */
#define WIDTH	     1400
#define TOP	     46
#define ROW	     16
#define CORE_HEIGHT  (2 * ROW + 22)
#define LEGEND_WIDTH 150

static const char *const palette[] = {
	"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2",
	"#edc948", "#ff9da7", "#9c755f", "#e15759", "#bab0ac",
};

/* The value after "key": in line, or NULL. */
static const char *find(const char *line, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = strchr(line, '"'); p; p = strchr(p + 1, '"'))
		if (strncmp(p + 1, key, n) == 0 && p[n + 1] == '"' && p[n + 2] == ':')
			return p + n + 3;
	return NULL;
}

static bool get_u64(const char *line, const char *key, uint64_t *v)
{
	const char *p = find(line, key);
	char *end;

	if (!p || *p < '0' || *p > '9')
		return false;
	errno = 0;
	*v = strtoull(p, &end, 10);
	return errno == 0 && (*end == ',' || *end == '}');
}

/* A JSON string value, unescaped (\uXXXX kept as its low byte), truncated to fit. */
static bool get_str(const char *line, const char *key, char *buf, size_t size)
{
	const char *p = find(line, key);
	size_t n = 0;

	if (!p || *p++ != '"')
		return false;
	for (; *p && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			c = *++p;
			if (c == 'u' && strlen(p) >= 5) {
				c = (char)strtoul((char[]){ p[3], p[4], 0 }, NULL, 16);
				p += 4;
			} else if (c == 0) {
				return false;
			}
		}
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = 0;
	return *p == '"';
}

#define GROW(arr, n, cap) ((n) < (cap) || grow((void **)&(arr), &(cap), sizeof(*(arr))) == 0)

static int grow(void **arr, size_t *cap, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *p = realloc(*arr, c * size);

	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

static bool parse_window(struct gantt_window *w, const char *line)
{
	uint64_t core, schedule;

	memset(w, 0, sizeof(*w));
	if (!get_str(line, "name", w->name, sizeof(w->name)) ||
	    !get_str(line, "outcome", w->outcome, sizeof(w->outcome)) ||
	    !get_u64(line, "core", &core) || !get_u64(line, "schedule", &schedule) ||
	    !get_u64(line, "frame", &w->frame) ||
	    !get_u64(line, "planned_start_ns", &w->planned_start_ns) ||
	    !get_u64(line, "planned_end_ns", &w->planned_end_ns) ||
	    !get_u64(line, "start_ns", &w->start_ns) || !get_u64(line, "end_ns", &w->end_ns) ||
	    core >= CORES_MAX || schedule > UINT32_MAX || w->planned_end_ns < w->planned_start_ns)
		return false;
	w->core = (uint32_t)core;
	w->schedule = (uint32_t)schedule;
	return true;
}

static bool parse_event(struct gantt_event *e, const char *line)
{
	memset(e, 0, sizeof(*e));
	return get_str(line, "name", e->name, sizeof(e->name)) &&
	       get_str(line, "detail", e->detail, sizeof(e->detail)) &&
	       get_u64(line, "time_ns", &e->ns);
}

int gantt_read(struct gantt *g, FILE *f, const char *path)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	bool header = false;
	int r = 0;

	memset(g, 0, sizeof(*g));
	while (r == 0 && getline(&line, &cap, f) >= 0) {
		bool ok = true;

		lineno++;
		if (lineno == 1) {
			header = get_u64(line, "epoch_ns", &g->epoch_ns);
		} else if (strstr(line, "\"cat\":\"planned\"")) {
			/* The planned track: the windows carry their plan already; only whole. */
			ok = strstr(line, "}}") != NULL;
		} else if (strstr(line, "\"ph\":\"X\"")) {
			if (!GROW(g->windows, g->n_windows, g->cap_windows))
				r = -ENOMEM;
			else if ((ok = parse_window(&g->windows[g->n_windows], line)))
				g->n_windows++;
		} else if (strstr(line, "\"cat\":\"event\"")) {
			if (!GROW(g->events, g->n_events, g->cap_events))
				r = -ENOMEM;
			else if ((ok = parse_event(&g->events[g->n_events], line)))
				g->n_events++;
		}
		if (!ok && line[strlen(line) - 1] != '\n') {
			/* Only the last line can lack its newline: a supervisor killed mid-write. */
			fprintf(
			    stderr,
			    "%s:%zu: the trace ends in the middle of a line (its supervisor did "
			    "not finish it): drawn up to line %zu\n",
			    path, lineno, lineno - 1);
			break;
		}
		if (!ok) {
			fprintf(stderr, "%s:%zu: not a window or event of a mumu trace\n", path,
				lineno);
			r = -EINVAL;
		}
	}
	free(line);
	if (r == 0 && ferror(f))
		r = -EIO;
	if (r == 0 && !header) {
		fprintf(stderr, "%s:1: not a mumu trace (no epoch_ns in its first line)\n", path);
		r = -EINVAL;
	}
	if (r < 0)
		gantt_free(g);
	return r;
}

void gantt_free(struct gantt *g)
{
	free(g->windows);
	free(g->events);
	memset(g, 0, sizeof(*g));
}

static void put_xml(FILE *out, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			if (is_printable(*s))
				fputc(*s, out);
			else
				fputc('?', out);
		}
}

struct view {
	uint64_t t0, t1; /* ns after the epoch */
	uint32_t cores[CORES_MAX];
	size_t n_cores;
	const char *parts[PARTS_MAX];
	size_t n_parts;
};

static double x_of(const struct view *v, uint64_t ns)
{
	double t = ns < v->t0 ? 0 : (double)(ns - v->t0);

	if (ns > v->t1)
		t = (double)(v->t1 - v->t0);
	return LEFT + t * WIDTH / (double)(v->t1 - v->t0);
}

static size_t row_of(const struct view *v, uint32_t core)
{
	size_t i = 0;

	while (i < v->n_cores && v->cores[i] != core)
		i++;
	return i;
}

static const char *colour_of(const struct view *v, const char *name)
{
	for (size_t i = 0; i < v->n_parts; i++)
		if (strcmp(v->parts[i], name) == 0)
			return palette[i % (sizeof(palette) / sizeof(palette[0]))];
	return "#999";
}

static bool visible(const struct gantt_window *w, uint64_t epoch, const struct view *v)
{
	uint64_t s = w->planned_start_ns - epoch;
	uint64_t e = (w->end_ns > w->planned_end_ns ? w->end_ns : w->planned_end_ns) - epoch;

	return w->planned_start_ns >= epoch && e > v->t0 && s < v->t1;
}

static void ms(FILE *out, uint64_t ns)
{
	fprintf(out, "%.3f", (double)ns / 1e6);
}

static void window_svg(FILE *out, const struct view *v, const struct gantt_window *w,
		       uint64_t epoch)
{
	double y = TOP + (double)row_of(v, w->core) * CORE_HEIGHT;
	double px = x_of(v, w->planned_start_ns - epoch),
	       pw = x_of(v, w->planned_end_ns - epoch) - px;
	const char *colour = colour_of(v, w->name);
	bool missed = strcmp(w->outcome, "missed") == 0, idle = strcmp(w->outcome, "idle") == 0;

	/* Missed (the VMM did not enter in time): dashed red. Idle (no VMM to give it to: IDLE
	 * mode, a dead or restarting VMM): hatched grey. */
	fprintf(out, "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"%s\" %s>", px,
		y, pw < 0.5 ? 0.5 : pw, ROW, idle ? "url(#idle)" : colour,
		missed ? "class=\"missed\""
		: idle ? "class=\"idle\""
		       : "fill-opacity=\"0.3\"");
	fputs("<title>", out);
	put_xml(out, w->name);
	fprintf(out, " planned, schedule %" PRIu32 " frame %" PRIu64 ": ", w->schedule, w->frame);
	ms(out, w->planned_start_ns - epoch);
	fputs(" to ", out);
	ms(out, w->planned_end_ns - epoch);
	fprintf(out, " ms (%s)</title></rect>\n", w->outcome);
	if (w->start_ns == 0 || w->end_ns < w->start_ns || w->start_ns < epoch)
		return; /* no times of its own: missed, idle, or the VMM's were implausible */
	double ax = x_of(v, w->start_ns - epoch), aw = x_of(v, w->end_ns - epoch) - ax;

	fprintf(
	    out,
	    "<rect class=\"ran\" x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"%s\"%s>",
	    ax, y + ROW + 2, aw < 0.5 ? 0.5 : aw, ROW, colour,
	    strcmp(w->outcome, "enforced") == 0 ? " stroke=\"#d00\" stroke-width=\"2\"" : "");
	fputs("<title>", out);
	put_xml(out, w->name);
	fprintf(out, " %s: ", w->outcome);
	ms(out, w->start_ns - epoch);
	fputs(" to ", out);
	ms(out, w->end_ns - epoch);
	fprintf(out, " ms, start late %.1f us, end overrun %.1f us</title></rect>\n",
		(double)(w->start_ns - w->planned_start_ns) / 1e3,
		w->end_ns > w->planned_end_ns ? (double)(w->end_ns - w->planned_end_ns) / 1e3
					      : 0.0);
}

/* 1, 2 or 5 times a power of ten, giving at most 12 ticks over span. */
static uint64_t tick_step(uint64_t span)
{
	static const uint64_t mult[] = { 1, 2, 5 };

	for (uint64_t p = 1000;; p *= 10)
		for (size_t i = 0; i < 3; i++)
			if (span / (p * mult[i]) <= 12)
				return p * mult[i];
}

/* The span, cores and partitions of the windows between from_ns and to_ns (0: the end). */
static void view_fit(struct view *v, const struct gantt *g, uint64_t from_ns, uint64_t to_ns)
{
	v->t0 = UINT64_MAX;
	v->t1 = 0;
	for (size_t i = 0; i < g->n_windows; i++) {
		const struct gantt_window *w = &g->windows[i];
		struct view all = { .t0 = from_ns, .t1 = to_ns ? to_ns : UINT64_MAX };
		uint64_t end = w->end_ns > w->planned_end_ns ? w->end_ns : w->planned_end_ns;
		size_t k;

		if (!visible(w, g->epoch_ns, &all))
			continue;
		if (w->planned_start_ns - g->epoch_ns < v->t0)
			v->t0 = w->planned_start_ns - g->epoch_ns;
		if (end - g->epoch_ns > v->t1)
			v->t1 = end - g->epoch_ns;
		if (row_of(v, w->core) == v->n_cores)
			v->cores[v->n_cores++] = w->core;
		for (k = 0; k < v->n_parts && strcmp(v->parts[k], w->name) != 0; k++)
			;
		if (k == v->n_parts && v->n_parts < PARTS_MAX)
			v->parts[v->n_parts++] = w->name;
	}
	if (v->t0 < from_ns)
		v->t0 = from_ns;
	if (to_ns && v->t1 > to_ns)
		v->t1 = to_ns;
	if (v->t1 <= v->t0) {
		v->t0 = from_ns;
		v->t1 = from_ns + 1000000;
	}
	for (size_t i = 1; i < v->n_cores; i++) /* insertion sort: few cores */
		for (size_t j = i; j > 0 && v->cores[j - 1] > v->cores[j]; j--) {
			uint32_t c = v->cores[j];

			v->cores[j] = v->cores[j - 1];
			v->cores[j - 1] = c;
		}
}

/* The picture's frame: its size, a row pair per core, the time axis in ms after the epoch. */
static void svg_axes(FILE *out, const struct view *v)
{
	double height = TOP + (double)v->n_cores * CORE_HEIGHT + 40;
	double legend_h = 30 + 16.0 * (double)v->n_parts;
	double axis_y = TOP + (double)v->n_cores * CORE_HEIGHT;
	uint64_t step = tick_step(v->t1 - v->t0);

	if (legend_h > height)
		height = legend_h;
	fprintf(
	    out,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
	    "font-family=\"sans-serif\" font-size=\"11\">\n"
	    "<style>.missed{fill:none;stroke:#d00;stroke-dasharray:3 2}"
	    ".idle{stroke:#888}"
	    ".event{stroke:#333;stroke-dasharray:4 3}</style>\n"
	    "<defs><pattern id=\"idle\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\""
	    " patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#eee\"/>"
	    "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#999\" stroke-width=\"2\"/>"
	    "</pattern></defs>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
	    LEFT + WIDTH + 20 + LEGEND_WIDTH, height);
	for (size_t i = 0; i < v->n_cores; i++) {
		double y = TOP + (double)i * CORE_HEIGHT;

		fprintf(out,
			"<text x=\"4\" y=\"%.0f\" font-weight=\"bold\">core %" PRIu32 "</text>"
			"<text x=\"50\" y=\"%.0f\">planned</text>"
			"<text x=\"50\" y=\"%.0f\">ran</text>\n",
			y + ROW - 3, v->cores[i], y + ROW - 3, y + 2 * ROW - 1);
	}
	for (uint64_t t = (v->t0 + step - 1) / step * step; t <= v->t1; t += step) {
		double x = x_of(v, t);

		fprintf(out,
			"<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%.0f\" stroke=\"#ddd\"/>"
			"<text x=\"%.2f\" y=\"%.0f\" text-anchor=\"middle\">",
			x, TOP - 4, x, axis_y, x, axis_y + 14);
		ms(out, t);
		fputs("</text>\n", out);
	}
	fprintf(out, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"middle\">ms after the epoch</text>\n",
		LEFT + WIDTH / 2, axis_y + 30);
}

/* The trace's events (health monitor, switches, operator actions) as dashed lines, each
 * labelled with its name (the detail as the line's tooltip); labels take turns between two
 * heights so that neighbours do not cover each other. */
static void svg_events(FILE *out, const struct view *v, const struct gantt *g)
{
	double axis_y = TOP + (double)v->n_cores * CORE_HEIGHT;
	size_t shown = 0;

	for (size_t i = 0; i < g->n_events; i++) {
		const struct gantt_event *e = &g->events[i];
		uint64_t t = e->ns - g->epoch_ns;

		if (e->ns < g->epoch_ns || t < v->t0 || t > v->t1)
			continue;
		fprintf(out, "<line class=\"event\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%.0f\">",
			x_of(v, t), TOP - 8, x_of(v, t), axis_y);
		fputs("<title>", out);
		put_xml(out, e->name);
		fputs(": ", out);
		put_xml(out, e->detail);
		fputs("</title></line>", out);
		fprintf(out, "<text class=\"label\" x=\"%.2f\" y=\"%d\" font-size=\"9\">",
			x_of(v, t) + 2, TOP - 10 - (int)(shown++ % 2) * 10);
		put_xml(out, e->name);
		fputs("</text>\n", out);
	}
}

/* A colour swatch and name per partition, right of the picture. */
static void svg_legend(FILE *out, const struct view *v)
{
	for (size_t i = 0; i < v->n_parts; i++) {
		double y = TOP + 16.0 * (double)i;

		fprintf(out,
			"<rect x=\"%d\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"%.0f\">",
			LEFT + WIDTH + 20, y, colour_of(v, v->parts[i]), LEFT + WIDTH + 36, y + 10);
		put_xml(out, v->parts[i]);
		fputs("</text>\n", out);
	}
}

void gantt_svg(const struct gantt *g, FILE *out, uint64_t from_ns, uint64_t to_ns)
{
	struct view v = { 0 };
	size_t shown = 0, missed = 0, enforced = 0;

	view_fit(&v, g, from_ns, to_ns);
	svg_axes(out, &v);
	for (size_t i = 0; i < g->n_windows; i++) {
		const struct gantt_window *w = &g->windows[i];

		if (!visible(w, g->epoch_ns, &v))
			continue;
		window_svg(out, &v, w, g->epoch_ns);
		shown++;
		missed += strcmp(w->outcome, "missed") == 0;
		enforced += strcmp(w->outcome, "enforced") == 0;
	}
	svg_events(out, &v, g);
	fprintf(out,
		"<text x=\"4\" y=\"18\" font-size=\"14\">mumu: %zu windows (%zu missed, %zu "
		"enforced), ",
		shown, missed, enforced);
	ms(out, v.t0);
	fputs(" to ", out);
	ms(out, v.t1);
	fputs(" ms; light: planned, solid: ran, dashed red: missed, red border: enforced, hatched: "
	      "idle (no VMM)</text>\n",
	      out);
	svg_legend(out, &v);
	fputs("</svg>\n", out);
}
