import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Shared generated inputs (kubeconform's schemas), made once before any test file.
    globalSetup: ["test/helpers/global-setup.ts"],
    // Tests start real processes (kubectl, helm, PostgreSQL, Orthanc, haproxy): one file at a time per core.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ["default"],
  },
});
