/**
 * A small stand-in for `pulumi up` / `pulumi destroy`, built from the SDK's own hooks: the program runs under
 * `pulumi.runtime.setMocks`, and each registration is carried out inside `newResource`, which the SDK calls
 * only once every dependency of the resource has been registered (it awaits their URNs), so steps run in
 * Pulumi's order and independent steps run concurrently.
 *
 * - `command:remote:Command`: `create` runs over real ssh on the resource's `connection` (stdin piped, a
 *   non-zero exit fails the resource with its stderr), as @pulumi/command does. On a later run, unchanged
 *   inputs mean no step; a changed `connection` or `triggers` replaces (delete-first when the resource asks);
 *   any other change runs `update`, or else `create` again.
 * - `command:local:Command`: the same, run on this machine with `/bin/sh -c` (or its `interpreter`) in `dir`,
 *   with `environment` added to this process's, and, for `update` and `delete`, the previous output in
 *   PULUMI_COMMAND_STDOUT and PULUMI_COMMAND_STDERR. Only a changed `triggers` replaces.
 * - Outputs named in `additionalSecretOutputs` come back as secrets, as the engine makes them.
 * - `pulumi-nodejs:dynamic/*`: handed to the SDK's dynamic-provider host over gRPC: Check then Create, or
 *   Check, Diff then Update (or a replacement) when the resource already exists.
 * - Components only record their place in the tree.
 *
 * The state map plays the checkpoint: resources no longer registered are deleted after a run, and
 * `destroy` deletes everything, dependents before their dependencies.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MiniStack, type ProviderOps } from "../helpers/mini-engine";
import { isSecretWrapper, type Monitor, type RegisterRequest } from "../helpers/pulumi";

type PropertyMap = Record<string, unknown>;
/** The SDK's request has the secret outputs too; the shared mock types leave them out. */
type Request = RegisterRequest & { getAdditionalsecretoutputsList(): string[] };

export const COMMAND_TYPE = "command:remote:Command";
export const LOCAL_COMMAND_TYPE = "command:local:Command";
const DYNAMIC_PREFIX = "pulumi-nodejs:dynamic/";

/** What an ssh connection needs, read from a Command's `connection` input. */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** Seconds one dial may take. */
  perDialTimeout?: number;
  /** Failed dials retried before the step fails. */
  dialErrorLimit?: number;
}

export interface RemoteResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command on a host over ssh, `stdin` piped and then closed. */
export type RemoteRunner = (target: SshTarget, command: string, stdin?: string) => Promise<RemoteResult>;

export type Operation = "create" | "update" | "replace" | "same" | "delete";

/** One step the engine took (or, for `same`, decided not to take), with wall-clock times in ms. */
export interface StepRecord {
  name: string;
  type: string;
  op: Operation;
  start: number;
  end: number;
  /** The ssh host, for remote Commands. */
  host?: string;
  stdout?: string;
}

/** The checkpoint of one resource. */
export interface ResourceState {
  name: string;
  type: string;
  custom: boolean;
  id?: string;
  /** Inputs with every secret unwrapped. */
  inputs: PropertyMap;
  /** What `newResource` returned as state (secrets still wrapped). */
  outputs: PropertyMap;
  parent?: string;
  /** Names of the resources it depends on (explicit and through its inputs). */
  dependsOn: string[];
  deleteBeforeReplace: boolean;
  /** Outputs the resource asked to be kept secret (`additionalSecretOutputs`). */
  secretOutputs: string[];
}

export interface EngineLiteOptions {
  ssh: RemoteRunner;
  /** The dynamic-provider host, for dynamic resources. */
  provider?: ProviderOps;
  project?: string;
  stack?: string;
  /**
   * As `pulumi up --continue-on-error`: a failed step is recorded and what depends on it (directly, or
   * through its parent) is not attempted; every other step still runs, and `up` rejects at the end with
   * the failures. @default false: `up` rejects at the first failure
   */
  continueOnError?: boolean;
}

/** The value with every secret wrapper replaced by its content. */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretWrapper(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

const nameOfUrn = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);
const json = (v: unknown): string => JSON.stringify(v ?? null);

function withoutProvider(props: PropertyMap): PropertyMap {
  const { __provider: _provider, ...rest } = props;
  return rest;
}

