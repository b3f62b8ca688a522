// release.js - open a digest's release link in headless Chromium and click
//
// usage: node release.js CHROMIUM ITEM_URL OTHER_ITEM_URL MAILBOX_URL OUTDIR
//
// Drives the real browser with playwright-core (no browser download: the
// Debian chromium is used). The Release click runs with JavaScript off,
// as the page must work without it. Screenshots at 375 px (a phone) and
// 1280 px go to OUTDIR. Fails on any console error (a CSP violation shows
// as one), on a page wider than the phone's screen, or when the release
// does not say it was released.
'use strict';
const { chromium } = require('playwright-core');

const [exe, itemUrl, otherUrl, mailboxUrl, outdir] = process.argv.slice(2);
const problems = [];

function watch(page, name) {
	page.on('console', (msg) => {
		if (msg.type() === 'error' || msg.type() === 'warning')
			problems.push(`${name}: console ${msg.type()}: ${msg.text()}`);
	});
	page.on('pageerror', (err) => problems.push(`${name}: ${err}`));
	page.on('request', (req) => {
		if (!req.url().startsWith(new URL(itemUrl).origin))
			problems.push(`${name}: external request ${req.url()}`);
	});
}

async function fits(context, url, name) {
	const page = await context.newPage();
	watch(page, name);
	await page.goto(url);
	const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
	if (w[0] > w[1])
		problems.push(`${name}: ${w[0]} px wide in a ${w[1]} px window`);
	await page.close();
}

(async () => {
	const browser = await chromium.launch({
		executablePath: exe,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
		       '--disable-component-update', '--disable-sync', '--no-first-run'],
	});
	const phone = await browser.newContext({
		viewport: { width: 375, height: 812 }, deviceScaleFactor: 2,
		isMobile: true, hasTouch: true, javaScriptEnabled: false,
		locale: 'en-US',
	});
	const page = await phone.newPage();
	watch(page, 'item-375');
	let resp = await page.goto(itemUrl);
	if (resp.status() !== 200)
		problems.push(`item page: HTTP ${resp.status()}`);
	await page.screenshot({ path: `${outdir}/item-375.png`, fullPage: true });
	// the Release button (the page has Delete and the owner's other actions too)
	const button = page.locator('form button[type=submit][value=release]');
	if (await button.count() !== 1)
		problems.push('item page: no Release button');
	await Promise.all([page.waitForLoadState('load'), button.click()]);
	await page.waitForSelector('p.note');
	const note = await page.textContent('p.note');
	if (!/^Released/.test(note))
		problems.push(`after the click: "${note}"`);
	await page.screenshot({ path: `${outdir}/released-375.png`, fullPage: true });
	await page.goto(mailboxUrl);
	await page.screenshot({ path: `${outdir}/mailbox-375.png`, fullPage: true });

	const laptop = await browser.newContext({
		viewport: { width: 1280, height: 900 }, javaScriptEnabled: false,
		locale: 'es-ES', extraHTTPHeaders: { 'Accept-Language': 'es-ES,es;q=0.9' },
	});
	const wide = await laptop.newPage();
	watch(wide, 'item-1280');
	await wide.goto(otherUrl);
	await wide.screenshot({ path: `${outdir}/item-1280-es.png`, fullPage: true });
	await wide.goto(mailboxUrl);
	await wide.screenshot({ path: `${outdir}/mailbox-1280-es.png`, fullPage: true });

	const measure = await browser.newContext({ viewport: { width: 375, height: 812 } });
	await fits(measure, otherUrl, 'item-375 layout');
	await fits(measure, mailboxUrl, 'mailbox-375 layout');

	await browser.close();
	if (problems.length) {
		console.log(problems.join('\n'));
		process.exit(1);
	}
	console.log('released in the browser; screenshots in ' + outdir);
})().catch((e) => { console.log(String(e)); process.exit(2); });
