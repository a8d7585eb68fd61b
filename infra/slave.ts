/**
 * MesosSlave: one agent host's mesos-slave, in one step once the ZooKeeper ensemble is ready: packages,
 * config files, mesos-master and ZooKeeper kept off the host, then the service. One step per agent keeps
 * large clusters light: a plan registers two resources per agent. A change of the agent info (attributes,
 * resources, address) restarts the agent without its checkpointed agent info, as Mesos requires.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import type { InitSystem, MesosSettings, SlaveNode } from "./config";
import { fileSetPart } from "./render/files";
import { agentFiles, agentInfoFiles, agentInfoPart, mesosZkFile } from "./render/mesos";
import { packageParts, type AptSource, type PackagePin } from "./render/packages";
import { agentStateProbe } from "./render/readiness";
import { serviceDisabledPart, serviceRunningPart, stopIfRunning } from "./render/services";
import { configDigest, hostStep } from "./render/shell";
import { ZOOKEEPER_SERVICE } from "./zookeeper";

export const MESOS_SLAVE_TYPE = "mesos-cluster:mesos:MesosSlave";

export interface MesosSlaveArgs {
  /** The host: its name (stable resource names) and private address, advertised everywhere. */
  readonly node: SlaveNode;
  /** How to reach the host over SSH. */
  readonly connection: pulumi.Input<types.input.remote.ConnectionArgs>;
  /** `zk://…/mesos`, written to /etc/mesos/zk: how the agent finds the leading master. */
  readonly mesosZkUrl: string;
  /** The agent port, extra agent flags, attributes and resources (one file each). */
  readonly mesos: Pick<MesosSettings, "agentPort" | "agentFlags" | "attributes" | "resources">;
  /** How services are enabled, started and disabled on the host. */
  readonly initSystem: InitSystem;
  /** Packages to install in one transaction (`name=version` when pinned). @default - none */
  readonly packages?: readonly PackagePin[];
  /** The apt source to add (and whose key to import) first. @default - apt sources are left alone */
  readonly aptSource?: AptSource;
  /**
   * Steps that must finish before mesos-slave is set up (the ZooKeeper ensemble's gates).
   * @default - none
   */
  readonly zooKeeperReady?: pulumi.Resource[];
  /** Steps the agent's step waits for (the change guard). @default - none */
  readonly after?: pulumi.Resource[];
  /** Seconds a restarted agent may take to serve again before the step fails. */
  readonly readinessTimeoutSeconds: number;
  /** The stack's converge stamp, written into the step's script. @default - none */
  readonly converge?: string;
  /** Run scripts with `sudo -n`; false when the SSH user is root. @default true */
  readonly sudo?: boolean;
}

/** Configures and starts mesos-slave on one agent host. */
export class MesosSlave extends pulumi.ComponentResource {
  /** `http://<ip>:5051`. */
  public readonly agentUrl: pulumi.Output<string>;
  /** The step that installs, configures and (re)starts mesos-slave. */
  public readonly service: pulumi.Resource;

  constructor(name: string, args: MesosSlaveArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MESOS_SLAVE_TYPE, name, {}, opts);
    const sudo = args.sudo ?? true;
    const service = { sudo, initSystem: args.initSystem };
    const config = [
      mesosZkFile(args.mesosZkUrl),
      ...agentFiles({
        ip: args.node.ip,
        port: args.mesos.agentPort,
        flags: args.mesos.agentFlags,
        attributes: args.mesos.attributes,
        resources: args.mesos.resources,
      }),
    ];
    const stepName = `${name}-mesos-slave`;
    this.service = new remote.Command(
      stepName,
      {
        connection: args.connection,
        ...hostStep(
          [
            ...packageParts(args.packages ?? [], args.aptSource),
            fileSetPart("mesos-slave", config),
            ...["mesos-master", ZOOKEEPER_SERVICE].map((svc) => serviceDisabledPart(svc, service)),
            agentInfoPart(
              configDigest(agentInfoFiles(config)),
              stopIfRunning("mesos-slave", service, "to reset its agent info"),
            ),
            serviceRunningPart("mesos-slave", configDigest(config), service, {
              probe: agentStateProbe(args.node.ip, args.mesos.agentPort),
              timeoutSeconds: args.readinessTimeoutSeconds,
            }),
          ],
          { sudo, owner: stepName, converge: args.converge },
        ),
      },
      {
        parent: this,
        dependsOn: [...(args.after ?? []), ...(args.zooKeeperReady ?? [])],
        deleteBeforeReplace: true,
      },
    );

    this.agentUrl = pulumi.output(`http://${args.node.ip}:${args.mesos.agentPort}`);
    this.registerOutputs({ agentUrl: this.agentUrl });
  }
}
