/* SPDX-License-Identifier: MIT */
/* mumu-trace: render a `mumu-supervisor --trace` file as an SVG Gantt chart. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/gantt.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: mumu-trace [--from MS] [--to MS] TRACE [SVG]\n"
		"Draw TRACE (written by mumu-supervisor --trace) as an SVG Gantt chart: per\n"
		"physical core the planned windows above what actually ran, missed windows dashed\n"
		"red, idle ones (no VMM) hatched, enforced ones with a red border; schedule\n"
		"switches and requests, health-monitor events and operator actions as labelled\n"
		"vertical lines; hover for the times. Writes SVG (default: standard output).\n"
		"\n"
		"  --from MS, --to MS  only the windows in this range (ms after the epoch)\n"
		"  -h, --help          this text\n"
		"\n"
		"Exit status: 0 drawn, 2 TRACE is not a mumu trace (FILE:LINE), 1 other errors.\n");
}

static int parse_ms(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e12)
		return -EINVAL;
	*ns = (uint64_t)(v * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t from = 0, to = 0;
	struct gantt g;
	FILE *in, *out = stdout;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 't':
			if (parse_ms(optarg, c == 'f' ? &from : &to) < 0) {
				fprintf(stderr, "mumu-trace: --%s wants milliseconds, not '%s'\n",
					c == 'f' ? "from" : "to", optarg);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind < 1 || argc - optind > 2 || (to && to <= from)) {
		usage(stderr);
		return 1;
	}
	in = fopen(argv[optind], "re");
	if (!in) {
		fprintf(stderr, "mumu-trace: cannot read '%s': %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	r = gantt_read(&g, in, argv[optind]);
	fclose(in);
	if (r < 0)
		return r == -EINVAL ? 2 : 1;
	if (argc - optind == 2 && !(out = fopen(argv[optind + 1], "we"))) {
		fprintf(stderr, "mumu-trace: cannot write '%s': %s\n", argv[optind + 1],
			strerror(errno));
		gantt_free(&g);
		return 1;
	}
	gantt_svg(&g, out, from, to);
	r = ferror(out) ? -EIO : 0;
	if (out != stdout && fclose(out) != 0)
		r = -EIO;
	gantt_free(&g);
	if (r < 0) {
		fprintf(stderr, "mumu-trace: writing the SVG failed\n");
		return 1;
	}
	return 0;
}
