import { describe, expect, it, vi, afterEach } from "vitest";
import { backoff, browserName, deviceIdentity, LiveConnection } from "./connection";
import { devicesAfter, type Device } from "./LiveContext";

class FakeSocket {
  static OPEN = 1;
  static made: FakeSocket[] = [];
  readyState = 1;
  sent: string[] = [];
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.made.push(this);
  }
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.onclose?.();
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  FakeSocket.made = [];
});

describe("the live connection", () => {
  it("signs in with a subprotocol, not the URL, and resumes after the last message seen", async () => {
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
    const device = { id: "web-1", name: "Chrome on Linux", kind: "web" };
    const live = new LiveConnection(async () => "tok.en", device, "ws://host");
    const seen: string[] = [];
    live.on((m) => seen.push(m.type));
    live.start();
    await vi.waitFor(() => expect(FakeSocket.made).toHaveLength(1));
    const first = FakeSocket.made[0];
    expect(first.protocols).toEqual(["beatstream", "bearer.tok.en"]);
    expect(first.url).not.toContain("tok.en");
    expect(first.url).toContain("device_id=web-1");
    first.receive({ type: "hello" });
    first.receive({ id: "e-7", type: "playlist.changed" });
    expect(live.status).toBe("open");
    expect(seen).toEqual(["hello", "playlist.changed"]);

    first.onclose?.();
    expect(live.status).toBe("connecting");
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(FakeSocket.made).toHaveLength(2));
    expect(FakeSocket.made[1].url).toContain("last_id=e-7");
    live.stop();
    expect(live.status).toBe("closed");
  });

  it("backs off up to 15 s and names the browser", () => {
    expect(backoff(0, () => 0.5)).toBe(500);
    expect(backoff(3, () => 0.5)).toBe(4000);
    expect(backoff(20, () => 0.5)).toBe(15_000);
    expect(browserName("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36")).toBe("Chrome on Linux");
    expect(browserName("Mozilla/5.0 (Android 14; Mobile; rv:120.0) Gecko/120.0 Firefox/120.0")).toBe("Firefox on Android");
  });

  it("keeps one device id per tab", () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const a = deviceIdentity(storage, "Firefox/1");
    expect(deviceIdentity(storage, "Firefox/1").id).toBe(a.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it("follows the device list from hello, changes and states", () => {
    const laptop: Device = { id: "l", name: "Laptop", kind: "web", online: true, active: true, state: null };
    const phone: Device = { id: "p", name: "Phone", kind: "phone", online: true, active: false, state: null };
    let devices = devicesAfter([], { type: "hello", devices: [laptop, phone] })!;
    expect(devices.map((d) => d.id)).toEqual(["l", "p"]);
    devices = devicesAfter(devices, { type: "player.state", device: { ...phone, active: true } })!;
    expect(devices.map((d) => [d.id, d.active])).toEqual([
      ["p", true],
      ["l", false],
    ]);
    expect(devicesAfter(devices, { type: "like.changed" })).toBeNull();
  });
});
