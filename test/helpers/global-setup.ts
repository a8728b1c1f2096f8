// Runs once before the test files: produces kubeconform's schema folder (first
// time about a minute: the CRDs are probed from kubernetes-models and
// Kubernetes' OpenAPI comes from the Go module proxy), so that the many tests
// that validate do not each race to produce it within their timeouts. When it
// cannot (no Go, say), the tests that validate fail with that reason
// themselves; the others still run.
import { schemaDir } from "../../proving-ground/validate/kube-schemas.ts";

export default async function setup(): Promise<void> {
  try {
    await schemaDir();
  } catch (error) {
    process.stderr.write(`global setup: kubeconform's schemas could not be produced; tests that validate will fail: ${(error as Error).message}\n`);
  }
}
