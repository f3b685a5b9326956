// The browser tests' common part: where to find the server, Chromium and
// the screenshots' folder, how a check is counted, and Chromium started
// with the flags this machine needs (no network beyond loopback). A browser
// that cannot start exits with code 3 (BROWSER-START-FAILED), which the Go
// test reports as a failure under CI=true.
import { chromium } from "playwright-core";
import fs from "node:fs";

export const base = process.env.BASE_URL || "http://127.0.0.1:9737";
export const out = process.env.OUT_DIR || "out";
fs.mkdirSync(out, { recursive: true });

export const failures = [];
export const fail = (what) => { failures.push(what); console.log("FAIL " + what); };
export const check = (ok, what) => { if (ok) console.log("ok   " + what); else fail(what); };

// local says whether a request stays on this machine.
export const local = (u) => { const h = new URL(u).hostname; return h === "127.0.0.1" || h === "localhost" || h === "[::1]"; };

// launch starts Debian's chromium headless, or exits with code 3.
export async function launch() {
  try {
    return await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
        "--no-first-run", "--disable-component-update", "--disable-sync"],
    });
  } catch (e) {
    console.log("BROWSER-START-FAILED " + e.message.split("\n")[0]);
    process.exit(3);
  }
}
