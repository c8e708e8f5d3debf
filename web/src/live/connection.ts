// The live connection: one WebSocket to /api/v1/events per tab, signed in with the access token
// offered as a subprotocol (browsers cannot set headers on a WebSocket; the token stays out of
// the URL). It reconnects with backoff and resumes after the last message seen, so nothing is
// missed across a short drop; when the server cannot replay, it says `reload`.

export interface LiveMessage {
  id?: string;
  type: string;
  [key: string]: unknown;
}

export interface DeviceIdentity {
  id: string;
  name: string;
  kind: string;
}

const DEVICE_KEY = "beatstream.device";

/** This tab as a device: its id lives in sessionStorage, so each tab is one device that keeps
 * its id across reloads. */
export function deviceIdentity(storage: Pick<Storage, "getItem" | "setItem"> = sessionStorage, agent = navigator.userAgent): DeviceIdentity {
  let id = storage.getItem(DEVICE_KEY);
  if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    id = `web-${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;
    storage.setItem(DEVICE_KEY, id);
  }
  return { id, name: browserName(agent), kind: "web" };
}

/** "Firefox on Linux", "Chrome on Android", ... */
export function browserName(agent: string): string {
  const browser = /Edg\//.test(agent) ? "Edge" : /Firefox\//.test(agent) ? "Firefox" : /Chrom(e|ium)\//.test(agent) ? "Chrome" : /Safari\//.test(agent) ? "Safari" : "Browser";
  const system = /Android/.test(agent) ? "Android" : /iPhone|iPad/.test(agent) ? "iOS" : /Mac OS X/.test(agent) ? "macOS" : /Windows/.test(agent) ? "Windows" : /Linux/.test(agent) ? "Linux" : "";
  return system ? `${browser} on ${system}` : browser;
}

/** Delay before reconnect attempt `n` (0-based): 0.5 s doubling to 15 s, with jitter. */
export function backoff(n: number, random = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** n);
  return Math.round(base * (0.75 + random() / 2));
}

type Handler = (message: LiveMessage) => void;
export type LiveStatus = "connecting" | "open" | "closed";

export class LiveConnection {
  private socket: WebSocket | null = null;
  private lastId: string | null = null;
  private attempts = 0;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by start and stop: a connect begun before is abandoned. */
  private generation = 0;
  private handlers = new Set<Handler>();
  private statusHandlers = new Set<(s: LiveStatus) => void>();
  status: LiveStatus = "closed";

  constructor(
    private token: () => Promise<string | null>,
    readonly device: DeviceIdentity,
    private base: string = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}`,
  ) {}

  start() {
    this.stopped = false;
    this.generation += 1;
    void this.connect();
  }

  stop() {
    this.stopped = true;
    this.generation += 1;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000);
    this.socket = null;
    this.setStatus("closed");
  }

  on(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  onStatus(handler: (s: LiveStatus) => void): () => void {
    this.statusHandlers.add(handler);
    return () => this.statusHandlers.delete(handler);
  }

  /** Sends a message if the socket is open; false otherwise. */
  send(message: unknown): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private setStatus(status: LiveStatus) {
    this.status = status;
    this.statusHandlers.forEach((h) => h(status));
  }

  private async connect() {
    if (this.stopped) return;
    const generation = this.generation;
    this.setStatus("connecting");
    const token = await this.token();
    if (this.stopped || generation !== this.generation || this.socket) return;
    if (!token) return this.retry();
    const query = new URLSearchParams({ device_id: this.device.id, device_name: this.device.name, device_kind: this.device.kind });
    if (this.lastId) query.set("last_id", this.lastId);
    let socket: WebSocket;
    try {
      socket = new WebSocket(`${this.base}/api/v1/events?${query}`, ["beatstream", `bearer.${token}`]);
    } catch {
      return this.retry();
    }
    this.socket = socket;
    socket.onmessage = (event) => {
      let message: LiveMessage;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.id) this.lastId = message.id;
      if (message.type === "hello") {
        this.attempts = 0;
        this.setStatus("open");
      }
      this.handlers.forEach((h) => h(message));
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.retry();
    };
  }

  private retry() {
    if (this.stopped) return;
    this.setStatus("connecting");
    this.timer = setTimeout(() => void this.connect(), backoff(this.attempts++));
  }
}
