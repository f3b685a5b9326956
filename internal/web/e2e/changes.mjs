// Browser test of 变化 (/changes): Debian's chromium driven by
// playwright-core, at 1440 and 390 px. Run by internal/web's
// TestBrowserChanges, which imports the SAMPLE data and then a revision with
// a note (备注); by hand:
//   BASE_URL=http://127.0.0.1:9737 OUT_DIR=out node changes.mjs
// The page must load without a console error or a request off the machine,
// be linked from the navigation, list the revision with its old and new
// values, difference, source and note, page through the new figures, accept
// its dates from the form, and not scroll sideways as a whole at 390 px
// (the tables scroll inside their box). Screenshots go to OUT_DIR (c*.png).
import path from "node:path";
import { base, out, failures, fail, check, local, launch } from "./harness.mjs";

const browser = await launch();

for (const width of [1440, 390]) {
  const ctx = await browser.newContext({ viewport: { width, height: 900 }, locale: "zh-CN" });
  const page = await ctx.newPage();
  let current = "";
  page.on("console", (m) => { if (m.type() === "error") fail(`${current}: console error: ${m.text()}`); });
  page.on("pageerror", (e) => fail(`${current}: page error: ${e.message}`));
  page.on("request", (r) => { const u = r.url(); if (!u.startsWith("data:") && !local(u)) fail(`${current}: request off the machine: ${u}`); });
  page.on("response", (r) => { if (r.status() >= 400) fail(`${current}: ${r.status()} for ${r.url()}`); });
  const at = (name) => `${name} @${width}`;

  // Linked from the navigation of the overview.
  current = at("overview");
  await page.goto(base + "/", { waitUntil: "load" });
  await page.click("header.top nav a.changes");
  current = at("changes");
  check(new URL(page.url()).pathname === "/changes", `${current}: the navigation's 变化 opens /changes`);
  check(await page.locator("h1").innerText() === "变化", `${current}: heading 变化`);

  // The revision: old and new values, difference, source and note.
  const rev = page.locator("table.changes tr.chg-revised", { hasText: "按年鉴核定数修订" }).first();
  check(await rev.count() === 1, `${current}: the revision with its note is listed`);
  if (await rev.count() === 1) {
    const text = await rev.innerText();
    check(text.includes("97.9%") && text.includes("修订") && text.includes("山东省市场监管局") && text.includes("山东省统计局") && /[+-]\d/.test(text),
      `${current}: the revision shows old and new values, difference and source (${text.replace(/\s+/g, " ")})`);
  }
  const summary = await page.locator("p.asof").innerText();
  check(/新报送数据 \d+ 条,修订 [1-9]\d* 条/.test(summary), `${current}: the counts (${summary})`);
  check(await page.locator("section.change-group h2").count() > 1, `${current}: grouped by plan and region`);

  // At 390 px the page does not scroll sideways as a whole.
  const sw = await page.evaluate(() => document.scrollingElement.scrollWidth);
  check(sw <= width, `${current}: page width ${sw} px within the ${width} px viewport`);
  await page.screenshot({ path: path.join(out, `c1-changes-${width}.png`), fullPage: false });
  await page.locator("table.changes tr.chg-revised").first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(out, `c2-changes-revision-${width}.png`) });

  // Pages of rows.
  const next = page.locator("nav.pages a", { hasText: "下一页" });
  check(await next.count() === 1, `${current}: more changes than one page: a next-page link`);
  if (await next.count() === 1) {
    await next.click();
    check(new URL(page.url()).searchParams.get("page") === "2", `${current}: the next page is page 2`);
    check(await page.locator("table.changes tbody tr").count() > 0, `${current}: page 2 has rows`);
  }

  // The dates from the form: a window before the sample was imported is empty.
  await page.fill("form.window input[name=from]", "2020-01-01");
  await page.fill("form.window input[name=to]", "2020-03-31");
  await page.click("form.window button[type=submit]");
  await page.waitForURL(/from=2020-01-01/);
  check(await page.locator("table.changes").count() === 0 && (await page.locator("main").innerText()).includes("没有目标状态变化"),
    `${current}: a window without changes says so`);
  await page.screenshot({ path: path.join(out, `c3-changes-empty-${width}.png`) });
  await ctx.close();
}

await browser.close();
console.log(`${failures.length === 0 ? "PASS" : "FAILED"}: ${failures.length} failure(s)`);
process.exit(failures.length === 0 ? 0 : 1);
