// Reaching Orthanc without a gateway (smoke's --via port-forward): where no
// TLS ingress can run (the real-node tier: Istio's data plane cannot be built
// there), `kubectl port-forward` to Orthanc's Service gives its HTTP and DICOM
// ports on 127.0.0.1. The real kubectl does the forwarding; this only starts
// it, reads the local ports it chose and stops it.
import { spawn, type ChildProcess } from "node:child_process";
import { TaskError } from "../tasks/lib/errors.ts";

export interface PortForward {
  /** Local port for each remote port, in the order asked. */
  ports: number[];
  /** What is forwarded, for messages: "service bhc/orthanc 8042, 4242". */
  description: string;
  stop: () => void;
}

/** Starts `kubectl port-forward service/<name> :<port>…` and waits until it listens. */
export function portForward(kubectl: string, contextArgs: readonly string[], namespace: string, service: string, remotePorts: readonly number[], timeoutMs = 30_000): Promise<PortForward> {
  const child: ChildProcess = spawn(kubectl, [...contextArgs, "-n", namespace, "port-forward", "--address", "127.0.0.1", `service/${service}`, ...remotePorts.map((port) => `:${port}`)], { stdio: ["ignore", "pipe", "pipe"] });
  const description = `service ${namespace}/${service} ${remotePorts.join(", ")}`;
  return new Promise((resolve, reject) => {
    const found = new Map<number, number>();
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill();
      reject(new TaskError(`kubectl port-forward to ${description} did not listen within ${timeoutMs / 1000} s: ${stderr.trim()}`, { code: "usage" }));
    }, timeoutMs);
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on("data", (chunk: Buffer) => {
      for (const match of chunk.toString().matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)) found.set(Number(match[2]), Number(match[1]));
      if (remotePorts.every((port) => found.has(port))) {
        clearTimeout(timer);
        resolve({ ports: remotePorts.map((port) => found.get(port)!), description, stop: () => child.kill() });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new TaskError(`kubectl port-forward to ${description} exited (${code}): ${stderr.trim()}`, { code: "usage", hint: `is Orthanc running? kubectl -n ${namespace} get pods,service` }));
    });
  });
}

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
}

/**
 * Orthanc's HTTP and DICOM ports on its Service, found by the container ports they lead to ("http", "dicom" in the
 * chart's Deployment): the Service's own port names follow Istio's protocol prefixes (http-web, tcp-dicom) and may
 * differ elsewhere. Undefined when either is missing.
 */
export function orthancServicePorts(ports: readonly ServicePort[]): { http: number; dicom: number } | undefined {
  const leadingTo = (container: string) => ports.find((port) => port.targetPort === container)?.port;
  const http = leadingTo("http");
  const dicom = leadingTo("dicom");
  return http && dicom ? { http, dicom } : undefined;
}

