/** Stack config files of this project, read as the Pulumi CLI hands them to the program. */
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { PROJECT_ROOT } from "../../scripts/stack-file";

const NAMESPACE = "mesos-cluster:";
export { PROJECT_ROOT, readStackConfig } from "../../scripts/stack-file";

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
