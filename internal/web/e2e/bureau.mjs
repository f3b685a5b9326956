// Browser test of the bureaus' workspace (报送工作台): Debian's chromium driven
// by playwright-core. Run by internal/web's TestBrowserBureau, which starts
// qualitymon serve with the SAMPLE data and three upload tokens:
//   QD_TOKEN      青岛市统计局 (370200), stored at once
//   YT_TOKEN      烟台市统计局 (370600), review: required
//   REVIEW_TOKEN  山东省统计局 (role: reviewer)
// What a clerk does: sign in, read the grid, download and fill the template,
// check a file with errors, submit, be refused outside the scope; a held
// upload approved by the reviewer and then visible in the scorecard; a
// return with a comment; sign out; a forged POST refused; a wrong token
// slowed down; figures typed into the due grid (网页填报) with a plausibility
// warning confirmed (已核实) at 1440 and 390 px.
// Screenshots go to OUT_DIR (b*.png).
import fs from "node:fs";
import path from "node:path";
import { base, out, failures, fail, check, local, launch, englishWords } from "./harness.mjs";

const QD = process.env.QD_TOKEN, YT = process.env.YT_TOKEN, REV = process.env.REVIEW_TOKEN;
const browser = await launch();
const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "zh-CN", acceptDownloads: true });
const page = await ctx.newPage();
let current = "";
page.on("console", (m) => { if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) fail(`${current}: console error: ${m.text()}`); });
page.on("pageerror", (e) => fail(`${current}: page error: ${e.message}`));
page.on("request", (r) => { const u = r.url(); if (!u.startsWith("data:") && !u.startsWith("blob:") && !local(u)) fail(`${current}: request off the machine: ${u}`); });
page.on("response", (r) => { if (r.status() >= 500) fail(`${current}: ${r.status()} for ${r.url()}`); });

const shot = (name) => page.screenshot({ path: path.join(out, name + ".png"), fullPage: true });

// onPhone looks at the current page at 390 px: nothing wider than the
// window, and no English word in its visible text (the file's own cells
// and codes, marked translate="no", aside; file formats allowed).
async function onPhone(name) {
  await page.setViewportSize({ width: 390, height: 844 });
  const r = await page.evaluate(() => ({ sw: document.scrollingElement.scrollWidth, iw: window.innerWidth }));
  const english = await englishWords(page, new Set(["qualitymon", "CSV", "Excel", "xlsx", "csv", "UTF", "GBK", "WPS", "H1", "Q3"]));
  check(r.sw <= r.iw, `${current} @390: page ${r.sw} px wide in a ${r.iw} px window`);
  check(english.length === 0, `${current} @390: no English in the visible text${english.length ? " (" + english.join(", ") + ")" : ""}`);
  await shot(name);
  await page.setViewportSize({ width: 1366, height: 900 });
}
const body = () => page.locator("body").innerText();
const file = (name, text) => { const p = path.join(out, name); fs.writeFileSync(p, text); return p; };

// press clicks and waits for the page it leads to.
async function press(locator) {
  await locator.click();
  await page.waitForLoadState("load");
}
// enterToken sends the sign-in form with the token.
async function enterToken(token) {
  await page.getByLabel("令牌").fill(token);
  await press(page.getByRole("button", { name: "登录" }));
}
async function signin(token, name) {
  current = "sign in " + name;
  await page.goto(base + "/bureau");
  await enterToken(token);
}
async function signout() {
  current = "sign out";
  await press(page.getByRole("button", { name: "退出登录" }));
}
async function upload(p, button) {
  await page.setInputFiles("#file", p);
  await press(page.locator("form.upload").getByRole("button", { name: button }).first());
}
// send goes to the workspace, uploads the file name with the text through
// the button and returns the text of the answer.
async function send(name, text, button) {
  await page.goto(base + "/bureau");
  await upload(file(name, text), button);
  return body();
}

// A tiny RFC 4180 reader, for the CSV template.
function parseCSV(text) {
  text = text.replace(/^\uFEFF/, "");
  const rows = []; let row = [], cell = "", q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) { if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c; continue; }
    if (c === '"') q = true; else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n") { row.push(cell.replace(/\r$/, "")); rows.push(row); row = []; cell = ""; } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}
