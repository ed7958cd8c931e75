/* SPDX-License-Identifier: MIT */
/* mumu-supervisor: parse the command line, load the system policy, check or run it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "ipc/ctl.h"
#include "ipc/vmm.h"
#include "seccomp/seccomp.h"
#include "supervisor/supervisor.h"

enum { EXIT_VALID = 0, EXIT_OTHER = 1, EXIT_INVALID_CONFIG = 2 };

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: mumu-supervisor [OPTIONS] CONFIG\n"
	    "Run the partitioned system described by CONFIG (an XML system policy, see\n"
	    "docs/config.md): one sandboxed VMM process and KVM virtual machine per partition,\n"
	    "scheduled in the fixed time windows of the module schedule. A system partition may\n"
	    "switch schedules; the health monitor restarts a partition whose VMM dies or whose\n"
	    "guest crashes (by default 3 times a minute at most, then it stays IDLE; each\n"
	    "partition's HealthMonitor in CONFIG can say otherwise: docs/health.md).\n"
	    "Partitions talk only through the sampling ports, queuing ports and shared\n"
	    "memories CONFIG declares, each with one writer (docs/ports.md).\n"
	    "\n"
	    "Options:\n"
	    "  --check             validate CONFIG, print a summary (cores, timelines, what\n"
	    "                      each partition maps) and exit\n"
	    "  --frames N          stop after N major frames (of whatever schedule runs)\n"
	    "  --duration SECONDS  stop after SECONDS (decimals allowed)\n"
	    "  --trace FILE        write every window as Chrome trace JSON (docs/scheduling.md)\n"
	    "  --control PATH|none the socket mumu-ctl talks to (default " IPC_CTL_SOCKET_DEFAULT
	    ",\n"
	    "                      mode 0600; none: no control socket)\n"
	    "  --schema FILE       the XML schema (default: the build's or installed mumu.xsd)\n"
	    "  --vmm FILE          the mumu-vmm binary (default: beside mumu-supervisor)\n"
	    "  --vmm-user UID[:GID]  the ids every VMM drops to, as root (default 65534:65534;\n"
	    "                      not root: the caller's, in a user namespace per VMM)\n"
	    "  --seccomp=kill|log  a forbidden VMM system call kills the VMM (default) or is\n"
	    "                      only logged by the kernel (same filter)\n"
	    "  --seccomp-audit[=text|pfc|bpf|bpf:PATH]  print the VMM's system call filter, exit\n"
	    "  --no-sandbox        development only: VMMs without namespaces, ids, seccomp\n"
	    "  -v, --verbose       more log output (repeat for debug)\n"
	    "  -q, --quiet         only errors\n"
	    "  -h, --help          this text\n"
	    "      --version       print the version\n"
	    "\n"
	    "Timing: as root (CAP_SYS_NICE) the schedule's threads run SCHED_FIFO 80 and every\n"
	    "vCPU SCHED_FIFO 50, except on a core whose windows leave the kernel's real-time\n"
	    "budget (kernel.sched_rt_runtime_us) no room: a warning names it; sysctl\n"
	    "kernel.sched_rt_runtime_us=-1 lifts the budget (docs/scheduling.md).\n"
	    "\n"
	    "Ctrl-C, SIGTERM, SIGHUP and SIGQUIT stop the run in order (the VMMs get 0.5 s to\n"
	    "exit, then the summary); a second one kills them at once. Ctrl-Z is refused.\n"
	    "\n"
	    "Exit status: 0 the run ended as asked (or CONFIG is valid with --check),\n"
	    "2 CONFIG is invalid (every problem is printed as FILE:LINE: message),\n"
	    "3 a HealthMonitor action SHUTDOWN stopped the module, 130 a second signal ended\n"
	    "the shutdown at once, 1 any other error.\n");
}

/* Parse a non-negative decimal number of seconds into ns; -EINVAL when malformed or huge. */
static int parse_seconds(const char *s, uint64_t *ret_ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e9)
		return -EINVAL;
	*ret_ns = (uint64_t)(v * 1e9);
	return 0;
}

