/**
 * Provider benchmark against the Marathon emulator (`npm run bench:provider`): prints a table and a
 * final JSON line.
 *  (a) wait overhead: when create/update returns minus when the emulator finished the deployment,
 *      over deployments of different lengths (targets: median ≤ 100 ms, p95 ≤ 250 ms);
 *  (b) 50 apps created concurrently, total time as a ratio to one app's time (target ≤ 1.5);
 *  (c) HTTP requests one scale takes.
 */
import { startEmulator } from "../providers/marathon/emulator/server";
import type { MarathonEmulator } from "../providers/marathon/emulator/types";
import { MarathonAppProvider, type MarathonAppInputs } from "../providers/marathon/provider";

const STEP_MS = 60;
const WAIT_SAMPLES = 24;
const CONCURRENT_APPS = 50;

function appInputs(marathon: MarathonEmulator, appId: string, instances: number): MarathonAppInputs {
  return {
    appId,
    cmd: "sleep 3600",
    cpus: 0.1,
    mem: 32,
    instances,
    marathonEndpoints: [marathon.url],
    owner: `bench/${appId}`,
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function finishedAt(marathon: MarathonEmulator, deploymentId: string): number {
  const event = marathon.deploymentEvents.find((e) => e.id === deploymentId);
  if (event?.finishedAt === undefined) throw new Error(`deployment ${deploymentId} has not finished`);
  return event.finishedAt;
}

/** (a) Creates and scales of 1 to 6 instances, one at a time. */
async function measureWaitOverhead(
  marathon: MarathonEmulator,
  provider: MarathonAppProvider,
): Promise<number[]> {
  const overheads: number[] = [];
  for (let i = 0; overheads.length < WAIT_SAMPLES; i++) {
    const instances = 1 + (i % 6);
    const inputs = appInputs(marathon, `wait-${i}`, instances);
    const created = await provider.create(inputs);
    overheads.push(Date.now() - finishedAt(marathon, created.outs!.deploymentId));
    const scaled = await provider.update(created.id, created.outs!, {
      ...inputs,
      instances: instances + 1 + (i % 3),
    });
    overheads.push(Date.now() - finishedAt(marathon, scaled.outs!.deploymentId));
    await provider.delete(created.id, scaled.outs!);
  }
  return overheads;
}

/** (b) One app alone, then many at once. */
async function measureConcurrency(marathon: MarathonEmulator, provider: MarathonAppProvider) {
  const timeCreates = async (prefix: string, count: number) => {
    const start = Date.now();
    await Promise.all(
      Array.from({ length: count }, (_, i) => provider.create(appInputs(marathon, `${prefix}-${i}`, 2))),
    );
    return Date.now() - start;
  };
  const single = await timeCreates("single", 1);
  const concurrent = await timeCreates("many", CONCURRENT_APPS);
  return { single, concurrent, ratio: concurrent / single };
}

/** (c) Requests from the scale's PUT to the provider's return. */
async function measureRequestsPerScale(marathon: MarathonEmulator, provider: MarathonAppProvider) {
  const inputs = appInputs(marathon, "scale-count", 1);
  const created = await provider.create(inputs);
  const start = marathon.requests.length;
  await provider.update(created.id, created.outs!, { ...inputs, instances: 3 });
  const requests = marathon.requests.slice(start);
  return { total: requests.length, puts: requests.filter((r) => r.method === "PUT").length };
}

async function main(): Promise<void> {
  const marathon = await startEmulator({ deploymentStepMs: STEP_MS });
  const provider = new MarathonAppProvider();
  try {
    const overheads = await measureWaitOverhead(marathon, provider);
    const concurrency = await measureConcurrency(marathon, provider);
    const scale = await measureRequestsPerScale(marathon, provider);
    const result = {
      waitOverheadMs: {
        samples: overheads.length,
        median: percentile(overheads, 50),
        p95: percentile(overheads, 95),
        max: Math.max(...overheads),
      },
      concurrentCreates: {
        apps: CONCURRENT_APPS,
        singleMs: concurrency.single,
        totalMs: concurrency.concurrent,
        ratio: Number(concurrency.ratio.toFixed(2)),
      },
      requestsPerScale: scale,
      deploymentStepMs: STEP_MS,
    };
    const rows: [string, string, string][] = [
      ["wait overhead median", `${result.waitOverheadMs.median} ms`, "≤ 100 ms"],
      ["wait overhead p95", `${result.waitOverheadMs.p95} ms`, "≤ 250 ms"],
      [
        `${CONCURRENT_APPS} concurrent creates / one`,
        `${result.concurrentCreates.ratio} (${concurrency.concurrent} / ${concurrency.single} ms)`,
        "≤ 1.5",
      ],
      ["HTTP requests per scale", `${scale.total} (${scale.puts} PUT)`, "-"],
    ];
    console.log(`${"measure".padEnd(32)} ${"value".padEnd(28)} target`);
    for (const [measure, value, target] of rows)
      console.log(`${measure.padEnd(32)} ${value.padEnd(28)} ${target}`);
    console.log(JSON.stringify(result));
  } finally {
    await marathon.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
