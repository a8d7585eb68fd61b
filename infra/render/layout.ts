/** Checks of a cluster layout that components make before registering anything. */
import type { MasterNode, SlaveNode } from "../config";

/** The strict majority of `masters` masters. */
export function strictMajority(masters: number): number {
  return Math.floor(masters / 2) + 1;
}

/** Problems with a ZooKeeper ensemble's members, as messages naming the member. */
export function ensembleProblems(members: readonly MasterNode[]): string[] {
  const problems: string[] = [];
  if (members.length === 0) problems.push("members must list at least one ZooKeeper server");
  const seen = new Map<number, string>();
  for (const m of members) {
    if (!Number.isInteger(m.zkId) || m.zkId < 1 || m.zkId > 255) {
      problems.push(`member ${m.name} has zkId ${m.zkId}; it must be an integer from 1 to 255`);
    }
    const other = seen.get(m.zkId);
    if (other !== undefined) problems.push(`members ${other} and ${m.name} share zkId ${m.zkId}`);
    seen.set(m.zkId, m.name);
  }
  return problems;
}

/** Problems with the hosts of a cluster: names unique, a connection for each, a usable quorum. */
export function clusterProblems(
  masters: readonly MasterNode[],
  slaves: readonly SlaveNode[],
  quorum: number,
  connectionNames: readonly string[],
): string[] {
  const problems = ensembleProblems(masters).map((p) =>
    p.replace(/^members?/, (w) => w.replace("member", "master")),
  );
  const names = [...masters, ...slaves].map((h) => h.name);
  const duplicate = names.filter((n, i) => names.indexOf(n) !== i);
  if (duplicate.length > 0)
    problems.push(`host names must be unique; repeated: ${[...new Set(duplicate)].join(", ")}`);
  const missing = names.filter((n) => !connectionNames.includes(n));
  if (missing.length > 0) problems.push(`connections has no entry for host(s) ${missing.join(", ")}`);
  const majority = strictMajority(masters.length);
  if (!Number.isInteger(quorum) || quorum < majority || quorum > masters.length) {
    problems.push(
      `quorum must be from ${majority} to ${masters.length} for ${masters.length} masters, got ${quorum}`,
    );
  }
  return problems;
}
