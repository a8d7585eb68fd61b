/**
 * The machines of the stack config as `VagrantMachines` makes them; exports the rendered Vagrantfile and
 * the SSH connection of each machine (with the key Vagrant put on it, a secret).
 */
import * as pulumi from "@pulumi/pulumi";
import type { VagrantMachine, VagrantSettings } from "../../../../infra/render/vagrantfile";
import { VagrantMachines } from "../../../../infra/vagrant";

const config = new pulumi.Config();
const machines = new VagrantMachines("vagrant", {
  machines: config.requireObject<VagrantMachine[]>("machines"),
  settings: config.requireObject<VagrantSettings>("settings"),
  prefixLength: config.requireNumber("prefixLength"),
  directory: config.require("directory"),
  dialErrorLimit: config.requireNumber("dialErrorLimit"),
  perDialTimeout: config.requireNumber("perDialTimeout"),
});

export const vagrantfile = machines.vagrantfile;
export const connections = machines.connections;
