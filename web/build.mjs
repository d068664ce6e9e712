// Builds the dashboard into web/dist, the Hosting public folder: `npm run build:web`
// (`make setup` runs it). The emulators' hosts and ports come from firebase.json, so that the
// page served by the Hosting emulator finds the rest of the suite where it runs.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const web = dirname(fileURLToPath(import.meta.url));
const root = dirname(web);
const out = join(web, "dist");
const firebaseJson = JSON.parse(readFileSync(join(root, "firebase.json"), "utf8"));
const firebaserc = JSON.parse(readFileSync(join(root, ".firebaserc"), "utf8"));
const { auth, firestore, functions } = firebaseJson.emulators;
const emulators = { projectId: firebaserc.projects.default, auth, firestore, functions };

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [join(web, "src", "main.js")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  outfile: join(out, "app.js"),
  define: { __MAESTRO_EMULATORS__: JSON.stringify(emulators) },
  logLevel: "warning",
});
for (const name of ["index.html", "style.css", "favicon.svg"]) {
  copyFileSync(join(web, name), join(out, name));
}
