// Browser test of qualitymon's web pages (质量目标看板): Debian's chromium
// driven by playwright-core. Run by internal/web's TestBrowser, which starts
// qualitymon serve with the SAMPLE data; by hand:
//   BASE_URL=http://127.0.0.1:9737 OUT_DIR=out node pages.mjs
// Every page must load without a console error, a failed request or a
// request off this machine; charts must render, links and filters work,
// exports parse and the report prints to PDF. Screenshots go to OUT_DIR.
import fs from "node:fs";
import path from "node:path";
import { base, out, failures, fail, check, local, launch, englishWords } from "./harness.mjs";

const timings = [];
const browser = await launch();
const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: "zh-CN", acceptDownloads: true });
const page = await ctx.newPage();
let current = "";
page.on("console", (m) => { if (m.type() === "error" && !current.startsWith("error")) fail(`${current}: console error: ${m.text()}`); });
page.on("pageerror", (e) => fail(`${current}: page error: ${e.message}`));
page.on("request", (r) => { const u = r.url(); if (!u.startsWith("data:") && !u.startsWith("blob:") && !local(u)) fail(`${current}: request off the machine: ${u}`); });
// A request the browser itself cancels because the test moved on to the next
// page (net::ERR_ABORTED, e.g. the favicon) is not a failure of the page.
page.on("requestfailed", (r) => {
  if (r.failure()?.errorText === "net::ERR_ABORTED") return;
  fail(`${current}: request failed: ${r.url()} ${r.failure()?.errorText}`);
});
page.on("response", (r) => { if (r.status() >= 400 && !current.startsWith("error")) fail(`${current}: ${r.status()} for ${r.url()}`); });

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

// Words a Chinese page may show in Latin letters: the product's name, file
// formats, units. Codes and figures' sources as reported are marked
// translate="no" and not read.
// Standards are cited by their designations (GB 3095-2012, HJ 633-2012,
// ISO 9001), as Chinese texts cite them.
const allowedLatin = new Set(["qualitymon", "CSV", "XLSX", "Excel", "Markdown", "PDF", "UTF", "GBK", "H1", "H2", "Q1", "Q2", "Q3", "Q4",
  "GB", "HJ", "SL", "ISO", "IEC", "ITU", "AQI"]);

// audit checks what every page must be at the current width: nothing wider
// than the window, no English word in its visible text, chart text
// readable, no two chart labels overlapping, every chart with a legend
// inside it, bars from zero, no axis below zero, no period printed as
// 2018..2019.
async function audit(name) {
  const width = page.viewportSize().width;
  const r = await page.evaluate(() => {
    const se = document.scrollingElement;
    const charts = [];
    for (const svg of document.querySelectorAll("svg.chart:not(.spark)")) {
      const vb = svg.viewBox.baseVal;
      const scale = svg.getBoundingClientRect().width / vb.width;
      const texts = [...svg.querySelectorAll("text")];
      const boxes = texts.map((t) => { const b = t.getBoundingClientRect(); return { l: b.left, r: b.right, t: b.top, b: b.bottom, s: t.textContent }; });
      const overlaps = [];
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (a.l < b.r - 1 && b.l < a.r - 1 && a.t < b.b - 1 && b.t < a.b - 1) overlaps.push(a.s + " × " + b.s);
      }
      const minFont = Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize) * scale));
      const legend = svg.querySelectorAll("g.legend").length;
      const outside = [...svg.querySelectorAll("g.legend")].filter((g) => { const b = g.getBBox(); return b.y + b.height > vb.height + 0.5 || b.x + b.width > vb.width + 0.5; }).length;
      const ticks = [...svg.querySelectorAll("text.tick")].map((t) => t.textContent);
      const negTicks = ticks.filter((t) => /^[-−]/.test(t));
      let badBars = 0;
      if (svg.classList.contains("bar-chart")) {
        const zero = [...svg.querySelectorAll("text.tick")].find((t) => t.textContent === "0");
        const x0 = zero ? parseFloat(zero.getAttribute("x")) : NaN;
        for (const b of svg.querySelectorAll("rect.bar:not(g.legend rect)")) if (Math.abs(parseFloat(b.getAttribute("x")) - x0) > 0.5) badBars++;
        const values = [...svg.querySelectorAll("text.bar-value")].filter((t) => t.textContent !== "无数据");
        badBars += values.filter((t) => !/(\d{4}(—\d{4})?年)|[-HQ]\d/.test(t.textContent)).length;
      }
      charts.push({ title: svg.getAttribute("aria-label"), overlaps, minFont, legend, outside, negTicks, badBars });
    }
    return { sw: se.scrollWidth, iw: window.innerWidth, charts, dots: /\d{4}\.\.\d{4}/.test(document.body.innerText) };
  });
  check(r.sw <= r.iw, `${name} @${width}: page ${r.sw} px wide in a ${r.iw} px window`);
  const english = await englishWords(page, allowedLatin);
  check(english.length === 0, `${name} @${width}: no English in the visible text${english.length ? " (" + english.slice(0, 12).join(", ") + ")" : ""}`);
  check(!r.dots, `${name} @${width}: no period printed as 2018..2019`);
  for (const c of r.charts) {
    const what = `${name} @${width}: chart ${c.title || ""}`;
    check(c.overlaps.length === 0, `${what}: no overlapping labels${c.overlaps.length ? " (" + c.overlaps.slice(0, 4).join("; ") + ")" : ""}`);
    check(c.minFont >= 9.5, `${what}: text readable (smallest ${c.minFont.toFixed(1)} px)`);
    check(c.legend > 0 && c.outside === 0, `${what}: a legend, inside the chart`);
    check(c.negTicks.length === 0, `${what}: no axis below zero (${c.negTicks.join(" ")})`);
    check(c.badBars === 0, `${what}: every bar from zero and labelled with its year`);
  }
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
// 指标说明: what the indicator means, how it is computed, who compiles it.
const about = await page.$$eval("section.about dl.facts dt", (dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent.trim() || ""]));
const aboutKeys = about.map(([k]) => k);
check(["口径", "计算方法", "单位", "频率", "发布时滞", "数据来源单位"].every((k) => aboutKeys.includes(k)) && about.every(([, v]) => v.length > 0),
  `indicator page: 指标说明 with definition, method, unit, frequency, lag and source (${aboutKeys.join(" ")})`);
