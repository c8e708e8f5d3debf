// End to end, across devices: one listener signed in from two browsers (two contexts, so two
// devices). One plays; the other sees it in its devices menu and takes playback over, picking up
// at the same position; a playlist made on one appears on the other without a reload.
// Needs a running `beatstream serve` with a scanned library at BEATSTREAM_URL (scripts/e2e.sh).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { BASE, launch, playingAudio } from "./browser.mjs";

const shots = `${process.env.SCREENSHOTS_DIR ?? new URL("./output", import.meta.url).pathname}/`;
mkdirSync(shots, { recursive: true });

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

const username = `traveller${Date.now()}`;
const password = "a long enough password";

async function device(mode) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(BASE);
  if (mode === "signup") await page.getByRole("button", { name: "New here? Create an account" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: mode === "signup" ? "Sign up" : "Log in" }).click();
  await page.getByRole("link", { name: "Home" }).waitFor();
  return page;
}

const apiCall = (page, method, path, body) =>
  page.evaluate(
    async ([m, p, b]) => {
      const session = JSON.parse(localStorage.getItem("beatstream.session"));
      const headers = { authorization: `Bearer ${session.accessToken}` };
      if (b) headers["content-type"] = "application/json";
      const r = await fetch(p, { method: m, headers, body: b ? JSON.stringify(b) : undefined });
      return r.status === 204 ? null : r.json();
    },
    [method, path, body],
  );

/** The position of the audio element that holds a track, playing or not. */
const loadedAudio = (page) =>
  page.evaluate(() => {
    const audio = [...document.querySelectorAll("audio")].find((a) => a.getAttribute("src") && a.currentTime > 0);
    return audio ? { currentTime: audio.currentTime, paused: audio.paused } : null;
  });

test("playback moves from one device to another at the same position", async () => {
  const laptop = await device("signup");
  const phone = await device("login");

  // The laptop plays a long track from 20 s in.
  const tracks = (await apiCall(laptop, "GET", "/api/v1/tracks?limit=100")).items;
  const track = tracks.find((t) => t.duration_ms > 90_000) ?? tracks[0];
  assert.ok(track, "the library has tracks");
  await laptop.goto(`${BASE}/albums/${track.album.id}`);
  await laptop.getByRole("button", { name: `Play ${track.title}` }).first().click();
  await laptop.waitForFunction(() => [...document.querySelectorAll("audio")].some((a) => !a.paused && a.currentTime > 0.3));
  await laptop.getByRole("slider", { name: "Seek" }).fill("20");
  await laptop.waitForFunction(() => [...document.querySelectorAll("audio")].some((a) => !a.paused && a.currentTime >= 20));
  const title = await laptop.getByTestId("now-playing").textContent();

  // The phone sees the laptop playing it, in its devices menu.
  await phone.getByRole("button", { name: /^Devices/ }).click();
  const devices = phone.getByRole("region", { name: "Devices" });
  await devices.getByText(`Playing: ${title}`).waitFor();
  await phone.screenshot({ path: `${shots}devices.png` });

  // "Play here": the phone plays the same track from where the laptop was; the laptop stops.
  await devices.getByRole("button", { name: "Play here" }).click();
  await phone.waitForFunction(() => [...document.querySelectorAll("audio")].some((a) => !a.paused && a.currentTime > 0));
  const onPhone = await playingAudio(phone);
  await laptop.waitForFunction(() => ![...document.querySelectorAll("audio")].some((a) => !a.paused));
  const onLaptop = await loadedAudio(laptop);
  assert.equal(await phone.getByTestId("now-playing").textContent(), title);
  assert.ok(onLaptop.paused, "the laptop paused");
  assert.ok(onPhone.currentTime >= 20, `the phone starts from the laptop's position, not the start (${onPhone.currentTime} s)`);
  assert.ok(Math.abs(onPhone.currentTime - onLaptop.currentTime) < 1, `within a second: laptop stopped at ${onLaptop.currentTime} s, phone at ${onPhone.currentTime} s`);

  // The laptop's menu now shows the phone playing, and can pause it remotely.
  await laptop.getByRole("button", { name: /^Devices/ }).click();
  const laptopDevices = laptop.getByRole("region", { name: "Devices" });
  await laptopDevices.getByText(`Playing: ${title}`).waitFor();
  await laptopDevices.getByRole("button", { name: /^Pause / }).click();
  await phone.waitForFunction(() => ![...document.querySelectorAll("audio")].some((a) => !a.paused));

  // A playlist made on the phone appears on the laptop without a reload.
  await apiCall(phone, "POST", "/api/v1/playlists", { name: "Made on the phone" });
  await laptop.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Made on the phone" }).waitFor();
});
