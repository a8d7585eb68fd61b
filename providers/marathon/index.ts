/** Marathon apps as Pulumi resources: the resource, its provider, the REST client and the app schema. */
export { MarathonApp, type MarathonAppArgs, type MarathonAppDefinitionArgs } from "./resource";
export {
  MarathonAppProvider,
  marathonAppProvider,
  type ConnectionInputs,
  type MarathonAppInputs,
  type MarathonAppOutputs,
} from "./provider";
export {
  MarathonClient,
  MarathonError,
  type MarathonClientOptions,
  type MarathonAppInfo,
  type MarathonDeployment,
  type MarathonTask,
  type DeploymentResult,
} from "./client";
export {
  APP_DEFINITION_FIELDS,
  canonicalAppId,
  changedFields,
  reconcileWithLive,
  validateAppDefinition,
  type AppDefinition,
  type AppValidation,
  type FieldFailure,
} from "./schema";
