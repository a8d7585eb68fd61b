/** End-to-end suites: real hosts (network namespaces) provisioned by the program; run as root, one file at a time. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test/e2e"],
  testMatch: ["**/*.test.ts"],
  testTimeout: 600000,
  maxWorkers: 1,
};
