// Tracks named by id (a queue handed over by another device), fetched a few at a time.

import { api } from "../api/client";
import type { Track } from "../api/types";

/** The most tracks fetched around the current one. */
const WINDOW_BEFORE = 50;
const WINDOW_AFTER = 150;
const AT_ONCE = 6;

/** Each of `ids`, or null where it cannot be fetched (removed, say), a few requests at a time. */
export async function fetchTracks(ids: string[], get: (path: string) => Promise<Track> = (p) => api.get<Track>(p)): Promise<(Track | null)[]> {
  const found: (Track | null)[] = new Array(ids.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      found[i] = await get(`/api/v1/tracks/${encodeURIComponent(ids[i])}`).catch(() => null);
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, ids.length) }, worker));
  return found;
}

/** The tracks of `ids` around `index` that still exist, and where the current one ended up. */
export async function tracksByIds(ids: string[], index: number, get: (path: string) => Promise<Track> = (p) => api.get<Track>(p)): Promise<{ tracks: Track[]; index: number }> {
  const from = Math.max(0, index - WINDOW_BEFORE);
  const found = await fetchTracks(ids.slice(from, index + WINDOW_AFTER + 1), get);
  const current = index - from;
  const tracks: Track[] = [];
  let at = 0;
  found.forEach((track, i) => {
    if (!track) return;
    if (i <= current) at = tracks.length;
    tracks.push(track);
  });
  return { tracks, index: at };
}
