/** ZooKeeper files, as the Debian/Ubuntu `zookeeper` package lays them out. */
import type { MasterNode, ZooKeeperSettings } from "../config";
import type { ConfigFile } from "./shell";

export const ZOOKEEPER_CONF_DIR = "/etc/zookeeper/conf";
export const MYID_PATH = `${ZOOKEEPER_CONF_DIR}/myid`;
export const ZOO_CFG_PATH = `${ZOOKEEPER_CONF_DIR}/zoo.cfg`;

/** Four-letter words the readiness gate and operators use; ZooKeeper ≥ 3.5 allows only `srvr` by default. */
const FOUR_LETTER_WORDS = "srvr,ruok,stat,mntr,conf";

/** `/etc/zookeeper/conf/myid`: the member's id. */
export function myidFile(member: MasterNode): ConfigFile {
  return { path: MYID_PATH, content: `${member.zkId}\n` };
}

/** `/etc/zookeeper/conf/zoo.cfg`: the same on every member, peers in config order. */
export function zooCfgFile(members: readonly MasterNode[], zk: ZooKeeperSettings): ConfigFile {
  const lines = [
    `tickTime=${zk.tickTime}`,
    `initLimit=${zk.initLimit}`,
    `syncLimit=${zk.syncLimit}`,
    `dataDir=${zk.dataDir}`,
    `clientPort=${zk.clientPort}`,
    `4lw.commands.whitelist=${FOUR_LETTER_WORDS}`,
    // The AdminServer would take port 8080 from Marathon on ZooKeeper ≥ 3.5.
    "admin.enableServer=false",
    ...members.map((m) => `server.${m.zkId}=${m.ip}:${zk.peerPort}:${zk.electionPort}`),
  ];
  return { path: ZOO_CFG_PATH, content: `${lines.join("\n")}\n` };
}

/** `10.10.20.11:2181,10.10.20.12:2181,…` in config order. */
export function connectString(members: readonly Pick<MasterNode, "ip">[], clientPort: number): string {
  return members.map((m) => `${m.ip}:${clientPort}`).join(",");
}

/** `zk://<connect string><chroot>`, e.g. chroot `/mesos` or `/marathon`. */
export function zkUrl(
  members: readonly Pick<MasterNode, "ip">[],
  clientPort: number,
  chroot: string,
): string {
  return `zk://${connectString(members, clientPort)}${chroot}`;
}
