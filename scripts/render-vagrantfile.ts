/**
 * Print the Vagrantfile of a stack, for `vagrant up` by hand:
 *   npx ts-node scripts/render-vagrantfile.ts dev > Vagrantfile
 */
import * as fs from "fs";
import * as yaml from "js-yaml";
import { parseClusterConfig } from "../infra/config";
import { vagrantfileOf } from "../infra/render/vagrantfile";

const stack = process.argv[2] ?? "dev";
const file = yaml.load(fs.readFileSync(`Pulumi.${stack}.yaml`, "utf8")) as {
  config: Record<string, unknown>;
};
const raw = Object.fromEntries(
  Object.entries(file.config)
    .filter(([key]) => key.startsWith("mesos-cluster:"))
    .map(([key, value]) => [key.slice("mesos-cluster:".length), value]),
);
process.stdout.write(vagrantfileOf(parseClusterConfig(raw)));
