// Istio routing as committed: the gateway serves 443 (HTTPS) and 11112 (TLS,
// any host, for DICOM clients without SNI), its Service exposes both, and every
// VirtualService reaches a Service defined in the manifests on a port it has.
import { describe, expect, it } from "vitest";
import { hostnames, pins } from "../../tasks/lib/settings.ts";
import { files } from "../../tasks/manual/layout.ts";
import { meshWorkloads } from "../../proving-ground/checks/manual/mesh.ts";
import { allObjects, copy, named, ofKind, values } from "./manual-files.ts";
import { routingProblems, type GatewayDeployment } from "./checks.ts";
import { plainGatewayPorts } from "../../proving-ground/audit/exposure.ts";

const objects = allObjects();
const gatewayValues = values(files.gatewayValues);
const orthancValues = values(files.orthancValues);
const istiodValues = values(files.istiodValues);
const gatewayDeployment: GatewayDeployment = {
  namespace: orthancValues.ingress.istio.gatewayNamespace,
  scopedGateways: istiodValues.pilot.env?.PILOT_SCOPE_GATEWAY_TO_NAMESPACE === "true",
  labels: gatewayValues.labels,
  servicePorts: gatewayValues.service.ports.map((p: any) => ({ port: p.port, targetPort: p.targetPort })),
};

describe("the Gateway", () => {
  const [gateway] = ofKind(objects, "Gateway") as any[];
  const names = hostnames(orthancValues.domain);

  it("is the only one, and serves 443 HTTPS and 11112 TLS, both terminated (SIMPLE) with TLS ≥ 1.2", () => {
    expect(ofKind(objects, "Gateway")).toHaveLength(1);
    const servers = gateway.spec.servers.map((s: any) => ({ port: s.port.number, protocol: s.port.protocol, hosts: s.hosts, mode: s.tls.mode, min: s.tls.minProtocolVersion }));
    expect(servers).toEqual([
      { port: 443, protocol: "HTTPS", hosts: [names.web], mode: "SIMPLE", min: "TLSV1_2" },
      { port: 11112, protocol: "TLS", hosts: ["*"], mode: "SIMPLE", min: "TLSV1_2" },
    ]);
  });

  it("selects the gateway chart's pods, which the security step knows by the same labels", () => {
    expect(gateway.spec.selector).toEqual({ istio: "ingress" });
    expect(gatewayValues.labels).toEqual(meshWorkloads.gateway.labels);
    expect(gatewayValues.serviceAccount.name).toBe(meshWorkloads.gateway.serviceAccount);
  });

  it("sits next to the gateway pods, where istiod (gateways scoped to their namespace) applies it; the routes stay with Orthanc", () => {
    expect(istiodValues.pilot.env.PILOT_SCOPE_GATEWAY_TO_NAMESPACE).toBe("true");
    expect(gateway.metadata.namespace).toBe("istio-ingress");
    for (const route of ofKind(objects, "VirtualService") as any[]) {
      expect(route.metadata.namespace).toBe("orthanc");
      expect(route.spec.gateways).toEqual(["istio-ingress/orthanc"]);
    }
  });

  it("has its ports on the gateway's LoadBalancer Service, each a TLS server of the Gateway: 443 and 11112, no 80, no status port", () => {
    expect(gatewayValues.service.type).toBe("LoadBalancer");
    expect(gatewayValues.service.ports.map((p: any) => p.port).sort((a: number, b: number) => a - b)).toEqual([443, 11112]);
    expect(plainGatewayPorts(gatewayValues.service.ports, ofKind(objects, "Gateway"))).toEqual([]);
    // The check can fail: the gateway chart's default ports 80 and 15021 (plain HTTP) are reported.
    const withDefaults = [...gatewayValues.service.ports, { port: 15021, targetPort: 15021 }, { port: 80, targetPort: 80 }];
    expect(plainGatewayPorts(withDefaults, ofKind(objects, "Gateway"))).toEqual([15021, 80]);
  });
});

describe("routing consistency", () => {
  it("finds no problem in the committed manifests", () => {
    expect(routingProblems(objects, gatewayDeployment)).toEqual([]);
  });

  it("routes HTTPS to Orthanc's http port (8042) and DICOM (tcp, port 11112) to 4242", () => {
    const web = named(objects, "VirtualService", "orthanc-web", "orthanc");
    const dicom = named(objects, "VirtualService", "orthanc-dicom", "orthanc");
    expect(web.spec.http[0].route[0].destination).toEqual({ host: "orthanc.orthanc.svc.cluster.local", port: { number: 8042 } });
    expect(dicom.spec.tcp[0]).toEqual({ match: [{ port: 11112 }], route: [{ destination: { host: "orthanc.orthanc.svc.cluster.local", port: { number: 4242 } } }] });
  });

  it("reports broken copies: unknown Service, missing port, unknown gateway, selector without pods, port not on the Service, Gateway outside the gateway's namespace", () => {
    const broken = (change: (items: any[]) => void) => {
      const items = copy(objects) as any[];
      change(items);
      return routingProblems(items, gatewayDeployment).join("\n");
    };
    const vs = (items: any[], name: string) => items.find((o) => o.kind === "VirtualService" && o.metadata.name === name);
    const gw = (items: any[]) => items.find((o) => o.kind === "Gateway");
    expect(broken((items) => (vs(items, "orthanc-web").spec.http[0].route[0].destination.host = "orthanc-ui.orthanc.svc.cluster.local"))).toMatch(/orthanc-ui.orthanc.svc.cluster.local is not a Service/);
    expect(broken((items) => (vs(items, "orthanc-dicom").spec.tcp[0].route[0].destination.port.number = 104))).toMatch(/has no port 104/);
    expect(broken((items) => (vs(items, "orthanc-web").spec.gateways = ["istio-ingress/other"]))).toMatch(/not all defined/);
    expect(broken((items) => (gw(items).spec.selector = { istio: "ingressgateway" }))).toMatch(/selector istio=ingressgateway matches no gateway pod/);
    expect(broken((items) => (gw(items).spec.servers[1].port.number = 2762))).toMatch(/port 2762 is not on the gateway Service/);
    expect(broken((items) => (vs(items, "orthanc-dicom").spec.tcp[0].match[0].port = 104))).toMatch(/tcp match on port 104/);
    expect(
      broken((items) => {
        gw(items).metadata.namespace = "orthanc";
        for (const name of ["orthanc-web", "orthanc-dicom"]) vs(items, name).spec.gateways = ["orthanc/orthanc"];
      }),
    ).toBe("Gateway orthanc/orthanc: not in the gateway's namespace istio-ingress, so istiod (gateways scoped to their namespace) applies it to no pod");
  });
});

describe("Istio's images", () => {
  it("come from the pinned registry in both installers, not 1.30's default registry.istio.io (retired late 2026)", () => {
    for (const file of [files.istiodValues, files.cniValues]) expect(values(file), file).toMatchObject({ hub: pins.istio.hub, global: { hub: pins.istio.hub } });
    const [operator] = ofKind(allObjects(), "IstioOperator") as { spec: { hub?: string } }[];
    expect(operator?.spec.hub).toBe(pins.istio.hub);
  });
});
