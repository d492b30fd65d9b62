// The web console's views timed in Debian's headless chromium (playwright-core) beside
// the same API requests made without a browser, in the same run (issue #34: each view
// within 3× its raw API time and under 1 s). bench/run.sh (BENCH_ONLY=console) runs it
// on the benchmark data set: 100,000 accounts, 300,000 deals in 5 stages.
//   node console_bench.mjs BASE_URL TENANT EMAIL PASSWORD PIPELINE_ID ACCOUNT_ID [LOADS]
// Prints one line per view: browser p50/p95, API p50/p95 (ms), ratio of the p50s.
import { chromium } from "playwright-core";

const [base, tenant, email, password, pipeline, account, loadsText] = process.argv.slice(2);
const loads = Number(loadsText ?? 20);

const browser = await chromium.launch({ executablePath: process.env.NUCLEO_CHROMIUM ?? "/usr/bin/chromium",
                                        args: ["--no-sandbox"] });
const context = await browser.newContext({ locale: "pt-BR", viewport: { width: 1400, height: 900 } });
const page = await context.newPage();

// Signed in once, as a person would be; the cookie and CSRF token stay for every load.
const signIn = await page.request.post(`${base}/v1/sessions`, { data: { tenant_id: tenant, email, password } });
if (signIn.status() !== 201) throw new Error(`sign-in: ${signIn.status()} ${await signIn.text()}`);
const { csrf_token: csrf } = await signIn.json();
await page.goto(`${base}/app/`);
await page.evaluate((token) => localStorage.setItem("nucleo.csrf", token), csrf);
const cookie = (await context.cookies(base)).map((c) => `${c.name}=${c.value}`).join("; ");

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

// A whole page load, from navigation to the view drawn with its data.
async function timeInBrowser(url, ready) {
  await page.goto("about:blank");
  const started = performance.now();
  await page.goto(url, { waitUntil: "commit" });
  await page.waitForFunction(ready, null, { polling: "raf", timeout: 30_000 });
  return performance.now() - started;
}

// From inside the console, as a rep goes from the board to a customer: the hash changes,
// the view is drawn with its data (the modules are already loaded).
async function timeInConsole(from, to, ready) {
  await page.goto("about:blank");
  await page.goto(from, { waitUntil: "load" });
  await page.waitForSelector("main#main");
  return page.evaluate(async ([target, readySource]) => {
    const isReady = new Function(`return (${readySource})()`);
    const started = performance.now();
    location.hash = target;
    await new Promise((resolve) => {
      const poll = () => (isReady() ? resolve(undefined) : requestAnimationFrame(poll));
      poll();
    });
    return performance.now() - started;
  }, [new URL(to).hash, ready.toString()]);
}

async function get(path) {
  const r = await fetch(base + path, { headers: { Cookie: cookie, Accept: "application/json" } });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

// The same requests, in the same order and with the same parallelism, as the view.
async function boardByApi() {
  await get("/v1/sessions/current");
  const [, board] = await Promise.all([get("/v1/pipelines?limit=200"), get(`/v1/pipelines/${pipeline}/board`)]);
  await Promise.all(board.stages.map((s) => get(`/v1/deals?stage_id=${s.id}&status=open&limit=25`)));
}
async function accountByApi() {
  await get("/v1/sessions/current");
  await accountInConsoleByApi();
}
async function accountInConsoleByApi() {  // signed in already: the view's own requests
  await Promise.all([get(`/v1/accounts/${account}`), get(`/v1/accounts/${account}/briefing`),
                     get(`/v1/accounts/${account}/timeline?limit=25`)]);
}

const accountReady = () => document.querySelector(".briefing") !== null && document.querySelectorAll(".timeline li").length > 0;
const views = [
  ["pipeline board (5 columns, the first 25 cards of each)", `${base}/app/#/board/${pipeline}`,
   () => { const c = document.querySelectorAll(".column"); return c.length > 0 && [...c].every((col) => col.querySelector(".card")); },
   boardByApi],
  ["account page, loaded on its own (briefing, 360 timeline)", `${base}/app/#/accounts/${account}`, accountReady, accountByApi],
  ["account page, opened from the console (briefing, 360 timeline)", `${base}/app/#/accounts/${account}`, accountReady,
   accountInConsoleByApi, `${base}/app/#/agenda`],
];

for (const [name, url, ready, byApi, from] of views) {
  const time = () => (from ? timeInConsole(from, url, ready) : timeInBrowser(url, ready));
  await time();  // warm: the modules cached, the server's statements prepared
  await byApi();
  const inBrowser = [], alone = [];
  for (let i = 0; i < loads; ++i) {
    inBrowser.push(await time());
    const started = performance.now();
    await byApi();
    alone.push(performance.now() - started);
  }
  const b50 = percentile(inBrowser, 0.5), b95 = percentile(inBrowser, 0.95);
  const a50 = percentile(alone, 0.5), a95 = percentile(alone, 0.95);
  console.log(`${name}|${b50.toFixed(1)}|${b95.toFixed(1)}|${a50.toFixed(1)}|${a95.toFixed(1)}|${(b50 / a50).toFixed(2)}`);
}
await browser.close();
