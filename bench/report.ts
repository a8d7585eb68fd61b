/**
 * One report of the figures the benchmarks and the end-to-end suite last recorded (`npm run bench:report`,
 * the last step of `npm run bench`): program evaluation, the provider, `pulumi preview` on the real engine
 * and the e2e phases, each against its target, then one JSON line with everything. Figures that were never
 * recorded are listed as missing.
 */
import { loadResult, type ResultSource } from "./results";

interface Row {
  measure: string;
  value: string;
  target: string;
  met?: boolean;
}

/** Saved JSON read back: its shape is the one each benchmark wrote. */
type Figures = Record<string, any>;

const HOW: Record<ResultSource, string> = {
  program: "npm run bench:program",
  provider: "npm run bench:provider",
  engine: "npm run bench:engine",
  e2e: "npm run test:e2e (as root)",
};

function programRows(f: Figures): Row[] {
  const largest = f.sizes[f.sizes.length - 1];
  return [
    {
      measure: `program under mocks, ${largest.slaves} slaves`,
      value: `${largest.medianMs} ms, ${largest.resources} resources`,
      target: `≤ ${f.targets.medianMsAt200} ms`,
      met: largest.medianMs <= f.targets.medianMsAt200,
    },
    {
      measure: "growth (CPU per resource, largest ÷ smallest)",
      value: String(f.linearity),
      target: `≤ ${f.targets.linearity}`,
      met: f.linearity <= f.targets.linearity,
    },
    {
      measure: "critical path (remote steps)",
      value: [...new Set(f.sizes.map((s: Figures) => s.criticalPath))].join(", "),
      target: "same at every size",
      met: new Set(f.sizes.map((s: Figures) => s.criticalPath)).size === 1,
    },
  ];
}

function providerRows(f: Figures): Row[] {
  return [
    {
      measure: "wait overhead median / p95",
      value: `${f.waitOverheadMs.median} / ${f.waitOverheadMs.p95} ms`,
      target: "≤ 100 / ≤ 250 ms",
      met: f.waitOverheadMs.median <= 100 && f.waitOverheadMs.p95 <= 250,
    },
    {
      measure: `${f.concurrentCreates.apps} concurrent creates ÷ one`,
      value: String(f.concurrentCreates.ratio),
      target: "≤ 1.5",
      met: f.concurrentCreates.ratio <= 1.5,
    },
    { measure: "HTTP requests per scale", value: String(f.requestsPerScale.total), target: "-" },
  ];
}

function engineRows(f: Figures): Row[] {
  const at = (program: string, hosts: number) =>
    f.rows.find((r: Figures) => r.program === program && r.hosts === hosts) as Figures;
  const [small, large] = [...new Set(f.rows.map((r: Figures) => r.hosts as number))] as number[];
  return [
    {
      measure: `pulumi preview, ${small} hosts, project ÷ floor`,
      value: `${f.floorRatio} (${at("project", small).medianS} / ${at("floor", small).medianS} s)`,
      target: `≤ ${f.targets.floorRatio}`,
      met: f.floorRatio <= f.targets.floorRatio,
    },
    {
      measure: `pulumi preview, project ${large} ÷ ${small} hosts`,
      value: `${f.growth} (${at("project", large).medianS} / ${at("project", small).medianS} s)`,
      target: `≤ ${f.targets.growth}`,
      met: f.growth <= f.targets.growth,
    },
    {
      measure: `pulumi preview, ${small} hosts, project without its app ÷ floor`,
      value: `${f.noAppsFloorRatio} (${at("project, no apps", small).medianS} / ${at("floor", small).medianS} s)`,
      target: "-",
    },
    {
      measure: `pulumi preview, ${large} hosts, project ÷ floor`,
      value: `${f.largeFloorRatio} (${at("project", large).medianS} / ${at("floor", large).medianS} s)`,
      target: "-",
    },
  ];
}

function e2eRows(f: Figures): Row[] {
  const phases = ["hostCreationMs", "provisioningMs", "zkElectionMs", "appDeployMs", "scaleMs"];
  const ratio = f.sixToOneRatioPct / 100;
  const efficiency = f.parallelEfficiencyPct / 100;
  return [
    ...phases.map((k) => ({ measure: `e2e ${k.replace(/Ms$/, "")}`, value: `${f[k]} ms`, target: "-" })),
    {
      measure: "e2e provisioning, six hosts ÷ one",
      value: `${ratio} (${f.provisioningMs} / ${f.provisioningOneHostMs} ms)`,
      target: "≤ 1.3",
      met: ratio <= 1.3,
    },
    {
      measure: "e2e first pulumi up, six hosts, wall",
      value: `${f.firstUpMs} ms (one host: ${f.firstUpOneHostMs} ms)`,
      target: "-",
    },
    {
      measure: "e2e first up, parallel efficiency",
      value: `${efficiency} (wall ÷ max(one host's wall, CPU ${f.firstUpCpuMs} ms ÷ ${f.cores} cores))`,
      target: "≤ 1.15",
      met: efficiency <= 1.15,
    },
    {
      measure: "e2e first up, machine CPU, six ÷ one",
      value: `${(f.firstUpCpuMs / f.firstUpOneHostCpuMs).toFixed(2)} (${f.firstUpCpuMs} / ${f.firstUpOneHostCpuMs} ms)`,
      target: "-",
    },
  ];
}

const ROWS: Record<ResultSource, (f: Figures) => Row[]> = {
  program: programRows,
  provider: providerRows,
  engine: engineRows,
  e2e: e2eRows,
};

function main(): void {
  const report: Record<string, unknown> = { bench: "report" };
  const rows: Row[] = [];
  for (const source of Object.keys(ROWS) as ResultSource[]) {
    const saved = loadResult(source);
    if (saved === undefined) {
      rows.push({ measure: `${source}: not recorded yet`, value: "-", target: `run ${HOW[source]}` });
      report[source] = null;
      continue;
    }
    rows.push(...ROWS[source](saved.figures));
    report[source] = { recordedAt: saved.recordedAt, ...saved.figures };
  }
  const width = Math.max(...rows.map((r) => r.measure.length));
  const valueWidth = Math.max(...rows.map((r) => r.value.length));
  for (const r of rows) {
    const verdict = r.met === undefined ? "" : r.met ? "  met" : "  NOT MET";
    console.log(`${r.measure.padEnd(width)}  ${r.value.padEnd(valueWidth)}  ${r.target}${verdict}`);
  }
  console.log(JSON.stringify(report));
}

main();
