import { describe, expect, it } from "vitest";
import { current, emptyQueue, playNow, toggleShuffle } from "../player/queue";
import { Api, ApiError, describeError, sessionFromReply } from "./client";
import { clampLimit, getRadio, getRecommendations, RADIO_LIMIT, radioPath, reasonText, recommendationsPath, stationFrom } from "./recommend";
import type { Track } from "./types";

const track = (id: string, extra: Partial<Track> = {}): Track => ({ id, title: id.toUpperCase(), artists: [], album: { id: "a", title: "A" }, duration_ms: 1000, ...extra });
const ids = (tracks: Track[]) => tracks.map((t) => t.id).join("");

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** An Api signed in, answering every GET from `answer` and noting the paths asked. */
function fakeApi(answer: (path: string) => Response) {
  const seen: string[] = [];
  const storage = new Map<string, string>();
  const api = new Api(
    { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v), removeItem: (k) => void storage.delete(k) },
    (async (path: string) => (seen.push(path), answer(path))) as typeof fetch,
  );
  api.setSession(sessionFromReply({ user: { id: "u1", username: "ada", role: "user" }, access_token: "a", refresh_token: "r", token_type: "Bearer", expires_in: 900 }));
  return { api, seen };
}

describe("recommendation reasons", () => {
  it("shows the server's words", () => {
    expect(reasonText({ reason: "Because you played Yesterday", because: { kind: "track", track: { id: "t1", title: "Yesterday" } } })).toBe("Because you played Yesterday");
    expect(reasonText({ reason: "  Popular on this server ", because: { kind: "popular" } })).toBe("Popular on this server");
  });

  it("says it from `because` when the server gave no words", () => {
    expect(reasonText({ reason: "", because: { kind: "track", track: { id: "t1", title: "Yesterday" } } })).toBe("Because you played Yesterday");
    expect(reasonText({ reason: "", because: { kind: "artist", artist: { id: "ar1", name: "Slayer" } } })).toBe("Because you like Slayer");
    expect(reasonText({ reason: "", because: { kind: "genre", genre: "Jazz" } })).toBe("More Jazz");
    expect(reasonText({ reason: "", because: { kind: "similar_listeners" } })).toBe("Popular with listeners like you");
    expect(reasonText({ reason: "", because: { kind: "popular" } })).toBe("Popular on this server");
    expect(reasonText({ reason: "", because: { kind: "discover" } })).toBe("Something new to try");
    // Never blank, whatever arrives.
    expect(reasonText({ reason: "", because: { kind: "track" } })).toMatch(/\S/);
    expect(reasonText({} as never)).toBe("Something new to try");
  });
});

describe("radio stations", () => {
  it("start at the seed and play each track once", () => {
    const seed = track("s", { stream_url: "/signed" });
    const station = stationFrom(seed, [track("s", { album_artists: [{ id: "x", name: "X" }] }), track("a"), track("b"), track("a")]);
    expect(ids(station)).toBe("sab");
    // The listener's copy of the seed wins (its stream URL), merged over the server's.
    expect(station[0].stream_url).toBe("/signed");
    expect(station[0].album_artists?.[0].name).toBe("X");
  });

  it("put the seed first even when the server left it out or moved it", () => {
    expect(ids(stationFrom(track("s"), [track("a"), track("s"), track("b")]))).toBe("sab");
    expect(ids(stationFrom(track("s"), []))).toBe("s");
  });

  it("replace the queue and play from the seed, shuffled or not", () => {
    const before = playNow(emptyQueue, [track("x"), track("y"), track("z")], 2);
    const station = stationFrom(track("s"), [track("s"), track("a"), track("b"), track("c")]);
    const q = playNow(before, station, 0);
    expect(ids(q.tracks)).toBe("sabc");
    expect(current(q)?.id).toBe("s");
    const shuffled = playNow(toggleShuffle(before, () => 0), station, 0, () => 0);
    expect(current(shuffled)?.id).toBe("s");
    expect(shuffled.index).toBe(0);
    expect(ids(shuffled.tracks).split("").sort().join("")).toBe("abcs");
  });
});

describe("recommendation and radio calls", () => {
  it("ask for a limit the server accepts", () => {
    expect(recommendationsPath()).toBe("/api/v1/me/recommendations?limit=20");
    expect(recommendationsPath(500)).toBe("/api/v1/me/recommendations?limit=100");
    expect(radioPath("a/b c")).toBe("/api/v1/tracks/a%2Fb%20c/radio?limit=50");
    expect(radioPath("t", 0)).toBe("/api/v1/tracks/t/radio?limit=1");
    expect(clampLimit(Number.NaN, RADIO_LIMIT)).toBe(50);
    expect(clampLimit(12.4, RADIO_LIMIT)).toBe(12);
  });

  it("read the recommendations", async () => {
    const item = { track: track("t"), reason: "More Jazz", because: { kind: "genre", genre: "Jazz" } };
    const { api, seen } = fakeApi(() => json(200, { items: [item, { reason: "broken" }] }));
    const items = await getRecommendations(10, api);
    expect(seen).toEqual(["/api/v1/me/recommendations?limit=10"]);
    expect(items).toEqual([item]);
  });

  it("read a station, and pass a missing track on as an error a person can read", async () => {
    const { api, seen } = fakeApi((path) =>
      path.startsWith("/api/v1/tracks/gone/") ? json(404, { error: { code: "track_not_found", message: "no such track" } }) : json(200, { items: [track("s"), track("a")] }),
    );
    expect(ids(await getRadio(track("s"), undefined, api))).toBe("sa");
    expect(seen).toEqual(["/api/v1/tracks/s/radio?limit=50"]);
    const error = await getRadio(track("gone"), undefined, api).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe("track_not_found");
    expect(describeError(error)).toBe("no such track");
  });
});
