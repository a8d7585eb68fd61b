/**
 * `startProviderHost` with a hold on the host's process: everything it writes (stdout and stderr, from
 * its first byte) and a way to kill it with SIGKILL, as a crash or the OOM killer would.
 */
// The default import is the module object itself, whose `spawn` the provider-host helper calls.
import childProcess from "node:child_process";
import { startProviderHost, type ProviderHost, type ProviderHostOptions } from "./provider-host";

export interface HostProcess {
  readonly host: ProviderHost;
  readonly pid: number;
  /** Everything the host process wrote to stdout (its port line included). */
  stdout(): string;
  /** Everything the host process wrote to stderr. */
  stderr(): string;
  /** `kill -9` the host and wait until it is gone; its gRPC channel is closed too. */
  kill9(): Promise<void>;
}

/** Starts the SDK's dynamic-provider host for `provider`, capturing the process it spawns. */
export async function startHostProcess(
  provider: object,
  options: ProviderHostOptions = {},
): Promise<HostProcess> {
  let child: childProcess.ChildProcess | undefined;
  let stdout = "";
  let stderr = "";
  const original = childProcess.spawn;
  const spy = jest.spyOn(childProcess, "spawn").mockImplementation((...args: Parameters<typeof original>) => {
    child = original(...args);
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    return child;
  });
  let host: ProviderHost;
  try {
    host = await startProviderHost(provider, options);
  } finally {
    spy.mockRestore();
  }
  const spawned = child;
  if (spawned?.pid === undefined) throw new Error("the dynamic-provider host was not spawned");
  return {
    host,
    pid: spawned.pid,
    stdout: () => stdout,
    stderr: () => stderr,
    async kill9() {
      if (spawned.exitCode === null && spawned.signalCode === null) {
        const exited = new Promise((resolve) => spawned.once("exit", resolve));
        spawned.kill("SIGKILL");
        await exited;
      }
      await host.stop();
    },
  };
}
