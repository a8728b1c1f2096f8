#!/usr/bin/env python3
"""End-to-end check of an Orthanc deployment through its TLS ingress.

Used by `helm test` (inside the cluster) and runnable anywhere with Python 3.8+
and no third-party module:

  ORTHANC_ADMIN_USERNAME=... ORTHANC_ADMIN_PASSWORD=... \\
  check.py --address 127.0.0.1 --web-host web.korthweb.test \\
           --dicom-host dicom.korthweb.test --ca ca.crt [--web-port 443] \\
           [--dicom-port 11112] [--aet ORTHANC] \\
           [--client-cert smoke.crt --client-key smoke.key] [--client-auth required]

Checks, in order:
  1. HTTPS on the web port: certificate chain and hostname verified against
     the CA (SNI = web host), TLS >= 1.2; GET /system with credentials is 200,
     without credentials 401.
  2. DICOM over TLS on the DICOM port, without SNI (like dcmtk): chain
     verified, the DICOM host among the certificate's SANs; A-ASSOCIATE with
     the Verification SOP class, C-ECHO answered with status 0, A-RELEASE.
     With --client-cert/--client-key the DICOM checks present that client
     certificate (mutual TLS on 11112).
  3. An association with a wrong called AE title is rejected.
  4. With --client-auth required: a DICOM-TLS handshake without a client
     certificate is refused (alone when no client certificate is given).
Exit 0 when all pass, 1 when one fails, 2 on bad usage.
"""
import argparse
import base64
import http.client
import os
import socket
import ssl
import struct
import sys
import time

VERIFICATION_SOP_CLASS = "1.2.840.10008.1.1"
APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
# A UID under the 2.25 (UUID-derived) arc, fixed for this tool.
IMPLEMENTATION_CLASS_UID = "2.25.191447935208212412745370128311046378953"
IMPLEMENTATION_VERSION = "KORTHWEB_CHECK"
MAX_PDU = 16384


class CheckFailed(Exception):
    pass


# ---------------------------------------------------------------- TLS / HTTPS

