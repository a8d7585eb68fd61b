/**
 * The Pulumi CLI of `.tools/bin` (built by scripts/pulumi-from-source.sh), run on this project as a user
 * runs it, in a sandbox: its own PULUMI_HOME, a file backend and the stack config files in a temp dir.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const TOOLS = path.join(PROJECT_ROOT, ".tools");
const PULUMI = path.join(TOOLS, "bin", "pulumi");

export interface CliResult {
  args: string[];
  /** Exit code; null when the process was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Whether ts-node type-checked the program in this run. */
  typeChecked: boolean;
}

export interface RunOptions {
  /** Written to the command's standard input (secrets go this way, never on the command line). */
  input?: string;
  /** Let ts-node type-check the program, as `pulumi` does by default. Otherwise transpile only. */
  typeCheck?: boolean;
  /** Default 180 s; the process group is killed after it. */
  timeoutMs?: number;
}

/**
 * The environment `.tools/env.sh` sets up, on top of this process's less its PULUMI_* variables: nothing
 * of the user's Pulumi settings (home, backend, stack) leaks into the sandbox.
 */
function toolchainEnv(): NodeJS.ProcessEnv {
  const envScript = path.join(TOOLS, "env.sh");
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_")));
  if (!fs.existsSync(PULUMI) || !fs.existsSync(envScript)) {
    // An installed CLI, as users have it: the same offline settings, plugins from its own installation.
    if (onPath(inherited, "pulumi")) {
      return {
        ...inherited,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      };
    }
    throw new Error(
      `The Pulumi toolchain is missing (${PULUMI} or ${envScript} not found, and no pulumi on PATH): ` +
        `run scripts/pulumi-from-source.sh first.`,
    );
  }
  const shell = spawnSync("bash", ["-c", 'set -a; . "$1" >/dev/null; env -0', "bash", envScript], {
    encoding: "utf8",
    env: inherited,
  });
  if (shell.status !== 0) throw new Error(`sourcing ${envScript} failed: ${shell.stderr}`);
  const env: NodeJS.ProcessEnv = {};
  for (const entry of shell.stdout.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Whether an executable `name` is on the sandbox's PATH. */
function onPath(env: NodeJS.ProcessEnv, name: string): boolean {
  return (env.PATH ?? "")
    .split(path.delimiter)
    .some((dir) => dir !== "" && fs.existsSync(path.join(dir, name)));
}

export class PulumiSandbox {
  /** Every command run, in order, with its whole output. */
  readonly transcript: CliResult[] = [];
  private readonly running = new Set<ChildProcess>();
  private readonly stacks = new Set<string>();

  private constructor(
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Fails, saying how to build it, when the toolchain is missing; nothing is created then. */
  static create(passphrase: string): PulumiSandbox {
    const toolchain = toolchainEnv();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mesos-engine-"));
    fs.mkdirSync(path.join(dir, "state"));
    return new PulumiSandbox(dir, {
      ...toolchain,
      PULUMI_HOME: path.join(dir, "home"),
      PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: passphrase,
      NO_COLOR: "1",
    });
  }

  hasPlugin(name: string): boolean {
    return onPath(this.env, name);
  }

  /** The stack's config file, kept in the sandbox rather than in the project. */
  configFile(stack: string): string {
    return path.join(this.dir, `Pulumi.${stack}.yaml`);
  }

  /** `--stack` and `--config-file` for the commands that read the stack config. */
  stackArgs(stack: string): string[] {
    return ["--stack", stack, "--config-file", this.configFile(stack)];
  }

  /**
   * `pulumi stack init`, which writes `Pulumi.<stack>.yaml` (the passphrase salt) into the project; the
   * file is moved into the sandbox at once and every later command names it with `--config-file`.
   */
  async initStack(stack: string): Promise<void> {
    const inProject = path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
    if (fs.existsSync(inProject)) {
      throw new Error(`${inProject} exists already; remove it (it is not this suite's) and run again`);
    }
    this.stacks.add(stack);
    await this.ok(["stack", "init", stack]);
    fs.copyFileSync(inProject, this.configFile(stack));
    fs.rmSync(inProject);
  }

  /** Runs `pulumi <args>` in the project directory; never throws for a non-zero exit. */
  run(args: string[], options: RunOptions = {}): Promise<CliResult> {
    const fullArgs = [...args, "--non-interactive", "--color", "never"];
    const env = { ...this.env, PULUMI_NODEJS_TRANSPILE_ONLY: options.typeCheck ? "false" : "true" };
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const child = spawn(fs.existsSync(PULUMI) ? PULUMI : "pulumi", fullArgs, {
        cwd: PROJECT_ROOT,
        env,
        detached: true,
      });
      this.running.add(child);
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => killGroup(child), options.timeoutMs ?? 180_000);
      child.on("error", (e) => {
        clearTimeout(timer);
        this.running.delete(child);
        reject(e);
      });
      child.on("close", (code) => {
        clearTimeout(timer);
        this.running.delete(child);
        const typeChecked = options.typeCheck === true;
        const result = { args, code, stdout, stderr, ms: Date.now() - started, typeChecked };
        this.transcript.push(result);
        resolve(result);
      });
      child.stdin.end(options.input ?? "");
    });
  }

  /** Runs `pulumi <args>` and throws, with the output, unless it exits 0. */
  async ok(args: string[], options: RunOptions = {}): Promise<CliResult> {
    const result = await this.run(args, options);
    if (result.code !== 0) throw new Error(describeFailure(result));
    return result;
  }

  /** Kills every command still running, removes the sandbox and any stack file left in the project. */
  dispose(): void {
    for (const child of this.running) killGroup(child);
    this.running.clear();
    for (const stack of this.stacks)
      fs.rmSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), { force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

export function describeFailure(result: CliResult): string {
  const tail = (text: string) => text.split("\n").slice(-60).join("\n");
  return (
    `pulumi ${result.args.join(" ")} exited ${result.code}\n` +
    `--- stdout (tail) ---\n${tail(result.stdout)}\n--- stderr (tail) ---\n${tail(result.stderr)}`
  );
}

// ---------------------------------------------------------------------------------------------------------
// The CLI's JSON output.

export interface ResourceState {
  urn: string;
  type: string;
  id?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

export interface PreviewStep {
  op: string;
  urn: string;
  oldState?: ResourceState;
  newState?: ResourceState;
  detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }> | null;
  diffReasons?: string[];
  replaceReasons?: string[];
}

export interface Diagnostic {
  message: string;
  severity: string;
  urn?: string;
}

/** What `pulumi preview --json` prints. */
export interface PreviewJson {
  steps?: PreviewStep[];
  diagnostics?: Diagnostic[];
  changeSummary?: Record<string, number>;
}

export interface StepEventMetadata {
  op: string;
  urn: string;
  type: string;
  old?: ResourceState | null;
  new?: ResourceState | null;
  detailedDiff?: Record<string, unknown> | null;
  diffs?: string[];
}

/** One event of the stream `pulumi up|refresh|destroy --json` prints (after the preview, if any). */
export interface EngineEvent {
  resourcePreEvent?: { metadata: StepEventMetadata };
  resOutputsEvent?: { metadata: StepEventMetadata };
  summaryEvent?: { resourceChanges: Record<string, number>; result?: string };
  diagnosticEvent?: { message: string; severity: string; urn?: string };
}

/** Every JSON value of a text holding several (a pretty-printed preview, then one event per line). */
export function jsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== "{" && c !== "[") {
      i++;
      continue;
    }
    const end = endOfValue(text, i);
    if (end < 0) break;
    values.push(JSON.parse(text.slice(i, end)));
    i = end;
  }
  return values;
}

