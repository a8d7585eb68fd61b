/**
 * Provider benchmark against the Marathon emulator (`npm run bench:provider`): prints a table and a
 * final JSON line.
 *  (a) wait overhead: when create/update returns minus when the emulator finished the deployment,
 *      over deployments of different lengths, one at a time (targets: median ≤ 100 ms, p95 ≤ 250 ms);
 *  (b) CONCURRENT_APPS apps created at once: the median time of a round, as a ratio to the median time
 *      of one app created alone the same way (target ≤ 1.5). The emulator runs in its own process, as
 *      Marathon does on its own host, so that its request handling does not share the provider's
 *      event loop; each create's deployment launches 2 instances, one emulator step of
 *      DEFAULT_CONCURRENT_STEP_MS (a small but realistic task launch time; `-- --step-ms N` changes it);
 *  (c) HTTP requests one scale takes.
 * (a) and (c) use an emulator in this process: they issue one request at a time.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { startEmulator } from "../providers/marathon/emulator/server";
import type { MarathonEmulator } from "../providers/marathon/emulator/types";
import { MarathonAppProvider, type MarathonAppInputs } from "../providers/marathon/provider";
import { saveResult } from "./results";
import { median, percentile } from "./stats";

const STEP_MS = 60;
const WAIT_SAMPLES = 24;
const CONCURRENT_APPS = 50;
const DEFAULT_CONCURRENT_STEP_MS = 250;
const ROUNDS = 3;
const SINGLES_PER_ROUND = 2;

function appInputs(endpoint: string, appId: string, instances: number): MarathonAppInputs {
  return {
    appId,
    cmd: "sleep 3600",
    cpus: 0.1,
    mem: 32,
    instances,
    marathonEndpoints: [endpoint],
    owner: `bench/${appId}`,
  };
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
    const inputs = appInputs(marathon.url, `wait-${i}`, instances);
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

/** The emulator CLI (`npm run marathon:emulator`) in a child process; resolves with it and its URL. */
async function startEmulatorProcess(stepMs: number): Promise<{ child: ChildProcess; url: string }> {
  const main = path.resolve(__dirname, "../providers/marathon/emulator/main.ts");
  const child = spawn(
    process.execPath,
    ["-r", "ts-node/register", main, "--port", "0", "--step-ms", String(stepMs)],
    {
      cwd: path.resolve(__dirname, ".."),
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /listening on (\S+)/.exec(output);
      if (listening) resolve(listening[1]);
    });
    child.once("exit", (code) => reject(new Error(`the emulator exited (${code}) before listening`)));
  });
  return { child, url };
}

/** Creates `count` apps at once and returns the time until the last create returned; then removes them. */
async function timeCreates(provider: MarathonAppProvider, endpoint: string, prefix: string, count: number) {
  const start = Date.now();
  const created = await Promise.all(
    Array.from({ length: count }, (_, i) => provider.create(appInputs(endpoint, `${prefix}-${i}`, 2))),
  );
  const elapsed = Date.now() - start;
  await Promise.all(created.map((c) => provider.delete(c.id, c.outs!)));
  return elapsed;
}

/**
 * (b) One app alone and many at once, measured the same way after one untimed warm-up create, in
 * alternating rounds so that both see the same conditions on the machine.
 */
async function measureConcurrency(provider: MarathonAppProvider, stepMs: number) {
  const { child, url } = await startEmulatorProcess(stepMs);
  try {
    await timeCreates(provider, url, "warm-up", 1);
    const single: number[] = [];
    const concurrent: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < SINGLES_PER_ROUND; i++) {
        single.push(await timeCreates(provider, url, `one-${round}-${i}`, 1));
      }
      concurrent.push(await timeCreates(provider, url, `many-${round}`, CONCURRENT_APPS));
    }
    return { single, concurrent, ratio: median(concurrent) / median(single) };
  } finally {
    child.kill("SIGTERM");
  }
}

/** (c) Requests from the scale's PUT to the provider's return. */
async function measureRequestsPerScale(marathon: MarathonEmulator, provider: MarathonAppProvider) {
  const inputs = appInputs(marathon.url, "scale-count", 1);
  const created = await provider.create(inputs);
  const start = marathon.requests.length;
  await provider.update(created.id, created.outs!, { ...inputs, instances: 3 });
  const requests = marathon.requests.slice(start);
  return { total: requests.length, puts: requests.filter((r) => r.method === "PUT").length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { "step-ms": { type: "string" } } });
  const concurrentStepMs = Number(values["step-ms"] ?? DEFAULT_CONCURRENT_STEP_MS);
  if (!Number.isInteger(concurrentStepMs) || concurrentStepMs < 1)
    throw new Error("--step-ms must be a whole number above 0");
  const marathon = await startEmulator({ deploymentStepMs: STEP_MS });
  const provider = new MarathonAppProvider();
  try {
    const overheads = await measureWaitOverhead(marathon, provider);
    const scale = await measureRequestsPerScale(marathon, provider);
    const concurrency = await measureConcurrency(provider, concurrentStepMs);
    const result = {
      waitOverheadMs: {
        samples: overheads.length,
        median: median(overheads),
        p95: percentile(overheads, 95),
        max: Math.max(...overheads),
        deploymentStepMs: STEP_MS,
      },
      concurrentCreates: {
        apps: CONCURRENT_APPS,
        singleMs: concurrency.single,
        totalMs: concurrency.concurrent,
        ratio: Number(concurrency.ratio.toFixed(2)),
        deploymentStepMs: concurrentStepMs,
      },
      requestsPerScale: scale,
      // Other processes on the machine stretch every figure: read them together with this.
      loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
      cores: os.cpus().length,
    };
    const [single, total] = [median(concurrency.single), median(concurrency.concurrent)];
    const rows: [string, string, string][] = [
      ["wait overhead median", `${result.waitOverheadMs.median} ms`, "≤ 100 ms"],
      ["wait overhead p95", `${result.waitOverheadMs.p95} ms`, "≤ 250 ms"],
      [
        `${CONCURRENT_APPS} concurrent creates / one`,
        `${result.concurrentCreates.ratio} (${total} / ${single} ms)`,
        "≤ 1.5",
      ],
      ["HTTP requests per scale", `${scale.total} (${scale.puts} PUT)`, "-"],
      ["load average (1 min)", `${result.loadAverage1m} on ${result.cores} cores`, "-"],
    ];
    console.log(`${"measure".padEnd(32)} ${"value".padEnd(28)} target`);
    for (const [measure, value, target] of rows)
      console.log(`${measure.padEnd(32)} ${value.padEnd(28)} ${target}`);
    saveResult("provider", result);
    console.log(JSON.stringify(result));
  } finally {
    await marathon.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
