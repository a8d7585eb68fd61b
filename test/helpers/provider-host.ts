/**
 * Plays the Pulumi engine's part for a dynamic provider: serializes the provider exactly as
 * `pulumi.dynamic.Resource` does, starts the SDK's own dynamic-provider host
 * (`@pulumi/pulumi/cmd/dynamic-provider`, the process `pulumi up` starts) and calls it over gRPC.
 * Property maps are plain objects; `__provider` is added where the engine would send it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";

type PropertyMap = Record<string, unknown>;

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT = "mesos-cluster";

/** The value the engine sends for a secret (`pulumi config set --secret`), before the host unwraps it. */
export function secretValue(value: unknown): PropertyMap {
  return { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value };
}

/** `urn:pulumi:<stack>::<project>::pulumi-nodejs:dynamic/<module>:<Type>::<name>`. */
export function dynamicUrn(name: string, type = "marathon:App", stack = "test"): string {
  return `urn:pulumi:${stack}::${PROJECT}::pulumi-nodejs:dynamic/${type}::${name}`;
}

/** The provider's text as `dynamic.Resource` stores it in `__provider`. */
export async function serializeProvider(
  provider: object,
): Promise<{ text: string; containsSecrets: boolean }> {
  const serialized = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  return { text: serialized.text, containsSecrets: serialized.containsSecrets };
}

export type DiffChanges = "unknown" | "none" | "some";

/** An error answer from the host: the gRPC status code and the provider's message. */
export class HostCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    /** Set when the provider reported a partial create (ErrorResourceInitFailed). */
    readonly initFailed: boolean,
  ) {
    super(`gRPC ${code}: ${details}`);
  }
}

export interface ProviderHost {
  /** The text sent as `__provider`. */
  readonly providerText: string;
  /** Everything the host wrote to stderr so far. */
  readonly stderr: () => string;
  getPluginInfo(): Promise<string>;
  /** Configure with stack config keys (namespaced, e.g. `mesos-cluster:marathonCredentials`). */
  configure(config: PropertyMap): Promise<{ acceptSecrets: boolean; supportsPreview: boolean }>;
  check(
    urn: string,
    olds: PropertyMap,
    news: PropertyMap,
  ): Promise<{ inputs: PropertyMap; failures: { property: string; reason: string }[] }>;
  diff(
    id: string,
    urn: string,
    olds: PropertyMap,
    news: PropertyMap,
  ): Promise<{ changes: DiffChanges; replaces: string[]; deleteBeforeReplace: boolean }>;
  create(urn: string, properties: PropertyMap): Promise<{ id: string; properties: PropertyMap }>;
  read(
    id: string,
    urn: string,
    properties: PropertyMap,
    inputs?: PropertyMap,
  ): Promise<{ id: string; properties: PropertyMap; inputs?: PropertyMap }>;
  update(id: string, urn: string, olds: PropertyMap, news: PropertyMap): Promise<{ properties: PropertyMap }>;
  delete(id: string, urn: string, properties: PropertyMap): Promise<void>;
  /** Closes the gRPC channel and stops the host process. */
  stop(): Promise<void>;
}

export interface ProviderHostOptions {
  /** Working directory of the host; `require` in the provider text resolves from here. Default: repo root. */
  cwd?: string;
  /** `PULUMI_NODEJS_PROJECT`, the namespace of config keys read with `config.get(key)`. */
  project?: string;
}

