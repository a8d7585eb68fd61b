/**
 * ZooKeeperEnsemble: ZooKeeper configured and running on every member, with a readiness gate per member.
 * Members change one at a time: each member's step waits for the previous member's, and a step that
 * restarts a running member waits until it serves in the quorum again. With `reconfigEnabled`, members
 * join and leave by ZooKeeper's dynamic reconfiguration, run by one more step once every member is up.
 */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import type { InitSystem, MasterNode, ZooKeeperSettings } from "./config";
import { fileSetPart } from "./render/files";
import { ensembleProblems } from "./render/layout";
import { zooKeeperProbe, zooKeeperReadyStep } from "./render/readiness";
import { serviceRunning, serviceRunningPart, stopIfRunning } from "./render/services";
import { configDigest, hostStep, type ConfigFile, type ScriptPart } from "./render/shell";
import {
  connectString,
  dataDirMovePart,
  dynamicZooCfgPart,
  ensembleMembersPart,
  MYID_PATH,
  myidFile,
  ZOO_CFG_PATH,
  zooCfgFile,
  zooCfgSettings,
} from "./render/zookeeper";

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
   * The members, in the order their `server.N` lines are written and in which they change. Plain, not an
   * Input: each member becomes steps named after it.
   */
  readonly members: readonly ZooKeeperMember[];
  /** Ports, timing, data directory and how members change. */
  readonly settings: ZooKeeperSettings;
  /** How services are enabled, started and disabled on the members. */
  readonly initSystem: InitSystem;
  /** Seconds each member may take to join a quorum before the deployment fails. */
  readonly readinessTimeoutSeconds: number;
  /** Steps that every step of the ensemble waits for (the change guard). @default - none */
  readonly after?: pulumi.Resource[];
  /** The stack's converge stamp, written into every step's script. @default - none */
  readonly converge?: string;
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
  /** What passes once the ensemble serves with its members: a gate per member, then the members step. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: ZooKeeperEnsembleArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ZOOKEEPER_ENSEMBLE_TYPE, name, {}, opts);
    const problems = ensembleProblems(args.members.map((m) => m.node));
    if (problems.length > 0) throw new pulumi.ResourceError(`${name}: ${problems.join("; ")}`, this);

    const zk = args.settings;
    const nodes = args.members.map((m) => m.node);
    const sudo = args.sudo ?? true;
    const service = { sudo, initSystem: args.initSystem };
    const after = args.after ?? [];
    const zooCfg = zooCfgFile(nodes, zk);
    // With reconfiguration, zoo.cfg's settings are what restarts a member; its members never do.
    const settingsFile: ConfigFile = { path: ZOO_CFG_PATH, content: zooCfgSettings(zk).join("\n") };

    let previous: pulumi.Resource | undefined;
    const gates = args.members.map(({ node, connection, after: installed }) => {
      const prefix = `${name}-${node.name}`;
      const myid = myidFile(node);
      const digest = configDigest(zk.reconfigEnabled ? [myid, settingsFile] : [myid, zooCfg]);
      // ZooKeeper reads its id from dataDir/myid: link it to the file in /etc/zookeeper/conf, as the package does.
      const myidLink = { link: `${zk.dataDir}/myid`, target: MYID_PATH, dirOwner: "zookeeper" };
      const config: ScriptPart[] = zk.reconfigEnabled
        ? [
            fileSetPart(ZOOKEEPER_SERVICE, [myid], [myidLink]),
            dynamicZooCfgPart(node, nodes, zk, serviceRunning(ZOOKEEPER_SERVICE, service)),
          ]
        : [fileSetPart(ZOOKEEPER_SERVICE, [myid, zooCfg], [myidLink])];
      const stepName = `${prefix}-zookeeper`;
      const step = new remote.Command(
        stepName,
        {
          connection,
          ...hostStep(
            [
              dataDirMovePart(zk.dataDir, stopIfRunning(ZOOKEEPER_SERVICE, service, "to move its data")),
              ...config,
              serviceRunningPart(ZOOKEEPER_SERVICE, digest, service, {
                probe: zooKeeperProbe(node.ip, zk.clientPort),
                timeoutSeconds: args.readinessTimeoutSeconds,
              }),
            ],
            { sudo, owner: stepName, converge: args.converge },
          ),
        },
        {
          parent: this,
          dependsOn: [...after, ...(installed ?? []), ...(previous ? [previous] : [])],
          deleteBeforeReplace: true,
        },
      );
      previous = step;
      return new remote.Command(
        `${prefix}-zookeeper-ready`,
        {
          connection,
          triggers: [digest],
          ...zooKeeperReadyStep(node.ip, zk.clientPort, args.readinessTimeoutSeconds, args.converge),
        },
        { parent: this, dependsOn: [step] },
      );
    });

    const first = args.members[0];
    const membersName = `${name}-members`;
    this.ready =
      zk.reconfigEnabled && first !== undefined
        ? [
            ...gates,
            new remote.Command(
              membersName,
              {
                connection: first.connection,
                ...hostStep([ensembleMembersPart(first.node, nodes, zk)], {
                  sudo,
                  owner: membersName,
                  converge: args.converge,
                }),
              },
              { parent: this, dependsOn: [...after, ...gates] },
            ),
          ]
        : gates;

    this.connectString = pulumi.output(connectString(nodes, zk.clientPort));
    this.registerOutputs({ connectString: this.connectString });
  }
}
