// Runs once before the test files: produces kubeconform's schema folder (first
// time about a minute: the CRDs are probed from kubernetes-models and
// Kubernetes' OpenAPI comes from the Go module proxy), so that the many tests
// that validate do not each race to produce it within their timeouts.
import { schemaDir } from "../../proving-ground/validate/kube-schemas.ts";

export default async function setup(): Promise<void> {
  await schemaDir();
}
