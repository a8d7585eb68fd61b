/**
 * The real Pulumi engine on this project, driven through Pulumi's Automation API as a user's CLI runs it:
 * the CLI of `.tools/bin` (scripts/pulumi-from-source.sh) or one installed on PATH, the official Node.js
 * language host and the plugins installed in `$PULUMI_HOME`. Each sandbox has its own workspace folder (the
 * project's files linked in, so stack files never land in the project), its own PULUMI_HOME (sharing only
 * the installed plugins) and a file backend.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  LocalWorkspace,
  PulumiCommand,
  type EngineEvent,
  type OpType,
  type Stack,
} from "@pulumi/pulumi/automation";
import { nameOf } from "./pulumi";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const TOOLS_BIN = path.join(PROJECT_ROOT, ".tools", "bin");
/** What the workspace links in from the project: the program, its packages and its project file. */
const PROJECT_ENTRIES = [
  "Pulumi.yaml",
  "infra",
  "providers",
  "node_modules",
  "package.json",
  "tsconfig.json",
];

/** Whether an executable `name` is in one of the PATH's folders. */
function onPath(pathVar: string | undefined, name: string): boolean {
  return (pathVar ?? "")
    .split(path.delimiter)
    .some((dir) => dir !== "" && fs.existsSync(path.join(dir, name)));
}

/**
 * The CLI to run: `.tools/bin/pulumi` when built, else `pulumi` on PATH. Fails, saying how to build it,
 * when there is neither.
 */
function findCli(): { root?: string; pathVar: string } {
  if (fs.existsSync(path.join(TOOLS_BIN, "pulumi"))) {
    return {
      root: path.dirname(TOOLS_BIN),
      pathVar: `${TOOLS_BIN}${path.delimiter}${process.env.PATH ?? ""}`,
    };
  }
  if (onPath(process.env.PATH, "pulumi")) return { pathVar: process.env.PATH ?? "" };
  throw new Error(
    `No Pulumi CLI: ${path.join(TOOLS_BIN, "pulumi")} is missing and none is on PATH; ` +
      `run scripts/pulumi-from-source.sh first.`,
  );
}

/** One resource step of an operation, from the engine's events. */
export interface StepRecord {
  /** The resource's name (the last part of its URN). */
  name: string;
  urn: string;
  type: string;
  op: OpType;
  /** Sequence numbers of the step's first and last event: the engine's own total order. */
  startSeq: number;
  endSeq?: number;
  /** When this process saw those events (ms since the epoch). */
  start: number;
  end?: number;
  /** Whether the step failed. */
  failed: boolean;
}

export { nameOf };

/** Collects the events of one operation into steps as they arrive. */
export class EventRecorder {
  readonly events: EngineEvent[] = [];
  private readonly byUrn = new Map<string, StepRecord>();
  readonly steps: StepRecord[] = [];
  stdout = "";

  readonly onEvent = (event: EngineEvent): void => {
    const now = Date.now();
    this.events.push(event);
    const pre = event.resourcePreEvent?.metadata;
    if (pre) {
      const step: StepRecord = {
        name: nameOf(pre.urn),
        urn: pre.urn,
        type: pre.type,
        op: pre.op,
        startSeq: event.sequence,
        start: now,
        failed: false,
      };
      this.byUrn.set(`${pre.op} ${pre.urn}`, step);
      this.steps.push(step);
    }
    const done = event.resOutputsEvent?.metadata ?? event.resOpFailedEvent?.metadata;
    if (done) {
      let step = this.byUrn.get(`${done.op} ${done.urn}`);
      if (step === undefined) {
        // "same" steps have no pre-event.
        const name = nameOf(done.urn);
        step = {
          name,
          urn: done.urn,
          type: done.type,
          op: done.op,
          startSeq: event.sequence,
          start: now,
          failed: false,
        };
        this.steps.push(step);
      }
      step.endSeq = event.sequence;
      step.end = now;
      step.failed = event.resOpFailedEvent !== undefined;
    }
  };

  readonly onOutput = (text: string): void => {
    this.stdout += text;
  };

  /** Warning and error diagnostics, each as "<severity>: <message>". */
  problems(): string[] {
    return this.events.flatMap((e) => {
      const d = e.diagnosticEvent;
      if (!d || (d.severity !== "error" && d.severity !== "warning")) return [];
      const message = d.message.trim();
      return [message.startsWith(`${d.severity}:`) ? message : `${d.severity}: ${message}`];
    });
  }

  /** Every step's op and name, sorted (no "same"). */
  changes(): string[] {
    return this.steps
      .filter((s) => s.op !== "same")
      .map((s) => `${s.op} ${s.name}`)
      .sort();
  }

  step(name: string, op?: OpType): StepRecord {
    const found = this.steps.find((s) => s.name === name && (op === undefined || s.op === op));
    if (found === undefined) throw new Error(`no step ${op ?? ""} ${name} in ${this.changes().join(", ")}`);
    return found;
  }
}

/** A resource of an exported deployment. */
export interface ExportedResource {
  urn: string;
  type: string;
  custom?: boolean;
  id?: string;
  parent?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  dependencies?: string[];
}