def tls_context(ca_file, verify_hostname):
    if ca_file:
        context = ssl.create_default_context(cafile=ca_file)
        context.check_hostname = verify_hostname
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def connect_tls(address, port, context, server_name, timeout):
    raw = socket.create_connection((address, port), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        return context.wrap_socket(raw, server_hostname=server_name)
    except ssl.SSLCertVerificationError as error:
        raw.close()
        raise CheckFailed(f"certificate not trusted on {address}:{port}: {error.verify_message}") from error
    except (ssl.SSLError, OSError) as error:
        raw.close()
        raise CheckFailed(f"TLS handshake with {address}:{port} failed: {error}") from error


def http_get(tls_socket, host, path, token, timeout):
    connection = http.client.HTTPConnection(host, timeout=timeout)
    connection.sock = tls_socket  # already connected and verified
    headers = {"Connection": "close"}
    if token:
        headers["Authorization"] = f"Basic {token}"
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


def check_https(args, token):
    context = tls_context(args.ca, verify_hostname=True)
    results = []
    for with_credentials, expected in ((True, 200), (False, 401)):
        tls_socket = connect_tls(args.address, args.web_port, context, args.web_host, args.timeout)
        version = tls_socket.version()
        status = http_get(tls_socket, args.web_host, "/system", token if with_credentials else None, args.timeout)
        if status != expected:
            hint = " (wrong credentials?)" if with_credentials and status == 401 else ""
            raise CheckFailed(f"GET https://{args.web_host}/system {'with' if with_credentials else 'without'} credentials: HTTP {status}, expected {expected}{hint}")
        results.append(f"{'with' if with_credentials else 'without'} credentials {status}")
    return f"{version}, {', '.join(results)}"


# ---------------------------------------------------------------- DICOM

def ae_title(value):
    encoded = value.encode("ascii")
    if not 0 < len(encoded) <= 16:
        raise CheckFailed(f"AE title {value!r} must be 1 to 16 ASCII characters")
    return encoded.ljust(16, b" ")


def item(item_type, payload):
    return struct.pack(">BBH", item_type, 0, len(payload)) + payload


def associate_request(called, calling):
    presentation = struct.pack(">BBBB", 1, 0, 0, 0) + item(0x30, VERIFICATION_SOP_CLASS.encode()) + item(0x40, IMPLICIT_VR_LITTLE_ENDIAN.encode())
    user_info = item(0x51, struct.pack(">I", MAX_PDU)) + item(0x52, IMPLEMENTATION_CLASS_UID.encode()) + item(0x55, IMPLEMENTATION_VERSION.encode())
    body = (struct.pack(">HH", 1, 0) + ae_title(called) + ae_title(calling) + bytes(32)
            + item(0x10, APPLICATION_CONTEXT.encode()) + item(0x20, presentation) + item(0x50, user_info))
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def read_exact(sock, count):
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise CheckFailed("connection closed by the server in the middle of a DICOM exchange")
        data += chunk
    return data


def read_pdu(sock):
    pdu_type, _, length = struct.unpack(">BBI", read_exact(sock, 6))
    return pdu_type, read_exact(sock, length)


def describe_abort(body):
    return f"A-ABORT (source {body[2]}, reason {body[3]})" if len(body) >= 4 else "A-ABORT"


def element(group, number, value):
    if len(value) % 2:
        value += b"\0"
    return struct.pack("<HHI", group, number, len(value)) + value


def echo_request(message_id):
    elements = (element(0x0000, 0x0002, VERIFICATION_SOP_CLASS.encode())
                + element(0x0000, 0x0100, struct.pack("<H", 0x0030))
                + element(0x0000, 0x0110, struct.pack("<H", message_id))
                + element(0x0000, 0x0800, struct.pack("<H", 0x0101)))
    command = element(0x0000, 0x0000, struct.pack("<I", len(elements))) + elements
    pdv = struct.pack(">IBB", len(command) + 2, 1, 0x03) + command  # context 1, command, last fragment
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


def parse_command(data):
    fields = {}
    offset = 0
    while offset + 8 <= len(data):
        group, number, length = struct.unpack_from("<HHI", data, offset)
        offset += 8
        fields[(group, number)] = data[offset:offset + length]
        offset += length
    return fields


def read_command(sock):
    command = b""
    while True:
        pdu_type, body = read_pdu(sock)
        if pdu_type == 0x07:
            raise CheckFailed(f"server sent {describe_abort(body)} instead of the C-ECHO response")
        if pdu_type != 0x04:
            raise CheckFailed(f"expected P-DATA-TF, got PDU type 0x{pdu_type:02x}")
        offset = 0
        while offset < len(body):
            length, _context, control = struct.unpack_from(">IBB", body, offset)
            command += body[offset + 6:offset + 4 + length]
            offset += 4 + length
            if control & 0x01 and control & 0x02:
                return parse_command(command)


def associate(args, context, called):
    sock = connect_tls(args.address, args.dicom_port, context, None, args.timeout)
    sock.sendall(associate_request(called, args.calling_aet))
    pdu_type, body = read_pdu(sock)
    return sock, pdu_type, body


def dicom_context(args, with_client_cert=True):
    context = tls_context(args.ca, verify_hostname=False)  # no SNI, like dcmtk; SANs checked below
    if with_client_cert and args.client_cert:
        context.load_cert_chain(args.client_cert, args.client_key)
    return context


def check_dicom(args):
    context = dicom_context(args)
    sock, pdu_type, body = associate(args, context, args.aet)
    try:
        if args.ca:
            names = [value for kind, value in sock.getpeercert().get("subjectAltName", ()) if kind == "DNS"]
            if args.dicom_host not in names:
                raise CheckFailed(f"certificate on port {args.dicom_port} has SANs {names}, not {args.dicom_host}")
        version = sock.version()
        if pdu_type == 0x03:
            raise CheckFailed(f"association rejected (result {body[1]}, source {body[2]}, reason {body[3]}): is {args.aet} the server's AE title?")
        if pdu_type != 0x02:
            raise CheckFailed(f"expected A-ASSOCIATE-AC, got PDU type 0x{pdu_type:02x}")
        accepted = False
        offset = 68
        while offset + 4 <= len(body):
            item_type, _, length = struct.unpack_from(">BBH", body, offset)
            if item_type == 0x21 and body[offset + 4] == 1:
                accepted = body[offset + 6] == 0
            offset += 4 + length
        if not accepted:
            raise CheckFailed("the Verification SOP class was not accepted")
        started = time.monotonic()
        sock.sendall(echo_request(1))
        fields = read_command(sock)
        elapsed_ms = (time.monotonic() - started) * 1000
        command_field = struct.unpack("<H", fields.get((0x0000, 0x0100), b"\0\0")[:2])[0]
        status = struct.unpack("<H", fields.get((0x0000, 0x0900), b"\xff\xff")[:2])[0]
        if command_field != 0x8030 or status != 0:
            raise CheckFailed(f"C-ECHO response command 0x{command_field:04x} status 0x{status:04x}, expected 0x8030 status 0")
        sock.sendall(struct.pack(">BBI", 0x05, 0, 4) + bytes(4))
        pdu_type, _ = read_pdu(sock)
        if pdu_type != 0x06:
            raise CheckFailed(f"expected A-RELEASE-RP, got PDU type 0x{pdu_type:02x}")
        return f"{version}, C-ECHO status 0 in {elapsed_ms:.0f} ms, released"
    finally:
        sock.close()


def check_wrong_aet(args):
    context = dicom_context(args)
    wrong = "NOT-" + args.aet[:12]
    sock, pdu_type, body = associate(args, context, wrong)
    sock.close()
    if pdu_type != 0x03:
        raise CheckFailed(f"an association to called AE {wrong} was not rejected (PDU type 0x{pdu_type:02x}): is DicomCheckCalledAet on?")
    return f"called AE {wrong} rejected (reason {body[3]})"


def check_refused_without_cert(args):
    """The handshake (or, with TLS 1.3, the first read after it) fails without a client certificate."""
    context = dicom_context(args, with_client_cert=False)
    try:
        sock, pdu_type, _ = associate(args, context, args.aet)
    except CheckFailed as error:
        return f"refused: {error}"
    except (OSError, ssl.SSLError) as error:
        return f"refused: {error.__class__.__name__}: {error}"
    sock.close()
    raise CheckFailed(f"a client without a certificate got PDU type 0x{pdu_type:02x}: the ingress does not require client certificates on {args.dicom_port}")


# ---------------------------------------------------------------- main

def parse_args(argv):
    parser = argparse.ArgumentParser(description="Check Orthanc end to end through its TLS ingress (HTTPS and DICOM C-ECHO).")
    parser.add_argument("--address", required=True, help="host name or IP to connect to (the ingress)")
    parser.add_argument("--web-host", required=True, help="web hostname: SNI, Host header and certificate name")
    parser.add_argument("--dicom-host", required=True, help="DICOM hostname expected among the certificate's SANs")
    parser.add_argument("--web-port", type=int, default=443)
    parser.add_argument("--dicom-port", type=int, default=11112)
    parser.add_argument("--aet", default="ORTHANC", help="the server's AE title (called AE)")
    parser.add_argument("--calling-aet", default="KORTHWEB-CHECK")
    parser.add_argument("--ca", help="PEM file of the CA that signed the ingress certificate")
    parser.add_argument("--insecure", action="store_true", help="skip certificate verification (when no CA is available)")
    parser.add_argument("--client-cert", help="PEM client certificate for DICOM (mutual TLS on the DICOM port)")
    parser.add_argument("--client-key", help="PEM key of --client-cert")
    parser.add_argument("--client-auth", choices=["required", "optional", "none"], default="none", help="what the DICOM port asks of clients")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per network operation")
    args = parser.parse_args(argv)
    if not args.ca and not args.insecure:
        parser.error("give --ca FILE, or --insecure to skip certificate verification")
    if bool(args.client_cert) != bool(args.client_key):
        parser.error("give --client-cert and --client-key together")
    return args


def main(argv):
    args = parse_args(argv)
    user = os.environ.get("ORTHANC_ADMIN_USERNAME", "")
    password = os.environ.get("ORTHANC_ADMIN_PASSWORD", "")
    if not user or not password:
        print("set ORTHANC_ADMIN_USERNAME and ORTHANC_ADMIN_PASSWORD", file=sys.stderr)
        return 2
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    if args.insecure:
        print("! certificate verification is off (--insecure)")
    checks = [(f"HTTPS {args.web_host} via {args.address}:{args.web_port}", lambda: check_https(args, token))]
    if args.client_cert or args.client_auth != "required":
        checks += [
            (f"DICOM TLS C-ECHO {args.aet} via {args.address}:{args.dicom_port}", lambda: check_dicom(args)),
            ("DICOM wrong called AE title rejected", lambda: check_wrong_aet(args)),
        ]
    if args.client_auth == "required":
        checks.append(("DICOM TLS without a client certificate refused", lambda: check_refused_without_cert(args)))
    failed = 0
    for label, run in checks:
        try:
            print(f"ok   {label}: {run()}")
        except CheckFailed as error:
            failed += 1
            print(f"FAIL {label}: {error}")
        except (OSError, ssl.SSLError) as error:
            failed += 1
            print(f"FAIL {label}: {error.__class__.__name__}: {error}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
