/**
 * Program benchmark (`npm run bench:program`): the stack program under mocks with the dev stack's three
 * masters and 3, 50, 100 and 200 slaves. Prints a table and a final JSON line.
 *  - time: from `program(loadConfig())` until every registration has reached the mocks. Each size runs
 *    in a fresh process, as `pulumi up` runs TypeScript (ts-node, source maps on): one untimed warm-up
 *    run on the smallest cluster, then REPETITIONS timed runs, of which the median is reported.
 *    Target: ≤ 3 s at 200 slaves.
 *  - linearity: CPU ms per resource at the largest size ÷ CPU ms per resource at the smallest (1 = linear
 *    in the resources registered). CPU time, as other load on the machine stretches wall time. Target
 *    ≤ 1.2, the margin being run-to-run noise.
 *  - critical path: the longest chain of dependent remote steps; target: the same length at every size.
 * Exits non-zero when a run records no slaves or no steps, or not the same resources as the other runs.
 */
import { fork } from "child_process";
import * as os from "os";
import { performance } from "perf_hooks";
import { MESOS_SLAVE_TYPE } from "../infra/slave";
import { setDevConfig } from "../test/cluster/fixtures";
import { longestChain } from "../test/helpers/graph";
import { settled, setupMocks, type RecordedResource } from "../test/helpers/pulumi";
import { scaledCluster } from "../test/helpers/scale";
import { saveResult } from "./results";
import { median } from "./stats";

const SLAVE_COUNTS = [3, 50, 100, 200];
const MASTERS = 3;
const REPETITIONS = 3;
const TARGET_MS = 3000;
const TARGET_LINEARITY = 1.2;
const WORKER_FLAG = "--slaves";

/** What one size's process reports. */
interface SizeResult {
  slaves: number;
  resources: number;
  remoteCommands: number;
  wallMs: number[];
  /** CPU time (user + system) of the same runs: less sensitive than wall time to other load. */
  cpuMs: number[];
  criticalPath: string[];
  /** The longest chain of steps that ends on a slave. */
  slavePath: string[];
}

type Figures = Pick<SizeResult, "resources" | "remoteCommands" | "criticalPath" | "slavePath">;

/** Resource count and chains of one run; throws when the mocks did not record the cluster. */
function figuresOf(resources: readonly RecordedResource[], slaves: number): Figures {
  const agents = new Set(resources.filter((r) => r.type === MESOS_SLAVE_TYPE).map((r) => r.name));
  if (agents.size !== slaves) throw new Error(`${slaves} slaves: the mocks recorded ${agents.size} slaves`);
  const criticalPath = longestChain(resources);
  const slavePath = longestChain(resources, (r) => agents.has(r.parent ?? ""));
  if (criticalPath.length === 0 || slavePath.length === 0) {
    throw new Error(`${slaves} slaves: the mocks recorded no remote step`);
  }
  return {
    resources: resources.length,
    remoteCommands: resources.filter((r) => r.type === "command:remote:Command").length,
    criticalPath,
    slavePath,
  };
}

const keysOf = (resources: readonly RecordedResource[]) =>
  resources
    .map((r) => `${r.type}::${r.name}`)
    .sort()
    .join("\n");

