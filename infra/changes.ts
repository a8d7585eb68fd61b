/**
 * Which changes of a running cluster's layout are safe, pure: the rules the change guard (infra/guard.ts)
 * applies to the layout of the last `pulumi up` and the new one, before any host step runs. A refusal
 * names the config key, why the change would hurt the running cluster, and the sequence of smaller changes
 * that reaches the same result safely. Notices say what a safe change will do to running services.
 *
 * Host identity: a host is its address. A name may change (the same address under a new name: the new
 * steps take the host over, the old ones leave it in place); an address may not change under the same
 * name, nor move between masters and slaves, in one `up`.
 */
import type { ZooKeeperSettings } from "./config";
import { strictMajority } from "./render/layout";

/** What the guard compares between two runs. Plain JSON: it is the guard's input, kept in the state. */
export interface ClusterLayout {
  hosts: "existing" | "vagrant";
  /** With `hosts: vagrant`: what every machine is made from. */
  vagrant?: { provider: string; box: string; directory: string };
  masters: { name: string; ip: string; zkId: number }[];
  slaves: { name: string; ip: string }[];
  zookeeper: ZooKeeperSettings;
  /** The agents' attributes and resources (their agent info). */
  agent: { attributes: Record<string, string>; resources: Record<string, string> };
}

/** A refused change: the config key and the reason, with the safe sequence. */
export interface ChangeFailure {
  property: string;
  reason: string;
}

type Host = { name: string; ip: string; role: "master" | "slave"; key: string };

function hostsOf(layout: ClusterLayout): Host[] {
  return [
    ...layout.masters.map((m, i) => ({
      name: m.name,
      ip: m.ip,
      role: "master" as const,
      key: `masters[${i}]`,
    })),
    ...layout.slaves.map((s, i) => ({ name: s.name, ip: s.ip, role: "slave" as const, key: `slaves[${i}]` })),
  ];
}

const listOf = (names: string[]): string => names.join(", ");

/** Host identity: addresses, roles and (with Vagrant) machine names. */
function identityProblems(old: ClusterLayout, next: ClusterLayout): ChangeFailure[] {
  const problems: ChangeFailure[] = [];
  const before = hostsOf(old);
  for (const host of hostsOf(next)) {
    const sameName = before.find((h) => h.name === host.name);
    if (sameName !== undefined && sameName.ip !== host.ip) {
      problems.push({
        property: `${host.key}.ip`,
        reason:
          `${host.name} moves from ${sameName.ip} to ${host.ip}, but a host is its address: its steps would run ` +
          `again on ${host.ip} and leave ${sameName.ip} as it is. Give the host at ${host.ip} a new name in ` +
          `the same up (the new name's steps set ${host.ip} up, the old ones clean ${sameName.ip} up)` +
          (host.role === "master" ? ", or remove the master in one up and add it back in the next" : ""),
      });
    }
    const sameIp = before.find((h) => h.ip === host.ip);
    if (sameIp !== undefined && sameIp.role !== host.role) {
      problems.push({
        property: host.key,
        reason:
          `${host.ip} moves from the ${sameIp.role}s (${sameIp.name}) to the ${host.role}s (${host.name}): ` +
          `the ${host.role}'s steps would run before the ${sameIp.role}'s are undone. Remove it from the ` +
          `${sameIp.role}s in one up, then add it to the ${host.role}s in the next`,
      });
    } else if (sameIp !== undefined && sameIp.name !== host.name && next.hosts === "vagrant") {
      problems.push({
        property: `${host.key}.name`,
        reason:
          `${sameIp.name} is renamed ${host.name}, but with hosts "vagrant" a name is its machine: Vagrant would ` +
          `create a second machine with ${host.ip} while the first still runs. Keep the name, or remove ` +
          `${sameIp.name} in one up and add ${host.name} in the next` +
          (host.role === "master" ? " (one master at a time)" : ""),
      });
    }
  }
  return problems;
}

/** Settings that make ZooKeeper members restart, apart from membership. */
const RESTARTING_SETTINGS = [
  "reconfigEnabled",
  "dataDir",
  "clientPort",
  "peerPort",
  "electionPort",
  "tickTime",
  "initLimit",
  "syncLimit",
] as const;

