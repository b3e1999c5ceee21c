#!/usr/bin/env python3
"""Checks a log file written by xfunc_log (chapter 13) and prints what it found.

    tools/shmem_check_log.py FILE [--lines N] [--min-lines N] [--first SEQ]
                                  [--clients C --per-client K]

Fails (exit 1) unless:
- the file ends with a newline (it holds only whole lines);
- every line is "<YYYY-MM-DDTHH:MM:SS.ffffffZ> <pid> <seq> <message>" and the message holds no
  control character (they are escaped);
- the sequence numbers are FIRST, FIRST+1, ... in file order: each exactly once, no gap;
- the timestamps never go backwards;
- with --lines, there are exactly N lines; with --min-lines, at least N;
- with --clients/--per-client, the pgbench messages "pgbench client <id>: ..." come from
  exactly C clients, K lines each.
"""
import argparse
import collections
import re
import sys

LINE = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) ([1-9]\d*) ([1-9]\d*) (.*)$")
CLIENT = re.compile(rb"^pgbench client (\d+): ")
CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--lines", type=int)
    ap.add_argument("--min-lines", type=int)
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--clients", type=int)
    ap.add_argument("--per-client", type=int)
    args = ap.parse_args()

    data = open(args.file, "rb").read()
    problems = []
    if data and not data.endswith(b"\n"):
        problems.append("the file does not end with a newline")
    lines = data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")
    pids = set()
    clients = collections.Counter()
    last_ts = b""
    for n, line in enumerate(lines):
        m = LINE.match(line)
        if not m:
            problems.append(f"line {n + 1} is malformed: {line[:80]!r}")
            continue
        ts, pid, seq, message = m.groups()
        if int(seq) != args.first + n:
            problems.append(f"line {n + 1} has sequence number {int(seq)}, not {args.first + n}")
        if ts < last_ts:
            problems.append(f"line {n + 1}: timestamp goes backwards")
        if CONTROL.search(message):
            problems.append(f"line {n + 1}: unescaped control character")
        last_ts = ts
        pids.add(pid)
        c = CLIENT.match(message)
        if c:
            clients[int(c.group(1))] += 1
        if len(problems) > 10:
            break
    if args.lines is not None and len(lines) != args.lines:
        problems.append(f"{len(lines)} lines, expected exactly {args.lines}")
    if args.min_lines is not None and len(lines) < args.min_lines:
        problems.append(f"{len(lines)} lines, expected at least {args.min_lines}")
    if args.clients is not None:
        if len(clients) != args.clients:
            problems.append(f"lines from {len(clients)} pgbench clients, expected {args.clients}")
        wrong = {c: k for c, k in clients.items() if k != args.per_client}
        if wrong:
            problems.append(f"clients without exactly {args.per_client} lines: {wrong}")

    last = args.first + len(lines) - 1
    summary = (f"{args.file}: {len(lines)} lines, sequence {args.first}..{last}, "
               f"{len(pids)} pids")
    if clients:
        summary += f", {len(clients)} pgbench clients x {min(clients.values())}..{max(clients.values())} lines"
    if problems:
        print("FAIL " + summary, file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        sys.exit(1)
    print("ok " + summary)


if __name__ == "__main__":
    main()
