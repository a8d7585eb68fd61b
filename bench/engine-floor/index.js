/**
 * The engine benchmark's floor: `count` independent remote.Commands, each with an SSH connection whose key
 * is a secret, as the project's host steps have. Plain JavaScript, so the language host compiles nothing.
 * Hosts are numbered inside 10.10.0.0/16; `pulumi preview` contacts none of them.
 */
"use strict";
const pulumi = require("@pulumi/pulumi");
const { remote } = require("@pulumi/command");

const config = new pulumi.Config();
const count = config.requireNumber("count");
const privateKey = config.requireSecret("privateKey");

for (let i = 0; i < count; i++) {
  new remote.Command(`step${i + 1}`, {
    connection: {
      host: `10.10.${30 + Math.floor(i / 250)}.${1 + (i % 250)}`,
      user: "root",
      privateKey,
      dialErrorLimit: 60,
      perDialTimeout: 10,
    },
    create: `echo step ${i + 1}`,
    delete: `echo undo step ${i + 1}`,
    logging: "stdoutAndStderr",
  });
}
