// Recommendations for the listener (each with why) and radio stations seeded by a track.

import { api, type Api } from "./client";
import type { Recommendation, Track } from "./types";

type Getter = Pick<Api, "get">;

interface Range {
  min: number;
  max: number;
  fallback: number;
}

/** What the server accepts for `?limit=` (it refuses anything else with a 400). */
export const RECOMMENDATIONS_LIMIT: Range = { min: 1, max: 100, fallback: 20 };
export const RADIO_LIMIT: Range = { min: 1, max: 200, fallback: 50 };

export function clampLimit(limit: number | undefined, range: Range): number {
  if (limit === undefined || !Number.isFinite(limit)) return range.fallback;
  return Math.min(range.max, Math.max(range.min, Math.round(limit)));
}

export function recommendationsPath(limit?: number): string {
  return `/api/v1/me/recommendations?limit=${clampLimit(limit, RECOMMENDATIONS_LIMIT)}`;
}

export function radioPath(trackId: string, limit?: number): string {
  return `/api/v1/tracks/${encodeURIComponent(trackId)}/radio?limit=${clampLimit(limit, RADIO_LIMIT)}`;
}

/** `GET /api/v1/me/recommendations`: tracks for the signed-in listener, best first. */
export async function getRecommendations(limit?: number, client: Getter = api): Promise<Recommendation[]> {
  const reply = await client.get<{ items?: Recommendation[] }>(recommendationsPath(limit));
  return (reply?.items ?? []).filter((r) => r?.track?.id);
}

/** `GET /api/v1/tracks/{id}/radio`: a station, the seed first (an unknown track is a 404
 * `track_not_found`, thrown as an ApiError). */
export async function getRadio(seed: Track, limit?: number, client: Getter = api): Promise<Track[]> {
  const reply = await client.get<{ items?: Track[] }>(radioPath(seed.id, limit));
  return stationFrom(seed, reply?.items ?? []);
}

/** The queue a station plays: the seed first (the listener's own copy of it, which may carry
 * its stream URL already), then the rest of the station once each, in the server's order. */
export function stationFrom(seed: Track, items: Track[]): Track[] {
  const fromServer = items.find((t) => t?.id === seed.id);
  const station: Track[] = [fromServer ? { ...fromServer, ...seed } : seed];
  const seen = new Set([seed.id]);
  for (const track of items) {
    if (!track?.id || seen.has(track.id)) continue;
    seen.add(track.id);
    station.push(track);
  }
  return station;
}

/** Why a track is recommended, in words: the server's own, else said from `because`. */
export function reasonText(recommendation: Pick<Recommendation, "reason" | "because">): string {
  const said = recommendation.reason?.trim();
  if (said) return said;
  const because = recommendation.because;
  switch (because?.kind) {
    case "track":
      return because.track?.title ? `Because you played ${because.track.title}` : "Because of what you played";
    case "artist":
      return because.artist?.name ? `Because you like ${because.artist.name}` : "Because of artists you like";
    case "genre":
      return because.genre ? `More ${because.genre}` : "More of what you like";
    case "similar_listeners":
      return "Popular with listeners like you";
    case "popular":
      return "Popular on this server";
    default:
      return "Something new to try";
  }
}
