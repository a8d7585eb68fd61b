/**
 * A stand-in for the Pulumi engine's steps on single dynamic resources, without the CLI: `up` runs
 * Check, then Create, or Diff and then Update or a replacement (honouring deleteBeforeReplace);
 * `refresh` runs Read and drops what reads back with an empty id; `destroy` runs Delete. The state it
 * keeps is what the engine would checkpoint. It drives either the SDK's dynamic-provider host
 * (`ProviderHost`) or a provider object in process (`inProcess`).
 */
import { dynamicUrn, type DiffChanges, type ProviderHost } from "./provider-host";

type PropertyMap = Record<string, unknown>;

/** The provider calls the engine makes, with the host's signatures. */
export type ProviderOps = Pick<ProviderHost, "check" | "diff" | "create" | "read" | "update" | "delete">;

/** The untyped view of a `pulumi.dynamic.ResourceProvider` that `inProcess` needs. */
interface DynamicProvider {
  check?(olds: any, news: any): Promise<{ inputs?: any; failures?: { property: string; reason: string }[] }>;
  diff?(
    id: string,
    olds: any,
    news: any,
  ): Promise<{ changes?: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }>;
  create(inputs: any): Promise<{ id: string; outs?: any }>;
  read?(id: string, props?: any): Promise<{ id?: string; props?: any; inputs?: any }>;
  update?(id: string, olds: any, news: any): Promise<{ outs?: any }>;
  delete?(id: string, props: any): Promise<void>;
}

/** Property maps cross the wire as JSON; copying keeps the provider from sharing objects with the test. */
const copy = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

/** A provider object called in this process, behind the host's interface. Its errors are thrown as is. */
export function inProcess(provider: DynamicProvider): ProviderOps {
  const changesOf = (changes: boolean | undefined): DiffChanges =>
    changes === true ? "some" : changes === false ? "none" : "unknown";
  return {
    async check(_urn, olds, news) {
      const result = provider.check ? await provider.check(copy(olds), copy(news)) : { inputs: news };
      return { inputs: copy(result.inputs ?? news), failures: result.failures ?? [] };
    },
    async diff(id, _urn, olds, news) {
      const result = provider.diff ? await provider.diff(id, copy(olds), copy(news)) : {};
      return {
        changes: changesOf(result.changes),
        replaces: result.replaces ?? [],
        deleteBeforeReplace: result.deleteBeforeReplace ?? false,
      };
    },
    async create(_urn, properties) {
      const result = await provider.create(copy(properties));
      return { id: result.id, properties: copy(result.outs ?? {}) };
    },
    async read(id, _urn, properties, inputs) {
      if (!provider.read) return { id, properties };
      const known = Object.keys(properties).length === 0 && inputs ? inputs : properties;
      const result = await provider.read(id, copy(known));
      return {
        id: result.id ?? "",
        properties: copy(result.props ?? {}),
        ...(result.inputs ? { inputs: copy(result.inputs) } : {}),
      };
    },
    async update(id, _urn, olds, news) {
      const result = provider.update ? await provider.update(id, copy(olds), copy(news)) : {};
      return { properties: copy(result.outs ?? {}) };
    },
    async delete(id, _urn, properties) {
      await provider.delete?.(id, copy(properties));
    },
  };
}

/** What the engine checkpoints for one resource. */
export interface ResourceState {
  urn: string;
  id: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
}

export type Operation = "create" | "update" | "replace" | "same";

export interface UpResult {
  operation: Operation;
  /** The provider's diff, when the resource existed. */
  diff?: Awaited<ReturnType<ProviderOps["diff"]>>;
  state: ResourceState;
}

/** The host adds `__provider` to what it returns; the engine stores it, this state leaves it out. */
function withoutProvider(props: PropertyMap): PropertyMap {
  const { __provider: _provider, ...rest } = props;
  return rest;
}

export class MiniStack {
  /** The checkpoint: resource name to its state. */
  readonly state = new Map<string, ResourceState>();

  /** `urnOf`: each resource's URN, as the engine sends it to the provider. */
  constructor(
    private readonly ops: ProviderOps,
    readonly urnOf: (name: string) => string = (name) => dynamicUrn(name),
  ) {}

  /**
   * `pulumi up` for one resource. With `check: false` Check is skipped, to send the provider inputs
   * that only the remote API can reject. A failed step leaves the state as it was, except a create the
   * provider reports as partial (an error carrying `id`), which is kept, as the engine does. (Through
   * the host a partial create shows only as `HostCallError.initFailed`; its properties are not decoded.)
   */
  async up(name: string, inputs: PropertyMap, options: { check?: boolean } = {}): Promise<UpResult> {
    const urn = this.urnOf(name);
    const old = this.state.get(name);
    let news = inputs;
    if (options.check ?? true) {
      const checked = await this.ops.check(urn, old?.inputs ?? {}, inputs);
      if (checked.failures.length > 0) {
        const failures = checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ");
        throw new Error(`check failed: ${failures}`);
      }
      news = withoutProvider(checked.inputs);
    }
    if (!old) return { operation: "create", state: await this.create(name, urn, news) };
    const diff = await this.ops.diff(old.id, urn, old.outputs, news);
    if (diff.replaces.length > 0) {
      if (diff.deleteBeforeReplace) {
        await this.ops.delete(old.id, urn, old.outputs);
        this.state.delete(name);
        return { operation: "replace", diff, state: await this.create(name, urn, news) };
      }
      const created = await this.create(name, urn, news);
      await this.ops.delete(old.id, urn, old.outputs);
      return { operation: "replace", diff, state: created };
    }
    if (diff.changes === "none") return { operation: "same", diff, state: old };
    const updated = await this.ops.update(old.id, urn, old.outputs, news);
    const state = { urn, id: old.id, inputs: news, outputs: withoutProvider(updated.properties) };
    this.state.set(name, state);
    return { operation: "update", diff, state };
  }

  /** `pulumi refresh` of one resource: "dropped" when the provider reads it back as gone. */
  async refresh(name: string): Promise<"refreshed" | "dropped"> {
    const old = this.mustGet(name);
    const read = await this.ops.read(old.id, old.urn, old.outputs, old.inputs);
    if (read.id === "") {
      this.state.delete(name);
      return "dropped";
    }
    this.state.set(name, {
      urn: old.urn,
      id: read.id,
      inputs: read.inputs ? withoutProvider(read.inputs) : old.inputs,
      outputs: withoutProvider(read.properties),
    });
    return "refreshed";
  }

  /** `pulumi destroy` of one resource; on failure it stays in the state. */
  async destroy(name: string): Promise<void> {
    const old = this.mustGet(name);
    await this.ops.delete(old.id, old.urn, old.outputs);
    this.state.delete(name);
  }

  private async create(name: string, urn: string, inputs: PropertyMap): Promise<ResourceState> {
    try {
      const created = await this.ops.create(urn, inputs);
      const state = { urn, id: created.id, inputs, outputs: withoutProvider(created.properties) };
      this.state.set(name, state);
      return state;
    } catch (e) {
      const partial = e as { id?: unknown; properties?: PropertyMap };
      if (typeof partial.id === "string" && partial.id !== "") {
        this.state.set(name, { urn, id: partial.id, inputs, outputs: partial.properties ?? {} });
      }
      throw e;
    }
  }

  private mustGet(name: string): ResourceState {
    const state = this.state.get(name);
    if (!state) throw new Error(`${name} is not in the state`);
    return state;
  }
}