function zooKeeperSettingsChanged(old: ClusterLayout, next: ClusterLayout): string[] {
  return RESTARTING_SETTINGS.filter((k) => old.zookeeper[k] !== next.zookeeper[k]);
}

/** The ensemble: what may change between two runs, and how. */
function ensembleProblems(old: ClusterLayout, next: ClusterLayout): ChangeFailure[] {
  const problems: ChangeFailure[] = [];
  const before = new Map(old.masters.map((m) => [m.ip, m]));
  const after = new Map(next.masters.map((m) => [m.ip, m]));
  next.masters.forEach((m, i) => {
    const was = before.get(m.ip);
    if (was !== undefined && was.zkId !== m.zkId) {
      problems.push({
        property: `masters[${i}].zkId`,
        reason:
          `${m.name} (${m.ip}) changes its ZooKeeper id from ${was.zkId} to ${m.zkId}, which replaces an ` +
          `ensemble member. Remove ${m.name} from masters in one up (the ensemble drops server ${was.zkId}), ` +
          `then add it back with zkId ${m.zkId} in the next`,
      });
    }
    const other = old.masters.find((o) => o.zkId === m.zkId && o.ip !== m.ip && !after.has(o.ip));
    if (other !== undefined) {
      problems.push({
        property: `masters[${i}].zkId`,
        reason:
          `ZooKeeper id ${m.zkId} moves from ${other.ip} (${other.name}) to ${m.ip} (${m.name}) in one up. ` +
          `Remove ${other.name} in one up, then add ${m.name} in the next, or give ${m.name} an id of its own`,
      });
    }
  });
  if (problems.length > 0) return problems;

  const added = next.masters.filter((m) => !before.has(m.ip));
  const removed = old.masters.filter((m) => !after.has(m.ip));
  if (added.length === 0 && removed.length === 0) return [];
  const ids = (ms: { zkId: number }[]) => ms.map((m) => m.zkId).join(", ");
  const change = `the ZooKeeper ensemble changes from servers ${ids(old.masters)} to ${ids(next.masters)}`;
  if (!old.zookeeper.reconfigEnabled || !next.zookeeper.reconfigEnabled) {
    problems.push({
      property: "masters",
      reason:
        `${change}. Without zookeeper.reconfigEnabled (ZooKeeper 3.5 or later) every member would have to ` +
        `restart with the new server list, and the ensemble would elect a leader without a quorum. Set ` +
        `zookeeper.reconfigEnabled to true in an up of its own first (one member restarts at a time), then ` +
        `change the masters: members then join and leave by ZooKeeper's dynamic reconfiguration, and none restarts`,
    });
    return problems;
  }
  const settings = zooKeeperSettingsChanged(old, next);
  if (settings.length > 0) {
    problems.push({
      property: "masters",
      reason:
        `${change} while zookeeper.${settings.join(", zookeeper.")} change too. Change the masters and the ` +
        `ZooKeeper settings in separate ups`,
    });
  }
  const kept = next.masters.length - added.length;
  if (kept < strictMajority(old.masters.length)) {
    problems.push({
      property: "masters",
      reason:
        `${change}, removing ${listOf(removed.map((m) => m.name))}: a majority of the ${old.masters.length} ` +
        `masters must stay for the ensemble and the Mesos replicated log to keep their data. Remove at most ` +
        `${old.masters.length - strictMajority(old.masters.length)} master(s) per up`,
    });
  }
  if (added.length > kept) {
    problems.push({
      property: "masters",
      reason:
        `${change}, adding ${listOf(added.map((m) => m.name))} to ${kept} running master(s): the running ` +
        `masters must be at least half of the new ensemble. Add at most ${kept} master(s) per up`,
    });
  }
  return problems;
}

