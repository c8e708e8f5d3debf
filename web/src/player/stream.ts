// Which URL an <audio> element plays for a track: the signed original where the browser can
// decode the format, else a transcode to Opus.

import { api } from "../api/client";
import type { Track } from "../api/types";

/** Formats browsers decode natively (Apple Lossless, APE, WavPack, Musepack and AIFF are not). */
const PLAYABLE = new Set(["mp3", "flac", "ogg", "opus", "m4a", "aac", "wav"]);

export function streamUrlFor(track: Track, signed: string): string {
  if (track.format && !PLAYABLE.has(track.format)) {
    return `${signed}${signed.includes("?") ? "&" : "?"}format=opus&bitrate=192`;
  }
  return signed;
}

/** The track with its signed stream URL: lists of other services do not carry one. */
export async function withStreamUrl(track: Track): Promise<Track> {
  if (track.stream_url) return track;
  const full = await api.get<Track>(`/api/v1/tracks/${encodeURIComponent(track.id)}`);
  return { ...track, ...full };
}
