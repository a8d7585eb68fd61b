/**
 * What the fault scenarios share: emulators closed after each test, an app's inputs as the engine sends
 * them, and the closing check that Marathon's view and Pulumi's view of the apps agree.
 */
import { startEmulator } from "../../providers/marathon/emulator/server";
import type { EmulatorOptions, MarathonEmulator } from "../../providers/marathon/emulator/types";
import { waitForIdle } from "../emulator/helpers";
import type { MiniStack } from "../helpers/mini-engine";
import { PROJECT } from "../helpers/provider-host";

/** Returns a starter of emulators (10 ms deployment steps unless told); each is closed after its test. */
export function useEmulators(): (options?: EmulatorOptions) => Promise<MarathonEmulator> {
  const running: MarathonEmulator[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((emulator) => emulator.close()));
  });
  return async (options = {}) => {
    const emulator = await startEmulator({ deploymentStepMs: 10, ...options });
    running.push(emulator);
    return emulator;
  };
}

/** A MarathonApp's inputs as the engine sends them: `owner` is what the resource class derives from `name`. */
export function appInputs(
  name: string,
  appId: string,
  endpoints: string[],
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    appId,
    cmd: "python3 -m http.server $PORT0",
    cpus: 0.1,
    mem: 32,
    instances: 1,
    portDefinitions: [{ port: 0, name: "http" }],
    marathonEndpoints: endpoints,
    requestTimeoutMs: 1_000,
    deploymentTimeoutMs: 20_000,
    owner: `${PROJECT}/test/${name}`,
    ...overrides,
  };
}

/** Apps Marathon lists, by id. */
export async function liveAppIds(marathon: MarathonEmulator): Promise<string[]> {
  const response = await fetch(`${marathon.url}/v2/apps`);
  const body = (await response.json()) as { apps: { id: string }[] };
  return body.apps.map((app) => app.id).sort();
}

/**
 * Marathon's view and Pulumi's agree: once Marathon is idle, it holds exactly the apps in the state (no
 * orphan, none lost), and each app's outputs match the live app: definition, version, counts, endpoints.
 */
export async function expectAgreement(marathon: MarathonEmulator, stack: MiniStack): Promise<void> {
  await waitForIdle(marathon);
  const known = [...stack.state.values()];
  expect(await liveAppIds(marathon)).toEqual(known.map((resource) => resource.id).sort());
  for (const resource of known) {
    const live = marathon.getApp(resource.id);
    expect({ id: resource.id, ...view(resource.outputs, resource.outputs.endpoints) }).toEqual({
      id: live?.id,
      ...view(live ?? {}, taskEndpoints(live)),
    });
  }
}

/** The label that ties an app to the resource that created it. */
export function ownerOf(app: Record<string, unknown> | undefined): unknown {
  return (app?.labels as Record<string, unknown> | undefined)?.["pulumi.owner"];
}

function view(app: Record<string, unknown>, endpoints: unknown) {
  const { appId, id, instances, cmd, cpus, mem, version, tasksRunning } = app;
  return { appId: appId ?? id, instances, cmd, cpus, mem, version, tasksRunning, endpoints };
}

function taskEndpoints(app: Record<string, unknown> | undefined): string[] {
  const tasks = (app?.tasks ?? []) as { host: string; ports?: number[]; state?: string }[];
  return tasks
    .filter((task) => task.state === "TASK_RUNNING")
    .flatMap((task) => (task.ports ?? []).map((port) => `${task.host}:${port}`))
    .sort();
}
