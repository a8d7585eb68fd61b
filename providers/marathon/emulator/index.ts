/** The Marathon emulator's public API. */
export { startEmulator } from "./server";
export type {
  DeploymentEvent,
  EmulatorFaults,
  EmulatorOptions,
  MarathonEmulator,
  RequestLogEntry,
} from "./types";
