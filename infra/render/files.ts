/** Steps that write one config file or link; the content travels on stdin, never in the command line. */
import { hostScript, shellQuote, type ConfigFile, type HostStep, type ScriptOptions } from "./shell";

/** Write `file.content` to `file.path` when it differs; delete restores what was there before. */
export function writeFileStep(file: ConfigFile, options: ScriptOptions): HostStep {
  const path = shellQuote(file.path);
  return {
    create: hostScript(`write_file ${path}`, options),
    delete: hostScript(`remove_file ${path}`, options),
    stdin: file.content,
    logging: "stdoutAndStderr",
  };
}

/**
 * Point the symlink `link` at `target`, creating `link`'s directory (owned by `dirOwner` when that user
 * exists, so a daemon can write next to the link); delete restores what was there.
 */
export function linkStep(link: string, target: string, options: ScriptOptions, dirOwner?: string): HostStep {
  const chown =
    dirOwner === undefined
      ? ""
      : `\nif id -u ${shellQuote(dirOwner)} >/dev/null 2>&1; then chown ${shellQuote(dirOwner)}: "$(dirname ${shellQuote(link)})"; fi`;
  return {
    create: hostScript(`link_file ${shellQuote(link)} ${shellQuote(target)}${chown}`, options),
    delete: hostScript(`remove_file ${shellQuote(link)}`, options),
    logging: "stdoutAndStderr",
  };
}
