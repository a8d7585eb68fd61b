/**
 * `npm run marathon:emulator -- [--host H] [--port P] [--step-ms MS] [--task-hosts a,b] [--leader h:p]`:
 * runs the Marathon emulator until SIGINT or SIGTERM.
 */
import { parseArgs } from "node:util";
import { DEFAULTS, startEmulator } from "./server";

const USAGE = `Usage: marathon-emulator [options]
  --host HOST          interface to listen on (default ${DEFAULTS.host})
  --port PORT          port to listen on (default 8080; 0 = any free port)
  --step-ms MS         time per instance started or stopped by a deployment (default ${DEFAULTS.deploymentStepMs})
  --task-hosts A,B     agents tasks are placed on, round-robin (default 127.0.0.1)
  --leader HOST:PORT   what /v2/leader reports (default <host>:<port>)
  --stuck              start with stuck deployments (tasks crash-loop, deployments never finish)
  -h, --help           show this help`;

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new Error(`--${name} must be a non-negative integer, got '${value}'`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: "string" },
      port: { type: "string" },
      "step-ms": { type: "string" },
      "task-hosts": { type: "string" },
      leader: { type: "string" },
      stuck: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const emulator = await startEmulator({
    host: values.host ?? DEFAULTS.host,
    port: integer("port", values.port, 8080),
    deploymentStepMs: integer("step-ms", values["step-ms"], DEFAULTS.deploymentStepMs),
    taskHosts: values["task-hosts"]?.split(",").filter((h) => h !== ""),
    leader: values.leader,
  });
  emulator.faults.stuckDeployments = values.stuck ?? false;
  console.log(`Marathon emulator listening on ${emulator.url}`);
  const shutdown = (signal: string) => {
    console.log(`${signal} received, stopping`);
    emulator.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  console.error(USAGE);
  process.exit(2);
});
