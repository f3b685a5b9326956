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

// englishWords lists, once each, the Latin words of the page's visible text
// that allowed (a Set) does not hold; cells and codes marked translate="no",
// code, the title and select options aside.
export async function englishWords(page, allowed) {
  const words = await page.evaluate(() => {
    const words = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest("[translate=no], code, script, style, title, option") || !el.checkVisibility()) continue;
      for (const w of n.textContent.match(/(?<![0-9A-Za-z])[A-Za-z][A-Za-z0-9]+/g) || []) words.push(w);
    }
    return words;
  });
  return [...new Set(words.filter((w) => !allowed.has(w)))];
}
