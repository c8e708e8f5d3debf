// The one way the player talks to the server: JSON over fetch with the session's bearer token,
// refreshed silently (one refresh at a time) before it expires or when the server says 401.

import type { AuthReply, User } from "./types";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a person can act on, for each way a call can fail. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return "The server cannot be reached. Check that Beatstream is running, then try again.";
    if (error.status === 401) return "Your session has expired. Please log in again.";
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

const STORAGE_KEY = "beatstream.session";

export function sessionFromReply(reply: AuthReply, now = Date.now()): Session {
  return {
    user: reply.user,
    accessToken: reply.access_token,
    refreshToken: reply.refresh_token,
    expiresAt: now + reply.expires_in * 1000,
  };
}

/** A session is refreshed this long before its access token runs out. */
export const REFRESH_MARGIN_MS = 30_000;

export function needsRefresh(session: Session, now = Date.now()): boolean {
  return session.expiresAt - now < REFRESH_MARGIN_MS;
}

type Listener = (session: Session | null) => void;

export class Api {
  private session: Session | null;
  private refreshing: Promise<Session | null> | null = null;
  private listeners = new Set<Listener>();
  /** Why the last session ended, when it was not the listener's doing; shown at the login. */
  notice: string | null = null;

  constructor(
    private storage: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null = typeof localStorage === "undefined" ? null : localStorage,
    private fetcher: typeof fetch = (...args) => fetch(...args),
  ) {
    this.session = this.saved();
    // Another tab that refreshed or logged out: follow it (its old refresh token is dead).
    if (typeof window !== "undefined") {
      window.addEventListener("storage", (e) => {
        if (e.key === STORAGE_KEY) {
          this.session = this.saved();
          this.listeners.forEach((l) => l(this.session));
        }
      });
    }
  }

  /** The stored session, if it is one this version understands. */
  private saved(): Session | null {
    try {
      const s = JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? "null");
      const valid = s && typeof s.accessToken === "string" && typeof s.refreshToken === "string" && typeof s.expiresAt === "number" && s.user && typeof s.user.id === "string" && typeof s.user.username === "string";
      return valid ? (s as Session) : null;
    } catch {
      return null;
    }
  }

  get current(): Session | null {
    return this.session;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setSession(session: Session | null) {
    this.session = session;
    if (session) this.storage?.setItem(STORAGE_KEY, JSON.stringify(session));
    else this.storage?.removeItem(STORAGE_KEY);
    this.listeners.forEach((l) => l(session));
  }

  async login(username: string, password: string): Promise<Session> {
    return this.authenticate("/api/v1/auth/login", { username, password });
  }

  async signup(username: string, password: string): Promise<Session> {
    return this.authenticate("/api/v1/auth/signup", { username, password });
  }

  async logout(): Promise<void> {
    const session = this.session;
    this.setSession(null);
    if (session) {
      await this.raw("POST", "/api/v1/auth/logout", { refresh_token: session.refreshToken }, null).catch(() => undefined);
    }
  }

  private async authenticate(path: string, body: unknown): Promise<Session> {
    const reply = (await this.raw("POST", path, body, null)) as AuthReply;
    const session = sessionFromReply(reply);
    this.setSession(session);
    return session;
  }

  /** Trades the refresh token for a new pair; a second caller waits for the first. */
  refresh(): Promise<Session | null> {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        // Another tab may have refreshed already: its pair is the live one.
        const stored = this.saved();
        if (stored && this.session && stored.refreshToken !== this.session.refreshToken && !needsRefresh(stored)) {
          this.session = stored;
          return stored;
        }
        const session = this.session;
        if (!session) return null;
        try {
          const reply = (await this.raw("POST", "/api/v1/auth/refresh", { refresh_token: session.refreshToken }, null)) as AuthReply;
          const next = sessionFromReply(reply);
          this.setSession(next);
          return next;
        } catch (error) {
          // A refused refresh ends the session; a network failure keeps it for a retry.
          if (error instanceof ApiError && error.status !== 0) {
            this.notice = "Your session has expired. Please log in again.";
            this.setSession(null);
          }
          throw error;
        }
      })().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /** A current access token (refreshed first when it is about to expire), or null when signed out. */
  async accessToken(): Promise<string | null> {
    if (this.session && needsRefresh(this.session)) await this.refresh().catch(() => undefined);
    return this.session?.accessToken ?? null;
  }

  async get<T>(path: string): Promise<T> {
    return (await this.call("GET", path)) as T;
  }

  /** A text reply (an M3U export). */
  async text(path: string): Promise<string> {
    return (await this.call("GET", path, undefined, undefined, true)) as string;
  }

  async send<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    return (await this.call(method, path, body, headers)) as T;
  }

  private async call(method: string, path: string, body?: unknown, headers?: Record<string, string>, text = false): Promise<unknown> {
    if (this.session && needsRefresh(this.session)) await this.refresh().catch(() => undefined);
    try {
      return await this.raw(method, path, body, this.session?.accessToken ?? null, headers, text);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401 && this.session) {
        const next = await this.refresh();
        if (next) return this.raw(method, path, body, next.accessToken, headers, text);
      }
      throw error;
    }
  }

  private async raw(method: string, path: string, body: unknown, token: string | null, extra?: Record<string, string>, asText = false): Promise<unknown> {
    const headers: Record<string, string> = { ...extra };
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      // A small JSON write survives the page being closed (the play being recorded as it goes).
      const keepalive = typeof payload === "string" && payload.length < 32_000;
      response = await this.fetcher(path, { method, headers, body: payload, keepalive });
    } catch {
      throw new ApiError(0, "unreachable", "The server cannot be reached.");
    }
    if (response.status === 204) return undefined;
    const text = await response.text();
    const json = text ? safeJson(text) : undefined;
    if (response.ok && asText) return text;
    if (!response.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(response.status, error?.code ?? "http_error", error?.message ?? `The server answered ${response.status}.`);
    }
    return json;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const api = new Api();
