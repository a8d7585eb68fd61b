/** Every config file the program writes, rendered from the seed's layout and from variations. */
import { marathonFiles, marathonFlagFileName, marathonFlagVariable } from "../../infra/render/marathon";
import { agentFiles, masterFiles, mesosFlagFileName, mesosZkFile } from "../../infra/render/mesos";
import { rolePackages, packageSpec } from "../../infra/render/packages";
import type { ConfigFile } from "../../infra/render/shell";
import { connectString, myidFile, zkUrl, zooCfgFile } from "../../infra/render/zookeeper";
import { clusterProblems, ensembleProblems } from "../../infra/render/layout";
import { zooKeeperSettings } from "../cluster/fixtures";

const MASTERS = [
  { name: "master1", ip: "10.10.20.11", zkId: 10 },
  { name: "master2", ip: "10.10.20.12", zkId: 30 },
  { name: "master3", ip: "10.10.20.13", zkId: 50 },
];
const ZK = zooKeeperSettings(false);
const asMap = (files: ConfigFile[]) => Object.fromEntries(files.map((f) => [f.path, f.content]));

test.each([
  [MASTERS[0], "10\n"],
  [MASTERS[1], "30\n"],
  [MASTERS[2], "50\n"],
])("myid of $name", (member, content) => {
  expect(myidFile(member)).toEqual({ path: "/etc/zookeeper/conf/myid", content });
});

test.each([
  [
    MASTERS,
    ZK,
    ["server.10=10.10.20.11:2888:3888", "server.30=10.10.20.12:2888:3888", "server.50=10.10.20.13:2888:3888"],
  ],
  [
    [MASTERS[2], MASTERS[0]],
    { ...ZK, peerPort: 2890, electionPort: 3890 },
    ["server.50=10.10.20.13:2890:3890", "server.10=10.10.20.11:2890:3890"],
  ],
])("zoo.cfg lists every peer once, in order (%#)", (members, zk, servers) => {
  expect(zooCfgFile(members, zk).content).toBe(
    [
      `tickTime=2000`,
      `initLimit=10`,
      `syncLimit=5`,
      `dataDir=/var/lib/zookeeper`,
      `clientPort=2181`,
      "4lw.commands.whitelist=srvr,ruok,stat,mntr,conf",
      "admin.enableServer=false",
      ...servers,
      "",
    ].join("\n"),
  );
});

test.each([
  ["/mesos", "zk://10.10.20.11:2181,10.10.20.12:2181,10.10.20.13:2181/mesos"],
  ["/marathon", "zk://10.10.20.11:2181,10.10.20.12:2181,10.10.20.13:2181/marathon"],
])("zk url with chroot %s", (chroot, url) => {
  expect(zkUrl(MASTERS, 2181, chroot)).toBe(url);
  expect(connectString(MASTERS, 2181)).toBe("10.10.20.11:2181,10.10.20.12:2181,10.10.20.13:2181");
});

test("/etc/mesos/zk", () => {
  expect(mesosZkFile("zk://a:2181/mesos")).toEqual({
    path: "/etc/mesos/zk",
    content: "zk://a:2181/mesos\n",
  });
});

test.each([
  ["cluster", "prod", "cluster"],
  ["authenticate", true, "?authenticate"],
  ["log_auto_initialize", false, "?no-log_auto_initialize"],
])("mesos flag %s=%p is file %s", (name, value, file) => {
  expect(mesosFlagFileName(name, value)).toBe(file);
});

test.each([
  [
    { ip: "10.10.20.11", quorum: 2, port: 5050, flags: {} },
    {
      "/etc/mesos-master/ip": "10.10.20.11\n",
      "/etc/mesos-master/hostname": "10.10.20.11\n",
      "/etc/mesos-master/quorum": "2\n",
    },
  ],
  [
    { ip: "10.10.20.12", quorum: 3, port: 5055, flags: { cluster: "lab", authenticate_agents: true } },
    {
      "/etc/mesos-master/ip": "10.10.20.12\n",
      "/etc/mesos-master/hostname": "10.10.20.12\n",
      "/etc/mesos-master/quorum": "3\n",
      "/etc/mesos-master/port": "5055\n",
      "/etc/mesos-master/cluster": "lab\n",
      "/etc/mesos-master/?authenticate_agents": "",
    },
  ],
])("master files (%#)", (input, expected) => {
  expect(asMap(masterFiles(input))).toEqual(expected);
});

test.each([
  [
    { ip: "10.10.20.14", port: 5051, flags: {}, attributes: {}, resources: {} },
    { "/etc/mesos-slave/ip": "10.10.20.14\n", "/etc/mesos-slave/hostname": "10.10.20.14\n" },
  ],
  [
    {
      ip: "10.10.20.15",
      port: 5052,
      flags: { switch_user: false },
      attributes: { rack: "r1" },
      resources: { cpus: "2" },
    },
    {
      "/etc/mesos-slave/ip": "10.10.20.15\n",
      "/etc/mesos-slave/hostname": "10.10.20.15\n",
      "/etc/mesos-slave/port": "5052\n",
      "/etc/mesos-slave/attributes/rack": "r1\n",
      "/etc/mesos-slave/resources/cpus": "2\n",
      "/etc/mesos-slave/?no-switch_user": "",
    },
  ],
])("agent files (%#)", (input, expected) => {
  expect(asMap(agentFiles(input))).toEqual(expected);
});

