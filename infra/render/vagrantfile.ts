/** The Vagrantfile of a stack's machines, and the commands that bring one machine up and down. */
import { shellQuote } from "./shell";

/** Where Vagrant runs the machines. */
export type VagrantProvider = "virtualbox" | "lxc";

export interface VagrantMachine {
  readonly name: string;
  readonly ip: string;
  readonly role: "master" | "slave";
}

export interface VagrantSettings {
  readonly provider: VagrantProvider;
  readonly box: string;
  readonly cpus: number;
  /** Memory in MiB. */
  readonly memory: number;
  /** lxc only: the host bridge the containers' veth joins (VirtualBox makes its own host-only network). */
  readonly lxcBridge: string;
}

/** Environment of every `vagrant` run: no calls home, no box update checks. */
export const VAGRANT_ENVIRONMENT = {
  VAGRANT_CHECKPOINT_DISABLE: "1",
  VAGRANT_BOX_UPDATE_CHECK_DISABLE: "1",
} as const;

/** A locally administered MAC derived from the IP, so a re-created container keeps its ARP entries valid. */
export function macFor(ip: string): string {
  const hex = ip.split(".").map((octet) => Number(octet).toString(16).padStart(2, "0"));
  return `02:00:${hex.join(":")}`;
}

function rubyString(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/#/g, "\\#")}"`;
}

function providerBlock(settings: VagrantSettings, prefixLength: number): string[] {
  if (settings.provider === "virtualbox") {
    return [
      `    node.vm.network "private_network", ip: ip`,
      `    node.vm.provider "virtualbox" do |vb|`,
      `      vb.cpus = ${settings.cpus}`,
      `      vb.memory = ${settings.memory}`,
      `    end`,
    ];
  }
  // vagrant-lxc: a veth on the given bridge with a fixed address and MAC (its private_network needs more
  // host tooling than a plain bridge). Containers share the host's CPUs and memory.
  return [
    `    node.vm.provider "lxc" do |lxc|`,
    `      lxc.customize "net.0.type", "veth"`,
    `      lxc.customize "net.0.link", ${rubyString(settings.lxcBridge)}`,
    `      lxc.customize "net.0.flags", "up"`,
    `      lxc.customize "net.0.ipv4.address", "#{ip}/${prefixLength}"`,
    `      lxc.customize "net.0.hwaddr", mac`,
    `    end`,
  ];
}

/**
 * The Vagrantfile for `machines`: one VM per master and slave on the private network. It is a plain
 * Vagrantfile, so `vagrant up` and `vagrant validate` work on it by hand as well.
 */
export function renderVagrantfile(
  machines: readonly VagrantMachine[],
  settings: VagrantSettings,
  prefixLength: number,
): string {
  const table = machines.map(
    (m) => `  ${rubyString(m.name)} => { ip: ${rubyString(m.ip)}, mac: ${rubyString(macFor(m.ip))} },`,
  );
  return [
    "# -*- mode: ruby -*-",
    "# The cluster's machines, rendered from the stack config by mesos-cluster.",
    `# Provider: ${settings.provider}. Masters: ${machines.filter((m) => m.role === "master").length}, slaves: ${machines.filter((m) => m.role === "slave").length}.`,
    "",
    "MACHINES = {",
    ...table,
    "}.freeze",
    "",
    'Vagrant.configure("2") do |config|',
    `  config.vm.box = ${rubyString(settings.box)}`,
    "  config.vm.box_check_update = false",
    '  config.vm.synced_folder ".", "/vagrant", disabled: true',
    "",
    "  MACHINES.each do |name, machine|",
    "    ip = machine[:ip]",
    "    mac = machine[:mac]",
    "    config.vm.define name do |node|",
    "      node.vm.hostname = name",
    ...providerBlock(settings, prefixLength).map((line) => `  ${line}`),
    "    end",
    "  end",
    "end",
    "",
  ].join("\n");
}

/** The Vagrantfile of a whole stack config: its masters, then its slaves. */
export function vagrantfileOf(config: {
  masters: readonly { name: string; ip: string }[];
  slaves: readonly { name: string; ip: string }[];
  vagrant: VagrantSettings;
  network: string;
}): string {
  return renderVagrantfile(vagrantMachinesOf(config), config.vagrant, Number(config.network.split("/")[1]));
}

export function vagrantMachinesOf(config: {
  masters: readonly { name: string; ip: string }[];
  slaves: readonly { name: string; ip: string }[];
}): VagrantMachine[] {
  return [
    ...config.masters.map((m) => ({ name: m.name, ip: m.ip, role: "master" as const })),
    ...config.slaves.map((s) => ({ name: s.name, ip: s.ip, role: "slave" as const })),
  ];
}

/** The shell command that writes the Vagrantfile from stdin into `directory`, only when it differs. */
export function writeVagrantfileCommand(directory: string): string {
  const dir = shellQuote(directory);
  return [
    `mkdir -p ${dir}`,
    `tmp=$(mktemp ${dir}/.Vagrantfile.XXXXXX)`,
    `cat > "$tmp"`,
    `if cmp -s "$tmp" ${dir}/Vagrantfile; then rm -f "$tmp"; echo "unchanged ${directory}/Vagrantfile"; ` +
      `else mv "$tmp" ${dir}/Vagrantfile; echo "wrote ${directory}/Vagrantfile"; fi`,
  ].join("\n");
}

/**
 * Bring `machine` up and print its SSH private key (the key Vagrant put on it) on stdout, which the
 * program keeps as a secret; Vagrant's own progress goes to stderr. A failed `vagrant up` fails the step.
 */
export function machineUpCommand(machine: string, provider: VagrantProvider): string {
  const name = shellQuote(machine);
  return [
    "set -e",
    `vagrant up ${name} --provider=${provider} >&2`,
    `key=$(vagrant ssh-config ${name} | awk '$1 == "IdentityFile" { print $2; exit }' | tr -d '"')`,
    `cat "$key"`,
  ].join("\n");
}

/**
 * Destroy `machine`. Vagrant acts only on machines its Vagrantfile defines, and Pulumi deletes a machine
 * that left the config after it rewrote the stack's Vagrantfile without it: so the command brings the
 * machine's own one-machine Vagrantfile, put next to the stack's (same `.vagrant` state) for this run only.
 */
export function machineDestroyCommand(
  machine: VagrantMachine,
  settings: VagrantSettings,
  prefixLength: number,
  directory: string,
): string {
  const file = `.Vagrantfile.destroy-${machine.name}`;
  return [
    `cd ${shellQuote(directory)} || exit`,
    `cat > ${shellQuote(file)} <<'VAGRANTFILE'`,
    renderVagrantfile([machine], settings, prefixLength) + "VAGRANTFILE",
    `VAGRANT_VAGRANTFILE=${shellQuote(file)} vagrant destroy -f ${shellQuote(machine.name)} >&2`,
    "status=$?",
    `rm -f ${shellQuote(file)}`,
    'exit "$status"',
  ].join("\n");
}
