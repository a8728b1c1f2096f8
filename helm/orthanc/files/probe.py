#!/usr/bin/env python3
"""Exec probe for Orthanc (the image has python3, no curl).

Usage: probe.py PATH   e.g. /changes?last (readiness: touches the database)
                            or /tools/now  (liveness: does not)

Calls http://127.0.0.1:$ORTHANC_HTTP_PORT/PATH with the credentials in
$ORTHANC_ADMIN_USERNAME / $ORTHANC_ADMIN_PASSWORD, so none appear in the pod
spec. Exit 0 on HTTP 200, 1 otherwise (with the reason on stderr, which the
kubelet shows in the pod's events).
"""
import base64
import http.client
import os
import sys


def main(argv):
    if len(argv) != 2 or not argv[1].startswith("/"):
        print("usage: probe.py /rest/path", file=sys.stderr)
        return 2
    path = argv[1]
    port = int(os.environ.get("ORTHANC_HTTP_PORT", "8042"))
    timeout = float(os.environ.get("PROBE_TIMEOUT_SECONDS", "4"))
    user = os.environ.get("ORTHANC_ADMIN_USERNAME", "")
    password = os.environ.get("ORTHANC_ADMIN_PASSWORD", "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    # http.client rather than urllib: no proxy variables are honoured.
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Authorization": f"Basic {token}"})
        response = connection.getresponse()
        response.read()
    except OSError as error:
        print(f"GET {path}: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if response.status != 200:
        print(f"GET {path}: HTTP {response.status} {response.reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
