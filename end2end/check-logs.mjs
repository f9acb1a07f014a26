// Reads every server log of an end-to-end run and fails when one holds a
// secret: a password the suite typed, a JWT, a refresh or reset secret, a
// session cookie, a password hash, or a server's master key. Also fails
// on an empty or unstructured log, so it can never pass by seeing nothing.
//
//   node check-logs.mjs <log dir> <data dir>...
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const [logDir, ...dataDirs] = process.argv.slice(2);
const specs = readdirSync("tests").map((f) => readFileSync(join("tests", f), "utf8")).join("\n");
// Every string the suite types into a password field, and the shared one.
const passwords = new Set(["correct horse battery"]);
for (const m of specs.matchAll(/(?:[Pp]assword[^\n]*?\.fill|signIn\([^\n]*?,)\(?\s*"([^"]{6,})"/g)) passwords.add(m[1]);

const keys = dataDirs
  .map((d) => join(d, "master.key"))
  .filter(existsSync)
  .map((f) => readFileSync(f, "utf8").trim());

const patterns = [
  ["a JWT", /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\./],
  ["a refresh token", /grt_[\w-]{16,}/],
  ["a reset secret", /grs_[\w-]{16,}/],
  ["a session cookie", /__Host-gatehouse-(access|refresh)=[^;\s"]/],
  ["a password hash", /\$argon2id?\$/],
];

let lines = 0;
const problems = [];
for (const file of readdirSync(logDir)) {
  for (const [i, line] of readFileSync(join(logDir, file), "utf8").split("\n").entries()) {
    if (!line.trim()) continue;
    lines += 1;
    const at = `${file}:${i + 1}`;
    try {
      JSON.parse(line);
    } catch {
      problems.push(`${at}: not a JSON log line`);
    }
    for (const [what, re] of patterns) if (re.test(line)) problems.push(`${at}: ${what}`);
    for (const p of passwords) if (line.includes(p)) problems.push(`${at}: a password the suite typed`);
    for (const k of keys) if (k && line.includes(k)) problems.push(`${at}: a master key`);
  }
}
if (lines < 100) problems.push(`only ${lines} log lines in ${logDir}: the servers did not log the run`);
if (keys.length === 0) problems.push("no master key found to look for");
if (problems.length) {
  console.error(`logs: ${problems.length} problem(s)\n` + problems.slice(0, 20).join("\n"));
  process.exit(1);
}
console.log(`logs: ${lines} lines from ${readdirSync(logDir).length} servers, no password (${passwords.size} looked for), token, cookie, hash or key`);
