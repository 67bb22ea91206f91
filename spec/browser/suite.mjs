// synclua's browser suite: the -f html page in Debian's Chromium (through
// playwright-core) and the -f trace file in DevTools' own trace engine
// (@paulirish/trace_engine). spec/browser/run makes the files with the
// build's host and the expectations with expect.lua, then runs this:
//   node spec/browser/suite.mjs DIR
// DIR holds demo.html, why_failed.html, hostile.html, big.html, demo.json,
// why_slow.json and their expectations (demo.expect.json, big.expect.json).
// Prints "ok - ..." or "FAIL - ...: why" for each test, the time to first
// render of the 100k-event page, and last "browser: N passed, N failed".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import * as Trace from '@paulirish/trace_engine/models/trace/trace.js';

const dir = path.resolve(process.argv[2]);
const file = name => path.join(dir, name);
const expect = name => JSON.parse(fs.readFileSync(file(name), 'utf8'));
let passed = 0, failed = 0;

function equal(actual, expected, what) {
  const a = JSON.stringify(actual), e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

async function test(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL - ${name}: ${e && e.message ? e.message : e}`);
  }
}

// ---------------------------------------------------------------- browser

// A fresh profile each run; every request is recorded, and only the page's
// own file may load (anything else is aborted, and fails the test that
// looks).
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'synclua-chromium-'));
let context;
const requests = [];
try {
  context = await chromium.launchPersistentContext(profile, {
    headless: true, executablePath: '/usr/bin/chromium',
    viewport: { width: 1400, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
           '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
} catch (e) {
  console.log(`FAIL - launch /usr/bin/chromium: ${e.message.split('\n')[0]}`);
  console.log('browser: 0 passed, 1 failed');
  fs.rmSync(profile, { recursive: true, force: true });
  process.exit(1);
}
await context.route('**/*', route => {
  const url = route.request().url();
  requests.push(url);
  if (url.startsWith('file://')) return route.continue();
  return route.abort();
});

// Open a page: its errors (uncaught exceptions, console errors) collected.
async function open(name) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  const url = 'file://' + file(name);
  requests.length = 0;
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  return { page, errors, url };
}

const lanes = page => page.$$eval('#lanes li', lis => lis.map(li =>
  [li.dataset.device, +li.dataset.rendered]));

const demo = expect('demo.expect.json');

await test('the demo library\'s page renders every event of each device', async () => {
  const { page, errors } = await open('demo.html');
  equal(errors, [], 'page errors');
  equal(await lanes(page), demo.devices.map(d => [d.label, d.events]),
        'events drawn per device');
  await page.close();
});

await test('the severity filter leaves exactly the info+ events', async () => {
  const { page } = await open('demo.html');
  await page.locator('#sevs label', { hasText: 'debug' }).locator('input').uncheck();
  equal(await lanes(page), demo.devices.map(d => [d.label, d.non_debug]),
        'events drawn per device without debug');
  await page.close();
});

await test('the device filter takes a lane out, and only it', async () => {
  const { page } = await open('demo.html');
  await page.locator('#devs label', { hasText: demo.devices[0].label }).locator('input').uncheck();
  equal(await lanes(page), demo.devices.map((d, i) => [d.label, i === 0 ? 0 : d.events]),
        'events drawn per device');
  await page.close();
});

await test('clicking a session shows its details', async () => {
  const { page } = await open('demo.html');
  const s = demo.failed;
  const box = await page.evaluate(id => window.synclua.sessionBox(id), s.id);
  if (!box) throw new Error(`session ${s.id} not drawn`);
  // the top of the bar: the session itself, above its batches
  await page.locator('#cv').click({ position: { x: box.x + box.w / 2, y: box.y + 2 } });
  const title = await page.textContent('#details h2');
  equal(title, `backfill session ${s.id}`, 'details title');
  const fields = await page.$$eval('#details dt', dts => Object.fromEntries(
    dts.map(dt => [dt.textContent, dt.nextElementSibling.textContent])));
  equal([fields.device, fields.peer, fields.status, fields.records, fields.batches],
        [s.label, s.peer_label, s.status, String(s.records), String(s.batches)],
        'device, peer, status, records, batches');
  await page.close();
});

await test('a finding\'s evidence link shows its event', async () => {
  const { page, errors } = await open('why_failed.html');
  equal(errors, [], 'page errors');
  const link = page.locator('a.ev').first();
  const [dev, id, text] = [await link.getAttribute('data-device'),
    await link.getAttribute('data-id'), await link.textContent()];
  await link.click();
  const type = text.split(' ').pop();
  equal(await page.textContent('#details h2'), `${type} #${id}`, 'details title');
  const device = await page.$eval('#details dd', dd => dd.textContent);
  equal(device, text.split(' ')[0], 'the evidence\'s device');
  await page.close();
});

