/**
 * The stack entry: runs the program and exports its outputs (mesosUrl, marathonUrls, zkConnectString,
 * hosts, endpoints). Only outputs go here: every export of this module becomes a stack output.
 */
import { definedOutputs, program } from "./program";

export = definedOutputs(program());