const toCSV = (rows) => rows.map((r) => r.map((c) => /[",\n]/.test(c) ? '"' + c.replace(/"/g, '""') + '"' : c).join(",")).join("\r\n") + "\r\n";

// 1. Sign in.
current = "sign-in form";
await page.goto(base + "/bureau");
check(await page.getByLabel("令牌").count() === 1, "the sign-in form has a field labelled 令牌");
const csp = (await page.request.get(base + "/bureau")).headers()["content-security-policy"] || "";
check(csp.includes("script-src 'self'") && !csp.includes("unsafe-inline"), "strict CSP on /bureau");
await shot("b01-signin");
await signin(QD, "青岛市统计局");
check((await page.locator("h1").innerText()).includes("青岛市统计局"), "signed in: the page names the bureau");
const cookies = await ctx.cookies(base);
const sc = cookies.find((c) => c.name === "qm_bureau");
check(sc && sc.httpOnly && sc.sameSite === "Strict" && sc.expires > 0, "session cookie HttpOnly, SameSite=Strict, expiring");

// 2. The grid.
current = "grid";
const rows = await page.locator("table.due-grid tbody tr").count();
const chips = await page.locator("table.due-grid .due").count();
const overdue = await page.locator("table.due-grid .due-overdue").count();
const reported = await page.locator("table.due-grid .due-reported").count();
check(rows > 0 && chips >= rows, `grid: ${rows} indicator × region rows, ${chips} periods`);
check(reported > 0, `grid: ${reported} periods 已报送 with value, time and reporter`);
const totals = await page.locator("section.totals").first().innerText();
check(totals.includes("报送率") && totals.includes("及时率") && /\d+%/.test(totals), "grid: reporting rate and timeliness");
console.log(`     (${overdue} periods 逾期)`);
await shot("b02-workspace");

// 网页填报: type figures into the due grid, 校验 with a plausibility
// warning (a twentieth of the previous period's figure), tick 已核实, 提交 —
// at 1440 and at 390 px. Returns the text after 提交.
async function gridEntry(width, tag, note) {
  current = `grid entry @${width}`;
  await page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
  await page.goto(base + "/bureau#due");
  // An owed cell right after a reported one (the previous period, its value
  // shown), typed a twentieth (or twenty times) of it; else two owed cells
  // in a row, typed 10 and 0.5 (the upload's own previous period).
  const pick = await page.evaluate(() => {
    for (const td of document.querySelectorAll("table.due-grid td.periods")) {
      const chips = [...td.querySelectorAll(":scope > .due")];
      for (let i = 1; i < chips.length; i++) {
        const input = chips[i].querySelector("input[name^='v|']");
        const prev = chips[i - 1].querySelector(".v");
        const v = prev && parseFloat(prev.textContent);
        if (input && v > 0) return { cells: [[input.getAttribute("name"), String(Math.round((v >= 5 ? v / 20 : v * 20) * 100) / 100)]], prev: v };
      }
    }
    for (const td of document.querySelectorAll("table.due-grid td.periods")) {
      const chips = [...td.querySelectorAll(":scope > .due")];
      for (let i = 1; i < chips.length; i++) {
        const a = chips[i - 1].querySelector("input[name^='v|']"), b = chips[i].querySelector("input[name^='v|']");
        if (a && b) return { cells: [[a.getAttribute("name"), "10"], [b.getAttribute("name"), "0.5"]], prev: 10 };
      }
    }
    return null;
  });
  check(pick !== null, `${current}: an owed cell after a reported one, or two owed cells in a row`);
  if (!pick) return "";
  for (const [name, v] of pick.cells) {
    const cell = page.locator(`input[name="${name}"]`);
    await cell.scrollIntoViewIfNeeded();
    await cell.fill(v);
  }
  const [name, value] = pick.cells[pick.cells.length - 1];
  await page.locator(`input[name="${name.replace(/^v\|/, "n|")}"]`).fill(note);
  pick.name = name;
  const wide = await page.evaluate(() => document.scrollingElement.scrollWidth);
  check(wide <= width, `${current}: the grid page is ${wide} px wide in ${width} px`);
  await shot(`b02${tag}-grid-typed`);
  await press(page.getByRole("button", { name: /校验填报的数值/ }));
  let t = await body();
  check(t.includes("校验通过") && t.includes("请核实") && t.includes("数量级") && t.includes(value), `${current}: 校验 passes with a 请核实 warning for ${pick.name} = ${value} after ${pick.prev}`);
  const sw = await page.evaluate(() => document.scrollingElement.scrollWidth);
  check(sw <= width, `${current}: the 校验 page is ${sw} px wide in ${width} px`);
  await shot(`b02${tag}-grid-checked`);
  // 提交 without ticking 已核实 is stopped by the form; ticked, it goes.
  await page.getByRole("button", { name: /提交/ }).first().click();
  check(page.url().endsWith("/bureau/entry/check"), `${current}: 提交 without 已核实 stays on the page`);
  await page.getByLabel(/已核实/).check();
  await press(page.getByRole("button", { name: /提交/ }).first());
  t = await body();
  await shot(`b02${tag}-grid-submitted`);
  await page.setViewportSize({ width: 1366, height: 900 });
  return t;
}

// 3. The template: XLSX is a workbook; the CSV, filled, checks and submits as it is.
current = "template";
const xlsx = await page.request.get(base + "/bureau/template.xlsx");
const xb = await xlsx.body();
check(xlsx.status() === 200 && xb[0] === 0x50 && xb[1] === 0x4b, `template.xlsx is a workbook (${xb.length} bytes)`);
fs.writeFileSync(path.join(out, "template.xlsx"), xb);
const tcsv = await page.request.get(base + "/bureau/template.csv");
const trows = parseCSV(await tcsv.text());
const hdr = trows[0] || [];
check(tcsv.status() === 200 && ["指标", "地区", "时期", "数值"].every((h) => hdr.includes(h)), "template.csv has 指标,地区,时期,数值: " + hdr.join(","));
const vi = hdr.indexOf("数值"), ui = hdr.indexOf("单位");
let data = trows.slice(1).filter((r) => r.length > 1);
check(data.length > 0, `template: ${data.length} rows due`);
data = data.slice(0, 12);
for (const r of data) r[vi] = r[ui] === "%" ? "97.5" : "12";
const filled = file("filled-template.csv", toCSV([hdr, ...data]));
// The template's rows are typed into the grid first (网页填报); the filled
// template then revises them.
let entered = await gridEntry(1440, "e", "网页填报测试");
check(entered.includes("已提交并入库") && /新增 [12] 条/.test(entered), "grid entry @1440: stored" + (entered.includes("已提交并入库") ? "" : ": " + entered.slice(0, 300)));
entered = await gridEntry(390, "m", "手机填报");
check(entered.includes("已提交并入库") && /新增 [12] 条/.test(entered), "grid entry @390: stored" + (entered.includes("已提交并入库") ? "" : ": " + entered.slice(0, 300)));
await page.goto(base + "/bureau#due");
check((await body()).includes("网页填报"), "grid: the form explains 网页填报");

current = "template";
await page.goto(base + "/bureau");
await upload(filled, "校验");
current = "template check";
let text = await body();
check(text.includes("校验通过"), "filled template: 校验 passes" + (text.includes("校验通过") ? "" : ": " + text.slice(0, 400)));
check(await page.locator("table.checked tbody tr").count() === data.length, "check shows every row of the file");
await shot("b03-template-checked");
if (await page.getByRole("button", { name: /提交这/ }).count()) {
  if (await page.locator("input[name=confirm]").count()) await page.locator("input[name=confirm]").check(); // 请核实: figures far from the previous period
  await press(page.getByRole("button", { name: /提交这/ }));
  text = await body();
  check(text.includes("已提交并入库") && /新增 \d+ 条/.test(text), "filled template submitted: new/revised/unchanged");
  await shot("b04-template-submitted");
}

// 4. A dry run with cell errors: every bad cell marked, nothing stored.
current = "check with errors";
text = await send("qingdao-errors.csv", "指标,地区,时期,数值\n食品抽检合格率,青岛市,2024,97.6\n食品抽检合格率,青岛市,2023,985\n食品抽检合格率,青岛,2022年13月,97\n不存在的指标,青岛市,2024,1\n", "校验");
const badCells = await page.locator("td.bad-cell").count();
check(text.includes("3 处错误") && text.includes("整个文件都没有保存"), "check: 3 errors, nothing stored");
check(badCells === 3, `check: ${badCells} bad cells marked`);
check(text.includes("第 3 行") && text.includes("985") && text.includes("数值超出该指标的合理范围"), "check: row, column, value and what was wrong");
check(await page.locator("table.errors tbody tr").count() === 3, "check: the error list has every error");
await shot("b05-check-errors");
await onPhone("b05m-check-errors");

// 5. Direct submit of a correct file: stored, new/revised/unchanged.
current = "submit";
text = await send("qingdao-2024.csv", "指标,地区,时期,数值,来源\n食品抽检合格率,青岛市,2024,97.6,青岛市统计局\n", "直接提交");
check(text.includes("已提交并入库") && text.includes("新增") && text.includes("修订") && text.includes("未变化"), "submit: stored with new/revised/unchanged");
await shot("b06-submitted");

// 6. Outside the scope: refused with 范围 and the region.
current = "scope";
text = await send("jinan.csv", "指标,地区,时期,数值\n食品抽检合格率,济南市,2024,97.6\n", "校验");
check(text.includes("范围") && text.includes("370100"), "scope: refused with 范围 and the region");
check(await page.locator("td.bad-cell").count() === 1, "scope: the region cell is marked");
await shot("b07-scope");
await onPhone("b07m-scope");

// 7. CSRF: a forged POST with the session cookie is refused.
current = "csrf";
const forged = await page.request.post(base + "/bureau/submit", {
  headers: { Origin: "https://evil.example" },
  multipart: { csrf: "forged", file: { name: "x.csv", mimeType: "text/csv", buffer: Buffer.from("指标,地区,时期,数值\n食品抽检合格率,青岛市,2021,1\n") } } });
check(forged.status() === 403, `forged POST (other origin, wrong CSRF token): ${forged.status()}`);
const noToken = await page.request.post(base + "/bureau/signout", { form: { csrf: "" } });
check(noToken.status() === 403, `POST without the CSRF token: ${noToken.status()}`);
await page.goto(base + "/bureau");
check((await body()).includes("退出登录"), "still signed in after the forged POSTs");

// 8. Sign out.
await signout();
check(await page.getByLabel("令牌").count() === 1, "signed out: back to the sign-in form");
const after = await page.request.get(base + "/bureau/template.csv", { maxRedirects: 0 });
check(after.status() === 303, `after signing out the template is not served (${after.status()})`);

// 9. A held upload (review: required), approved by the reviewer, then in the scorecard.
await signin(YT, "烟台市统计局");
current = "held upload";
check((await body()).includes("待审核"), "烟台: the page says uploads wait for review");
await upload(file("yantai-2020.csv", "指标,地区,时期,数值,来源\n装配式建筑占新建建筑比例,烟台市,2020,27.77,烟台市统计局\n"), "直接提交");
text = await body();
check(text.includes("待审核") && !text.includes("已提交并入库"), "held upload: 待审核, not stored");
await shot("b08-held");
await page.goto(base + "/bureau");
check(await page.locator("table.decisions .state-pending").count() === 1, "the bureau sees its upload 待审核");
await upload(file("yantai-2019.csv", "指标,地区,时期,数值\n装配式建筑占新建建筑比例,烟台市,2019,99\n"), "直接提交");
if (await page.locator("input[name=confirm]").count()) { // 99 after the 2018 figure: 请核实, confirmed
  check((await body()).includes("请核实"), "direct submit of an implausible figure: 请核实 first");
  await page.getByLabel(/已核实/).check();
  await press(page.getByRole("button", { name: /提交/ }).first());
}
await signout();

await signin(REV, "山东省统计局");
current = "review";
await page.goto(base + "/review");
check(await page.locator("section.held").count() === 2, "review: two held uploads");
text = await body();
check(text.includes("烟台市统计局") && text.includes("27.77") && /修订|新增/.test(text), "review: rows with their difference from the current values");
await shot("b09-review");
await press(page.locator("section.held").filter({ hasText: "27.77" }).getByRole("button", { name: /批准/ }));
check((await body()).includes("已批准"), "review: approved");
const ret = page.locator("section.held").filter({ hasText: "99" });
await ret.locator("input[name=comment]").last().fill("2019年装配式建筑比例99%明显偏高,请核对后重报");
await press(ret.getByRole("button", { name: "退回" }));
check((await body()).includes("已退回") && await page.locator("section.held").count() === 0, "review: returned with a comment; nothing left to review");
await shot("b10-review-done");
await signout();

current = "scorecard";
let seen = false;
for (let i = 0; i < 30 && !seen; i++) {
  await page.goto(base + "/plans/shandong-2018/targets/prefab-building-share-other-cities?region=370600");
  seen = (await body()).includes("27.77");
  if (!seen) await page.waitForTimeout(500);
}
check(seen, "the approved figure is in the scorecard");
await shot("b11-scorecard");

await signin(YT, "烟台市统计局");
current = "decisions";
text = await page.locator("#decisions").innerText().catch(() => "");
check(text.includes("已批准") && text.includes("已退回") && text.includes("请核对后重报"), "the bureau sees the approval and the reviewer's comment");
await shot("b12-decisions");
await signout();

// 10. A wrong token tried again is slowed down (per token tried and client
// address); the bureau's right token is not locked out with it.
current = "wrong tokens";
for (let i = 1; i <= 3; i++) {
  await page.goto(base + "/bureau");
  await enterToken("not-a-token");
}
text = await body();
check(text.includes("令牌不正确") && text.includes("后再试"), "third wrong token: wait before trying again");
await enterToken("not-a-token");
text = await body();
check(text.includes("尝试次数过多") && !text.includes("退出登录"), "the same wrong token is refused during its lockout");
await shot("b13-slowed-down");
await enterToken(QD);
text = await body();
check(text.includes("退出登录"), "the right token still signs in");

await browser.close();
console.log(failures.length ? `FAILED: ${failures.length} failure(s)` : "PASS: 0 failure(s)");
process.exit(failures.length ? 1 : 0);