/** The index just past the object or array starting at `start`, or -1 when it is cut off. */
function endOfValue(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === "{" || c === "[") {
      depth++;
    } else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

export function previewOf(result: CliResult): PreviewJson {
  const [first] = jsonValues(result.stdout);
  if (first === undefined) throw new Error(`no JSON in the output of:\n${describeFailure(result)}`);
  return first as PreviewJson;
}

export function eventsOf(result: CliResult): EngineEvent[] {
  return jsonValues(result.stdout).filter(
    (v): v is EngineEvent => typeof v === "object" && v !== null && "sequence" in v,
  );
}

/** The last part of a URN: the resource's name. */
export function nameOf(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

/** Warning and error diagnostics, each as "<severity>: <message>". */
export function problems(diagnostics: Diagnostic[] | undefined): string[] {
  return (diagnostics ?? [])
    .filter((d) => d.severity === "error" || d.severity === "warning")
    .map((d) => {
      const message = d.message.trim();
      return message.startsWith(`${d.severity}:`) ? message : `${d.severity}: ${message}`;
    });
}

/** A command as the timing table shows it: its verb (`up`, `config set`, `stack export`). */
export function verbOf(result: CliResult): string {
  const words = result.args.filter((a) => !a.startsWith("-"));
  const verb = ["config", "stack"].includes(words[0]) ? words.slice(0, 2) : words.slice(0, 1);
  const flags = result.args.filter((a) => ["--skip-preview", "--json"].includes(a));
  return [...verb, ...flags, ...(result.typeChecked ? ["(type-checked)"] : [])].join(" ");
}
