// The Firebase app the page talks to. Served from localhost or 127.0.0.1 (the Hosting emulator,
// `make serve`), it uses the emulator suite of project demo-maestro at the ports of
// firebase.json (put into the bundle by web/build.mjs). Deployed on Firebase Hosting, it takes
// the project's own web config from Hosting's reserved URL /__/firebase/init.json.
import { initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import { connectFunctionsEmulator, getFunctions } from "firebase/functions";

/* global __MAESTRO_EMULATORS__ */
const EMULATORS = __MAESTRO_EMULATORS__;
// The functions' region: MAESTRO_REGION in functions/.env (README, "Adopting Maestro").
export const FUNCTIONS_REGION = "us-central1";
export const CALLABLE = "calculate_agent_weights";

export const onEmulators = ["localhost", "127.0.0.1"].includes(location.hostname);

async function webConfig() {
  if (onEmulators) {
    return { projectId: EMULATORS.projectId, apiKey: "demo-api-key", authDomain: `${EMULATORS.projectId}.firebaseapp.com` };
  }
  const response = await fetch("/__/firebase/init.json");
  if (!response.ok) throw new Error(`no Firebase config at /__/firebase/init.json (${response.status})`);
  return response.json();
}

export async function connect() {
  const app = initializeApp(await webConfig());
  const auth = getAuth(app);
  const db = getFirestore(app);
  const functions = getFunctions(app, FUNCTIONS_REGION);
  if (onEmulators) {
    const { auth: a, firestore: f, functions: fn } = EMULATORS;
    connectAuthEmulator(auth, `http://${a.host}:${a.port}`, { disableWarnings: true });
    connectFirestoreEmulator(db, f.host, f.port);
    connectFunctionsEmulator(functions, fn.host, fn.port);
  }
  return { app, auth, db, functions };
}
