// Shared by the multi-device end-to-end test and its benchmark: sign in a fresh browser
// context (a device), call the API with its session, and read its audio elements.
import { BASE } from "./browser.mjs";

const password = "a long enough password";

/** A new browser context signed in as `name` ("signup" or "login"): one device. */
export async function signIn(browser, mode, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(BASE);
  if (mode === "signup") await page.getByRole("button", { name: "New here? Create an account" }).click();
  await page.getByLabel("Username").fill(name);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: mode === "signup" ? "Sign up" : "Log in" }).click();
  await page.getByRole("link", { name: "Home" }).waitFor();
  return page;
}

/** Calls the API with the page's session. */
export const apiCall = (page, method, path, body) =>
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
export const loadedAudio = (page) =>
  page.evaluate(() => {
    const audio = [...document.querySelectorAll("audio")].find((a) => a.getAttribute("src") && a.currentTime > 0);
    return audio ? { currentTime: audio.currentTime, paused: audio.paused } : null;
  });

/** The current time of the page's playing audio element, or null. */
export const audioTime = (page) => page.evaluate(() => [...document.querySelectorAll("audio")].find((a) => !a.paused)?.currentTime ?? null);