/* "UID" or "UID:GID" (GID defaults to UID); root is refused: the point is to drop it. */
static int parse_ids(const char *s, uint32_t *ret_uid, uint32_t *ret_gid)
{
	char uid_text[32];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	uint64_t uid, gid;

	if (n >= sizeof(uid_text))
		return -EINVAL;
	memcpy(uid_text, s, n);
	uid_text[n] = '\0';
	if (parse_u64(uid_text, &uid) < 0 || (colon && parse_u64(colon + 1, &gid) < 0))
		return -EINVAL;
	if (!colon)
		gid = uid;
	if (uid == 0 || gid == 0 || uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1)
		return -EINVAL;
	*ret_uid = (uint32_t)uid;
	*ret_gid = (uint32_t)gid;
	return 0;
}

static const char *first_existing(const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (paths[i] && access(paths[i], R_OK) == 0)
			return paths[i];
	return paths[1]; /* the build's: its absence is what the error names */
}

/* rel, from the directory of this program (/proc/self/exe), into buf; NULL when unknown. */
static const char *beside_me(const char *rel, char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash || (size_t)(slash + 1 - buf) + strlen(rel) + 1 > size)
		return NULL;
	strcpy(slash + 1, rel);
	return buf;
}

/* mumu-vmm lives beside mumu-supervisor. */
static const char *default_vmm_path(void)
{
	static char path[PATH_MAX];
	const char *p = beside_me("mumu-vmm", path, sizeof(path));

	return p ? p : MUMU_BUILD_BIN_DIR "/mumu-vmm";
}

/* The long options; their values past any character. */
enum {
	OPT_CHECK = 256,
	OPT_FRAMES,
	OPT_DURATION,
	OPT_SCHEMA,
	OPT_TRACE,
	OPT_VMM,
	OPT_VMM_USER,
	OPT_SECCOMP,
	OPT_AUDIT,
	OPT_NO_SANDBOX,
	OPT_CONTROL,
	OPT_VERSION,
};