check((await page.locator("section.about dd.lag").innerText()).includes("90天"), "indicator page: the publication lag in days");
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

// Every page again at a phone's width, and at the desktop's: the audit.
const pagesToAudit = [["overview", "/"], ["plan", "/plans/shandong-2018"], ["plan-gansu", "/plans/gansu-2018"],
  ["target", "/plans/shandong-2018/targets/food-sampling-pass-rate?region=370000"],
  ["target-farmland", "/plans/shandong-2018/targets/high-standard-farmland-total"],
  ["target-average", "/plans/gansu-2018/targets/good-air-quality-days-share"],
  ["indicator", "/indicators/food_sampling_pass_rate"], ["ranking", "/indicators/" + groupInd], ["report", "/report/shandong-2018"],
  ["error-404", "/plans/nowhere"], ["error-400", "/plans/shandong-2018?at=yesterday"]];
for (const width of [1440, 390]) {
  await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
  for (const [name, url] of pagesToAudit) {
    current = name + "@" + width;
    const resp = await page.goto(base + url, { waitUntil: "load" });
    if (!name.startsWith("error")) check(resp.status() === 200, `${name} @${width}: answers 200`);
    else check(resp.status() >= 400 && !/Bad Request|Not Found|invalid|unknown/.test(await page.locator("body").innerText()), `${name} @${width}: the error page in Chinese`);
    const t0 = Date.now();
    await audit(name);
    const t1 = Date.now();
    if (width === 390) await shot("m-" + name); // the desktop's are 01…09
    console.log(`     ${name} @${width}: audit ${t1 - t0} ms, screenshot ${Date.now() - t1} ms`);
  }
}
await page.setViewportSize({ width: 1440, height: 900 });

// Rankings: ties share a rank, only figures of one period are ranked
// together, and the period is named.
current = "ranking";
await page.goto(base + "/indicators/" + groupInd);
const groups = await page.$$eval("table.ranking tbody", (tbs) => tbs.map((tb) => ({
  head: tb.querySelector("tr.rank-period th").textContent,
  rows: [...tb.querySelectorAll("tr:not(.rank-period)")].map((tr) => ({ rank: tr.querySelector("td.rank").textContent, value: tr.children[2].textContent })),
})));
check(groups.length > 0, `ranking: ${groups.length} period group(s)`);
for (const g of groups) {
  check(/\d{4}年|无数据/.test(g.head), `ranking: the group names its period (${g.head})`);
  const periods = new Set(g.rows.map((r) => (r.value.match(/\d{4}(—\d{4})?年/) || [""])[0]));
  check(periods.size <= 1, `ranking ${g.head}: one period per group (${[...periods].join(", ")})`);
  g.rows.forEach((r, i) => {
    if (r.rank === "—") return;
    const v = parseFloat(r.value);
    const better = g.rows.filter((o) => o.rank !== "—" && parseFloat(o.value) !== v && g.rows.indexOf(o) < i).length;
    check(Number(r.rank) === better + 1, `ranking ${g.head}: ${r.value} ranked ${r.rank}, ${better} better`);
  });
}

// The coverage of an average names the regions that have not reported.
current = "coverage";
await page.goto(base + "/plans/gansu-2018/targets/good-air-quality-days-share");
const cov = await page.$$eval("table.years tbody tr", (trs) => trs.filter((tr) => tr.querySelector("td.missing")).map((tr) => ({
  n: tr.children[1].textContent, missing: tr.querySelector("td.missing").textContent })));
check(cov.length > 0, `coverage table of an average (${cov.length} years)`);
for (const c of cov) {
  const [got, of] = c.n.split("/").map(Number);
  const named = c.missing === "—" ? 0 : c.missing.split("、").length;
  check(named === of - got, `coverage ${c.n}: names the ${of - got} missing region(s) (${c.missing})`);
}

// The printed report numbers its pages.
current = "report print";
await page.goto(base + "/report/shandong-2018");
const pageRule = await page.evaluate(() => [...document.styleSheets].flatMap((s) => [...s.cssRules]).filter((r) => r instanceof CSSPageRule).map((r) => r.cssText).join(" "));
check(/counter\(page\)/.test(pageRule), "the printed report numbers its pages (@page counter)");

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
