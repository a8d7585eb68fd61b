/** A stack's config file, read as the Pulumi CLI hands its values to the program. */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
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