static const struct option longopts[] = {
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "frames", required_argument, NULL, OPT_FRAMES },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "schema", required_argument, NULL, OPT_SCHEMA },
	{ "trace", required_argument, NULL, OPT_TRACE },
	{ "vmm", required_argument, NULL, OPT_VMM },
	{ "vmm-user", required_argument, NULL, OPT_VMM_USER },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "seccomp-audit", optional_argument, NULL, OPT_AUDIT },
	{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

/* Where the schema is looked for when --schema does not say: the build's, the installed one
 * (the prefix's), the usual prefixes; before them all, the one of an installed tree wherever
 * it was put (PREFIX/bin/../share/mumu). */
static const char *schemas[] = {
	NULL,
	MUMU_SOURCE_DIR "/etc/mumu.xsd",
	MUMU_INSTALL_SCHEMA,
	"/usr/local/share/mumu/mumu.xsd",
	"/usr/share/mumu/mumu.xsd",
};

/* What the command line asks for. */
struct args {
	struct sup_options opts;
	const char *audit; /* --seccomp-audit's format, NULL when not asked */
	bool check;
	enum log_level level;
};

/* Parse the command line into a: -1 to go on, else the exit status (help, version, errors). */
/* An option that takes a value: -1 when it is good, else the exit status. */
static int value_option(int c, const char *arg, struct args *a)
{
	switch (c) {
	case OPT_FRAMES:
		if (parse_u64(arg, &a->opts.frames) == 0 && a->opts.frames > 0)
			return -1;
		log_error("--frames '%s': expected a positive whole number", arg);
		return EXIT_OTHER;
	case OPT_DURATION:
		if (parse_seconds(arg, &a->opts.duration_ns) == 0)
			return -1;
		log_error("--duration '%s': expected a positive number of seconds", arg);
		return EXIT_OTHER;
	case OPT_VMM_USER:
		if (parse_ids(arg, &a->opts.vmm_uid, &a->opts.vmm_gid) == 0)
			return -1;
		log_error("--vmm-user '%s': expected UID or UID:GID, not 0", arg);
		return EXIT_OTHER;
	case OPT_SECCOMP:
		if (strcmp(arg, "log") == 0)
			a->opts.vmm_flags |= IPC_CFG_SECCOMP_LOG;
		else if (strcmp(arg, "kill") == 0)
			a->opts.vmm_flags &= ~IPC_CFG_SECCOMP_LOG;
		else
			break;
		return -1;
	case OPT_SCHEMA:
		a->opts.schema_path = arg;
		return -1;
	case OPT_VMM:
		a->opts.vmm_path = arg;
		return -1;
	case OPT_TRACE:
		a->opts.trace_path = arg;
		return -1;
	case OPT_CONTROL:
		a->opts.control_path = strcmp(arg, "none") == 0 ? NULL : arg;
		return -1;
	}
	log_error("--seccomp=%s: expected kill or log", arg);
	return EXIT_OTHER;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	int c, r;

	while ((c = getopt_long(argc, argv, "vqh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CHECK:
			a->check = true;
			break;
		case OPT_AUDIT:
			a->audit = optarg ? optarg : "text";
			break;
		case OPT_NO_SANDBOX:
			a->opts.vmm_flags |= IPC_CFG_NO_SANDBOX;
			break;
		case 'v':
			if (a->level < LOG_DEBUG)
				a->level++;
			break;
		case 'q':
			a->level = LOG_ERROR;
			break;
		case 'h':
			usage(stdout);
			return EXIT_VALID;
		case OPT_VERSION:
			printf("mumu-supervisor %s\n", MUMU_VERSION);
			return EXIT_VALID;
		case OPT_FRAMES:
		case OPT_DURATION:
		case OPT_VMM_USER:
		case OPT_SECCOMP:
		case OPT_SCHEMA:
		case OPT_VMM:
		case OPT_TRACE:
		case OPT_CONTROL:
			if ((r = value_option(c, optarg, a)) >= 0)
				return r;
			break;
		default:
			usage(stderr);
			return EXIT_OTHER;
		}
	}
	if (a->audit)
		return -1; /* needs no CONFIG */
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_OTHER;
	}
	a->opts.config_path = argv[optind];
	if (!a->opts.schema_path) {
		static char mine[PATH_MAX];

		schemas[0] = beside_me("../share/mumu/mumu.xsd", mine, sizeof(mine));
		a->opts.schema_path = first_existing(schemas, ARRAY_SIZE(schemas));
	}
	if (!a->opts.vmm_path)
		a->opts.vmm_path = default_vmm_path();
	return -1;
}

/* CONFIG as a validated system, or NULL and *ret_exit (every problem printed as FILE:LINE). */
static struct pol_system *load(const struct sup_options *opts, int *ret_exit)
{
	struct pol_diags diags = { 0 };
	struct pol_system *sys = NULL;
	struct pol_host host;
	int r;

	r = pol_host_probe(&host);
	if (r < 0) {
		log_error("cannot read the host's CPUs: %s", strerror(-r));
		*ret_exit = EXIT_OTHER;
		return NULL;
	}
	r = pol_load(opts->config_path, opts->schema_path, &host, &sys, &diags);
	if (r == -EINVAL) {
		for (size_t i = 0; i < diags.n; i++)
			fprintf(stderr, "%s:%d: %s\n", diags.items[i].file, diags.items[i].line,
				diags.items[i].msg);
		fprintf(stderr, "%s: invalid configuration (%zu problem%s)\n", opts->config_path,
			diags.n, diags.n == 1 ? "" : "s");
		pol_diags_free(&diags);
		*ret_exit = EXIT_INVALID_CONFIG;
		return NULL;
	}
	pol_diags_free(&diags);
	if (r < 0) {
		log_error("cannot load '%s': %s", opts->config_path, strerror(-r));
		*ret_exit = EXIT_OTHER;
		return NULL;
	}
	return sys;
}

int main(int argc, char **argv)
{
	struct args a = { .opts = { .vmm_uid = IPC_DEFAULT_VMM_UID,
				    .vmm_gid = IPC_DEFAULT_VMM_GID,
				    .control_path = IPC_CTL_SOCKET_DEFAULT },
			  .level = LOG_INFO };
	struct pol_system *sys;
	int r;

	log_set_tag("mumu-supervisor");
	r = parse_args(argc, argv, &a);
	if (r >= 0)
		return r;
	log_set_level(a.level);
	if (a.audit) {
		r = vmm_seccomp_audit(stdout, a.audit);
		if (r < 0)
			log_error("--seccomp-audit=%s: %s (formats: text, pfc, bpf)", a.audit,
				  strerror(-r));
		return r < 0 ? EXIT_OTHER : EXIT_VALID;
	}
	sys = load(&a.opts, &r);
	if (!sys)
		return r;
	if (a.check) {
		sup_describe(sys, stdout);
		r = EXIT_VALID;
	} else {
		r = sup_run(sys, &a.opts);
	}
	pol_free(sys);
	return r;
}
