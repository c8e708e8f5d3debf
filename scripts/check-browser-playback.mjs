// Plays every track of a running Beatstream in headless Chromium through its signed stream URL,
// seeks each one (a range request), and plays one live transcode. Formats browsers cannot
// decode (AIFF, ALAC, APE, WavPack, Musepack) are played as opus transcodes, as a player would.
//
//   BASE=http://127.0.0.1:3000 TOKEN=<access token> node scripts/check-browser-playback.mjs
//
// Needs playwright-core (npm) and Debian's chromium; it downloads no browser.
import { chromium } from 'playwright-core';

const base = process.env.BASE ?? 'http://127.0.0.1:3000';
const token = process.env.TOKEN;
if (!token) { console.error('set TOKEN to an access token'); process.exit(2); }
const api = async (path) => (await fetch(base + path, { headers: { authorization: `Bearer ${token}` } })).json();

const tracks = (await api('/api/v1/tracks?limit=500')).items;
const browserless = new Set(['aiff', 'alac', 'ape', 'wv', 'mpc']);
const jobs = tracks.map((t) => ({
  title: t.title,
  format: t.format,
  url: base + t.stream_url + (browserless.has(t.format) ? '&format=opus&bitrate=96' : ''),
}));
if (tracks.length) jobs.push({ title: `${tracks[0].title} (live mp3 transcode)`, format: 'mp3', url: base + tracks[0].stream_url + '&format=mp3&bitrate=97' });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
});
const page = await browser.newPage();
await page.goto(base + '/healthz');
const results = await page.evaluate(async (jobs) => {
  const play = (job) => new Promise((resolve) => {
    const audio = new Audio();
    audio.muted = true;
    const done = (ok, why) => { audio.pause(); resolve({ ...job, ok, why, duration: audio.duration }); };
    const timer = setTimeout(() => done(false, 'timed out'), 15000);
    audio.onerror = () => { clearTimeout(timer); done(false, `media error ${audio.error && audio.error.code}`); };
    let seeked = false;
    audio.ontimeupdate = () => {
      if (!seeked && audio.currentTime > 0.1) {
        seeked = true;
        if (Number.isFinite(audio.duration) && audio.duration > 0.6) {
          audio.onseeked = () => { clearTimeout(timer); done(true, `played, seeked to ${audio.currentTime.toFixed(2)} s`); };
          audio.currentTime = Math.min(audio.duration - 0.2, 0.5);
        } else {
          clearTimeout(timer);
          done(true, 'played (live stream, not seekable)');
        }
      }
    };
    audio.src = job.url;
    audio.play().catch((e) => { clearTimeout(timer); done(false, String(e)); });
  });
  const out = [];
  for (const job of jobs) out.push(await play(job));
  return out;
}, jobs);
await browser.close();
let failed = 0;
for (const r of results) {
  if (!r.ok) failed++;
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.format.padEnd(5)} ${r.title}: ${r.why}`);
}
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
