/** The stack program: the machines (with Vagrant) or existing hosts, the cluster on them, then its apps. */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { types } from "@pulumi/command";
import { MarathonApps } from "./apps";
import { MesosCluster, type ClusterHost } from "./cluster";
import type { ClusterLayout } from "./changes";
import { loadConfig, type LoadedConfig } from "./config";
import { ChangeGuard } from "./guard";
import { vagrantMachinesOf } from "./render/vagrantfile";
import { VagrantMachines } from "./vagrant";

/** The stack outputs. */
export interface StackOutputs {
  mesosUrl?: pulumi.Output<string>;
  marathonUrls: pulumi.Output<string[]>;
  zkConnectString?: pulumi.Output<string>;
  hosts: pulumi.Output<ClusterHost[]>;
  /** `host:port` of the running tasks of each Marathon app, by app id. */
  endpoints: pulumi.Output<Record<string, string[]>>;
}

type Connections = Record<string, pulumi.Input<types.input.remote.ConnectionArgs>>;

/** What the change guard compares between two runs. */
function layoutOf(config: LoadedConfig): ClusterLayout {
  const { provider, box, directory } = config.vagrant;
  return {
    hosts: config.hosts,
    ...(config.hosts === "vagrant" ? { vagrant: { provider, box, directory } } : {}),
    masters: config.masters,
    slaves: config.slaves,
    zookeeper: config.zookeeper,
    agent: { attributes: config.mesos.attributes, resources: config.mesos.resources },
  };
}

/**
 * The change guard: refuses an unsafe change of the running cluster before any host step runs (they all
 * wait for it), and warns about what a safe one will restart.
 */
function changeGuard(config: LoadedConfig): ChangeGuard {
  const guard = new ChangeGuard("cluster-changes", layoutOf(config));
  guard.notices.apply((notices) => {
    for (const notice of notices ?? []) void pulumi.log.warn(notice, guard);
  });
  return guard;
}

/** SSH connections to every host: to the machines Vagrant made, or to the given addresses. */
function hostConnections(config: LoadedConfig, after: pulumi.Resource[]): Connections {
  const { ssh } = config;
  if (config.hosts === "vagrant") {
    const machines = new VagrantMachines("vagrant", {
      machines: vagrantMachinesOf(config),
      settings: config.vagrant,
      prefixLength: Number(config.network.split("/")[1]),
      directory: path.resolve(config.vagrant.directory, pulumi.getStack()),
      user: ssh.user,
      dialErrorLimit: ssh.dialErrorLimit,
      perDialTimeout: ssh.perDialTimeout,
      after,
    });
    return machines.connections;
  }
  return Object.fromEntries(
    [...config.masters, ...config.slaves].map((host) => [
      host.name,
      {
        host: host.ip,
        port: ssh.port,
        user: ssh.user,
        privateKey: ssh.privateKey,
        dialErrorLimit: ssh.dialErrorLimit,
        perDialTimeout: ssh.perDialTimeout,
      },
    ]),
  );
}

/** Build the stack from `config` (read from the stack config by default). */
export function program(config: LoadedConfig = loadConfig()): StackOutputs {
  const guard = config.masters.length === 0 ? undefined : changeGuard(config);
  const cluster =
    guard === undefined
      ? undefined
      : new MesosCluster("mesos", {
          masters: config.masters,
          slaves: config.slaves,
          connections: hostConnections(config, [guard]),
          quorum: config.quorum,
          initSystem: config.initSystem,
          packages: config.packages,
          zookeeper: config.zookeeper,
          mesos: config.mesos,
          marathon: config.marathon,
          readinessTimeoutSeconds: config.readinessTimeoutSeconds,
          after: [guard],
          converge: config.converge === "" ? undefined : config.converge,
          sudo: config.ssh.user !== "root",
        });

  // Apps go to the Marathon given by URL, or else to this cluster's masters once Marathon answers there
  // and the agents run (so that destroy also removes the apps before the agents go).
  const external = config.marathon.endpoints.length > 0 || cluster === undefined;
  const apps = new MarathonApps(
    "apps",
    {
      apps: config.apps,
      endpoints: external ? config.marathon.endpoints : cluster.marathonUrls,
      deploymentTimeoutMs: config.marathon.deploymentTimeoutMs,
    },
    { dependsOn: external ? [] : [...cluster.marathonReady, ...cluster.agentsRunning] },
  );

  return {
    mesosUrl: cluster?.mesosUrl,
    marathonUrls: cluster?.marathonUrls ?? pulumi.output(config.marathon.endpoints),
    zkConnectString: cluster?.zkConnectString,
    hosts: cluster?.hosts ?? pulumi.output([]),
    endpoints: apps.endpoints,
  };
}

/** The outputs that exist for this stack: an apps-only stack has no Mesos UI and no ZooKeeper. */
export function definedOutputs(outputs: StackOutputs): Partial<StackOutputs> {
  return Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined));
}