/** The ssh target of a Command's (unwrapped) `connection` input, with @pulumi/command's defaults. */
export function sshTargetOf(connection: unknown): SshTarget {
  const c = (connection ?? {}) as PropertyMap;
  if (typeof c.host !== "string" || typeof c.privateKey !== "string") {
    throw new Error("connection needs host and privateKey");
  }
  return {
    host: c.host,
    port: typeof c.port === "number" ? c.port : 22,
    user: typeof c.user === "string" ? c.user : "root",
    privateKey: c.privateKey,
    perDialTimeout: typeof c.perDialTimeout === "number" ? c.perDialTimeout : 15,
    dialErrorLimit: typeof c.dialErrorLimit === "number" ? c.dialErrorLimit : 10,
  };
}

export class EngineLite {
  readonly state = new Map<string, ResourceState>();
  /** Steps of the current (or last) run, in the order they finished. */
  steps: StepRecord[] = [];
  /** ssh commands run by the current (or last) run. */
  sshCount = 0;
  private readonly requests = new Map<string, Request>();
  private readonly seen = new Set<string>();
  private executing = false;
  private fail?: (e: Error) => void;
  /** The engine's steps for dynamic resources, one stack per resource type. */
  private readonly dynamicStacks = new Map<string, MiniStack>();
  /** Failures of the current run, with continueOnError. */
  private failures: Error[] = [];
  /** Resources of the current run that failed or were not attempted, with continueOnError. */
  private readonly broken = new Set<string>();
  private readonly project: string;
  private readonly stack: string;

  constructor(private readonly options: EngineLiteOptions) {
    this.project = options.project ?? "mesos-cluster";
    this.stack = options.stack ?? "e2e";
  }

