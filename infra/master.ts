/**
 * MesosMaster: one master host's mesos-master and Marathon, a step each (config files, then the service)
 * with a readiness gate after it. mesos-slave is kept off the host; mesos-master is configured once the
 * ZooKeeper ensemble is ready, Marathon once this master sees an elected leader.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import type { InitSystem, MarathonSettings, MasterNode, MesosSettings } from "./config";
import { fileSetPart } from "./render/files";
import { marathonFiles } from "./render/marathon";
import { masterFiles, mesosZkFile } from "./render/mesos";
import { marathonPingStep, mesosMasterElectedStep } from "./render/readiness";
import { serviceDisabledPart, serviceRunningPart } from "./render/services";
import { configDigest, hostStep, type HostStep } from "./render/shell";

export const MESOS_MASTER_TYPE = "mesos-cluster:mesos:MesosMaster";

export interface MesosMasterArgs {
  /** The host: its name (stable resource names) and private address, advertised everywhere. */
  readonly node: Pick<MasterNode, "name" | "ip">;
  /** How to reach the host over SSH. */
  readonly connection: pulumi.Input<types.input.remote.ConnectionArgs>;
  /** `zk://…/mesos`, written to /etc/mesos/zk and given to Marathon as its master. */
  readonly mesosZkUrl: string;
  /** `zk://…/marathon`, Marathon's state store. */
  readonly marathonZkUrl: string;
  /** Masters that must agree on the replicated log: a strict majority. */
  readonly quorum: number;
  /** The master port and extra master flags (one file each). */
  readonly mesos: Pick<MesosSettings, "masterPort" | "masterFlags">;
  /** Marathon's config style, HTTP port and extra flags. */
  readonly marathon: Pick<MarathonSettings, "configStyle" | "httpPort" | "flags">;
  /** How services are enabled, started and disabled on the host. */
  readonly initSystem: InitSystem;
  /** Seconds to wait for an elected master and for Marathon's /ping. */
  readonly readinessTimeoutSeconds: number;
  /** Steps that must finish before anything is configured (the host's packages). @default - none */
  readonly installed?: pulumi.Resource[];
  /**
   * Steps that must finish before mesos-master is configured (the ZooKeeper ensemble's gates).
   * @default - none
   */
  readonly zooKeeperReady?: pulumi.Resource[];
  /** Run scripts with `sudo -n`; false when the SSH user is root. @default true */
  readonly sudo?: boolean;
}

/** Configures and starts mesos-master and Marathon on one master host, and waits for both to answer. */
export class MesosMaster extends pulumi.ComponentResource {
  /** `http://<ip>:5050`. */
  public readonly mesosUrl: pulumi.Output<string>;
  /** `http://<ip>:8080`. */
  public readonly marathonUrl: pulumi.Output<string>;
  /** Passes once this master sees an elected leading master. */
  public readonly elected: pulumi.Resource;
  /** Passes once Marathon on this host answers /ping. */
  public readonly marathonReady: pulumi.Resource;

  constructor(name: string, args: MesosMasterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MESOS_MASTER_TYPE, name, {}, opts);
    const { node, connection } = args;
    const options = { sudo: args.sudo ?? true, initSystem: args.initSystem };
    const step = (id: string, hostStep: HostStep, dependsOn: pulumi.Resource[], triggers?: string[]) =>
      new remote.Command(
        `${name}-${id}`,
        { connection, triggers, ...hostStep },
        { parent: this, dependsOn, deleteBeforeReplace: true },
      );

    const mesosConfig = [
      mesosZkFile(args.mesosZkUrl),
      ...masterFiles({
        ip: node.ip,
        quorum: args.quorum,
        port: args.mesos.masterPort,
        flags: args.mesos.masterFlags,
      }),
    ];
    const mesosDigest = configDigest(mesosConfig);
    const mesosMaster = step(
      "mesos-master",
      hostStep(
        [
          fileSetPart("mesos-master", mesosConfig),
          serviceDisabledPart("mesos-slave", options),
          serviceRunningPart("mesos-master", mesosDigest, options),
        ],
        options,
      ),
      [...(args.installed ?? []), ...(args.zooKeeperReady ?? [])],
    );
    this.elected = step(
      "mesos-master-elected",
      mesosMasterElectedStep(node.ip, args.mesos.masterPort, args.readinessTimeoutSeconds),
      [mesosMaster],
      [mesosDigest],
    );

    const marathonConfig = marathonFiles({
      style: args.marathon.configStyle,
      ip: node.ip,
      masterUrl: args.mesosZkUrl,
      zkUrl: args.marathonZkUrl,
      httpPort: args.marathon.httpPort,
      flags: args.marathon.flags,
    });
    const marathonDigest = configDigest(marathonConfig);
    const marathon = step(
      "marathon",
      hostStep(
        [fileSetPart("marathon", marathonConfig), serviceRunningPart("marathon", marathonDigest, options)],
        options,
      ),
      [this.elected],
    );
    this.marathonReady = step(
      "marathon-ping",
      marathonPingStep(node.ip, args.marathon.httpPort, args.readinessTimeoutSeconds),
      [marathon],
      [marathonDigest],
    );

    this.mesosUrl = pulumi.output(`http://${node.ip}:${args.mesos.masterPort}`);
    this.marathonUrl = pulumi.output(`http://${node.ip}:${args.marathon.httpPort}`);
    this.registerOutputs({ mesosUrl: this.mesosUrl, marathonUrl: this.marathonUrl });
  }
}