export interface SandboxOptions {
  /** The state's passphrase. */
  passphrase?: string;
  /**
   * Type-check the program when it is compiled (infra/main.js compiles it once per change of its
   * sources), as `pulumi` does by default. @default false: the build's `tsc` checks the types already
   */
  typeCheck?: boolean;
  /** A program other than the project's: a folder with its own Pulumi.yaml (linked in as is). */
  programDir?: string;
}

/** A workspace, PULUMI_HOME and file backend of their own, removed by `dispose`. */
export class EngineSandbox {
  readonly dir: string;
  readonly workDir: string;
  readonly env: Record<string, string>;
  private readonly stacks: Stack[] = [];
  private workspace?: LocalWorkspace;

  constructor(options: SandboxOptions = {}) {
    const cli = findCli();
    this.cliRoot = cli.root;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "mesos-engine-"));
    this.workDir = path.join(this.dir, "project");
    fs.mkdirSync(this.workDir);
    const source = options.programDir ?? PROJECT_ROOT;
    for (const entry of fs.readdirSync(source)) {
      if (source === PROJECT_ROOT && !PROJECT_ENTRIES.includes(entry)) continue;
      if (/^Pulumi\..+\.ya?ml$/.test(entry)) continue;
      fs.symlinkSync(path.join(source, entry), path.join(this.workDir, entry));
    }
    if (!fs.existsSync(path.join(this.workDir, "node_modules"))) {
      fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(this.workDir, "node_modules"));
    }
    fs.mkdirSync(path.join(this.dir, "state"));
    // The plugins the toolchain (or the CLI's own downloads) installed, shared read-only.
    const home = path.join(this.dir, "home");
    fs.mkdirSync(home);
    const plugins = path.join(process.env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"), "plugins");
    if (fs.existsSync(plugins)) fs.symlinkSync(plugins, path.join(home, "plugins"));
    this.env = {
      PATH: cli.pathVar,
      PULUMI_HOME: home,
      PULUMI_BACKEND_URL: `file://${path.join(this.dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: options.passphrase ?? "engine-sandbox-passphrase",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      PULUMI_NODEJS_TRANSPILE_ONLY: options.typeCheck ? "false" : "true",
      NO_COLOR: "1",
    };
  }

  private readonly cliRoot?: string;

  async ws(): Promise<LocalWorkspace> {
    if (this.workspace === undefined) {
      const pulumiCommand = await PulumiCommand.get({ root: this.cliRoot, skipVersionCheck: true });
      this.workspace = await LocalWorkspace.create({
        workDir: this.workDir,
        pulumiHome: this.env.PULUMI_HOME,
        envVars: this.env,
        pulumiCommand,
      });
    }
    return this.workspace;
  }

  /** The stack's settings file in the workspace. */
  stackFile(stack: string): string {
    return path.join(this.workDir, `Pulumi.${stack}.yaml`);
  }

  /**
   * A new stack; its config starts as the project's `Pulumi.<from>.yaml` when `from` is given (the
   * project's file is copied, never changed).
   */
  async createStack(name: string, from?: string): Promise<Stack> {
    if (from !== undefined) {
      fs.copyFileSync(path.join(PROJECT_ROOT, `Pulumi.${from}.yaml`), this.stackFile(name));
    }
    const stack = await LocalWorkspace.createStack(
      { stackName: name, workDir: this.workDir },
      await this.opts(),
    );
    this.stacks.push(stack);
    return stack;
  }

  private async opts() {
    const ws = await this.ws();
    return {
      workDir: this.workDir,
      pulumiHome: ws.pulumiHome,
      envVars: this.env,
      pulumiCommand: ws.pulumiCommand,
    };
  }

  /**
   * Runs the CLI itself in the workspace, for what the Automation API lacks; never throws for an exit.
   * Asynchronous, so that servers in this process (an emulator) keep answering the CLI meanwhile.
   */
  async cli(args: string[], input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const ws = await this.ws();
    const child = spawn(ws.pulumiCommand.command, [...args, "--non-interactive", "--color", "never"], {
      cwd: this.workDir,
      env: { ...process.env, ...this.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", resolve);
    });
    return { code, stdout, stderr };
  }

  /**
   * `pulumi stack export` as a user runs it: secrets as ciphertext. (The Automation API's
   * `stack.exportStack()` adds --show-secrets, so secrets come back in plaintext there.)
   */
  async exportState(stack: string): Promise<{ text: string; resources: ExportedResource[] }> {
    const result = await this.cli(["stack", "export", "--stack", stack]);
    if (result.code !== 0) throw new Error(`pulumi stack export failed: ${result.stderr}`);
    const exported = JSON.parse(result.stdout) as { deployment: { resources?: ExportedResource[] } };
    return { text: result.stdout, resources: exported.deployment.resources ?? [] };
  }

  /** Removes the sandbox (stacks, state, workspace). The stacks' resources must be destroyed first. */
  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs one operation with an {@link EventRecorder}; the recorder is returned even when it fails. */
export async function recorded<T>(
  run: (hooks: { onEvent: EventRecorder["onEvent"]; onOutput: EventRecorder["onOutput"] }) => Promise<T>,
): Promise<{ result?: T; error?: Error; record: EventRecorder; ms: number }> {
  const record = new EventRecorder();
  const started = Date.now();
  try {
    const result = await run({ onEvent: record.onEvent, onOutput: record.onOutput });
    return { result, record, ms: Date.now() - started };
  } catch (e) {
    return { error: e as Error, record, ms: Date.now() - started };
  }
}
