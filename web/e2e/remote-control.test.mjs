// End to end, across devices: one listener signed in from two browsers (two contexts, so two
// devices). One plays; the other sees it in its devices menu and takes playback over, picking up
// at the same position; a playlist made on one appears on the other without a reload.
// Needs a running `beatstream serve` with a scanned library at BEATSTREAM_URL (scripts/e2e.sh).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { BASE, launch, playingAudio } from "./browser.mjs";
import { apiCall, audioTime, loadedAudio, signIn } from "./devices-lib.mjs";

const shots = `${process.env.SCREENSHOTS_DIR ?? new URL("./output", import.meta.url).pathname}/`;
mkdirSync(shots, { recursive: true });

let browser;
before(async () => {
  browser = await launch();
});
after(async () => browser?.close());

const username = `traveller${Date.now()}`;
const device = (mode, name = username) => signIn(browser, mode, name);

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
  // ...and where: past the seek (the laptop reports its state a moment after it settles).
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  await devices.getByText(new RegExp(`Playing: ${escaped} · 0:[2-5]\\d`)).waitFor();
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
  // Where the laptop stopped, not the start or elsewhere (how close: `make bench-devices`).
  assert.ok(Math.abs(onPhone.currentTime - onLaptop.currentTime) < 5, `laptop stopped at ${onLaptop.currentTime} s, phone at ${onPhone.currentTime} s`);

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

test("a group session: a guest joins by link, hears the same track in sync, and adds to the queue", async () => {
  const suffix = Date.now();
  const host = await device("signup", `host${suffix}`);
  const guest = await device("signup", `guest${suffix}`);

  await host.getByRole("button", { name: "Group" }).click();
  await host.getByRole("button", { name: "Start a group session" }).click();
  const link = await host.getByLabel("Invite link").inputValue();
  assert.match(link, /\/join\/[0-9a-f]+$/);

  await guest.goto(link);
  await guest.getByRole("link", { name: "Home" }).waitFor();
  await host.getByRole("list", { name: "Listeners" }).getByText(`guest${suffix}`).waitFor();

  // The host plays a long track: it goes to the shared queue, then plays for everyone.
  const tracks = (await apiCall(host, "GET", "/api/v1/tracks?limit=100")).items;
  const long = tracks.filter((t) => t.duration_ms > 90_000);
  const [first, second] = long.length >= 2 ? long : tracks;
  await host.goto(`${BASE}/albums/${first.album.id}`);
  // After a page load, the session is known once the bar says so.
  await host.getByRole("button", { name: "Group (2)" }).waitFor();
  await host.getByRole("button", { name: `Play ${first.title}` }).first().click();
  await host.getByTestId("now-playing").getByText(first.title).waitFor();
  await host.locator("footer.player").getByRole("button", { name: "Play", exact: true }).click();
  for (const page of [host, guest]) {
    await page.waitForFunction(() => [...document.querySelectorAll("audio")].some((a) => !a.paused && a.currentTime > 1));
  }
  assert.equal(await guest.getByTestId("now-playing").textContent(), first.title);
  // Guests do not lead.
  assert.ok(await guest.locator("footer.player").getByRole("button", { name: "Pause", exact: true }).isDisabled());

  // In sync: the guest's position against the host's, read just before and after it.
  await host.waitForTimeout(2000);
  const gaps = [];
  for (let i = 0; i < 5; i++) {
    const before = await audioTime(host);
    const there = await audioTime(guest);
    const after = await audioTime(host);
    gaps.push(Math.abs(there - (before + after) / 2));
    await host.waitForTimeout(300);
  }
  gaps.sort((a, b) => a - b);
  // Together, not merely the same track (how close: `make bench-devices`).
  assert.ok(gaps[2] < 2, `the guest follows the host's position (gaps ${gaps.map((g) => g.toFixed(3)).join(", ")} s)`);

  // The guest adds a track to the shared queue; the host's panel counts it.
  await guest.goto(`${BASE}/albums/${second.album.id}`);
  await guest.getByRole("button", { name: "Group (2)" }).waitFor();
  await guest.getByRole("button", { name: `Play ${second.title}` }).first().click();
  await host.getByRole("button", { name: "Group (2)" }).click();
  await host.getByRole("region", { name: "Group session" }).getByText("2 tracks in the shared queue").waitFor();
  await host.screenshot({ path: `${shots}group.png` });
});
