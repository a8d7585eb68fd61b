/**
 * `MarathonApp`: one Marathon app as a Pulumi resource (type `pulumi-nodejs:dynamic/marathon:App`).
 * The work is done by `marathonAppProvider`; this class only declares the inputs and outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { marathonAppProvider } from "./provider";
import { APP_DEFINITION_FIELDS, type AppDefinition } from "./schema";

/** The app definition fields, each accepting a Pulumi input. See `AppDefinition` for each field. */
export type MarathonAppDefinitionArgs = {
  readonly [K in Exclude<keyof AppDefinition, "id">]?: pulumi.Input<AppDefinition[K]>;
};

/**
 * Arguments of `MarathonApp`: the Marathon app definition (validated by Marathon's rules in `check`)
 * plus how to reach Marathon. Credentials are not an argument: the provider reads them from the stack
 * config, `pulumi config set --secret marathonCredentials user:password`.
 */
export interface MarathonAppArgs extends MarathonAppDefinitionArgs {
  /** The Marathon app id, e.g. `rails-app-on-mesos-marathon`. Changing it replaces the app. */
  readonly appId: pulumi.Input<string>;
  /** Marathon base URLs, one per master (e.g. `http://10.10.20.11:8080`), tried in order. */
  readonly marathonEndpoints: pulumi.Input<pulumi.Input<string>[]>;
  /** One HTTP request's limit in ms. Default 10 000. */
  readonly requestTimeoutMs?: pulumi.Input<number>;
  /**
   * Limit in ms for one create, update or delete: the deployment wait, and retries while Marathon is
   * unreachable or has no leader. Default 600 000 (10 minutes).
   */
  readonly deploymentTimeoutMs?: pulumi.Input<number>;
  /** Override a deployment that locks the app (`?force=true`) instead of waiting for it. Default false. */
  readonly force?: pulumi.Input<boolean>;
  /**
   * Adopt an app that already exists in Marathon with this id: on create, instead of failing, the
   * provider updates it to this definition (a scale when only `instances` differs) and manages it from
   * then on. This is the way to bring an existing app under Pulumi: `pulumi import` does not work for
   * dynamic resources. Never sent to Marathon; changing it alone changes nothing. Default false.
   */
  readonly adopt?: pulumi.Input<boolean>;
}

export class MarathonApp extends pulumi.dynamic.Resource {
  /** The app id as Marathon stores it (absolute, e.g. `/rails-app-on-mesos-marathon`). */
  declare readonly appId: pulumi.Output<string>;
  /** The app's version timestamp. */
  declare readonly version: pulumi.Output<string>;
  /** The last deployment this resource started ("" after an import). */
  declare readonly deploymentId: pulumi.Output<string>;
  declare readonly tasksRunning: pulumi.Output<number>;
  declare readonly tasksHealthy: pulumi.Output<number>;
  /** `host:port` of every running task's ports, sorted. */
  declare readonly endpoints: pulumi.Output<string[]>;
  /** The app's page in the Marathon UI. */
  declare readonly uiUrl: pulumi.Output<string>;
  declare readonly marathonEndpoints: pulumi.Output<string[]>;
  /** Live values: a change made outside Pulumi shows up here after `pulumi refresh`. */
  declare readonly instances: pulumi.Output<number | undefined>;
  declare readonly cmd: pulumi.Output<string | undefined>;
  declare readonly args: pulumi.Output<string[] | undefined>;
  declare readonly cpus: pulumi.Output<number | undefined>;
  declare readonly mem: pulumi.Output<number | undefined>;
  declare readonly disk: pulumi.Output<number | undefined>;
  declare readonly env: pulumi.Output<AppDefinition["env"]>;
  declare readonly labels: pulumi.Output<AppDefinition["labels"]>;
  declare readonly healthChecks: pulumi.Output<AppDefinition["healthChecks"]>;
  declare readonly container: pulumi.Output<AppDefinition["container"]>;

  constructor(name: string, args: MarathonAppArgs, opts?: pulumi.CustomResourceOptions) {
    const definitionFields = APP_DEFINITION_FIELDS.filter((field) => field !== "id");
    const props = {
      // Every definition field becomes an output, including those not given.
      ...Object.fromEntries(definitionFields.map((field) => [field, undefined])),
      ...args,
      // Labels the app so an app left by an interrupted create is recognised as this resource's.
      owner: `${pulumi.getProject()}/${pulumi.getStack()}/${name}`,
      version: undefined,
      deploymentId: undefined,
      tasksRunning: undefined,
      tasksHealthy: undefined,
      endpoints: undefined,
      uiUrl: undefined,
    };
    super(marathonAppProvider, name, props, opts, "marathon", "App");
  }
}
