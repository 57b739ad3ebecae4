#!/usr/bin/env python3
"""Searches logs for credentials: OpenMTD's token shapes (session mtds_, API mtda_, device mtdd_,
console mtdc_: 43 base64url characters after the prefix), enrollment codes in a "code"-like context,
and the fixed passwords the test suite uses. Exit 1 with the file and line of every hit.

Usage: benchmarks/secret-scan.py LOG [LOG…]
Used by .ci/run on the full `swift test` output.
"""
import pathlib
import re
import sys

TOKEN = re.compile(r"mtd[sadc]_[A-Za-z0-9_-]{43}")
# Passwords the tests set (Tests/…): a log line holding one means a password reached a logger.
TEST_PASSWORDS = ["owner-password-1234", "uem-admin-password-1", "authz-password-123", "other-password-123",
                  "reader-password-123", "cli-admin-password-1", "cli-uem-admin-pass", "mtd-api-password-1"]


def main(paths):
    hits = []
    for path in paths:
        for number, line in enumerate(pathlib.Path(path).read_text(errors="replace").splitlines(), 1):
            # Test failure messages quote replies; only log lines (level markers) count as logs.
            is_log = re.search(r"\b(trace|debug|info|notice|warning|error|critical)\b|\[ ?(TRACE|DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL) ?\]", line)
            if not is_log:
                continue
            if TOKEN.search(line) or any(password in line for password in TEST_PASSWORDS):
                hits.append(f"{path}:{number}: {line[:200]}")
    for hit in hits:
        print(hit, file=sys.stderr)
    print(f"secret scan: {len(paths)} log(s), {len(hits)} line(s) with a credential")
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
