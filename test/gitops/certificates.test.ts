// The shared CA every tenant certificate comes from keeps its key on renewal
// (the manual approach's CA does the same: test/manual/certificates.test.ts).
import { describe, expect, it } from "vitest";
import { loadFluxTree, renderFluxTree } from "../../tasks/gitops/tree.ts";
import { repoRoot } from "../../tasks/lib/paths.ts";
import { caKeyProblems } from "../helpers/certificates.ts";
import { useCheckoutCopies } from "./copy.ts";

const copy = useCheckoutCopies();

describe("the shared CA", () => {
  it("is a CA Certificate whose key never rotates", async () => {
    const tree = await loadFluxTree(repoRoot);
    const cas = tree.objects.filter((o) => o.kind === "Certificate" && (o.spec as { isCA?: boolean }).isCA);
    expect(cas.map((o) => `${String(o.metadata?.namespace)}/${String(o.metadata?.name)}`)).toEqual(["cert-manager/korthweb-ca"]);
    expect(caKeyProblems(tree.objects)).toEqual([]);
  });

  it("is reported when its key would rotate (cert-manager's default)", async () => {
    const checkout = copy();
    checkout.edit("gitops/infrastructure/configs/ca-issuer.yaml", "    rotationPolicy: Never\n", "");
    expect(caKeyProblems((await renderFluxTree(checkout.root)).objects)).toEqual([
      "Certificate cert-manager/korthweb-ca: a CA whose privateKey.rotationPolicy is not Never gets a new key at each renewal",
    ]);
  });
});
