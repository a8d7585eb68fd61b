/**
 * Provisioning order from recorded registrations: which resources wait for which, and the longest chain
 * of dependent remote steps (the critical path of `pulumi up` when every step takes the same time).
 */
import type { RecordedResource } from "./pulumi";

/** Resources that run a step on a host or on the machine running Pulumi. */
export const STEP_TYPES: readonly string[] = ["command:remote:Command", "command:local:Command"];

const isStep = (r: RecordedResource) => STEP_TYPES.includes(r.type);

/**
 * The custom resources each custom resource waits for, as the engine orders them: a dependency on a
 * component stands for every custom resource under it, and a resource also waits for whatever its parent
 * components wait for (a child is registered only once its parent is). Throws on a repeated name or an
 * unrecorded dependency.
 */
export function dependencyGraph(resources: readonly RecordedResource[]): Map<string, string[]> {
  const byName = new Map<string, RecordedResource>();
  const children = new Map<string, RecordedResource[]>();
  for (const r of resources) {
    if (byName.has(r.name)) throw new Error(`two resources are named ${r.name}`);
    byName.set(r.name, r);
    if (r.parent === undefined) continue;
    const siblings = children.get(r.parent);
    if (siblings === undefined) children.set(r.parent, [r]);
    else siblings.push(r);
  }
  const customsUnder = (name: string): string[] => {
    const r = byName.get(name);
    if (r === undefined) throw new Error(`a dependency on ${name}, which was not recorded`);
    if (r.custom) return [name];
    return (children.get(name) ?? []).flatMap((c) => customsUnder(c.name));
  };
  const waitsOn = (r: RecordedResource): string[] => {
    const parent = r.parent === undefined ? undefined : byName.get(r.parent);
    return [...r.dependsOn, ...(parent !== undefined && !parent.custom ? waitsOn(parent) : [])];
  };
  return new Map(
    resources
      .filter((r) => r.custom)
      .map((r) => [r.name, [...new Set(waitsOn(r).flatMap(customsUnder))].sort()]),
  );
}

/**
 * For every custom resource, the longest chain of steps that must finish before it can finish (it
 * included, when it is a step), first step first. Resources that are not steps count for nothing but
 * pass the wait on. Ties go to the alphabetically first dependency, so chains are stable.
 */
export function longestChains(resources: readonly RecordedResource[]): Map<string, string[]> {
  const graph = dependencyGraph(resources);
  const steps = new Set(resources.filter(isStep).map((r) => r.name));
  const chains = new Map<string, string[]>();
  const visiting = new Set<string>();
  const chainTo = (name: string): string[] => {
    const known = chains.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) throw new Error(`dependency cycle through ${name}`);
    visiting.add(name);
    let longest: string[] = [];
    for (const dep of graph.get(name) ?? []) {
      const chain = chainTo(dep);
      if (chain.length > longest.length) longest = chain;
    }
    const chain = steps.has(name) ? [...longest, name] : longest;
    visiting.delete(name);
    chains.set(name, chain);
    return chain;
  };
  for (const name of graph.keys()) chainTo(name);
  return chains;
}

/**
 * The longest chain of dependent steps in the program (the critical path), or the longest of those that
 * end on a resource `endsOn` accepts; first step first.
 */
export function longestChain(
  resources: readonly RecordedResource[],
  endsOn: (r: RecordedResource) => boolean = () => true,
): string[] {
  const chains = longestChains(resources);
  let longest: string[] = [];
  for (const name of resources
    .filter(endsOn)
    .map((r) => r.name)
    .sort()) {
    const chain = chains.get(name) ?? [];
    if (chain.length > longest.length) longest = chain;
  }
  return longest;
}
