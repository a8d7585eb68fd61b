import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseClusterConfig } from "../../infra/config";
import {
  machineDestroyCommand,
  machineUpCommand,
  macFor,
  renderVagrantfile,
  vagrantfileOf,
  writeVagrantfileCommand,
} from "../../infra/render/vagrantfile";
import { PROJECT_ROOT, readStackConfig } from "../helpers/stack-config";

const dev = parseClusterConfig(readStackConfig("dev"));
const lxc = { ...dev.vagrant, provider: "lxc" as const, lxcBridge: "brlab0" };

function inTempDir<T>(run: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vagrantfile-"));
  try {
    return run(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the Vagrantfile", () => {
  it("of the dev stack is the one in the repository, for `vagrant up` by hand", () => {
    expect(fs.readFileSync(path.join(PROJECT_ROOT, "Vagrantfile"), "utf8")).toBe(vagrantfileOf(dev));
  });

  it("defines every master and slave with its private IP and the box", () => {
    const text = vagrantfileOf(dev);
    for (const [name, ip] of [
      ["master1", "10.10.20.11"],
      ["master2", "10.10.20.12"],
      ["master3", "10.10.20.13"],
      ["slave1", "10.10.20.14"],
      ["slave2", "10.10.20.15"],
      ["slave3", "10.10.20.16"],
    ]) {
      expect(text).toContain(`"${name}" => { ip: "${ip}", mac: "${macFor(ip)}" },`);
    }
    expect(text).toContain('config.vm.box = "ubuntu/trusty64"');
    expect(text).toContain('node.vm.network "private_network", ip: ip');
    expect(text).toContain("vb.memory = 1536");
  });

  it("puts lxc containers on the bridge with the network's prefix", () => {
    const text = renderVagrantfile([{ name: "m1", ip: "10.99.0.11", role: "master" }], lxc, 24);
    expect(text).toContain('lxc.customize "net.0.link", "brlab0"');
    expect(text).toContain('lxc.customize "net.0.ipv4.address", "#{ip}/24"');
    expect(text).not.toContain("private_network");
  });

  it.each([
    ["virtualbox", dev.vagrant],
    ["lxc", lxc],
  ])("passes `vagrant validate` with the %s provider", (_provider, settings) => {
    inTempDir((dir) => {
      fs.writeFileSync(path.join(dir, "Vagrantfile"), vagrantfileOf({ ...dev, vagrant: settings }));
      const out = execFileSync("vagrant", ["validate", "--ignore-provider"], {
        cwd: dir,
        env: { ...process.env, VAGRANT_CHECKPOINT_DISABLE: "1", VAGRANT_BOX_UPDATE_CHECK_DISABLE: "1" },
        encoding: "utf8",
      });
      expect(out).toContain("Vagrantfile validated successfully.");
    });
  });

  it("is written only when it changed", () => {
    inTempDir((dir) => {
      const target = path.join(dir, "stack");
      const write = () =>
        execFileSync("sh", ["-c", writeVagrantfileCommand(target)], { input: "content\n", encoding: "utf8" });
      expect(write()).toBe(`wrote ${target}/Vagrantfile\n`);
      expect(write()).toBe(`unchanged ${target}/Vagrantfile\n`);
      expect(fs.readFileSync(path.join(target, "Vagrantfile"), "utf8")).toBe("content\n");
      expect(fs.readdirSync(target)).toEqual(["Vagrantfile"]);
    });
  });

  it("brings a machine up with Vagrant's output on stderr, so stdout holds only the key", () => {
    const command = machineUpCommand("master1", "virtualbox");
    expect(command.split("\n").slice(0, 2)).toEqual([
      "set -e",
      "vagrant up 'master1' --provider=virtualbox >&2",
    ]);
    expect(command).toContain("vagrant ssh-config 'master1'");
  });

  it("fails the step when `vagrant up` fails", () => {
    inTempDir((dir) => {
      fs.writeFileSync(path.join(dir, "vagrant"), '#!/bin/sh\necho "vagrant $*" >&2\nexit 3\n', {
        mode: 0o755,
      });
      const r = spawnSync("sh", ["-c", machineUpCommand("m1", "lxc")], {
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
        encoding: "utf8",
      });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 3,
        stdout: "",
        stderr: "vagrant up m1 --provider=lxc\n",
      });
    });
  });

  it("destroys a machine with its own Vagrantfile, which the stack's may no longer define", () => {
    inTempDir((dir) => {
      const machine = { name: "slave9", ip: "10.99.0.19", role: "slave" as const };
      fs.writeFileSync(path.join(dir, "Vagrantfile"), "# the stack's, without slave9\n");
      // A stand-in vagrant: reports the Vagrantfile it would read and how it was called.
      const bin = path.join(dir, "bin");
      fs.mkdirSync(bin);
      fs.writeFileSync(
        path.join(bin, "vagrant"),
        '#!/bin/sh\necho "$PWD $VAGRANT_VAGRANTFILE $*" >&2\ncat "$VAGRANT_VAGRANTFILE" >&2\nexit 7\n',
        { mode: 0o755 },
      );
      const r = spawnSync("sh", ["-c", machineDestroyCommand(machine, lxc, 24, dir)], {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
        encoding: "utf8",
      });
      expect(r.status).toBe(7);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe(
        `${dir} .Vagrantfile.destroy-slave9 destroy -f slave9\n${renderVagrantfile([machine], lxc, 24)}`,
      );
      // The stand-in file is gone again; the stack's is untouched.
      expect(fs.readdirSync(dir).sort()).toEqual(["Vagrantfile", "bin"]);
    });
  });

  it("gives every machine a distinct locally administered MAC", () => {
    expect(macFor("10.10.20.11")).toBe("02:00:0a:0a:14:0b");
    expect(new Set(["10.10.20.11", "10.10.20.12", "10.10.21.11"].map(macFor)).size).toBe(3);
  });
});
