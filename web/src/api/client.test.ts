import { describe, expect, it } from "vitest";
import { Api, ApiError, describeError, needsRefresh, sessionFromReply } from "./client";

const reply = (n: number) => ({
  user: { id: "u1", username: "ada", role: "admin" as const },
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: "Bearer",
  expires_in: 900,
});

function memory() {
  const items = new Map<string, string>();
  return {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
  };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

describe("api client", () => {
  it("refreshes once on a 401 and retries with the new token", async () => {
    const seen: string[] = [];
    let refreshes = 0;
    const fetcher = (async (path: string, init?: RequestInit) => {
      const auth = (init?.headers as Record<string, string>)?.authorization ?? "";
      seen.push(`${path} ${auth}`);
      if (path === "/api/v1/auth/refresh") {
        refreshes += 1;
        return json(200, reply(2));
      }
      if (auth === "Bearer access-1") return json(401, { error: { code: "token_expired", message: "expired" } });
      return json(200, { ok: true });
    }) as typeof fetch;
    const api = new Api(memory(), fetcher);
    api.setSession(sessionFromReply(reply(1)));
    const [a, b] = await Promise.all([api.get("/api/v1/me"), api.get("/api/v1/me")]);
    expect(a).toEqual({ ok: true });
    expect(b).toEqual({ ok: true });
    expect(refreshes).toBe(1);
    expect(api.current?.accessToken).toBe("access-2");
    expect(seen.filter((s) => s.endsWith("access-2")).length).toBe(2);
  });

  it("ends the session when the refresh token is refused", async () => {
    const fetcher = (async (path: string) =>
      path === "/api/v1/auth/refresh" ? json(401, { error: { code: "invalid_token", message: "no" } }) : json(401, { error: { code: "token_expired", message: "expired" } })) as typeof fetch;
    const storage = memory();
    const api = new Api(storage, fetcher);
    api.setSession(sessionFromReply(reply(1)));
    await expect(api.get("/api/v1/me")).rejects.toBeInstanceOf(ApiError);
    expect(api.current).toBeNull();
    expect(storage.getItem("beatstream.session")).toBeNull();
    expect(api.notice).toMatch(/session has expired/);
  });

  it("says so when the server cannot be reached, and keeps the session", async () => {
    const fetcher = (async () => {
      throw new TypeError("Failed to fetch");
    }) as typeof fetch;
    const api = new Api(memory(), fetcher);
    api.setSession(sessionFromReply(reply(1)));
    const error = await api.get("/api/v1/me").catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(describeError(error)).toMatch(/cannot be reached/);
    expect(api.current).not.toBeNull();
  });

  it("refreshes ahead of expiry and passes server messages on", async () => {
    const session = sessionFromReply(reply(1), 0);
    expect(needsRefresh(session, 0)).toBe(false);
    expect(needsRefresh(session, 900_000 - 10_000)).toBe(true);
    const fetcher = (async () => json(409, { error: { code: "username_taken", message: "that username is taken" } })) as typeof fetch;
    const error = await new Api(memory(), fetcher).signup("ada", "pw").catch((e) => e);
    expect(error.code).toBe("username_taken");
    expect(describeError(error)).toBe("that username is taken");
  });
});
