// Browser test of qualitymon's web pages (质量目标看板): Debian's chromium
// driven by playwright-core. Run by internal/web's TestBrowser, which starts
// qualitymon serve with the SAMPLE data; by hand:
//   BASE_URL=http://127.0.0.1:9737 OUT_DIR=out node pages.mjs
// Every page must load without a console error, a failed request or a
// request off this machine; charts must render, links and filters work,
// exports parse and the report prints to PDF. Screenshots go to OUT_DIR.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";

const base = process.env.BASE_URL || "http://127.0.0.1:9737";
const out = process.env.OUT_DIR || "out";
const exe = process.env.CHROMIUM || "/usr/bin/chromium";
fs.mkdirSync(out, { recursive: true });

const failures = [];
const timings = [];
const fail = (what) => { failures.push(what); console.log("FAIL " + what); };
const check = (ok, what) => { if (ok) console.log("ok   " + what); else fail(what); };

let browser;
try {
  browser = await chromium.launch({
    executablePath: exe,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
      "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
} catch (e) {
  console.log("BROWSER-START-FAILED " + e.message.split("\n")[0]);
  process.exit(3);
}
const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "zh-CN", acceptDownloads: true });
const page = await ctx.newPage();
const local = (u) => { const h = new URL(u).hostname; return h === "127.0.0.1" || h === "localhost" || h === "[::1]"; };
let current = "";
page.on("console", (m) => { if (m.type() === "error") fail(`${current}: console error: ${m.text()}`); });
page.on("pageerror", (e) => fail(`${current}: page error: ${e.message}`));
page.on("request", (r) => { const u = r.url(); if (!u.startsWith("data:") && !u.startsWith("blob:") && !local(u)) fail(`${current}: request off the machine: ${u}`); });
// A request the browser itself cancels because the test moved on to the next
// page (net::ERR_ABORTED, e.g. the favicon) is not a failure of the page.
page.on("requestfailed", (r) => {
  if (r.failure()?.errorText === "net::ERR_ABORTED") return;
  fail(`${current}: request failed: ${r.url()} ${r.failure()?.errorText}`);
});
page.on("response", (r) => { if (r.status() >= 400) fail(`${current}: ${r.status()} for ${r.url()}`); });

async function visit(name, url) {
  current = name;
  const t0 = Date.now();
  const resp = await page.goto(base + url, { waitUntil: "load" });
  timings.push({ name, url, ms: Date.now() - t0 });
  check(resp && resp.status() === 200, `${name}: ${url} answers 200`);
  const csp = resp?.headers()["content-security-policy"] || "";
  check(csp.includes("script-src 'self'") && !csp.includes("unsafe-inline"), `${name}: strict CSP`);
  return resp;
}
async function shot(name) {
  await page.screenshot({ path: path.join(out, name + ".png"), fullPage: true });
}

// Overview: every plan with counts, a link to each.
await visit("overview", "/");
const planLinks = await page.$$eval("table.overview tbody th a", (as) => as.map((a) => a.getAttribute("href")));
check(planLinks.length >= 5, `overview lists the plans (${planLinks.length})`);
check(await page.locator("table.overview thead").innerText().then((t) => ["已达标", "按进度", "滞后", "严重滞后", "未达标", "无数据", "不可量化跟踪"].every((s) => t.includes(s))), "overview: every status label in Chinese");
await shot("01-overview");
await page.click("table.overview tbody tr:first-child th a");
check(/\/plans\/[a-z0-9-]+$/.test(page.url()), "overview: a plan link opens its scorecard");

// Every plan's scorecard: rows, sparklines.
for (const href of planLinks) {
  const key = href.split("/").pop();
  await visit("plan " + key, href);
  const rows = await page.locator("table.scorecard tbody tr[data-status]").count();
  const sparks = await page.locator("table.scorecard svg.spark").count();
  check(rows > 0 && sparks === rows, `plan ${key}: ${rows} rows, each with a sparkline`);
  await shot("02-plan-" + key);
}

// Filters (the script submits on change) and sorting.
await visit("plan filters", "/plans/shandong-2018");
const total = await page.locator("table.scorecard tbody tr[data-status]").count();
await page.selectOption("select[name=status]", "achieved");
await page.waitForURL(/status=achieved/);
const statuses = await page.$$eval("table.scorecard tbody tr[data-status]", (trs) => trs.map((t) => t.dataset.status));
check(statuses.length > 0 && statuses.length < total && statuses.every((s) => s === "achieved"), `status filter keeps only 已达标 (${statuses.length} of ${total})`);
await page.click("text=清除筛选");
await page.click("table.scorecard thead a:has-text('状态')");
await page.waitForURL(/sort=status/);
const sorted = await page.$$eval("table.scorecard tbody tr[data-status]", (trs) => trs.map((t) => t.dataset.status));
check(sorted[0] === "missed" || sorted[0] === "off_track", `sorting by status puts the worst first (${sorted[0]})`);
const agencies = await page.$$eval("select[name=agency] option", (os) => os.map((o) => o.value).filter((v) => v));
if (agencies.length) {
  await page.selectOption("select[name=agency]", agencies[0]);
  await page.waitForURL(/agency=/);
  const leads = await page.$$eval("table.scorecard tbody tr[data-status] td:last-child", (tds) => tds.map((t) => t.innerText));
  check(leads.length > 0 && leads.every((l) => l.includes(agencies[0])), `agency filter keeps ${agencies[0]}`);
}

