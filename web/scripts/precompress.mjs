// Writes a .gz beside every built asset (the server sends it to browsers that accept gzip) and
// prints the gzipped size of what the first visit loads: index.html and what it references.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
const sizes = new Map();
for (const file of walk(dist)) {
  if (!/\.(js|css|html|svg|json)$/.test(file)) continue;
  const gz = gzipSync(readFileSync(file), { level: 9 });
  writeFileSync(`${file}.gz`, gz);
  sizes.set(file.slice(dist.length), gz.length);
}
const index = readFileSync(join(dist, "index.html"), "utf8");
const firstVisit = [...index.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const js = firstVisit.filter((f) => f.endsWith(".js")).reduce((sum, f) => sum + (sizes.get(f) ?? 0), 0);
const css = firstVisit.filter((f) => f.endsWith(".css")).reduce((sum, f) => sum + (sizes.get(f) ?? 0), 0);
console.log(`first visit, gzipped: JavaScript ${(js / 1024).toFixed(1)} KiB, CSS ${(css / 1024).toFixed(1)} KiB, index.html ${((sizes.get("index.html") ?? 0) / 1024).toFixed(1)} KiB`);
