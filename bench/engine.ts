/**
 * Engine benchmark (`npm run bench:engine`): the real `pulumi preview` of the project's program, each
 * beside a floor program in the same run. Prints a table and a final JSON line.
 *  - project: the dev stack's config with `hosts: existing`, an SSH key set as secret config (preview
 *    connects to no host), and 3 (6 hosts) or 200 (203 hosts) agents inside 10.10.0.0/16. It runs as
 *    Pulumi.yaml says, as a user's `pulumi preview` runs it (the sandbox's transpile-only switch is
 *    removed), from a copy of the working tree's program taken at the start (`-- --rev <git revision>`:
 *    of that revision), so that edits made meanwhile do not reach the runs. Its compile cache is the
 *    sandbox's own, so the warm-up run compiles, as the first run after a change does.
 *  - floor: bench/engine-floor, plain JavaScript registering as many `remote.Command`s as the project's
 *    stack registers at that size (counted from the project's own preview), and nothing else.
 *  - project without apps, at 6 hosts only: the same stack less its Marathon app, to show what the app's
 *    dynamic provider (serialized by the program, run by its own Node.js plugin) costs.
 * All run through the same CLI, language host, plugins and environment (test/helpers/engine.ts): one
 * warm-up each, then RUNS rounds; each round previews every program at every size, the order of the
 * programs turning round by round, so that other load on the machine falls on all alike. Measured: the
 * wall time of each `preview` (CLI start to exit) and the CPU time of its processes; medians reported.
 * Targets: project ÷ floor at 6 hosts ≤ 1.3; project at 203 hosts ÷ at 6 hosts ≤ 1.5.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { Stack } from "@pulumi/pulumi/automation";
import { EngineSandbox, PROJECT_ROOT, recorded } from "../test/helpers/engine";
import { sshKeyCanary } from "../test/helpers/secrets";
import { SCALE_NETWORK, slaveNodes } from "../test/helpers/scale";
import { saveResult } from "./results";
import { median } from "./stats";

const SIZES = [
  { hosts: 6, slaves: 3 },
  { hosts: 203, slaves: 200 },
];
const RUNS = 5;
const TARGET_FLOOR_RATIO = 1.3;
const TARGET_GROWTH = 1.5;
const REMOTE_COMMAND = "command:remote:Command";
// The program's own types, spelled out: this process loads none of the program, which may be mid-edit.
const MESOS_SLAVE_TYPE = "mesos-cluster:mesos:MesosSlave";
const APP_TYPE = "pulumi-nodejs:dynamic/marathon:App";
const FLOOR_DIR = path.join(__dirname, "engine-floor");
/** What `pulumi` needs of the project to run its program (node_modules is linked, not copied). */
const PROGRAM_ENTRIES = [
  "Pulumi.yaml",
  "infra",
  "providers",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
];
/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

type Program = "project" | "project, no apps" | "floor";

interface Measured {
  program: Program;
  hosts: number;
  stack: Stack;
  /** Resources the preview plans, by type. */
  types: Record<string, number>;
  /** The warm-up's wall time: for the project, the first run after a change. */
  firstMs: number;
  wallMs: number[];
  cpuMs: number[];
}

/**
 * CPU time (user + system, ms) of this process's children that have exited: the CLI and, through it, the
 * language host, the program and the plugins.
 */
function childrenCpuMs(): number {
  const fields = fs.readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  // cutime and cstime are fields 16 and 17 of the whole line; the part after "comm)" starts at field 3.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
}

/** One preview: wall and CPU time, and the planned resources by type. Throws when the preview fails. */
async function preview(
  stack: Stack,
): Promise<{ wallMs: number; cpuMs: number; types: Record<string, number> }> {
  const cpuBefore = childrenCpuMs();
  const { error, record, ms } = await recorded((hooks) => stack.preview({ onEvent: hooks.onEvent }));
  const cpuMs = childrenCpuMs() - cpuBefore;
  if (error !== undefined) throw new Error(`preview of ${stack.name} failed: ${error.message}`);
  const problems = record.problems().filter((p) => p.startsWith("error"));
  if (problems.length > 0) throw new Error(`preview of ${stack.name}: ${problems.join("\n")}`);
  const types: Record<string, number> = {};
  for (const step of record.steps) types[step.type] = (types[step.type] ?? 0) + 1;
  return { wallMs: ms, cpuMs, types };
}