// A target page: chart with figures, revisions, target, trajectory, deadline.
await visit("target", "/plans/shandong-2018/targets/food-sampling-pass-rate?region=370000");
for (const [sel, what] of [["svg.line-chart path.line.actual", "reported figures"], ["svg.line-chart circle.dot.revised", "a revision"],
  ["svg.line-chart line.rule.target", "the target line"], ["svg.line-chart line.rule.deadline", "the deadline"], ["blockquote.quote", "the quote"],
  ["table.figures tr.superseded", "a superseded figure in the table"]]) {
  check(await page.locator(sel).count() > 0, `target page shows ${what}`);
}
await shot("03-target-food-sampling");
await visit("target trajectory", "/plans/shandong-2018/targets/high-standard-farmland-total");
check(await page.locator("svg.line-chart path.line.required").count() > 0, "target page draws the required trajectory from the baseline");
await shot("04-target-farmland");
// A region group and a garbled printed quote.
await visit("target group", "/plans/qingdao-2023/targets/" + (await firstTarget("qingdao-2023")));
await shot("05-target-qingdao");
await page.goto(base + "/plans/shandong-2018/targets/food-sampling-pass-rate?region=370000");
current = "target → indicator";
await page.click("text=各地区比较");
check(page.url().includes("/indicators/food_sampling_pass_rate"), "target page links to its indicator's comparison");

// Comparison across regions.
await visit("indicator", "/indicators/food_sampling_pass_rate");
check(await page.locator("svg.bar-chart rect.bar").count() >= 3, "comparison: a bar per region");
await shot("06-indicator-food-sampling");
const groupInd = process.env.GROUP_INDICATOR || "prefab_building_share";
if (groupInd) {
  await visit("ranking", "/indicators/" + groupInd);
  check(await page.locator("text=考核排名").count() > 0, `ranking of a region group (${groupInd})`);
  await shot("07-indicator-ranking");
}

// at / known_at through the date pickers.
await visit("moment", "/plans/shandong-2018");
await page.fill("input[name=at]", "2019-12-31");
await page.click("form.moment button[type=submit]");
await page.waitForURL(/at=2019-12-31/);
check((await page.locator("p.asof").innerText()).includes("2019-12-31"), "the date picker sets the evaluation date");
check((await page.locator("table.scorecard a").first().getAttribute("href")).includes("at=2019-12-31"), "links keep the evaluation date");
await shot("08-plan-at-2019");

// Exports parse.
current = "exports";
const csv = await ctx.request.get(base + "/export/status.csv?plan=shandong-2018");
const csvBody = await csv.body();
check(csv.status() === 200 && csvBody[0] === 0xef && csvBody[1] === 0xbb && csvBody[2] === 0xbf, "CSV export starts with a UTF-8 BOM");
const csvLines = csvBody.toString("utf8").replace(/^\uFEFF/, "").trim().split("\r\n");
check(csvLines[0].startsWith("规划,规划名称,目标") && csvLines.length > 10 && csvLines.slice(1).every((l) => l.startsWith("shandong-2018,")), `CSV export: header and ${csvLines.length - 1} rows of the plan`);
const xlsx = await ctx.request.get(base + "/export/status.xlsx");
const xb = await xlsx.body();
check(xlsx.status() === 200 && xb[0] === 0x50 && xb[1] === 0x4b && xb.length > 5000, `XLSX export is a zip (${xb.length} bytes)`);
await visit("plan download", "/plans/hainan-2018");
const [dl] = await Promise.all([page.waitForEvent("download"), page.click("text=导出 Excel")]);
check((await dl.suggestedFilename()).endsWith(".xlsx"), "the scorecard's Excel link downloads an .xlsx");

// The report, on screen and printed to A4.
await visit("report", "/report/shandong-2018");
check(await page.locator("svg.chart").count() > 0, "the report has charts");
await shot("09-report-shandong");
await page.emulateMedia({ media: "print" });
const pdf = await page.pdf({ path: path.join(out, "report-shandong-2018.pdf"), format: "A4", printBackground: true });
const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) || []).length;
check(pdf.subarray(0, 5).toString() === "%PDF-" && pages >= 2, `the report prints to an A4 PDF (${pages} pages)`);
await page.emulateMedia({ media: "screen" });

async function firstTarget(plan) {
  await page.goto(base + "/plans/" + plan);
  const href = await page.locator("table.scorecard tbody a").first().getAttribute("href");
  return href.split("/targets/")[1];
}

await browser.close();
fs.writeFileSync(path.join(out, "timings.json"), JSON.stringify(timings, null, 1));
console.log(`${timings.length} page loads; slowest ${Math.max(...timings.map((t) => t.ms))} ms`);
console.log(`${failures.length === 0 ? "PASS" : "FAILED"}: ${failures.length} failure(s)`);
process.exit(failures.length === 0 ? 0 : 1);
