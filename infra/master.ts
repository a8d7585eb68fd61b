/**
 * MesosMaster: one master host's mesos-master and Marathon, a step each (config files, then the service)
 * with a readiness gate after it. mesos-slave is kept off the host; mesos-master is configured once the
 * ZooKeeper ensemble is ready, Marathon once this master sees an elected leader. Masters change one at a
 * time: each step waits for the previous master's step of the same service, and a step that restarts a
 * running service waits until it answers again (an elected leader, `/ping`).
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import type { InitSystem, MarathonSettings, MasterNode, MesosSettings } from "./config";
import { fileSetPart } from "./render/files";
import { marathonFiles } from "./render/marathon";
import { masterFiles, mesosZkFile } from "./render/mesos";
import {
  marathonPingProbe,
  marathonPingStep,
  mesosElectedProbe,
  mesosMasterElectedStep,
} from "./render/readiness";
import { serviceDisabledPart, serviceRunningPart } from "./render/services";
import { configDigest, hostStep, type HostStep, type ScriptPart } from "./render/shell";

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
  /** The previous master, whose steps this master's steps wait for (one master at a time). @default - none */
  readonly previous?: MesosMaster;
  /** Steps that every step of this master waits for (the change guard). @default - none */
  readonly after?: pulumi.Resource[];
  /** The stack's converge stamp, written into every step's script. @default - none */
  readonly converge?: string;
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
  /** The step that configures and (re)starts mesos-master. */
  public readonly mesosMasterStep: pulumi.Resource;
  /** The step that configures and (re)starts Marathon. */
  public readonly marathonStep: pulumi.Resource;

  constructor(name: string, args: MesosMasterArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MESOS_MASTER_TYPE, name, {}, opts);
    const { node, connection } = args;
    const sudo = args.sudo ?? true;
    const service = { sudo, initSystem: args.initSystem };
    const after = args.after ?? [];
    const timeoutSeconds = args.readinessTimeoutSeconds;
    const step = (id: string, parts: ScriptPart[], dependsOn: pulumi.Resource[]) =>
      new remote.Command(
        `${name}-${id}`,
        { connection, ...hostStep(parts, { sudo, owner: `${name}-${id}`, converge: args.converge }) },
        { parent: this, dependsOn: [...after, ...dependsOn], deleteBeforeReplace: true },
      );
    const gate = (id: string, gateStep: HostStep, dependsOn: pulumi.Resource, digest: string) =>
      new remote.Command(
        `${name}-${id}`,
        { connection, triggers: [digest], ...gateStep },
        { parent: this, dependsOn: [dependsOn] },
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
    this.mesosMasterStep = step(
      "mesos-master",
      [
        fileSetPart("mesos-master", mesosConfig),
        serviceDisabledPart("mesos-slave", service),
        serviceRunningPart("mesos-master", mesosDigest, service, {
          probe: mesosElectedProbe(node.ip, args.mesos.masterPort),
          timeoutSeconds,
        }),
      ],
      [
        ...(args.installed ?? []),
        ...(args.zooKeeperReady ?? []),
        ...(args.previous ? [args.previous.mesosMasterStep] : []),
      ],
    );
    this.elected = gate(
      "mesos-master-elected",
      mesosMasterElectedStep(node.ip, args.mesos.masterPort, timeoutSeconds, args.converge),
      this.mesosMasterStep,
      mesosDigest,
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
    this.marathonStep = step(
      "marathon",
      [
        fileSetPart("marathon", marathonConfig),
        serviceRunningPart("marathon", marathonDigest, service, {
          probe: marathonPingProbe(node.ip, args.marathon.httpPort),
          timeoutSeconds,
        }),
      ],
      [this.elected, ...(args.previous ? [args.previous.marathonStep] : [])],
    );
    this.marathonReady = gate(
      "marathon-ping",
      marathonPingStep(node.ip, args.marathon.httpPort, timeoutSeconds, args.converge),
      this.marathonStep,
      marathonDigest,
    );

    this.mesosUrl = pulumi.output(`http://${node.ip}:${args.mesos.masterPort}`);
    this.marathonUrl = pulumi.output(`http://${node.ip}:${args.marathon.httpPort}`);
    this.registerOutputs({ mesosUrl: this.mesosUrl, marathonUrl: this.marathonUrl });
  }
}