await test('no request leaves the page', async () => {
  const { page, url } = await open('why_failed.html');
  await page.locator('#cv').hover({ position: { x: 600, y: 120 } });
  await page.mouse.wheel(0, -300);
  await page.locator('#fit').click();
  await page.locator('#search').fill('overflow');
  equal(requests, [url], 'requests made');
  equal(await page.$$eval('script[src], link, img, iframe, object, embed',
                          els => els.length), 0, 'elements that fetch');
  await page.close();
});

await test('a summary holding <script> renders as text', async () => {
  const { page, errors } = await open('hostile.html');
  equal(errors, [], 'page errors');
  equal(await page.evaluate(() => window.pwned), undefined, 'window.pwned');
  equal(await page.$$eval('script', s => s.length), 3, 'script elements');
  await page.locator('#search').fill('pwned');
  await page.locator('#search').press('Enter');
  const summary = await page.$$eval('#details dt', dts => {
    const dt = dts.find(d => d.textContent === 'summary');
    return dt && dt.nextElementSibling.textContent;
  });
  equal(summary, '</script><script>window.pwned=1</script>', 'the summary shown');
  equal(await page.$eval('#details pre', p => p.textContent),
        JSON.stringify({ note: '<b>bold</b>' }, null, 2), 'its details');
  await page.close();
});

await test('the screenshot for the README: a failed session, zoomed in', async () => {
  const { page } = await open('why_failed.html');
  const box = await page.evaluate(id => window.synclua.sessionBox(id), demo.failed.id);
  await page.locator('#cv').dblclick({ position: { x: box.x + box.w / 2, y: box.y + 2 } });
  equal(await page.textContent('#details h2'), `backfill session ${demo.failed.id}`,
        'details title');
  await page.screenshot({ path: file('timeline.png') });
  const png = fs.readFileSync(file('timeline.png'));
  equal(png.subarray(1, 4).toString(), 'PNG', 'signature');
  equal([png.readUInt32BE(16), png.readUInt32BE(20)], [1400, 900], 'size');
  await page.close();
});

const big = expect('big.expect.json');
await test('100k events: the first render within 2 s', async () => {
  const { page, errors } = await open('big.html');
  equal(errors, [], 'page errors');
  const total = big.devices.reduce((n, d) => n + d.events, 0);
  if (total < 100000) throw new Error(`only ${total} events`);
  equal(await lanes(page), big.devices.map(d => [d.label, d.events]),
        'events drawn per device');
  const ms = await page.evaluate(() => window.synclua.firstRender);
  console.log(`# time to first render: ${Math.round(ms)} ms for ${total} events`);
  if (!(ms <= 2000)) throw new Error(`first render took ${Math.round(ms)} ms`);
  // still interactive: a zoom redraws in well under a frame budget of 100 ms
  const redraw = await page.evaluate(() => {
    const t = performance.now();
    document.getElementById('zin').click();
    return performance.now() - t;
  });
  console.log(`# redraw after a zoom: ${Math.round(redraw)} ms`);
  if (!(redraw <= 250)) throw new Error(`a zoom took ${Math.round(redraw)} ms`);
  await page.close();
});

await context.close();
fs.rmSync(profile, { recursive: true, force: true });

// ------------------------------------------------------------------ trace

// The engine wants DOMRect, which Node lacks.
globalThis.DOMRect ??= class DOMRect {
  constructor(x = 0, y = 0, width = 0, height = 0) {
    Object.assign(this, { x, y, width, height });
  }
};

async function engine(name) {
  const events = JSON.parse(fs.readFileSync(file(name), 'utf8')).traceEvents;
  const model = Trace.TraceModel.Model.createWithAllHandlers();
  await model.parse(events);
  return { events, parsed: model.parsedTrace(0) };
}

for (const name of ['demo.json', 'why_slow.json']) {
  await test(`DevTools' trace engine reads ${name}: every device, slice and flow`, async () => {
    const { events, parsed } = await engine(name);
    const data = parsed.data;
    equal([...data.Warnings.perWarning.keys()], [], 'engine warnings');
    equal([...data.Meta.processNames].map(([pid, e]) => [pid, e.args.name]),
          demo.devices.map((d, i) => [i + 1, d.label]), 'processes');
    const slices = demo.devices.map((d, i) => {
      const p = data.Renderer.processes.get(i + 1);
      let n = 0;
      for (const [, t] of p ? p.threads : []) n += t.entries.filter(e => e.ph === 'X').length;
      return n;
    });
    equal(slices, demo.devices.map(d => d.sessions + d.batches), 'slices per device');
    const instants = demo.devices.map((d, i) =>
      parsed.traceEvents.filter(e => e.ph === 'i' && e.pid === i + 1).length);
    equal(instants, demo.devices.map(d => d.events), 'instants per device');
    equal([data.Flows.flows.length, data.Flows.flows.reduce((n, f) => n + f.length, 0)],
          [demo.links, demo.steps], 'flows and their steps');
    equal(events.filter(e => e.ph === 's').length, demo.links, 'flows written');
  });
}

console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
