import { describe, expect, it } from "vitest";
import { correction, expectedSeconds, ServerClock } from "./sync";

describe("group session sync", () => {
  it("estimates the server's clock from the shortest round trip", () => {
    const clock = new ServerClock();
    clock.sample(1000, 6100, 1200); // 200 ms round trip: offset 5000
    expect(clock.offsetMs).toBe(5000);
    clock.sample(2000, 7030, 2020); // 20 ms: offset 5020, better
    expect(clock.offsetMs).toBe(5020);
    clock.sample(3000, 9000, 3500); // slower: not used
    expect(clock.offsetMs).toBe(5020);
    expect(clock.now(10_000)).toBe(15_020);
    // The good sample ages out: a clock that stepped is followed.
    const stepped = new ServerClock(2);
    stepped.sample(0, 5000, 10);
    stepped.sample(100, 9100, 150);
    stepped.sample(200, 9200, 250);
    expect(stepped.offsetMs).toBe(8975);
  });

  it("moves a playing position on from its time, and not a paused one", () => {
    const at = "2026-11-26T10:00:00.000Z";
    const t = Date.parse(at);
    expect(expectedSeconds({ position_ms: 30_000, playing: true, as_of: at }, t + 1500)).toBe(31.5);
    expect(expectedSeconds({ position_ms: 30_000, playing: false, as_of: at }, t + 1500)).toBe(30);
  });

  it("corrects only a drift past 200 ms", () => {
    expect(correction(10.1, 10)).toBeNull();
    expect(correction(10.5, 10)).toBe(10);
    expect(correction(9.7, 10)).toBe(10);
  });
});
