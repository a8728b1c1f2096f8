// make smoke --via port-forward finds Orthanc's ports on its Service by the
// container ports they lead to. The first Flux run on the real node failed here:
// the code looked for Service ports named http and dicom, and the chart names
// them http-web and tcp-dicom (Istio's protocol prefixes).
import { describe, expect, it } from "vitest";
import { orthancServicePorts } from "../../smoke/port-forward.ts";
import { as, find, render } from "../helpers/chart.ts";

describe("orthancServicePorts", () => {
  it("finds HTTP and DICOM on the Service the chart renders, and the container port names they lead to exist", async () => {
    const objects = await render();
    const service = as<{ spec: { ports: { name: string; port: number; targetPort: string }[] } }>(find(objects, "Service", "orthanc"));
    expect(orthancServicePorts(service.spec.ports)).toEqual({ http: 8042, dicom: 4242 });
    const deployment = as<{ spec: { template: { spec: { containers: { name: string; ports: { name: string }[] }[] } } } }>(find(objects, "Deployment", "orthanc"));
    const containerPorts = deployment.spec.template.spec.containers.find((container) => container.name === "orthanc")!.ports.map((port) => port.name);
    expect(containerPorts).toEqual(expect.arrayContaining(["http", "dicom"]));
  });

  it("goes by targetPort, not by the Service port's name", () => {
    expect(orthancServicePorts([{ name: "web", port: 80, targetPort: "http" }, { name: "dimse", port: 104, targetPort: "dicom" }])).toEqual({ http: 80, dicom: 104 });
    expect(orthancServicePorts([{ name: "http", port: 8042, targetPort: 8042 }, { name: "dicom", port: 4242, targetPort: 4242 }])).toBeUndefined();
  });

  it("is undefined when either port is missing", () => {
    expect(orthancServicePorts([{ name: "http-web", port: 8042, targetPort: "http" }])).toBeUndefined();
    expect(orthancServicePorts([])).toBeUndefined();
  });
});
