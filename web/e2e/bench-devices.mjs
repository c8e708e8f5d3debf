// Playback across devices, measured in Debian's Chromium against BEATSTREAM_URL:
// - transfer: TRANSFERS times, playback moves between two devices of one listener (two browser
//   contexts); timed from the request to the target's `playing` event, and the position it
//   starts at against where the other stopped;
// - group session: a host and a guest hear one track; every 200 ms for SECONDS the guest's
//   position is compared with the host's (read just before and after it).
// Usage: BEATSTREAM_URL=... node e2e/bench-devices.mjs [TRANSFERS] [SECONDS]
import { BASE, launch } from "./browser.mjs";
import { apiCall, audioTime, loadedAudio, signIn } from "./devices-lib.mjs";

const transfers = Number(process.argv[2] ?? 10);
const seconds = Number(process.argv[3] ?? 30);
const browser = await launch();
const run = Date.now();

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.round((sorted.length - 1) * p)];
};
const row = (name, values, unit = "ms") =>
  console.log(`| ${name} | ${percentile(values, 0.5).toFixed(0)} ${unit} | ${percentile(values, 0.9).toFixed(0)} ${unit} | ${Math.max(...values).toFixed(0)} ${unit} |`);

/** Resolves with when (epoch ms) and where (s) the page's next audio `playing` happens. */
const nextPlaying = (page) =>
  page.evaluate(
    () =>
      new Promise((resolve) => {
        const on = (e) => resolve({ at: Date.now(), position: e.target.currentTime });
        document.querySelectorAll("audio").forEach((a) => a.addEventListener("playing", on, { once: true }));
      }),
  );

// Transfers.
const name = `devices${run}`;
const a = await signIn(browser, "signup", name);
const b = await signIn(browser, "login", name);
const tracks = (await apiCall(a, "GET", "/api/v1/tracks?limit=200")).items.filter((t) => t.duration_ms > 240_000);
const track = tracks[0];
await a.goto(`${BASE}/albums/${track.album.id}`);
await a.getByRole("button", { name: `Play ${track.title}` }).first().click();
await a.waitForFunction(() => [...document.querySelectorAll("audio")].some((x) => !x.paused && x.currentTime > 1));
const deviceId = (page) => page.evaluate(() => sessionStorage.getItem("beatstream.device"));
const ids = new Map([
  [a, await deviceId(a)],
  [b, await deviceId(b)],
]);
const latencies = [];
const offsets = [];
let [from, to] = [a, b];
for (let i = 0; i < transfers; i++) {
  await from.waitForTimeout(1500);
  const playing = nextPlaying(to);
  const sent = Date.now();
  await apiCall(from, "POST", "/api/v1/me/player/transfer", { device_id: ids.get(to) });
  const started = await playing;
  await from.waitForFunction(() => ![...document.querySelectorAll("audio")].some((x) => !x.paused));
  const stopped = await loadedAudio(from);
  latencies.push(started.at - sent);
  offsets.push(Math.abs(started.position - stopped.currentTime) * 1000);
  [from, to] = [to, from];
}
console.log(`| ${transfers} transfers | p50 | p90 | max |`);
console.log("| --- | --- | --- | --- |");
row("request to playing on the target", latencies);
row("target's start against where the source stopped", offsets);
console.log();

// A group session.
const host = await signIn(browser, "signup", `host${run}`);
const guest = await signIn(browser, "signup", `guest${run}`);
const session = await apiCall(host, "POST", "/api/v1/sessions");
await apiCall(guest, "POST", "/api/v1/sessions/join", { invite_code: session.invite_code });
await apiCall(host, "POST", `/api/v1/sessions/${session.id}/queue`, { track_ids: [tracks[1]?.id ?? track.id] });
await host.reload();
await guest.reload();
await host.getByRole("button", { name: "Group (2)" }).waitFor();
await guest.getByRole("button", { name: "Group (2)" }).waitFor();
await host.locator("footer.player").getByRole("button", { name: "Play", exact: true }).click();
for (const page of [host, guest]) {
  await page.waitForFunction(() => [...document.querySelectorAll("audio")].some((x) => !x.paused && x.currentTime > 0.5));
}
const gaps = [];
const until = Date.now() + seconds * 1000;
while (Date.now() < until) {
  const before = await audioTime(host);
  const there = await audioTime(guest);
  const after = await audioTime(host);
  if (before !== null && there !== null && after !== null) gaps.push(Math.abs(there - (before + after) / 2) * 1000);
  await host.waitForTimeout(200);
}
console.log(`| group session, ${gaps.length} samples over ${seconds} s | p50 | p90 | max |`);
console.log("| --- | --- | --- | --- |");
row("guest's position against the host's", gaps);
await browser.close();
