// Drives the `dosna serve` page in Debian's headless chromium with
// puppeteer-core: node browser_test.js URL SCREENSHOT. Opens URL (a deep
// link), reads the picture and the value under the cursor, moves the slider
// (arrow key and drag), and prints what it saw as one JSON line for
// tests/viewer/test_viewer_browser.py to check against the data.
"use strict";
const puppeteer = require("puppeteer-core");

async function picture(page) {
  return page.$eval("#image", (c) => c.toDataURL());
}

async function rendered(page, after) {
  await page.waitForFunction((n) => document.body.dataset.state === "ready" &&
                             Number(document.body.dataset.rendered || 0) > n, { timeout: 30000 },
                             after);
  return page.evaluate(() => Number(document.body.dataset.rendered));
}

// Moves the mouse over plane pixel (r, c) of the canvas and returns the readout.
async function hover(page, r, c) {
  const box = await page.$eval("#image", (el) => {
    const b = el.getBoundingClientRect();
    return { x: b.left, y: b.top, w: b.width, h: b.height, cw: el.width, ch: el.height };
  });
  await page.mouse.move(box.x + (c + 0.5) * box.w / box.cw, box.y + (r + 0.5) * box.h / box.ch);
  return page.$eval("#readout", (el) => ({ text: el.textContent, position: el.dataset.position }));
}

(async () => {
  const [url, screenshot] = process.argv.slice(2);
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const out = {};
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => { out.pageerror = String(e); });
    await page.setViewport({ width: 1200, height: 800 });
    await page.goto(url);
    let n = await rendered(page, 0);
    out.first = { index: await page.$eval("#slider", (s) => Number(s.value)),
                  axis: await page.$eval("#axis", (s) => Number(s.value)),
                  picture: await picture(page), readouts: [] };
    for (const [r, c] of [[0, 0], [5, 7], [20, 30]]) out.first.readouts.push(await hover(page, r, c));
    // An arrow key moves the index by one.
    await page.keyboard.press("ArrowRight");
    n = await rendered(page, n);
    out.key = { index: await page.$eval("#slider", (s) => Number(s.value)),
                picture: await picture(page), readouts: [await hover(page, 5, 7)] };
    // Dragging the slider thumb to its left end shows index 0.
    const s = await page.$eval("#slider", (el) => {
      const b = el.getBoundingClientRect();
      return { x: b.left, y: b.top + b.height / 2, w: b.width };
    });
    await page.mouse.move(s.x + s.w / 2, s.y);
    await page.mouse.down();
    await page.mouse.move(s.x - 20, s.y, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(() => document.getElementById("slider").value === "0");
    n = await rendered(page, n);
    out.drag = { index: await page.$eval("#slider", (el) => Number(el.value)),
                 picture: await picture(page), readouts: [await hover(page, 3, 4)],
                 url: page.url() };
    out.chunkstat = await page.$eval("#chunkstat", (el) => el.textContent);
    await page.select("#cmap", "viridis");
    await hover(page, 12, 20);
    await page.screenshot({ path: screenshot });
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
