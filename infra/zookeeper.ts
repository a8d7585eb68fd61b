/** ZooKeeperEnsemble: ZooKeeper configured and running on every member, with a readiness gate per member. */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import type { InitSystem, MasterNode, ZooKeeperSettings } from "./config";
import { fileSetPart } from "./render/files";
import { ensembleProblems } from "./render/layout";
import { zooKeeperReadyStep } from "./render/readiness";
import { serviceRunningPart } from "./render/services";
import { configDigest, hostStep } from "./render/shell";
import { connectString, MYID_PATH, myidFile, zooCfgFile } from "./render/zookeeper";

export const ZOOKEEPER_ENSEMBLE_TYPE = "mesos-cluster:zookeeper:ZooKeeperEnsemble";

/** The init service of the `zookeeperd` package. */
export const ZOOKEEPER_SERVICE = "zookeeper";

/** One ensemble member: a master host. */
export interface ZooKeeperMember {
  /** The host: its name (stable resource names), private address and ZooKeeper id. */
  readonly node: MasterNode;
  /** How to reach the host over SSH. */
  readonly connection: pulumi.Input<types.input.remote.ConnectionArgs>;
  /** Steps that must finish before this member is configured (its packages). @default - none */
  readonly after?: pulumi.Resource[];
}

export interface ZooKeeperEnsembleArgs {
  /**
   * The members, in the order their `server.N` lines are written. Plain, not an Input: each member
   * becomes steps named after it.
   */
  readonly members: readonly ZooKeeperMember[];
  /** Ports, timing and data directory. */
  readonly settings: ZooKeeperSettings;
  /** How services are enabled, started and disabled on the members. */
  readonly initSystem: InitSystem;
  /** Seconds each member may take to join a quorum before the deployment fails. */
  readonly readinessTimeoutSeconds: number;
  /** Run scripts with `sudo -n`; false when the SSH user is root. @default true */
  readonly sudo?: boolean;
}

/**
 * One step per member writes myid and zoo.cfg and (re)starts ZooKeeper when they change; a gate per member
 * waits for a quorum.
 */
export class ZooKeeperEnsemble extends pulumi.ComponentResource {
  /** `10.10.20.11:2181,10.10.20.12:2181,…`. */
  public readonly connectString: pulumi.Output<string>;
  /** One gate per member that passes once the member serves as leader, follower or standalone. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: ZooKeeperEnsembleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ZOOKEEPER_ENSEMBLE_TYPE, name, {}, opts);
    const problems = ensembleProblems(args.members.map((m) => m.node));
    if (problems.length > 0) throw new pulumi.ResourceError(`${name}: ${problems.join("; ")}`, this);

    const zk = args.settings;
    const nodes = args.members.map((m) => m.node);
    const options = { sudo: args.sudo ?? true, initSystem: args.initSystem };
    const zooCfg = zooCfgFile(nodes, zk);

    this.ready = args.members.map(({ node, connection, after }) => {
      const prefix = `${name}-${node.name}`;
      const files = [myidFile(node), zooCfg];
      const digest = configDigest(files);
      // ZooKeeper reads its id from dataDir/myid: link it to the file in /etc/zookeeper/conf, as the package does.
      const myidLink = { link: `${zk.dataDir}/myid`, target: MYID_PATH, dirOwner: "zookeeper" };
      const service = new remote.Command(
        `${prefix}-zookeeper`,
        {
          connection,
          ...hostStep(
            [
              fileSetPart(ZOOKEEPER_SERVICE, files, [myidLink]),
              serviceRunningPart(ZOOKEEPER_SERVICE, digest, options),
            ],
            options,
          ),
        },
        { parent: this, dependsOn: after ?? [], deleteBeforeReplace: true },
      );
      return new remote.Command(
        `${prefix}-zookeeper-ready`,
        {
          connection,
          triggers: [digest],
          ...zooKeeperReadyStep(node.ip, zk.clientPort, args.readinessTimeoutSeconds),
        },
        { parent: this, dependsOn: [service] },
      );
    });

    this.connectString = pulumi.output(connectString(nodes, zk.clientPort));
    this.registerOutputs({ connectString: this.connectString });
  }
}
