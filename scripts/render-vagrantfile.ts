/**
 * Print the Vagrantfile of a stack, for `vagrant up` by hand:
 *   npx ts-node scripts/render-vagrantfile.ts dev > Vagrantfile
 */
import { parseClusterConfig } from "../infra/config";
import { vagrantfileOf } from "../infra/render/vagrantfile";
import { readStackConfig } from "./stack-file";

process.stdout.write(vagrantfileOf(parseClusterConfig(readStackConfig(process.argv[2] ?? "dev"))));