  /** Installs the mocks; until `up` is called registrations are only acknowledged (no steps). */
  async install(): Promise<void> {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => this.register(args),
        call: (args) => {
          throw new Error(`unmocked invoke ${args.token}`);
        },
      },
      this.project,
      this.stack,
      false,
    );
    // The mock monitor passes only type, name and inputs on: read parent and dependencies from the request.
    const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
      this.requests.set(req.getName(), req as Request);
      return register(req, callback);
    };
  }

  /**
   * `pulumi up`: runs `program`, waits until every registration is done (or, without continueOnError, the
   * first step fails), then deletes what the program no longer registers. Returns the program's result.
   */
  async up<T>(program: () => T): Promise<T> {
    this.steps = [];
    this.sshCount = 0;
    this.seen.clear();
    this.executing = true;
    this.failures = [];
    this.broken.clear();
    const failed = new Promise<never>((_, reject) => (this.fail = reject));
    try {
      const result = program();
      await Promise.race([settled(), failed]);
      if (this.failures.length > 0) throw new Error(this.failures.map((e) => e.message).join("\n"));
      const gone = [...this.state.keys()].filter((name) => !this.seen.has(name));
      await this.deleteAll(gone);
      return result;
    } finally {
      this.executing = false;
      this.fail = undefined;
    }
  }

  /** `pulumi destroy`: every resource deleted, dependents first, independent ones concurrently. */
  async destroy(): Promise<StepRecord[]> {
    this.steps = [];
    this.sshCount = 0;
    await this.deleteAll([...this.state.keys()]);
    return this.steps;
  }

  /** Runs a Command's `create` again by hand, as an operator would; returns what it printed. */
  async rerunCreate(name: string): Promise<RemoteResult> {
    const s = this.mustGet(name);
    return this.run(s, String(s.inputs.create));
  }

  mustGet(name: string): ResourceState {
    const s = this.state.get(name);
    if (s === undefined) throw new Error(`no resource ${name} in the state`);
    return s;
  }

  /** Every resource `name` waits for, directly or not (dependencies and parents). */
  dependenciesOf(name: string): string[] {
    const seen = new Set<string>();
    const todo = [name];
    while (todo.length > 0) {
      const s = this.state.get(todo.pop()!);
      if (s === undefined) continue;
      for (const dep of [...s.dependsOn, ...(s.parent !== undefined ? [s.parent] : [])]) {
        if (!seen.has(dep)) {
          seen.add(dep);
          todo.push(dep);
        }
      }
    }
    return [...seen].filter((n) => this.state.has(n));
  }

  /** The step record of `name` in the current (or last) run. */
  step(name: string): StepRecord {
    const s = this.steps.find((r) => r.name === name);
    if (s === undefined) throw new Error(`no step for ${name}`);
    return s;
  }

  private async register(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    const custom = args.custom ?? false;
    if (!this.executing) return { id: custom ? `${args.name}-id` : undefined, state: args.inputs };
    const req = this.requests.get(args.name);
    const record: ResourceState = {
      name: args.name,
      type: args.type,
      custom,
      inputs: unwrapSecrets(args.inputs) as PropertyMap,
      outputs: args.inputs as PropertyMap,
      parent: req?.getParent() ? nameOfUrn(req.getParent()) : undefined,
      dependsOn: (req?.getDependenciesList() ?? []).map(nameOfUrn),
      deleteBeforeReplace: req?.getDeletebeforereplace() ?? false,
      secretOutputs: req?.getAdditionalsecretoutputsList() ?? [],
    };
    if (this.seen.has(args.name)) throw new Error(`duplicate resource name ${args.name}`);
    this.seen.add(args.name);
    // Not attempted: it waits for a failed step. A stand-in result lets the program go on.
    const notAttempted = { id: custom ? `${args.name}-not-attempted` : undefined, state: {} };
    if ([...record.dependsOn, record.parent].some((n) => n !== undefined && this.broken.has(n))) {
      this.broken.add(args.name);
      return notAttempted;
    }
    try {
      if (!custom) {
        this.state.set(args.name, record);
        return { id: undefined, state: {} };
      }
      if (args.type === COMMAND_TYPE || args.type === LOCAL_COMMAND_TYPE) return await this.command(record);
      if (args.type.startsWith(DYNAMIC_PREFIX)) return await this.dynamic(record);
      throw new Error(`engine-lite cannot run resources of type ${args.type}`);
    } catch (e) {
      const error = new Error(`${args.name}: ${e instanceof Error ? e.message : String(e)}`);
      if (!this.options.continueOnError) {
        this.fail?.(error);
        throw error;
      }
      this.failures.push(error);
      this.broken.add(args.name);
      return notAttempted;
    }
  }

  private async command(next: ResourceState): Promise<pulumi.runtime.MockResourceResult> {
    const old = this.state.get(next.name);
    const start = Date.now();
    const local = next.type === LOCAL_COMMAND_TYPE;
    const host = local ? undefined : sshTargetOf(next.inputs.connection).host;
    const finish = (op: Operation, stdout?: string): void => {
      this.steps.push({ name: next.name, type: next.type, op, start, end: Date.now(), host, stdout });
    };
    if (old !== undefined && json(old.inputs) === json(next.inputs)) {
      finish("same");
      return { id: old.id, state: old.outputs };
    }
    let op: Operation = "create";
    let script = String(next.inputs.create);
    if (old !== undefined) {
      const replaceKeys = local ? ["triggers"] : ["connection", "triggers"];
      const replace = replaceKeys.some((k) => json(old.inputs[k]) !== json(next.inputs[k]));
      if (replace) {
        op = "replace";
        if (next.deleteBeforeReplace) await this.deleteOne(old, false);
      } else {
        op = "update";
        script = String(next.inputs.update ?? next.inputs.create);
      }
    }
    const result = await this.run(next, script, op === "update" ? old : undefined);
    if (op === "replace" && !next.deleteBeforeReplace) await this.deleteOne(old!, false);
    const id = old?.id ?? `${next.name}-${crypto.randomBytes(4).toString("hex")}`;
    const produced = { stdout: result.stdout, stderr: result.stderr };
    for (const [k, v] of Object.entries(produced)) {
      if (next.secretOutputs.includes(k)) (produced as PropertyMap)[k] = secretWrapper(v);
    }
    const state = { ...next, id, outputs: { ...next.outputs, ...produced } };
    this.state.set(next.name, state);
    finish(op, result.stdout);
    return { id, state: state.outputs };
  }

  /**
   * Runs `script` on the resource's host, or here for a local Command (`previous`: the state whose output
   * goes into the environment); a non-zero exit throws with its stderr, as the provider does.
   */
  private async run(s: ResourceState, script: string, previous?: ResourceState): Promise<RemoteResult> {
    const stdin = typeof s.inputs.stdin === "string" ? s.inputs.stdin : undefined;
    let r: RemoteResult;
    if (s.type === LOCAL_COMMAND_TYPE) {
      r = await runLocal(s.inputs, script, stdin, previous);
    } else {
      this.sshCount++;
      r = await this.options.ssh(sshTargetOf(s.inputs.connection), script, stdin);
    }
    if (r.code !== 0) {
      throw new Error(`Process exited with status ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    }
    return r;
  }

  /** The engine's steps for the dynamic resources of `type`, over the provider host. */
  private dynamicStack(type: string): MiniStack {
    let stack = this.dynamicStacks.get(type);
    if (stack === undefined) {
      if (this.options.provider === undefined) throw new Error("no dynamic-provider host given");
      stack = new MiniStack(this.options.provider, (name) => this.urnOf({ type, name }));
      this.dynamicStacks.set(type, stack);
    }
    return stack;
  }

  private urnOf(s: Pick<ResourceState, "type" | "name">): string {
    return `urn:pulumi:${this.stack}::${this.project}::${s.type}::${s.name}`;
  }

  private async dynamic(next: ResourceState): Promise<pulumi.runtime.MockResourceResult> {
    const start = Date.now();
    const { operation, state } = await this.dynamicStack(next.type).up(
      next.name,
      withoutProvider(next.inputs),
    );
    this.state.set(next.name, { ...next, inputs: state.inputs, id: state.id, outputs: state.outputs });
    this.steps.push({ name: next.name, type: next.type, op: operation, start, end: Date.now() });
    return { id: state.id, state: state.outputs };
  }

  /** Deletes `names`, each only after every resource that depends on it (or is its child) is gone. */
  private async deleteAll(names: string[]): Promise<void> {
    const targets = new Set(names);
    const dependents = new Map<string, string[]>(names.map((n) => [n, []]));
    for (const s of this.state.values()) {
      for (const dep of [...s.dependsOn, ...(s.parent !== undefined ? [s.parent] : [])]) {
        if (targets.has(dep) && targets.has(s.name)) dependents.get(dep)!.push(s.name);
      }
    }
    const done = new Map<string, Promise<void>>();
    const remove = (name: string): Promise<void> => {
      let p = done.get(name);
      if (p === undefined) {
        p = Promise.all(dependents.get(name)!.map(remove)).then(() => this.deleteOne(this.mustGet(name)));
        done.set(name, p);
      }
      return p;
    };
    await Promise.all(names.map(remove));
  }

  private async deleteOne(s: ResourceState, forget = true): Promise<void> {
    const start = Date.now();
    let stdout: string | undefined;
    const isCommand = s.type === COMMAND_TYPE || s.type === LOCAL_COMMAND_TYPE;
    if (isCommand && typeof s.inputs.delete === "string") {
      stdout = (await this.run(s, s.inputs.delete, s)).stdout;
    } else if (s.type.startsWith(DYNAMIC_PREFIX)) {
      await this.dynamicStack(s.type).destroy(s.name);
    }
    if (forget) this.state.delete(s.name);
    const host = s.type === COMMAND_TYPE ? sshTargetOf(s.inputs.connection).host : undefined;
    this.steps.push({ name: s.name, type: s.type, op: "delete", start, end: Date.now(), host, stdout });
  }
}

/** A secret as the SDK serializes one. */
function secretWrapper(value: unknown): PropertyMap {
  return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

/** A local Command's script run here as @pulumi/command runs it: interpreter, dir, environment. */
function runLocal(
  inputs: PropertyMap,
  script: string,
  stdin: string | undefined,
  previous?: ResourceState,
): Promise<RemoteResult> {
  const [cmd, ...args] = Array.isArray(inputs.interpreter)
    ? (inputs.interpreter as string[])
    : ["/bin/sh", "-c"];
  const env: NodeJS.ProcessEnv = { ...process.env, ...(inputs.environment as Record<string, string>) };
  if (previous !== undefined && inputs.addPreviousOutputInEnv !== false) {
    const out = unwrapSecrets(previous.outputs) as { stdout?: string; stderr?: string };
    env.PULUMI_COMMAND_STDOUT = out.stdout ?? "";
    env.PULUMI_COMMAND_STDERR = out.stderr ?? "";
  }
  const cwd = typeof inputs.dir === "string" ? inputs.dir : undefined;
  return runProcess(cmd, [...args, script], stdin ?? "", 600_000, { env, cwd });
}

/** Waits until every pending registration has reached the mocks. */
function settled(): Promise<void> {
  return (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/**
 * A `RemoteRunner` on the machine's OpenSSH client. Like @pulumi/command it ignores host keys and retries
 * failed dials; one multiplexed connection per host (`ControlMaster`) spares the 2-core machine a key
 * exchange per step. `close()` ends those connections; `forget(host)` ends one (after a host restarts).
 */
export function opensshRunner(workDir: string): RemoteRunner & {
  close(): Promise<void>;
  forget(host: string): Promise<void>;
} {
  fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const keys = new Map<string, string>();
  const masters = new Map<string, string[]>();
  const keyFile = (key: string): string => {
    let file = keys.get(key);
    if (file === undefined) {
      file = path.join(workDir, `key-${crypto.createHash("sha256").update(key).digest("hex").slice(0, 12)}`);
      fs.writeFileSync(file, key.endsWith("\n") ? key : `${key}\n`, { mode: 0o600 });
      keys.set(key, file);
    }
    return file;
  };
  const argsOf = (t: SshTarget): string[] => {
    const control = path.join(workDir, `cm-${t.user}@${t.host}:${t.port}`);
    const args = [
      "-F",
      "/dev/null",
      "-i",
      keyFile(t.privateKey),
      "-p",
      String(t.port),
      "-o",
      "IdentitiesOnly=yes",
      "-o",
      "BatchMode=yes",
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "LogLevel=ERROR",
      "-o",
      `ConnectTimeout=${t.perDialTimeout ?? 15}`,
      "-o",
      // Cheaper key exchange than OpenSSH 9's default post-quantum hybrid: six hosts dial at once on 2 cores.
      "KexAlgorithms=curve25519-sha256",
      "-o",
      "ControlMaster=auto",
      "-o",
      `ControlPath=${control}`,
      "-o",
      "ControlPersist=120",
      "-o",
      "ServerAliveInterval=2",
      "-o",
      "ServerAliveCountMax=3",
      `${t.user}@${t.host}`,
    ];
    masters.set(t.host, args);
    return args;
  };
  // The first command to a host opens its master connection; the others wait for it rather than race it.
  const warm = new Map<string, Promise<void>>();
  const warmUp = (t: SshTarget): Promise<void> => {
    let p = warm.get(t.host);
    if (p === undefined) {
      p = runProcess("ssh", [...argsOf(t), "true"], "", 30_000).then((r) => {
        if (r.code !== 0) warm.delete(t.host);
      });
      warm.set(t.host, p);
    }
    return p;
  };
  const runner = async (t: SshTarget, command: string, stdin?: string): Promise<RemoteResult> => {
    await warmUp(t);
    const limit = Math.max(0, Math.min(t.dialErrorLimit ?? 10, 20));
    for (let attempt = 0; ; attempt++) {
      const r = await runProcess("ssh", [...argsOf(t), command], stdin ?? "");
      const dialFailed =
        r.code === 255 && /connect to host|Connection (refused|timed out|closed)/.test(r.stderr);
      if (!dialFailed || attempt >= limit) return r;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  };
  const exit = async (args: string[]): Promise<void> => {
    await runProcess("ssh", ["-O", "exit", ...args], "", 5000);
  };
  return Object.assign(runner, {
    async close() {
      await Promise.all([...masters.values()].map(exit));
      masters.clear();
      warm.clear();
    },
    async forget(host: string) {
      const args = masters.get(host);
      if (args !== undefined) await exit(args);
      masters.delete(host);
      warm.delete(host);
    },
  });
}

/** Runs a process to its end, `stdin` piped and then closed; killed after `timeoutMs`. */
export function runProcess(
  cmd: string,
  args: string[],
  stdin: string,
  timeoutMs = 600_000,
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RemoteResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...opts });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 255, stdout, stderr });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}
