/** Stack config files of this project, read as the Pulumi CLI hands them to the program. */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const NAMESPACE = "mesos-cluster:";

/** The `mesos-cluster:` keys of `Pulumi.<stack>.yaml`, without the namespace. */
export function readStackConfig(stack: string): Record<string, unknown> {
  const file = yaml.load(fs.readFileSync(path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  return Object.fromEntries(
    Object.entries(file.config)
      .filter(([key]) => key.startsWith(NAMESPACE))
      .map(([key, value]) => [key.slice(NAMESPACE.length), value]),
  );
}

/** The `config:` defaults declared in Pulumi.yaml. */
export function readProjectDefaults(): Record<string, unknown> {
  const project = yaml.load(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as {
    config: Record<string, { default?: unknown }>;
  };
  return Object.fromEntries(
    Object.entries(project.config)
      .filter(([, declaration]) => declaration.default !== undefined)
      .map(([key, declaration]) => [key, declaration.default]),
  );
}

/** Raw keys as `pulumi.runtime.setAllConfig` takes them: namespaced, values as the CLI encodes them. */
export function toPulumiConfig(raw: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw).map(([key, value]) => [
      `${NAMESPACE}${key}`,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );
}
