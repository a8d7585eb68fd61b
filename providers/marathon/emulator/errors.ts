/** Marathon's error responses (MarathonExceptionMapper), as a throwable carrying status and body. */

/** One entry of a 422 `details` list: a JSON-pointer-like path and its error messages. */
export interface ErrorDetail {
  path: string;
  errors: string[];
}

/** An error answered to the client with this status and JSON body. */
export class MarathonHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.message === "string" ? body.message : `HTTP ${status}`);
  }
}

/** Marathon's literal lock message; `<DEPLOYMENT_ID>` is left unsubstituted upstream. */
const APP_LOCKED_MESSAGE =
  "App is locked by one or more deployments. Override with the option '?force=true'. " +
  "View details at '/v2/deployments/<DEPLOYMENT_ID>'.";

export const marathonErrors = {
  appNotFound: (id: string, version?: string) =>
    new MarathonHttpError(404, {
      message: version ? `App '${id}' does not exist in version ${version}` : `App '${id}' does not exist`,
    }),
  appExists: (id: string) =>
    new MarathonHttpError(409, { message: `An app with id [${id}] already exists.` }),
  appLocked: (deploymentIds: string[]) =>
    new MarathonHttpError(409, {
      message: APP_LOCKED_MESSAGE,
      deployments: deploymentIds.map((id) => ({ id })),
    }),
  deploymentNotFound: (id: string) =>
    new MarathonHttpError(404, { message: `DeploymentPlan ${id} does not exist` }),
  /** A Play-JSON read failure (types and RAML constraints). */
  invalidJson: (details: ErrorDetail[]) => new MarathonHttpError(422, { message: "Invalid JSON", details }),
  /** A wix-accord semantic validation failure. */
  notValid: (details: ErrorDetail[]) =>
    new MarathonHttpError(422, { message: "Object is not valid", details }),
  /** Malformed JSON text: `details` is the parser's message string. */
  malformedJson: (parserMessage: string) =>
    new MarathonHttpError(400, { message: "Invalid JSON", details: parserMessage }),
  emptyBody: () =>
    new MarathonHttpError(400, {
      message: "Please specify data in JSON format",
      details: "No content to map due to end-of-input",
    }),
  illegalArgument: (message: string) => new MarathonHttpError(422, { message }),
  uriNotFound: () => new MarathonHttpError(500, { message: "URI not found" }),
  noLeader: () => new MarathonHttpError(404, { message: "There is no leader" }),
  unavailable: () => new MarathonHttpError(503, { message: "Futures timed out after [10000 milliseconds]" }),
};
