/** MesosSlave: one agent host's mesos-slave; mesos-master and ZooKeeper are kept off the host. */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import type { InitSystem, MesosSettings, SlaveNode } from "./config";
import { writeFileStep } from "./render/files";
import { agentFiles, mesosZkFile } from "./render/mesos";
import { serviceDisabledStep, serviceRunningStep } from "./render/services";
import { configDigest, type HostStep } from "./render/shell";
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
  /** Steps that must finish before any file is written (the host's packages). @default - none */
  readonly installed?: pulumi.Resource[];
  /** Steps that must finish before mesos-slave starts (the ZooKeeper ensemble's gates). @default - none */
  readonly zooKeeperReady?: pulumi.Resource[];
  /** Run scripts with `sudo -n`; false when the SSH user is root. @default true */
  readonly sudo?: boolean;
}

/** Configures and starts mesos-slave on one agent host. */
export class MesosSlave extends pulumi.ComponentResource {
  /** `http://<ip>:5051`. */
  public readonly agentUrl: pulumi.Output<string>;
  /** The step that (re)starts mesos-slave. */
  public readonly service: pulumi.Resource;

  constructor(name: string, args: MesosSlaveArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MESOS_SLAVE_TYPE, name, {}, opts);
    const { node, connection } = args;
    const options = { sudo: args.sudo ?? true, initSystem: args.initSystem };
    const installed = args.installed ?? [];
    const step = (id: string, hostStep: HostStep, dependsOn: pulumi.Resource[]) =>
      new remote.Command(
        `${name}-${id}`,
        { connection, ...hostStep },
        { parent: this, dependsOn, deleteBeforeReplace: true },
      );

    const config = [
      mesosZkFile(args.mesosZkUrl),
      ...agentFiles({
        ip: node.ip,
        port: args.mesos.agentPort,
        flags: args.mesos.agentFlags,
        attributes: args.mesos.attributes,
        resources: args.mesos.resources,
      }),
    ];
    const written = config.map((f) => step(f.id, writeFileStep(f, options), installed));
    const disabled = ["mesos-master", ZOOKEEPER_SERVICE].map((svc) =>
      step(`${svc}-disabled`, serviceDisabledStep(svc, options), installed),
    );
    this.service = step(
      "mesos-slave-service",
      serviceRunningStep("mesos-slave", configDigest(config), options),
      [...written, ...disabled, ...(args.zooKeeperReady ?? [])],
    );

    this.agentUrl = pulumi.output(`http://${node.ip}:${args.mesos.agentPort}`);
    this.registerOutputs({ agentUrl: this.agentUrl });
  }
}
