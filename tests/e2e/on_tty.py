#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run a command on a pseudo-terminal as a person at a terminal would, for the e2e tests.

Usage: on_tty.py OUT STEP... -- COMMAND [ARG...]
  wait:ERE     until the output has a line matching ERE (20 s at most, else exit 124)
  key:C        type the terminal character ^C (C, \\, Z): the terminal driver sends the
               foreground process group SIGINT, SIGQUIT or SIGTSTP, as a keyboard would
  signal:NAME  send the command's process (not its group) the signal, as `kill` would
Everything the command printed goes to OUT; the exit status is the command's (128 + N when a
signal N ended it).
"""
import os
import pty
import re
import select
import signal
import sys
import time

KEYS = {"C": b"\x03", "\\": b"\x1c", "Z": b"\x1a"}


def main():
    args = sys.argv[1:]
    split = args.index("--")
    out_path, steps, command = args[0], args[1:split], args[split + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    out = open(out_path, "wb")
    seen = b""

    def read(timeout):
        nonlocal seen
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: every writer of the terminal is gone
            return False
        if not data:
            return False
        out.write(data)
        out.flush()
        seen += data
        return True

    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "wait":
            pattern = re.compile(arg.encode(), re.M)
            deadline = time.monotonic() + 20
            while not pattern.search(seen.replace(b"\r\n", b"\n")):
                if time.monotonic() > deadline or not read(0.1):
                    print(f"on_tty.py: no line matching '{arg}'", file=sys.stderr)
                    os.kill(pid, signal.SIGKILL)
                    sys.exit(124)
        elif kind == "key":
            os.write(fd, KEYS[arg])
        elif kind == "signal":
            os.kill(pid, getattr(signal, "SIG" + arg))
        else:
            sys.exit(f"on_tty.py: unknown step '{step}'")
    deadline = time.monotonic() + 30
    while read(1) and time.monotonic() < deadline:
        pass
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status)
             else 128 + os.WTERMSIG(status))


if __name__ == "__main__":
    main()