const marathon = {
  ip: "10.10.20.11",
  masterUrl: "zk://z:2181/mesos",
  zkUrl: "zk://z:2181/marathon",
};
test.each([
  [
    { ...marathon, style: "conf-dir" as const, httpPort: 8080, flags: {} },
    {
      "/etc/marathon/conf/hostname": "10.10.20.11\n",
      "/etc/marathon/conf/master": "zk://z:2181/mesos\n",
      "/etc/marathon/conf/zk": "zk://z:2181/marathon\n",
      "/etc/default/marathon": "export LIBPROCESS_IP=10.10.20.11\n",
    },
  ],
  [
    {
      ...marathon,
      style: "conf-dir" as const,
      httpPort: 8081,
      flags: { ha: false, task_launch_timeout: "600000" },
    },
    {
      "/etc/marathon/conf/hostname": "10.10.20.11\n",
      "/etc/marathon/conf/master": "zk://z:2181/mesos\n",
      "/etc/marathon/conf/zk": "zk://z:2181/marathon\n",
      "/etc/marathon/conf/http_port": "8081\n",
      "/etc/marathon/conf/?disable_ha": "",
      "/etc/marathon/conf/task_launch_timeout": "600000\n",
      "/etc/default/marathon": "export LIBPROCESS_IP=10.10.20.11\n",
    },
  ],
  [
    {
      ...marathon,
      style: "env-file" as const,
      httpPort: 8080,
      flags: { framework_name: "my marathon", ha: false },
    },
    {
      "/etc/default/marathon":
        "MARATHON_MASTER=zk://z:2181/mesos\nMARATHON_ZK=zk://z:2181/marathon\nMARATHON_HOSTNAME=10.10.20.11\n" +
        'MARATHON_HTTP_PORT=8080\nMARATHON_FRAMEWORK_NAME="my marathon"\nMARATHON_DISABLE_HA=\nLIBPROCESS_IP=10.10.20.11\n',
    },
  ],
])("marathon files (%#)", (input, expected) => {
  expect(asMap(marathonFiles(input))).toEqual(expected);
});

test.each([
  ["checkpoint", true, "?checkpoint", ["MARATHON_CHECKPOINT", ""]],
  ["checkpoint", false, "?disable_checkpoint", ["MARATHON_DISABLE_CHECKPOINT", ""]],
  ["zk_timeout", "10000", "zk_timeout", ["MARATHON_ZK_TIMEOUT", "10000"]],
])("marathon flag %s=%p", (name, value, file, variable) => {
  expect(marathonFlagFileName(name, value)).toBe(file);
  expect(marathonFlagVariable(name, value)).toEqual(variable);
});

const allPackages = {
  manageSource: true,
  source: "deb x",
  key: "E56151BF",
  keyserver: "k",
  mesos: { install: true },
  marathon: { install: true, version: "0.15.2-1.0.463.ubuntu1404" },
  zookeeper: { install: true },
};
test.each([
  ["master", allPackages, ["zookeeper", "zookeeperd", "mesos", "marathon=0.15.2-1.0.463.ubuntu1404"]],
  ["slave", allPackages, ["mesos"]],
  ["master", { ...allPackages, zookeeper: { install: false }, marathon: { install: false } }, ["mesos"]],
  ["slave", { ...allPackages, mesos: { install: false } }, []],
] as const)("%s packages (%#)", (role, settings, specs) => {
  expect(rolePackages(role, settings).map(packageSpec)).toEqual(specs);
});

test.each([
  [MASTERS, []],
  [[], ["members must list at least one ZooKeeper server"]],
  [[MASTERS[0], { ...MASTERS[1], zkId: 10 }], ["members master1 and master2 share zkId 10"]],
  [[{ ...MASTERS[0], zkId: 300 }], ["member master1 has zkId 300; it must be an integer from 1 to 255"]],
])("ensemble problems (%#)", (members, problems) => {
  expect(ensembleProblems(members)).toEqual(problems);
});

test.each([
  [2, ["master1", "master2", "master3", "slave1"], []],
  [1, ["master1", "master2", "master3", "slave1"], ["quorum must be from 2 to 3 for 3 masters, got 1"]],
  [2, ["master1", "master2"], ["connections has no entry for host(s) master3, slave1"]],
])("cluster problems with quorum %d (%#)", (quorum, connections, problems) => {
  expect(clusterProblems(MASTERS, [{ name: "slave1", ip: "10.10.20.14" }], quorum, connections)).toEqual(
    problems,
  );
});
