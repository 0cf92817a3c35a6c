#!/usr/bin/env node
// functions.json from functions.js with Microsoft's custom-functions-metadata (its library, not its CLI: the CLI
// prints parse errors and exits 0 without writing, and a build must fail loudly instead).
"use strict";
const fs = require("fs");
const { generateCustomFunctionsMetadata } = require("custom-functions-metadata/lib/generate");

async function main(input, output) {
  if (!input || !output) {
    console.error("usage: node tools/metadata.js functions.js functions.json");
    return 2;
  }
  const results = await generateCustomFunctionsMetadata(input);
  if (results.errors.length > 0) {
    console.error(`custom-functions-metadata found errors in ${input}:`);
    results.errors.forEach((error) => console.error(`  ${error}`));
    return 1;
  }
  if (!results.metadataJson) {
    console.error(`${input} has no @customfunction: nothing to write`);
    return 1;
  }
  fs.writeFileSync(output, results.metadataJson);
  return 0;
}

main(process.argv[2], process.argv[3]).then(
  (code) => process.exit(code),
  (error) => {
    console.error(String(error && error.message ? error.message : error));
    process.exit(1);
  },
);
