// Click-to-playing latency in Chromium: signs up (or logs in) at BEATSTREAM_URL, then clicks
// "Play" on PLAYS different tracks (album by album, last track first, so none was preloaded as
// "next") and times each from the click to the audio element's `playing` event.
// Usage: BEATSTREAM_URL=... node e2e/bench-play.mjs [PLAYS]
import { BASE, launch } from "./browser.mjs";

const plays = Number(process.argv[2] ?? 20);
const browser = await launch();
const page = await browser.newPage();
await page.goto(BASE);
const session = await page.evaluate(async () => {
  const body = JSON.stringify({ username: "bench-web", password: "benchmark password" });
  const post = (path) => fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body });
  let r = await post("/api/v1/auth/signup");
  if (r.status === 409) r = await post("/api/v1/auth/login");
  const reply = await r.json();
  const s = { user: reply.user, accessToken: reply.access_token, refreshToken: reply.refresh_token, expiresAt: Date.now() + reply.expires_in * 1000 };
  localStorage.setItem("beatstream.session", JSON.stringify(s));
  return s;
});
const albums = await page.evaluate(async (token) => {
  const r = await fetch("/api/v1/albums?limit=500&sort=name", { headers: { authorization: `Bearer ${token}` } });
  return (await r.json()).items.map((a) => ({ id: a.id, tracks: a.track_count }));
}, session.accessToken);

const times = [];
for (const album of albums) {
  if (times.length >= plays) break;
  await page.goto(`${BASE}/albums/${album.id}`);
  const rows = page.getByTestId("track-row");
  await rows.first().waitFor();
  await page.evaluate(() => {
    window.__clickAt = 0;
    document.addEventListener("click", () => (window.__clickAt = performance.now()), true);
  });
  for (let i = (await rows.count()) - 1; i >= 0 && times.length < plays; i--) {
    await page.evaluate(() => {
      window.__playingAt = 0;
      for (const a of document.querySelectorAll("audio")) a.onplaying = () => (window.__playingAt ||= performance.now());
    });
    await rows.nth(i).getByRole("button", { name: /^Play / }).click();
    await page.waitForFunction(() => window.__playingAt > window.__clickAt && window.__clickAt > 0, null, { timeout: 10_000 });
    times.push(await page.evaluate(() => window.__playingAt - window.__clickAt));
    await page.waitForTimeout(300);
  }
}
await browser.close();
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
console.log(`click to playing over ${times.length} plays: median ${at(0.5).toFixed(0)} ms, p90 ${at(0.9).toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times.at(-1).toFixed(0)} ms`);
