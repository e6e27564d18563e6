// Validates io.Connect Desktop app definitions with io.Connect's own published validator:
// `SchemaValidator` and `application.json` of the npm package @interopio/schemas (installed in
// tests/fixtures/ioconnect/node_modules by tests/fixtures/ioconnect/install.sh), the same
// validator and schema io.Connect Desktop applies to app stores.
//
// Usage: node tests/windows/validate-app-definition.js FILE...
// Prints one JSON line per file ({file, isValid, errors}); exits 1 if any file is invalid.
"use strict";
const fs = require("fs");
const path = require("path");

const modules = path.join(__dirname, "..", "fixtures", "ioconnect", "node_modules");
const schemas = path.join(modules, "@interopio", "schemas");
const { SchemaValidator } = require(path.join(schemas, "app", "validator.js"));
const { AllNames } = require(path.join(schemas, "app", "names.js"));

// The validator reads each schema as text, keyed by its file name without `.json`.
const texts = {};
for (const name of AllNames) {
  texts[name.replace(".json", "")] = fs.readFileSync(path.join(schemas, "schemas", name), "utf8");
}
const validator = new SchemaValidator(texts, console);
const version = require(path.join(schemas, "package.json")).version;

let failed = false;
for (const file of process.argv.slice(2)) {
  const data = JSON.parse(fs.readFileSync(file, "utf8"));
  const result = validator.validate(data, "application.json");
  const errors = result.errors.map((e) => `${e.dataPath || ""} ${e.message} ${JSON.stringify(e.params)}`);
  console.log(JSON.stringify({ file, schemas: version, isValid: result.isValid, errors }));
  if (!result.isValid) failed = true;
}
process.exit(failed ? 1 : 0);
