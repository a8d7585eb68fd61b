/**
 * `MarathonApps`: one `MarathonApp` per entry of the stack config's `apps`, all on the same Marathon.
 */
import * as pulumi from "@pulumi/pulumi";
import { MarathonApp } from "../providers/marathon/resource";
import type { AppDefinition } from "../providers/marathon/schema";

export interface MarathonAppsArgs {
  /**
   * Marathon app definitions keyed by app id, already validated. An entry with `adopt: true` takes over
   * an app of that id that already exists in Marathon (`pulumi config set --path 'apps["<id>"].adopt' true`).
   */
  readonly apps: Record<string, AppDefinition>;
  /** Marathon base URLs (every master, for failover), tried in order. */
  readonly endpoints: pulumi.Input<pulumi.Input<string>[]>;
  /** Milliseconds to wait for one deployment. @default 600000 */
  readonly deploymentTimeoutMs?: pulumi.Input<number>;
}

export class MarathonApps extends pulumi.ComponentResource {
  /** The app resources, by app id. */
  public readonly apps: Record<string, MarathonApp>;
  /** `host:port` of every running task, by app id. */
  public readonly endpoints: pulumi.Output<Record<string, string[]>>;

  constructor(name: string, args: MarathonAppsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mesos-cluster:marathon:MarathonApps", name, {}, opts);

    // Named by app id, so that renaming an app replaces exactly that app and reordering renames nothing.
    this.apps = Object.fromEntries(
      Object.entries(args.apps).map(([appId, { id: _id, adopt, ...definition }]) => [
        appId,
        new MarathonApp(
          `${name}-${appId.replace(/^\//, "").replace(/\//g, "-")}`,
          {
            ...definition,
            appId,
            adopt,
            marathonEndpoints: args.endpoints,
            deploymentTimeoutMs: args.deploymentTimeoutMs,
          },
          { parent: this },
        ),
      ]),
    );
    this.endpoints = pulumi
      .all(
        Object.entries(this.apps).map(([appId, app]) =>
          app.endpoints.apply((e): [string, string[]] => [appId, e]),
        ),
      )
      .apply((pairs) => Object.fromEntries(pairs));

    this.registerOutputs({ endpoints: this.endpoints });
  }
}