/** Serializes `provider` and starts the host; stop it with `stop()` (e.g. in `afterAll`). */
export async function startProviderHost(
  provider: object,
  options: ProviderHostOptions = {},
): Promise<ProviderHost> {
  const { text } = await serializeProvider(provider);
  const child = spawn(
    process.execPath,
    [require.resolve("@pulumi/pulumi/cmd/dynamic-provider"), "127.0.0.1:0"],
    {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, PULUMI_NODEJS_PROJECT: options.project ?? PROJECT },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await readPort(child, () => stderr);
  const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const withProvider = (props: PropertyMap): PropertyMap => ({ __provider: text, ...props });

  return {
    providerText: text,
    stderr: () => stderr,
    async getPluginInfo() {
      const info = await unary<PluginInfo>((cb) => client.getPluginInfo(new emptyproto.Empty(), cb));
      return info.getVersion();
    },
    async configure(config) {
      const req = new provproto.ConfigureRequest();
      req.setArgs(Struct.fromJavaScript(config as Record<string, never>));
      const resp = await unary<provproto.ConfigureResponse>((cb) => client.configure(req, cb));
      return { acceptSecrets: resp.getAcceptsecrets(), supportsPreview: resp.getSupportspreview() };
    },
    async check(urn, olds, news) {
      const req = new provproto.CheckRequest();
      req.setUrn(urn);
      req.setOlds(toStruct(olds));
      req.setNews(toStruct(withProvider(news)));
      const resp = await unary<provproto.CheckResponse>((cb) => client.check(req, cb));
      return {
        inputs: fromStruct(resp.getInputs()),
        failures: resp.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(id, urn, olds, news) {
      const req = new provproto.DiffRequest();
      req.setId(id);
      req.setUrn(urn);
      req.setOlds(toStruct(withProvider(olds)));
      req.setNews(toStruct(withProvider(news)));
      const resp = await unary<provproto.DiffResponse>((cb) => client.diff(req, cb));
      const kinds: Record<number, DiffChanges> = {
        [provproto.DiffResponse.DiffChanges.DIFF_UNKNOWN]: "unknown",
        [provproto.DiffResponse.DiffChanges.DIFF_NONE]: "none",
        [provproto.DiffResponse.DiffChanges.DIFF_SOME]: "some",
      };
      return {
        changes: kinds[resp.getChanges()],
        replaces: resp.getReplacesList(),
        deleteBeforeReplace: resp.getDeletebeforereplace(),
      };
    },
    async create(urn, properties) {
      const req = new provproto.CreateRequest();
      req.setUrn(urn);
      req.setProperties(toStruct(withProvider(properties)));
      const resp = await unary<provproto.CreateResponse>((cb) => client.create(req, cb));
      return { id: resp.getId(), properties: fromStruct(resp.getProperties()) };
    },
    async read(id, urn, properties, inputs) {
      const req = new provproto.ReadRequest();
      req.setId(id);
      req.setUrn(urn);
      req.setProperties(toStruct(Object.keys(properties).length === 0 ? {} : withProvider(properties)));
      if (inputs) req.setInputs(toStruct(withProvider(inputs)));
      const resp = await unary<provproto.ReadResponse>((cb) => client.read(req, cb));
      const readInputs = resp.getInputs();
      return {
        id: resp.getId(),
        properties: fromStruct(resp.getProperties()),
        ...(readInputs ? { inputs: fromStruct(readInputs) } : {}),
      };
    },
    async update(id, urn, olds, news) {
      const req = new provproto.UpdateRequest();
      req.setId(id);
      req.setUrn(urn);
      req.setOlds(toStruct(withProvider(olds)));
      req.setNews(toStruct(withProvider(news)));
      const resp = await unary<provproto.UpdateResponse>((cb) => client.update(req, cb));
      return { properties: fromStruct(resp.getProperties()) };
    },
    async delete(id, urn, properties) {
      const req = new provproto.DeleteRequest();
      req.setId(id);
      req.setUrn(urn);
      req.setProperties(toStruct(withProvider(properties)));
      await unary((cb) => client.delete(req, cb));
    },
    async stop() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

function toStruct(props: PropertyMap): Struct {
  return Struct.fromJavaScript(props as Record<string, never>);
}

function fromStruct(struct: Struct | undefined): PropertyMap {
  return struct?.toJavaScript() ?? {};
}

type Callback<T> = (error: grpc.ServiceError | null, response: T) => void;

function unary<T>(call: (callback: Callback<T>) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    call((error, response) => {
      if (error) {
        const initFailed = error.metadata?.get("grpc-status-details-bin").length > 0;
        // The host reports create/update failures in the status message rather than in `details`.
        const details = error.details || error.message.replace(/^\d+ [A-Z_]+: /, "");
        reject(new HostCallError(error.code, details, initFailed));
      } else {
        resolve(response);
      }
    });
  });
}

/** The host prints its port as the first line of stdout. */
function readPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^(\d+)\s*$/m.exec(out);
      if (match) {
        // Keep draining stdout so the host never blocks on a full pipe.
        child.stdout!.off("data", onData).on("data", () => undefined);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`dynamic-provider host exited with ${code}: ${stderr()}`)));
  });
}
