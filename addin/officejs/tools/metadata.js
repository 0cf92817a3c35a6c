#!/usr/bin/env node
// functions.json from functions.js with Microsoft's custom-functions-metadata (its library, not its CLI: the CLI
// prints parse errors and exits 0 without writing, and a build must fail loudly instead).
//   node tools/metadata.js a/functions.js a/functions.json [b/functions.js b/functions.json ...]
"use strict";
const fs = require("fs");
const { generateCustomFunctionsMetadata } = require("custom-functions-metadata/lib/generate");

async function one(input, output) {
  const results = await generateCustomFunctionsMetadata(input);
  if (results.errors.length > 0) {
    console.error(`custom-functions-metadata found errors in ${input}:`);
    results.errors.forEach((error) => console.error(`  ${error}`));
    return false;
  }
  if (!results.metadataJson) {
    console.error(`${input} has no @customfunction: nothing to write`);
    return false;
  }
  fs.writeFileSync(output, results.metadataJson);
  return true;
}

async function main(paths) {
  if (paths.length === 0 || paths.length % 2 !== 0) {
    console.error("usage: node tools/metadata.js functions.js functions.json [more pairs]");
    return 2;
  }
  let ok = true;
  for (let i = 0; i < paths.length; i += 2) ok = (await one(paths[i], paths[i + 1])) && ok;
  return ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(String(error && error.message ? error.message : error));
    process.exit(1);
  },
);
