/**
 * Concurrent deployment waits on one Marathon share one `/v2/deployments` poll per tick: the request
 * count grows with the deployment's length, not with the number of waits.
 */
import { startEmulator } from "../../providers/marathon/emulator/server";
import type { MarathonEmulator } from "../../providers/marathon/emulator/types";
import { MarathonClient } from "../../providers/marathon/client";

const WAITS = 20;
const INSTANCES = 4;

let marathon: MarathonEmulator;

beforeAll(async () => {
  marathon = await startEmulator({ deploymentStepMs: 40 });
});
afterAll(() => marathon.close());

/** Creates `count` apps out of band at once, then waits for each deployment with its own client. */
async function waitForAll(prefix: string, count: number) {
  const ids = Array.from({ length: count }, (_, i) => `/${prefix}-${i}`);
  const start = marathon.requests.length;
  for (const id of ids) marathon.createApp({ id, cmd: "sleep 3600", instances: INSTANCES });
  const deployments = ids.map((id) => marathon.deploymentEvents.find((e) => e.appId === id)!.id);
  const apps = await Promise.all(
    ids.map((id, i) =>
      new MarathonClient({ endpoints: [marathon.url] }).waitForDeployment(id, deployments[i]),
    ),
  );
  const sent = marathon.requests.slice(start);
  return {
    apps,
    deploymentPolls: sent.filter((r) => r.path === "/v2/deployments").length,
    appReads: ids.map((id) => sent.filter((r) => r.path === `/v2/apps${id}`).length),
  };
}

test(`${WAITS} concurrent waits poll /v2/deployments once per tick, not once per wait`, async () => {
  const alone = await waitForAll("alone", 1);
  const together = await waitForAll("together", WAITS);

  expect(together.apps.map((a) => a.tasksRunning)).toEqual(Array(WAITS).fill(INSTANCES));
  // As many polls as one wait of the same length needs (give or take a tick), where one poller per
  // wait would send WAITS times as many.
  expect(alone.deploymentPolls).toBeGreaterThan(1);
  expect(together.deploymentPolls).toBeLessThanOrEqual(2 * alone.deploymentPolls);
  // Each app is read only once its deployment is gone.
  expect(together.appReads).toEqual(Array(WAITS).fill(1));
});
