#!/usr/bin/env python3
"""Prepares an Orthanc pod before Orthanc starts (init container "prepare").

Usage: prepare.py [--hostid FILE] [--check VAR=WHERE ...]

--hostid FILE   writes 4 random bytes to FILE, mounted by the Orthanc
                container at /etc/hostid. The orthancteam/orthanc image ships
                /etc/hostid as the text "not-generated" and regenerates it in
                its entrypoint, which the chart bypasses: without this, every
                replica reports the same host id (gethostid()).
--check VAR=WHERE
                refuses the value of environment variable VAR (from the Secret
                WHERE, e.g. "Secret orthanc-db key password") when it is empty
                or holds a character that breaks Orthanc: the value is
                substituted into orthanc.json as text (a quote or backslash
                breaks the JSON) and the PostgreSQL plugin puts the password
                unquoted into a libpq connection string (a space or quote
                breaks it). Exit 2 with a message naming the Secret and key.

The image has python3 but no shell tools we can rely on; the script needs
nothing else. Exit 0 when everything is in place.
"""
import os
import sys

# What the text substitution and the unquoted libpq string cannot carry.
UNSAFE = {" ": "a space", '"': "a double quote", "'": "a single quote", "\\": "a backslash"}


def problem_of(value):
    if value == "":
        return "is empty"
    for char in value:
        if char in UNSAFE:
            return f"contains {UNSAFE[char]}"
        if ord(char) < 32 or ord(char) == 127:
            return "contains a control character (tab, newline, ...)"
    return None


def write_hostid(path):
    hostid = b"\0\0\0\0"
    while hostid == b"\0\0\0\0":
        hostid = os.urandom(4)
    temporary = f"{path}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(hostid)
    os.chmod(temporary, 0o444)
    os.replace(temporary, path)
    print(f"prepare: wrote a host id of this pod's own to {path} ({hostid.hex()})")


def main(argv):
    args = argv[1:]
    hostid = None
    checks = []
    while args:
        flag = args.pop(0)
        if flag in ("--hostid", "--check") and args:
            value = args.pop(0)
            if flag == "--hostid":
                hostid = value
            else:
                name, _, where = value.partition("=")
                checks.append((name, where or f"env {name}"))
        else:
            print(f"prepare: unknown or incomplete argument {flag!r}; usage: prepare.py [--hostid FILE] [--check VAR=WHERE ...]", file=sys.stderr)
            return 2
    refused = []
    for name, where in checks:
        problem = problem_of(os.environ.get(name, ""))
        if problem:
            refused.append(f"{where} (env {name}) {problem}")
    if refused:
        for line in refused:
            print(f"prepare: {line}", file=sys.stderr)
        print(
            "prepare: Orthanc substitutes these values into orthanc.json as text, and the PostgreSQL plugin puts the "
            "password unquoted into its connection string: spaces, quotes and backslashes break them. Store a value "
            "without them (letters, digits and e.g. -_.!@#%+=:,/ are safe) in that Secret, then restart the pod "
            "(and change the database user's password to match).",
            file=sys.stderr,
        )
        return 2
    if hostid:
        write_hostid(hostid)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
