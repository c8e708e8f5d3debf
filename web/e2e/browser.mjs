// Debian's Chromium driven by playwright-core (browsers cannot be downloaded here).
import { chromium } from "playwright-core";

export const BASE = process.env.BEATSTREAM_URL ?? "http://127.0.0.1:3000";

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

/** The audio element that plays, as the page sees it. */
export function playingAudio(page) {
  return page.evaluate(() => {
    const playing = [...document.querySelectorAll("audio")].find((a) => !a.paused);
    return playing ? { currentTime: playing.currentTime, duration: playing.duration } : null;
  });
}
