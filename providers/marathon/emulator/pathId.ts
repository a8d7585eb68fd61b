/** Marathon app ids (state/PathId.scala): normalisation and the rules an id must follow. */

/** Each id segment must fully match this (PathId.scala). */
export const ID_SEGMENT_PATTERN =
  "^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$";

/** The RAML `PathId` pattern that the JSON reader applies before semantic validation. */
export const RAML_PATH_ID_PATTERN =
  /^(\/?((\.\.)|(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))?($|\/))+$/;

const SEGMENT = new RegExp(`^(?:${ID_SEGMENT_PATTERN})$`);
const RESERVED_LAST_SEGMENTS = ["restart", "tasks", "versions", ".", ".."];

/** Makes an id absolute and canonical: "foo//bar/" and "/foo/bar" both become "/foo/bar". */
export function normalizeId(raw: string): string {
  const segments: string[] = [];
  for (const segment of raw.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  return `/${segments.join("/")}`;
}

/** Semantic id errors (wix-accord messages) of a raw, not yet normalised id. */
export function idErrors(raw: string): string[] {
  const segments = raw.split("/").filter((s) => s !== "");
  if (normalizeId(raw) === "/") return ["Path must contain at least one path element"];
  const errors: string[] = [];
  if (!segments.every((s) => SEGMENT.test(s))) {
    errors.push(`must fully match regular expression '${ID_SEGMENT_PATTERN}'`);
  }
  if (RESERVED_LAST_SEGMENTS.includes(segments[segments.length - 1])) {
    errors.push(
      `must not end with any of the following reserved keywords: ${RESERVED_LAST_SEGMENTS.join(", ")}`,
    );
  }
  return errors;
}

/** Task ids start with the app path, "/" replaced by "_" (e.g. "group_app.instance-<uuid>._app.1"). */
export function taskIdPrefix(appId: string): string {
  return appId.slice(1).replace(/\//g, "_");
}