/** In a fresh process: evaluate the program for `slaves` slaves REPETITIONS times, after a warm-up. */
async function measureSize(slaves: number): Promise<SizeResult> {
  const recorder = await setupMocks();
  const { program } = await import("../infra/program");
  const { loadConfig } = await import("../infra/config");
  // A warm-up run, not measured.
  setDevConfig(scaledCluster(SLAVE_COUNTS[0]));
  program(loadConfig());
  await settled();
  setDevConfig(scaledCluster(slaves));

  const wallMs: number[] = [];
  const cpuMs: number[] = [];
  const runs: string[] = [];
  let figures: Figures | undefined;
  for (let i = 0; i < REPETITIONS; i++) {
    recorder.clear();
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    program(loadConfig());
    await settled();
    wallMs.push(performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    cpuMs.push((cpu.user + cpu.system) / 1000);
    figures ??= figuresOf(recorder.resources, slaves);
    runs.push(keysOf(recorder.resources));
  }
  if (figures === undefined || new Set(runs).size !== 1) {
    throw new Error(`${slaves} slaves: the runs did not record the same resources`);
  }
  return { slaves, ...figures, wallMs, cpuMs };
}

/** Run `measureSize` in a child process (ts-node without type checks: the parent's run has done those). */
function inFreshProcess(slaves: number): Promise<SizeResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [WORKER_FLAG, String(slaves)], {
      execArgv: ["-r", "ts-node/register/transpile-only"],
    });
    let result: SizeResult | undefined;
    child.on("message", (m) => (result = m as SizeResult));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 && result !== undefined
        ? resolve(result)
        : reject(
            new Error(`the ${slaves}-slave process exited with ${code} and ${result ? "a" : "no"} result`),
          ),
    );
  });
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const results: SizeResult[] = [];
  for (const slaves of SLAVE_COUNTS) results.push(await inFreshProcess(slaves));

  const sizes = results.map((r) => {
    const ms = median(r.wallMs);
    const cpuMs = median(r.cpuMs);
    return {
      masters: MASTERS,
      slaves: r.slaves,
      resources: r.resources,
      remoteCommands: r.remoteCommands,
      medianMs: round(ms, 1),
      wallMs: r.wallMs.map((t) => round(t, 1)),
      medianCpuMs: round(cpuMs, 1),
      msPerResource: round(ms / r.resources, 3),
      cpuMsPerResource: round(cpuMs / r.resources, 3),
      criticalPath: r.criticalPath.length,
      slavePath: r.slavePath.length,
    };
  });
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  const linearity = round(largest.cpuMsPerResource / smallest.cpuMsPerResource, 2);
  const pathLengths = [...new Set(sizes.map((s) => s.criticalPath))];
  const met = {
    time: largest.medianMs <= TARGET_MS,
    linearity: linearity <= TARGET_LINEARITY,
    criticalPath: pathLengths.length === 1,
  };
  const verdict = (ok: boolean) => (ok ? "met" : "NOT MET");

  const table: (string | number)[][] = [
    [
      "slaves",
      "resources",
      "median ms",
      "ms/resource",
      "CPU ms",
      "CPU ms/res.",
      "critical path",
      "slave path",
    ],
    ...sizes.map((s) => [
      s.slaves,
      s.resources,
      s.medianMs,
      s.msPerResource,
      s.medianCpuMs,
      s.cpuMsPerResource,
      s.criticalPath,
      s.slavePath,
    ]),
  ];
  for (const row of table) console.log(row.map((cell) => String(cell).padStart(14)).join(""));
  const load = os.loadavg()[0].toFixed(1);
  console.log(
    `\n${MASTERS} masters; each size in a fresh process, warm-up then median of ${REPETITIONS} runs.`,
  );
  console.log(`load average at the end: ${load} on ${os.cpus().length} cores.`);
  console.log(
    `time at ${largest.slaves} slaves: ${largest.medianMs} ms (target ≤ ${TARGET_MS}): ${verdict(met.time)}`,
  );
  console.log(
    `linearity, CPU ms/resource at ${largest.slaves} ÷ at ${smallest.slaves} slaves: ${linearity} (target ≤ ${TARGET_LINEARITY}): ${verdict(met.linearity)}`,
  );
  console.log(
    `critical path: ${pathLengths.join(", ")} remote steps at every size: ${verdict(met.criticalPath)}`,
  );
  const last = results[results.length - 1];
  console.log(`  ${last.criticalPath.join(" → ")}`);
  console.log(`longest chain ending on a slave: ${last.slavePath.join(" → ")}`);
  const figures = {
    bench: "program",
    repetitions: REPETITIONS,
    loadAverage: Number(load),
    sizes,
    linearity,
    criticalPath: last.criticalPath,
    slavePath: last.slavePath,
    targets: { medianMsAt200: TARGET_MS, linearity: TARGET_LINEARITY, criticalPath: "same at every size" },
    met: met.time && met.linearity && met.criticalPath,
  };
  saveResult("program", figures);
  console.log(JSON.stringify(figures));
}

const workerAt = process.argv.indexOf(WORKER_FLAG);
if (workerAt >= 0) {
  measureSize(Number(process.argv[workerAt + 1])).then(
    (result) => {
      if (process.send === undefined) console.log(JSON.stringify(result));
      else process.send(result, () => process.exit(0));
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