function vagrantProblems(old: ClusterLayout, next: ClusterLayout): ChangeFailure[] {
  const hadHosts = old.masters.length + old.slaves.length > 0;
  if (!hadHosts) return [];
  if (old.hosts !== next.hosts) {
    return [
      {
        property: "hosts",
        reason:
          `hosts changes from "${old.hosts}" to "${next.hosts}" while the cluster runs: the hosts would be ` +
          `configured anew without the old ones being undone. Run pulumi destroy, then change hosts and run ` +
          `pulumi up`,
      },
    ];
  }
  if (next.hosts !== "vagrant" || old.vagrant === undefined || next.vagrant === undefined) return [];
  const was = old.vagrant;
  const now = next.vagrant;
  return (["provider", "box", "directory"] as const)
    .filter((k) => was[k] !== now[k])
    .map((k) => ({
      property: `vagrant.${k}`,
      reason:
        `vagrant.${k} changes from "${was[k]}" to "${now[k]}": every machine is built from it, so every ` +
        `machine would be destroyed and created again at once (the whole cluster down, ZooKeeper's data ` +
        `lost). Keep vagrant.${k} while the machines run; to move the cluster, run pulumi destroy, change ` +
        `vagrant.${k}, and run pulumi up`,
    }));
}

/** Everything that refuses the change from `old` (undefined: the first up) to `next`. */
export function changeProblems(old: ClusterLayout | undefined, next: ClusterLayout): ChangeFailure[] {
  if (old === undefined) return [];
  const identity = identityProblems(old, next);
  if (identity.length > 0) return identity;
  return [...vagrantProblems(old, next), ...ensembleProblems(old, next)];
}

const sameMap = (a: Record<string, string>, b: Record<string, string>): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** What a safe change will do to running services, as warnings for the preview. */
export function changeNotices(old: ClusterLayout | undefined, next: ClusterLayout): string[] {
  if (old === undefined) return [];
  const notices: string[] = [];
  const before = hostsOf(old);
  for (const host of hostsOf(next)) {
    const was = before.find((h) => h.ip === host.ip && h.name !== host.name && h.role === host.role);
    if (was !== undefined) {
      notices.push(
        `${was.name} is renamed ${host.name} (same address ${host.ip}): ${host.name}'s steps take the host's ` +
          `files, services and packages over, and ${was.name}'s deletes leave them in place`,
      );
    }
  }
  const agentInfo = !sameMap(old.agent.attributes, next.agent.attributes)
    ? "mesos.attributes"
    : !sameMap(old.agent.resources, next.agent.resources)
      ? "mesos.resources"
      : undefined;
  const agentsKept = next.slaves.filter((s) => old.slaves.some((o) => o.ip === s.ip));
  if (agentInfo !== undefined && agentsKept.length > 0) {
    notices.push(
      `${agentInfo} changes: mesos-slave restarts on ${listOf(agentsKept.map((s) => s.name))} without its ` +
        `checkpointed agent info (<work_dir>/meta/slaves/latest), so each registers as a new agent and the ` +
        `tasks running there are restarted (Marathon launches them again)`,
    );
  }
  const settings = zooKeeperSettingsChanged(old, next);
  if (settings.includes("dataDir")) {
    notices.push(
      `zookeeper.dataDir changes from ${old.zookeeper.dataDir} to ${next.zookeeper.dataDir}: one master at ` +
        `a time, ZooKeeper stops, its data is copied to the new directory (the old one is kept) and it ` +
        `starts again before the next master's turn`,
    );
  } else if (settings.length > 0) {
    notices.push(
      `zookeeper.${settings.join(", zookeeper.")} change: ZooKeeper restarts on one master at a time, each ` +
        `back in the quorum before the next; when the leader restarts, the others elect a new one`,
    );
  }
  const ids = (ms: { zkId: number }[]) => ms.map((m) => m.zkId).join(", ");
  if (
    ids(old.masters.slice().sort((a, b) => a.zkId - b.zkId)) !==
    ids(next.masters.slice().sort((a, b) => a.zkId - b.zkId))
  ) {
    notices.push(
      `the ZooKeeper ensemble changes from servers ${ids(old.masters)} to ${ids(next.masters)} by dynamic ` +
        `reconfiguration: new members start first, running members do not restart, removed ones stop last`,
    );
  }
  return notices;
}
