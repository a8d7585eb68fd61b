/**
 * The part of a step that writes a set of config files and links; contents travel on stdin, never in the
 * command line.
 */
import { shellQuote, takeStdin, type ConfigFile, type ScriptPart } from "./shell";

/** A symlink a step keeps pointing at `target`. */
export interface ConfigLink {
  readonly link: string;
  readonly target: string;
  /** Owner of the link's directory when that user exists, so a daemon can write next to the link. */
  readonly dirOwner?: string;
}

function linkBody({ link, target, dirOwner }: ConfigLink): string {
  const body = `link_file ${shellQuote(link)} ${shellQuote(target)}`;
  if (dirOwner === undefined) return body;
  const owner = shellQuote(dirOwner);
  return `${body}\nif id -u ${owner} >/dev/null 2>&1; then chown ${owner}: "$(dirname ${shellQuote(link)})"; fi`;
}

/**
 * Write each file whose content differs and point each link at its target. The set is recorded under
 * `name`, the service that reads it (unique per host): a file or link an earlier run wrote and this set no
 * longer holds is put back as it was, and delete puts back every one of them. A run that changed anything
 * marks the service pending, so that its service part restarts it (a file edited by hand and put back
 * included).
 */
export function fileSetPart(
  name: string,
  files: readonly ConfigFile[],
  links: readonly ConfigLink[] = [],
): ScriptPart {
  const paths = [...files.map((f) => f.path), ...links.map((l) => l.link)].map(shellQuote).join(" ");
  return {
    create: [
      `PENDING=${shellQuote(name)}`,
      `keep_set ${shellQuote(name)} ${paths}`,
      ...files.map((f) => `${takeStdin(f.content)} | write_file ${shellQuote(f.path)}`),
      ...links.map(linkBody),
    ].join("\n"),
    delete: `drop_set ${shellQuote(name)} ${paths}`,
    stdin: files.map((f) => f.content).join(""),
  };
}
