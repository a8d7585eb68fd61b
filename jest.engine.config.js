/** The real-engine suite (test/engine): the Pulumi CLI of .tools/bin on this project; `npm run test:engine`. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test/engine"],
  testMatch: ["**/*.test.ts"],
  // One stack, one emulator, steps in order.
  maxWorkers: 1,
  testTimeout: 180000,
};
