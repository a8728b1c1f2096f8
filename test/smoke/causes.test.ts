// The wording of likely causes: each names what to look at.
import { describe, expect, it } from "vitest";
import { chainCause, connectionCause, dimseStatusCause, httpCause, rejectionCause } from "../../smoke/causes.ts";

const error = (code: string, message = code) => Object.assign(new Error(message), { code }) as NodeJS.ErrnoException;

describe("likely causes", () => {
  it("connection errors", () => {
    expect(connectionCause(error("ECONNREFUSED"), "10.0.0.1", 11112)).toMatch(/^cannot connect to 10.0.0.1:11112: connection refused, nothing listens there/);
    expect(connectionCause(error("EHOSTUNREACH"), "10.0.0.1", 443)).toBe("cannot connect to 10.0.0.1:443: 10.0.0.1 is unreachable from here (routing, VPN)");
    expect(connectionCause(error("ENOTFOUND"), "nowhere.test", 443)).toBe("cannot resolve nowhere.test");
    expect(connectionCause(error("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "tlsv13 alert certificate required"), "h", 1)).toMatch(/wants a client certificate/);
    expect(connectionCause(error("ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"), "h", 4242)).toMatch(/^port 4242 does not speak TLS/);
  });

  it("certificates, HTTP statuses, association rejections, DIMSE statuses", () => {
    expect(chainCause("SELF_SIGNED_CERT_IN_CHAIN", "file ca.crt", undefined)).toMatch(/^certificate not signed by the CA from file ca.crt/);
    expect(chainCause("UNABLE_TO_VERIFY_LEAF_SIGNATURE", "x", { subject: "CN=TRAEFIK DEFAULT CERT", issuer: "", sans: [], validTo: "" })).toMatch(
      /^Traefik serves its default certificate/,
    );
    expect(httpCause(401, true, "web")).toBe("401: wrong credentials");
    expect(httpCause(200, false, "web")).toMatch(/authentication is off/);
    expect(httpCause(404, true, "web.x")).toMatch(/no route for Host web.x/);
    expect(httpCause(503, true, "web")).toMatch(/Orthanc does not/);
    expect(rejectionCause({ result: 1, source: 1, reason: 7 }, "X", "Y")).toBe('association rejected: called AE title "X" not recognized (the target checks the called AE title)');
    expect(rejectionCause({ result: 1, source: 1, reason: 3 }, "X", "Y")).toMatch(/calling AE title "Y" not accepted/);
    expect(dimseStatusCause(0xa700)).toMatch(/^0xA700 out of resources/);
    expect(dimseStatusCause(0x0124)).toMatch(/not authorized/);
  });
});
