/**
 * VagrantMachines: the cluster's machines, created with Vagrant on the machine running Pulumi. Each host
 * is brought up and destroyed on its own, so adding a slave adds one machine and removing it destroys
 * that machine only.
 */
import * as pulumi from "@pulumi/pulumi";
import { local, types } from "@pulumi/command";
import {
  VAGRANT_ENVIRONMENT,
  machineDestroyCommand,
  machineUpCommand,
  renderVagrantfile,
  writeVagrantfileCommand,
  type VagrantMachine,
  type VagrantSettings,
} from "./render/vagrantfile";

export const VAGRANT_MACHINES_TYPE = "mesos-cluster:vagrant:VagrantMachines";

export interface VagrantMachinesArgs {
  /** Every master and slave, with its private-network IP. */
  readonly machines: readonly VagrantMachine[];
  /** Provider, box, CPUs and memory of each machine. */
  readonly settings: VagrantSettings;
  /** Prefix length of the private network, e.g. 24. */
  readonly prefixLength: number;
  /** Folder of the rendered Vagrantfile and of Vagrant's machine state. */
  readonly directory: string;
  /** The SSH user of the box. @default "vagrant" */
  readonly user?: string;
  /** How long a dial to a booting machine is retried. */
  readonly dialErrorLimit: number;
  readonly perDialTimeout: number;
  /** Steps that must pass before any machine is made or destroyed (the change guard). @default - none */
  readonly after?: pulumi.Resource[];
}

export class VagrantMachines extends pulumi.ComponentResource {
  /** The rendered Vagrantfile, for `vagrant up` by hand. */
  public readonly vagrantfile: string;
  /** SSH connection per machine name: its private IP and the key Vagrant put on it (a secret). */
  public readonly connections: Record<string, pulumi.Output<types.input.remote.ConnectionArgs>>;

  constructor(name: string, args: VagrantMachinesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(VAGRANT_MACHINES_TYPE, name, {}, opts);

    this.vagrantfile = renderVagrantfile(args.machines, args.settings, args.prefixLength);
    const environment = { ...VAGRANT_ENVIRONMENT, VAGRANT_CWD: args.directory };
    const file = new local.Command(
      `${name}-vagrantfile`,
      { create: writeVagrantfileCommand(args.directory), stdin: this.vagrantfile, environment },
      { parent: this, dependsOn: args.after ?? [] },
    );

    this.connections = Object.fromEntries(
      args.machines.map((machine) => {
        const up = new local.Command(
          `${name}-${machine.name}`,
          {
            create: machineUpCommand(machine.name, args.settings.provider),
            delete: machineDestroyCommand(machine, args.settings, args.prefixLength, args.directory),
            environment,
            // A machine is rebuilt only when its own definition changes, not when another is added.
            triggers: [machine.ip, machine.role, args.settings.provider, args.settings.box, args.directory],
            logging: "stderr",
            // stdout is the machine's private key: keep it out of the destroy command's environment.
            addPreviousOutputInEnv: false,
          },
          // stdout is the machine's private key.
          {
            parent: this,
            dependsOn: [...(args.after ?? []), file],
            additionalSecretOutputs: ["stdout"],
            deleteBeforeReplace: true,
          },
        );
        const connection = pulumi.output({
          host: machine.ip,
          port: 22,
          user: args.user ?? "vagrant",
          privateKey: pulumi.secret(up.stdout),
          dialErrorLimit: args.dialErrorLimit,
          perDialTimeout: args.perDialTimeout,
        });
        return [machine.name, connection];
      }),
    );

    this.registerOutputs({ vagrantfile: this.vagrantfile });
  }
}
