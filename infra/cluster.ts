/**
 * MesosCluster: the seed's highly available cluster. Order: packages on the masters, then ZooKeeper on
 * all of them, then (once the ensemble has a quorum) mesos-master and, after an election, Marathon; each
 * agent is installed and started in one step once the ensemble is ready. ZooKeeper, mesos-master and
 * Marathon change on one master at a time, in the order of `masters`.
 */
import * as pulumi from "@pulumi/pulumi";
import { types } from "@pulumi/command";
import type {
  InitSystem,
  MarathonSettings,
  MasterNode,
  MesosSettings,
  PackageSettings,
  SlaveNode,
  ZooKeeperSettings,
} from "./config";
import { MesosMaster } from "./master";
import { HostPackages } from "./packages";
import { clusterProblems } from "./render/layout";
import { rolePackages } from "./render/packages";
import { zkUrl } from "./render/zookeeper";
import { MesosSlave } from "./slave";
import { ZooKeeperEnsemble } from "./zookeeper";

export const MESOS_CLUSTER_TYPE = "mesos-cluster:cluster:MesosCluster";

/** A host of the cluster, as exported. */
export interface ClusterHost {
  name: string;
  ip: string;
  role: "master" | "slave";
}

/**
 * The cluster layout. Hosts and settings are plain values, not Inputs: they decide which steps exist and
 * what every file holds, so that a preview shows each file's new content.
 */
export interface MesosClusterArgs {
  /** Masters, each running ZooKeeper, mesos-master and Marathon; ZooKeeper ids unique in 1..255. */
  readonly masters: readonly MasterNode[];
  /** Agents running mesos-slave. @default - none */
  readonly slaves?: readonly SlaveNode[];
  /** SSH connection per host name; every master and slave needs one. */
  readonly connections: Readonly<Record<string, pulumi.Input<types.input.remote.ConnectionArgs>>>;
  /** Masters that must agree on the replicated log: a strict majority of the masters. */
  readonly quorum: number;
  /** How services are enabled, started and disabled on the hosts. */
  readonly initSystem: InitSystem;
  /** The apt source and the packages (with optional version pins) to install. */
  readonly packages: PackageSettings;
  readonly zookeeper: ZooKeeperSettings;
  /** Ports, extra flags, agent attributes and resources. */
  readonly mesos: Pick<
    MesosSettings,
    "masterPort" | "agentPort" | "masterFlags" | "agentFlags" | "attributes" | "resources"
  >;
  readonly marathon: Pick<MarathonSettings, "configStyle" | "httpPort" | "flags">;
  /** Seconds each readiness gate waits before the deployment fails. */
  readonly readinessTimeoutSeconds: number;
  /** Steps that every host step waits for (the change guard). @default - none */
  readonly after?: pulumi.Resource[];
  /** A stamp written into every host step's script: a new one runs every step again. @default - none */
  readonly converge?: string;
  /** Run scripts with `sudo -n`; false when the SSH user is root. @default true */
  readonly sudo?: boolean;
}

/** Composes HostPackages (on the masters), ZooKeeperEnsemble, MesosMaster and MesosSlave into one cluster. */
export class MesosCluster extends pulumi.ComponentResource {
  /** The Mesos web UI (any master redirects to the leader). */
  public readonly mesosUrl: pulumi.Output<string>;
  /** Marathon on every master, in config order. */
  public readonly marathonUrls: pulumi.Output<string[]>;
  /** ZooKeeper's connect string, `10.10.20.11:2181,…`. */
  public readonly zkConnectString: pulumi.Output<string>;
  public readonly hosts: pulumi.Output<ClusterHost[]>;
  /** Passes once Marathon answers on every master: what Marathon apps depend on. */
  public readonly marathonReady: pulumi.Resource[];
  /** The steps that start mesos-slave on every agent: apps need agents to run on. */
  public readonly agentsRunning: pulumi.Resource[];

  constructor(name: string, args: MesosClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MESOS_CLUSTER_TYPE, name, {}, opts);
    const slaves = args.slaves ?? [];
    const problems = clusterProblems(args.masters, slaves, args.quorum, Object.keys(args.connections));
    if (problems.length > 0) throw new pulumi.ResourceError(`${name}: ${problems.join("; ")}`, this);

    const sudo = args.sudo ?? true;
    const { after, converge } = args;
    const p = args.packages;
    const aptSource = p.manageSource ? { line: p.source, key: p.key, keyserver: p.keyserver } : undefined;
    const packagesOf = (host: MasterNode) =>
      new HostPackages(
        `${name}-${host.name}-packages`,
        {
          connection: args.connections[host.name],
          packages: rolePackages("master", p),
          aptSource,
          after,
          converge,
          sudo,
        },
        { parent: this },
      );
    const masterPackages = new Map(args.masters.map((m) => [m.name, packagesOf(m)]));

    const ensemble = new ZooKeeperEnsemble(
      `${name}-zookeeper`,
      {
        members: args.masters.map((node) => ({
          node,
          connection: args.connections[node.name],
          after: masterPackages.get(node.name)?.ready,
        })),
        settings: args.zookeeper,
        initSystem: args.initSystem,
        readinessTimeoutSeconds: args.readinessTimeoutSeconds,
        after,
        converge,
        sudo,
      },
      { parent: this },
    );

    const clientPort = args.zookeeper.clientPort;
    const mesosZkUrl = zkUrl(args.masters, clientPort, "/mesos");
    const marathonZkUrl = zkUrl(args.masters, clientPort, "/marathon");
    const masters: MesosMaster[] = [];
    for (const node of args.masters) {
      masters.push(
        new MesosMaster(
          `${name}-${node.name}`,
          {
            node,
            connection: args.connections[node.name],
            mesosZkUrl,
            marathonZkUrl,
            quorum: args.quorum,
            mesos: args.mesos,
            marathon: args.marathon,
            initSystem: args.initSystem,
            readinessTimeoutSeconds: args.readinessTimeoutSeconds,
            installed: masterPackages.get(node.name)?.ready,
            zooKeeperReady: ensemble.ready,
            previous: masters[masters.length - 1],
            after,
            converge,
            sudo,
          },
          { parent: this },
        ),
      );
    }
    const agents = slaves.map(
      (node) =>
        new MesosSlave(
          `${name}-${node.name}`,
          {
            node,
            connection: args.connections[node.name],
            mesosZkUrl,
            mesos: args.mesos,
            initSystem: args.initSystem,
            packages: rolePackages("slave", p),
            aptSource,
            zooKeeperReady: ensemble.ready,
            readinessTimeoutSeconds: args.readinessTimeoutSeconds,
            after,
            converge,
            sudo,
          },
          { parent: this },
        ),
    );

    this.mesosUrl = masters[0].mesosUrl;
    this.marathonUrls = pulumi.all(masters.map((m) => m.marathonUrl));
    this.zkConnectString = ensemble.connectString;
    this.hosts = pulumi.output([
      ...args.masters.map((m): ClusterHost => ({ name: m.name, ip: m.ip, role: "master" })),
      ...slaves.map((s): ClusterHost => ({ name: s.name, ip: s.ip, role: "slave" })),
    ]);
    this.marathonReady = masters.map((m) => m.marathonReady);
    this.agentsRunning = agents.map((a) => a.service);
    this.registerOutputs({
      mesosUrl: this.mesosUrl,
      marathonUrls: this.marathonUrls,
      zkConnectString: this.zkConnectString,
      hosts: this.hosts,
    });
  }
}