/** A copy of the project's program in `dir`: of the working tree, or of git revision `rev`. */
function copyProgram(dir: string, rev?: string): void {
  fs.mkdirSync(dir);
  if (rev === undefined) {
    for (const entry of PROGRAM_ENTRIES) {
      fs.cpSync(path.join(PROJECT_ROOT, entry), path.join(dir, entry), { recursive: true });
    }
  } else {
    const archive = `${dir}.tar`;
    execFileSync("git", ["archive", "--output", archive, rev, ...PROGRAM_ENTRIES], { cwd: PROJECT_ROOT });
    execFileSync("tar", ["-xf", archive, "-C", dir]);
    fs.rmSync(archive);
  }
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"));
}

/** The project's stack for `slaves` agents: the dev stack with existing hosts and a secret SSH key. */
async function projectStack(sandbox: EngineSandbox, slaves: number, apps = true): Promise<Stack> {
  const stack = await sandbox.createStack(`project-${slaves + 3}${apps ? "" : "-no-apps"}`, "dev");
  const agents = slaveNodes(slaves).flatMap((node, i) => [
    [`slaves[${i}].name`, { value: node.name }],
    [`slaves[${i}].ip`, { value: node.ip }],
  ]);
  await stack.setAllConfig(
    Object.fromEntries([
      ["hosts", { value: "existing" }],
      ["network", { value: SCALE_NETWORK }],
      ["ssh.privateKey", { value: sshKeyCanary().value, secret: true }],
      ...agents,
    ]),
    true,
  );
  if (!apps) await stack.removeConfig("apps");
  return stack;
}

/** The floor's stack: `count` remote.Commands with a secret SSH key. */
async function floorStack(sandbox: EngineSandbox, hosts: number, count: number): Promise<Stack> {
  const stack = await sandbox.createStack(`floor-${hosts}`);
  await stack.setAllConfig({
    count: { value: String(count) },
    privateKey: { value: sshKeyCanary().value, secret: true },
  });
  return stack;
}

/** Warm-ups (which also count what each stack plans), then RUNS interleaved rounds. */
async function measure(projectSandbox: EngineSandbox, floorSandbox: EngineSandbox): Promise<Measured[]> {
  const measured: Measured[] = [];
  const add = async (program: Program, hosts: number, stack: Stack) => {
    const warm = await preview(stack);
    measured.push({ program, hosts, stack, types: warm.types, firstMs: warm.wallMs, wallMs: [], cpuMs: [] });
    return warm.types;
  };
  for (const { hosts, slaves } of SIZES) {
    const types = await add("project", hosts, await projectStack(projectSandbox, slaves));
    if (types[MESOS_SLAVE_TYPE] !== slaves || types[APP_TYPE] === undefined) {
      throw new Error(`${hosts} hosts: the preview plans ${JSON.stringify(types)}`);
    }
    const commands = types[REMOTE_COMMAND];
    const floorTypes = await add("floor", hosts, await floorStack(floorSandbox, hosts, commands));
    if (floorTypes[REMOTE_COMMAND] !== commands) {
      throw new Error(`${hosts} hosts: the floor plans ${JSON.stringify(floorTypes)}`);
    }
    if (hosts === SIZES[0].hosts) {
      await add("project, no apps", hosts, await projectStack(projectSandbox, slaves, false));
    }
  }
  for (let run = 0; run < RUNS; run++) {
    for (const { hosts } of SIZES) {
      const programs = measured.filter((m) => m.hosts === hosts);
      const turn = run % programs.length;
      for (const m of [...programs.slice(turn), ...programs.slice(0, turn)]) {
        const { wallMs, cpuMs } = await preview(m.stack);
        m.wallMs.push(wallMs);
        m.cpuMs.push(cpuMs);
      }
    }
  }
  return measured;
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));
const seconds = (ms: number) => round(ms / 1000, 2);
const total = (types: Record<string, number>) => Object.values(types).reduce((a, b) => a + b, 0);

