/** HostPackages: the apt source and one apt transaction on one host, before anything is configured there. */
import * as pulumi from "@pulumi/pulumi";
import { remote, types } from "@pulumi/command";
import { packageParts, packageSpec, type AptSource, type PackagePin } from "./render/packages";
import { hostStep } from "./render/shell";

export const HOST_PACKAGES_TYPE = "mesos-cluster:host:HostPackages";

export interface HostPackagesArgs {
  /** How to reach the host over SSH. */
  readonly connection: pulumi.Input<types.input.remote.ConnectionArgs>;
  /**
   * Packages to install in one transaction (`name=version` when pinned). Plain, not an Input: it decides
   * what the step does. @default - none
   */
  readonly packages: readonly PackagePin[];
  /** The apt source to add (and whose key to import) first. @default - apt sources are left alone */
  readonly aptSource?: AptSource;
  /** Steps the packages step waits for (the change guard). @default - none */
  readonly after?: pulumi.Resource[];
  /** The stack's converge stamp, written into the step's script. @default - none */
  readonly converge?: string;
  /** Run scripts with `sudo -n`; false when the SSH user is root. @default true */
  readonly sudo?: boolean;
}

/** Adds the apt source and installs the host's packages; `ready` is what later steps on the host wait for. */
export class HostPackages extends pulumi.ComponentResource {
  /** The package specs this host gets, as passed to apt-get. */
  public readonly packages: pulumi.Output<string[]>;
  /** The packages step; empty when there is nothing to do. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: HostPackagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(HOST_PACKAGES_TYPE, name, {}, opts);

    const parts = packageParts(args.packages, args.aptSource);
    const stepName = `${name}-install`;
    const options = { sudo: args.sudo ?? true, owner: stepName, converge: args.converge };
    this.ready =
      parts.length > 0
        ? [
            new remote.Command(
              stepName,
              { connection: args.connection, ...hostStep(parts, options) },
              { parent: this, dependsOn: args.after ?? [], deleteBeforeReplace: true },
            ),
          ]
        : [];

    this.packages = pulumi.output(args.packages.map(packageSpec));
    this.registerOutputs({ packages: this.packages });
  }
}
