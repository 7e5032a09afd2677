import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "happy-dom",
    include: ["js/**/*.test.ts"],
    // Show console.log output (the 10,000-row timing) in the run.
    silent: false,
  },
});
