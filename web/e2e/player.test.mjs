// End to end, as a listener: sign up (the first account is the admin), scan the library, search,
// play and seek, build and reorder a playlist, like a track, then reload and find it all there;
// then find recommendations with their reasons on the home page and start a radio from one.
// Needs a running `beatstream serve` with a library and empty data (scripts/e2e.sh starts one)
// at BEATSTREAM_URL. Screenshots go to e2e/output/, or to SCREENSHOTS_DIR (`make screenshots`
// writes the README's, in docs/screenshots/).
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { BASE, launch, playingAudio } from "./browser.mjs";

const shots = `${process.env.SCREENSHOTS_DIR ?? new URL("./output", import.meta.url).pathname}/`;
mkdirSync(shots, { recursive: true });

let browser;
let page;
before(async () => {
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
});
after(async () => browser?.close());

const username = `listener${Date.now()}`;
const password = "a long enough password";
/** Calls the API with the page's session, to learn what the library holds. */
const apiGet = (path) =>
  page.evaluate(async (p) => {
    const session = JSON.parse(localStorage.getItem("beatstream.session"));
    const r = await fetch(p, { headers: { authorization: `Bearer ${session.accessToken}` } });
    return r.json();
  }, path);

test("a listener signs up, scans, searches, plays, seeks, builds a playlist, likes, and reloads", async () => {
  await page.goto(BASE);
  await page.getByRole("button", { name: "New here? Create an account" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("link", { name: "Admin" }).click();

  // Scan the library and watch it finish.
  await page.getByRole("button", { name: "Scan library" }).click();
  const status = page.getByTestId("scan-status");
  await page.waitForFunction(() => /State: idle · files seen [1-9]/.test(document.querySelector('[data-testid="scan-status"]')?.textContent ?? ""), null, { timeout: 60_000 });
  // The server may have scanned at start already: this scan then finds every file unchanged.
  const seen = Number((await status.textContent()).match(/files seen (\d+)/)[1]);
  assert.ok(seen > 0, `the scan saw the library's files (${await status.textContent()})`);
  await page.screenshot({ path: `${shots}admin.png` });

  // Search for a real track by the start of its title, as typed.
  const tracks = (await apiGet("/api/v1/tracks?limit=50")).items;
  assert.ok(tracks.length > 0, "the library has tracks after the scan");
  const target = tracks.find((t) => t.title.length >= 5 && t.duration_ms > 60_000) ?? tracks[0];
  await page.getByRole("link", { name: "Search" }).click();
  const box = page.getByRole("combobox", { name: "Search" });
  await box.pressSequentially(target.title.slice(0, 4).toLowerCase(), { delay: 40 });
  const songs = page.getByRole("region", { name: "Songs" });
  await songs.getByRole("option", { name: new RegExp(target.title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) }).first().waitFor();
  await page.screenshot({ path: `${shots}search.png` });

  // Keyboard: the first result is selected with ↓ and played with Enter.
  await box.press("ArrowDown");
  await box.press("Enter");
  await page.waitForFunction(() => [...document.querySelectorAll("audio")].some((a) => !a.paused && a.currentTime > 0.5));
  const first = await playingAudio(page);
  await page.waitForTimeout(1200);
  const later = await playingAudio(page);
  assert.ok(later.currentTime > first.currentTime + 0.5, `currentTime advances (${first.currentTime} → ${later.currentTime})`);
  const nowPlaying = await page.getByTestId("now-playing").textContent();

  // Seek with the slider.
  await page.getByRole("slider", { name: "Seek" }).fill("30");
  await page.waitForFunction(() => [...document.querySelectorAll("audio")].some((a) => !a.paused && a.currentTime >= 30));

  // A playlist of three tracks from an album page, then reordered.
  await page.getByRole("link", { name: "Playlists", exact: true }).click();
  await page.getByLabel("New playlist name").fill("Road trip");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("heading", { name: "Road trip" }).waitFor();
  const album = target.album;
  // In the app, not by loading the page again: the music must keep playing.
  await page.locator("footer.player").getByRole("link", { name: album.title }).click();
  const rows = page.getByRole("list", { name: `Tracks of ${album.title}` }).getByTestId("track-row");
  await rows.first().waitFor();
  const titles = [];
  for (let i = 0; i < Math.min(3, await rows.count()); i++) {
    const row = rows.nth(i);
    titles.push((await row.locator(".name").textContent()).trim());
    await row.getByRole("button", { name: /^More for / }).click();
    await row.getByRole("menuitem", { name: "Add to Road trip" }).click();
    await row.getByRole("status").getByText("Added to Road trip").waitFor();
  }
  await page.screenshot({ path: `${shots}album.png` });
  assert.ok(titles.length >= 2, "the album has at least two tracks to reorder");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Road trip" }).click();
  const list = page.getByRole("list", { name: "Tracks of Road trip" });
  const order = async () => (await list.locator(".name").allTextContents()).map((t) => t.trim());
  await list.getByTestId("track-row").nth(titles.length - 1).waitFor();
  assert.deepEqual(await order(), titles);
  await page.getByRole("button", { name: `Move ${titles[1]} up` }).click();
  const moved = [titles[1], titles[0], ...titles.slice(2)];
  await page.waitForFunction(
    ([want]) => JSON.stringify([...document.querySelectorAll('[aria-label="Tracks of Road trip"] .name')].map((n) => n.textContent.trim())) === JSON.stringify(want),
    [moved],
  );
  // And by dragging: the last row onto the first.
  if (titles.length >= 3) {
    await list.getByTestId("track-row").nth(2).dragTo(list.getByTestId("track-row").nth(0));
    const dragged = [moved[2], moved[0], moved[1]];
    await page.waitForFunction(
      ([want]) => JSON.stringify([...document.querySelectorAll('[aria-label="Tracks of Road trip"] .name')].map((n) => n.textContent.trim())) === JSON.stringify(want),
      [dragged],
    );
    moved.splice(0, 3, ...dragged);
  }
  await page.screenshot({ path: `${shots}playlist.png` });

  // Like the first track of the playlist and find it in Liked Songs.
  await page.getByRole("button", { name: `Like ${moved[0]}` }).first().click();
  await page.getByRole("link", { name: "Liked Songs" }).click();
  await page.getByRole("list", { name: "Liked Songs" }).getByText(moved[0]).waitFor();

  // A reload keeps the session, the like and the playlist's order; playback kept going while
  // navigating.
  assert.equal(await page.getByTestId("now-playing").textContent(), nowPlaying);
  await page.reload();
  await page.getByRole("list", { name: "Liked Songs" }).getByText(moved[0]).waitFor();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Road trip" }).click();
  await list.getByTestId("track-row").nth(moved.length - 1).waitFor();
  assert.deepEqual(await order(), moved);
  await page.getByRole("link", { name: "Home" }).click();
  await page.getByRole("heading", { name: "Recently added albums" }).waitFor();
  await page.getByRole("list", { name: "Albums" }).first().waitFor();
  await page.screenshot({ path: `${shots}home.png` });

  // Browse: an artist's page lists their albums; a genre lists its albums.
  await page.getByRole("link", { name: "Artists" }).click();
  const artistName = target.artists[0].name;
  await page.getByRole("list", { name: "Artists" }).getByRole("link", { name: artistName, exact: true }).click();
  await page.getByRole("heading", { name: artistName }).waitFor();
  await page.getByRole("list", { name: "Albums" }).getByText(album.title).first().waitFor();
  const genres = (await apiGet("/api/v1/genres")).items;
  if (genres.length > 0) {
    await page.getByRole("link", { name: "Genres" }).click();
    await page.getByRole("list", { name: "Genres" }).getByRole("link", { name: genres[0].name, exact: true }).click();
    await page.getByRole("heading", { name: `Albums: ${genres[0].name}` }).waitFor();
    await page.getByRole("list", { name: "Albums" }).getByRole("link").first().waitFor();
  }

  // The queue: play the playlist, open the queue, and find its tracks in order.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Road trip" }).click();
  await page.getByRole("button", { name: "Play playlist" }).click();
  await page.getByRole("button", { name: /^Queue/ }).click();
  const queue = page.getByRole("region", { name: "Queue" });
  assert.deepEqual((await queue.locator("li .result").allTextContents()).map((t) => t.split(target.artists[0].name)[0].trim()), moved);
  await page.waitForFunction(() => [...document.querySelectorAll("audio")].some((a) => !a.paused && a.currentTime > 0.2));
  assert.equal(await page.getByTestId("now-playing").textContent(), moved[0]);

  // A phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${BASE}/albums/${album.id}`);
  await page.getByRole("heading", { name: album.title }).waitFor();
  await page.screenshot({ path: `${shots}phone-album.png` });
});

test("the home page recommends tracks, each with why, and a track starts a radio", async () => {
  // Signed in by the test before (the session is in this page's storage); a fresh load, so
  // nothing plays and the queue is empty.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(BASE);
  const section = page.getByRole("region", { name: "Made for you" });
  const made = section.getByRole("list", { name: "Made for you" });
  // The model retrains in the background (5 s or more after new tracks and plays): until it
  // knows the library the section says how to get recommendations; load the page again.
  for (let attempt = 1; ; attempt++) {
    await section.waitFor();
    await section.locator('[aria-busy="true"]').waitFor({ state: "detached" });
    if ((await section.getByRole("alert").count()) > 0) assert.fail(`recommendations failed: ${await section.getByRole("alert").textContent()}`);
    if ((await made.count()) > 0) break;
    assert.ok(attempt < 30, `recommendations appear within a minute (the section says: ${await section.textContent()})`);
    await page.waitForTimeout(2000);
    await page.reload();
  }
  const rows = made.getByTestId("track-row");
  await rows.first().waitFor();
  const reasons = (await made.getByTestId("reason").allTextContents()).map((r) => r.trim());
  assert.equal(reasons.length, await rows.count(), "every recommendation says why");
  assert.ok(reasons.every((r) => r.length > 0), `every reason has words (${JSON.stringify(reasons)})`);
  await page.screenshot({ path: `${shots}home.png` });

  // Start a radio from the first recommendation: the station replaces the queue and plays
  // from its seed.
  const row = rows.first();
  const seed = (await row.locator(".name").textContent()).trim();
  assert.equal(await page.getByTestId("now-playing").count(), 0, "nothing plays before the radio starts");
  await row.getByRole("button", { name: /^More for / }).click();
  await row.getByRole("menuitem", { name: "Start radio" }).click();
  await page.waitForFunction((title) => document.querySelector('[data-testid="now-playing"]')?.textContent === title, seed);
  await page.waitForFunction(() => [...document.querySelectorAll("audio")].some((a) => !a.paused && a.currentTime > 0.2));
  assert.equal(await page.locator("footer.player").getByRole("alert").count(), 0, "no playback error");
  await page.getByRole("button", { name: /^Queue/ }).click();
  const queue = page.getByRole("region", { name: "Queue" });
  const entries = queue.locator("li .result");
  await entries.first().waitFor();
  const station = (await entries.allTextContents()).map((t) => t.trim());
  assert.ok(station.length > 1, `the station has more than the seed (${JSON.stringify(station)})`);
  assert.ok(station[0].startsWith(seed), `the station starts with its seed ${seed} (${station[0]})`);
  assert.equal(await entries.first().getAttribute("aria-current"), "true", "the seed is what plays");
  assert.equal(await page.getByTestId("now-playing").textContent(), seed);
});

test("a wrong password gets a message, not a blank screen", async () => {
  const context = await browser.newContext();
  const fresh = await context.newPage();
  await fresh.goto(BASE);
  await fresh.getByLabel("Username").fill(username);
  await fresh.getByLabel("Password").fill("not the password");
  await fresh.getByRole("button", { name: "Log in" }).click();
  await fresh.getByRole("alert").waitFor();
  assert.match(await fresh.getByRole("alert").textContent(), /\S/);
  await context.close();
});

test("an app password made in Settings signs a Subsonic app in; a revoked one does not", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  const make = async (name) => {
    await page.getByLabel("App name").fill(name);
    await page.getByRole("button", { name: "Create app password" }).click();
    await page.getByRole("cell", { name, exact: true }).waitFor();
    return page.getByTestId("new-app-password").locator("code").textContent();
  };
  // What a Subsonic app sends: the username and the app password (here as p=enc:HEX).
  const ping = (secret) =>
    page.evaluate(
      async ([user, secret]) => {
        const hex = [...new TextEncoder().encode(secret)].map((b) => b.toString(16).padStart(2, "0")).join("");
        const r = await fetch(`/rest/ping.view?u=${encodeURIComponent(user)}&p=enc:${hex}&v=1.16.1&c=e2e&f=json`);
        return (await r.json())["subsonic-response"];
      },
      [username, secret],
    );
  const phone = await make("My phone");
  assert.match(phone, /^[a-z2-9]{4}(-[a-z2-9]{4}){4}$/);
  assert.equal((await ping(phone)).status, "ok");
  const tablet = await make("Old tablet");
  await page.screenshot({ path: `${shots}settings.png` });
  await page.getByRole("button", { name: "Revoke Old tablet" }).click();
  await page.getByRole("cell", { name: "Old tablet", exact: true }).waitFor({ state: "detached" });
  const refused = await ping(tablet);
  assert.equal(refused.status, "failed");
  assert.equal(refused.error.code, 40, "wrong credentials");
  await page.getByRole("cell", { name: "My phone", exact: true }).waitFor();
});
