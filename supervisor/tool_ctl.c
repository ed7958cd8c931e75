/* SPDX-License-Identifier: MIT */
/* mumu-ctl: ask a running supervisor over its control socket. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"
#include "ipc/ctl.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_NO_SUPERVISOR = 3 };

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: mumu-ctl [--socket PATH] [--json] COMMAND\n"
	    "Talk to a running mumu-supervisor (docs/health.md).\n"
	    "\n"
	    "Commands:\n"
	    "  status                 partitions: mode, VMM pid, cores, restarts, faults,\n"
	    "                         windows it ran in (to the end, yielded or enforced),\n"
	    "                         missed, console bytes dropped, start lateness p99,\n"
	    "                         last error\n"
	    "  hm-log                 the health-monitor log (the last 256 events)\n"
	    "  restart NAME [cold|warm]  restart a partition (default cold: pristine image)\n"
	    "  stop NAME              set a partition IDLE (restart brings it back)\n"
	    "  schedule ID            switch to module schedule ID at the next major frame\n"
	    "\n"
	    "Options:\n"
	    "  --socket PATH  the supervisor's --control socket (default " IPC_CTL_SOCKET_DEFAULT
	    ")\n"
	    "  --json         answer in JSON, for scripts\n"
	    "  -h, --help     this text\n"
	    "\n"
	    "Exit status: 0 done, 1 the supervisor refused (it says why), 2 usage error,\n"
	    "3 no supervisor listens on the socket or it did not answer within 5 s.\n");
}

static int parse_request(int argc, char **argv, struct ipc_ctl_request *req)
{
	const char *cmd = argv[0];
	uint64_t v;

	if (strcmp(cmd, "status") == 0 && argc == 1) {
		req->op = IPC_CTL_STATUS;
	} else if (strcmp(cmd, "hm-log") == 0 && argc == 1) {
		req->op = IPC_CTL_HM_LOG;
	} else if (strcmp(cmd, "restart") == 0 && (argc == 2 || argc == 3)) {
		req->op = IPC_CTL_RESTART;
		if (argc == 3 && strcmp(argv[2], "warm") == 0)
			req->flags |= IPC_CTL_WARM;
		else if (argc == 3 && strcmp(argv[2], "cold") != 0)
			return -EINVAL;
	} else if (strcmp(cmd, "stop") == 0 && argc == 2) {
		req->op = IPC_CTL_STOP;
	} else if (strcmp(cmd, "schedule") == 0 && argc == 2) {
		req->op = IPC_CTL_SCHEDULE;
		if (parse_u64(argv[1], &v) < 0 || v > UINT32_MAX)
			return -EINVAL;
		req->schedule_id = (uint32_t)v;
	} else {
		return -EINVAL;
	}
	if (req->op == IPC_CTL_RESTART || req->op == IPC_CTL_STOP) {
		if (strlen(argv[1]) > MUMU_NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(req->partition, argv[1], strlen(argv[1]) + 1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static uint8_t buf[IPC_MSG_MAX];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ipc_ctl_request req = { 0 };
	struct ipc_ctl_reply rep = { .more = 1 };
	struct timeval timeout = { .tv_sec = 5 };
	const char *path = IPC_CTL_SOCKET_DEFAULT;
	int c, fd, r = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			req.flags |= IPC_CTL_JSON;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc || (r = parse_request(argc - optind, argv + optind, &req)) < 0) {
		if (optind < argc && r == -ENAMETOOLONG)
			fprintf(stderr, "mumu-ctl: a partition name has at most %d characters\n",
				MUMU_NAME_MAX);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "mumu-ctl: socket path too long: %s\n", path);
		return EXIT_USAGE;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "mumu-ctl: no supervisor at %s: %s\n", path, strerror(errno));
		return EXIT_NO_SUPERVISOR;
	}
	/* A supervisor that does not answer in time is as good as none. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	if ((r = ipc_send(fd, IPC_CTL_REQUEST, &req, sizeof(req), NULL, 0)) < 0) {
		fprintf(stderr, "mumu-ctl: cannot send the request: %s\n", strerror(-r));
		return EXIT_NO_SUPERVISOR;
	}
	while (rep.more) {
		uint32_t type;
		size_t size;

		r = ipc_recv(fd, buf, &type, &size, NULL, 0, NULL);
		if (r < 0 || type != IPC_CTL_REPLY) {
			fprintf(stderr, "mumu-ctl: no answer from the supervisor: %s\n",
				r == -EAGAIN ? "none within 5 s"
				: r < 0	     ? strerror(-r)
					     : "unexpected message");
			return EXIT_NO_SUPERVISOR;
		}
		memcpy(&rep, buf, sizeof(rep));
		fwrite(buf + sizeof(rep), 1, size - sizeof(rep), rep.status < 0 ? stderr : stdout);
	}
	close(fd);
	return rep.status < 0 ? EXIT_REFUSED : EXIT_OK;
}