function report(measured: Measured[], rev: string): void {
  const rows = measured.map((m) => ({
    program: m.program,
    hosts: m.hosts,
    resources: total(m.types),
    remoteCommands: m.types[REMOTE_COMMAND] ?? 0,
    medianS: seconds(median(m.wallMs)),
    wallS: m.wallMs.map(seconds),
    medianCpuS: seconds(median(m.cpuMs)),
    firstS: seconds(m.firstMs),
  }));
  const find = (program: Program, hosts: number) =>
    rows.find((r) => r.program === program && r.hosts === hosts)!;
  const [small, large] = SIZES.map((s) => s.hosts);
  const ratio = (a: { medianS: number }, b: { medianS: number }) => round(a.medianS / b.medianS, 2);
  const floorRatio = ratio(find("project", small), find("floor", small));
  const growth = ratio(find("project", large), find("project", small));
  const noAppsFloorRatio = ratio(find("project, no apps", small), find("floor", small));
  const largeFloorRatio = ratio(find("project", large), find("floor", large));
  const floorGrowth = ratio(find("floor", large), find("floor", small));
  const met = { floorRatio: floorRatio <= TARGET_FLOOR_RATIO, growth: growth <= TARGET_GROWTH };
  const verdict = (ok: boolean) => (ok ? "met" : "NOT MET");

  const table: (string | number)[][] = [
    ["program", "hosts", "resources", "remote.Command", "median s", "runs s", "CPU s", "warm-up s"],
    ...rows.map((r) => [
      r.program,
      r.hosts,
      r.resources,
      r.remoteCommands,
      r.medianS,
      r.wallS.join(" "),
      r.medianCpuS,
      r.firstS,
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => String(row[i]).length)));
  for (const row of table) console.log(row.map((cell, i) => String(cell).padStart(widths[i])).join("  "));
  const load = os.loadavg()[0].toFixed(1);
  console.log(`\npulumi preview of the program of ${rev}; warm-up, then median of ${RUNS} interleaved runs.`);
  console.log(`load average at the end: ${load} on ${os.cpus().length} cores.`);
  console.log(
    `project ÷ floor at ${small} hosts: ${floorRatio} (target ≤ ${TARGET_FLOOR_RATIO}): ${verdict(met.floorRatio)}`,
  );
  console.log(
    `project at ${large} ÷ at ${small} hosts: ${growth} (target ≤ ${TARGET_GROWTH}): ${verdict(met.growth)}`,
  );
  console.log(`project without its app ÷ floor at ${small} hosts: ${noAppsFloorRatio}`);
  console.log(`project ÷ floor at ${large} hosts: ${largeFloorRatio}`);
  console.log(`floor at ${large} ÷ at ${small} hosts (the engine's own growth): ${floorGrowth}`);
  const figures = {
    bench: "engine",
    program: rev,
    runs: RUNS,
    loadAverage: Number(load),
    floor: `as many ${REMOTE_COMMAND}s as the project's stack, in plain JavaScript`,
    rows,
    floorRatio,
    growth,
    noAppsFloorRatio,
    largeFloorRatio,
    floorGrowth,
    targets: { floorRatio: TARGET_FLOOR_RATIO, growth: TARGET_GROWTH },
    met: met.floorRatio && met.growth,
  };
  saveResult("engine", figures);
  console.log(JSON.stringify(figures));
}

async function main(): Promise<void> {
  const { rev } = parseArgs({ options: { rev: { type: "string" } } }).values;
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "mesos-bench-program-"));
  const programDir = path.join(copy, "program");
  copyProgram(programDir, rev);
  const projectSandbox = new EngineSandbox({ programDir });
  // As a user runs it: compiled as Pulumi.yaml and tsconfig.json say, with a compile cache of its own.
  delete projectSandbox.env.PULUMI_NODEJS_TRANSPILE_ONLY;
  projectSandbox.env.XDG_CACHE_HOME = path.join(copy, "cache");
  const floorSandbox = new EngineSandbox({ programDir: FLOOR_DIR });
  try {
    report(await measure(projectSandbox, floorSandbox), rev ?? "the working tree");
  } finally {
    projectSandbox.dispose();
    floorSandbox.dispose();
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
