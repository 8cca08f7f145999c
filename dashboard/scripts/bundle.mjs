// Bundles src/ into dist/: assets/app-<hash>.js and assets/app-<hash>.css (content-hashed,
// so the gateway can cache them for a year) and index.html pointing at them (never cached).
import { build } from "esbuild";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, "dist");
await rm(dist, { recursive: true, force: true });
await mkdir(path.join(dist, "assets"), { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: "src/main.tsx", styles: "src/styles.css" },
  bundle: true,
  minify: true,
  sourcemap: "linked",
  format: "esm",
  target: ["es2022"],
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: path.join(dist, "assets"),
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "linked",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
const script = outputs.find((file) => file.startsWith("app-") && file.endsWith(".js"));
const styles = outputs.find((file) => file.startsWith("styles-") && file.endsWith(".css"));
if (!script || !styles) throw new Error(`bundle outputs missing: ${outputs.join(", ")}`);
const template = await readFile(path.join(root, "public", "index.html"), "utf8");
await writeFile(path.join(dist, "index.html"), template.replace("SCRIPT", script).replace("STYLES", styles));
console.log(`dashboard built: dist/index.html, dist/assets/${script}, dist/assets/${styles}`);
