// Shapes of the Beatstream API replies the player reads (see shared/API.md and /api/docs).

export interface UserRef {
  id: string;
  username: string;
}

export interface User extends UserRef {
  display_name?: string | null;
  email?: string | null;
  role: "admin" | "user";
  disabled?: boolean;
  created_at?: string;
}

export interface ArtistRef {
  id: string;
  name: string;
}

export interface AlbumRef {
  id: string;
  title: string;
}

export interface Track {
  id: string;
  title: string;
  artists: ArtistRef[];
  album: AlbumRef;
  album_artists?: ArtistRef[];
  track_number?: number | null;
  disc_number?: number | null;
  duration_ms: number;
  year?: number | null;
  genres?: string[];
  format?: string;
  bitrate_kbps?: number | null;
  /** Signed: usable by <audio> without a header. Absent in some lists (fetch the track). */
  stream_url?: string;
  /** False in a playlist when the catalog no longer has the track. */
  available?: boolean;
}

export interface Album {
  id: string;
  title: string;
  artists: ArtistRef[];
  year?: number | null;
  genres: string[];
  track_count: number;
  duration_ms: number;
  cover_url?: string | null;
  created_at?: string;
}

export interface AlbumDetail extends Album {
  tracks: Track[];
}

export interface Artist {
  id: string;
  name: string;
  album_count?: number;
  track_count?: number;
}

export interface ArtistDetail extends Artist {
  albums: Album[];
}

export interface Playlist {
  id: string;
  name: string;
  description?: string | null;
  owner: UserRef;
  public: boolean;
  collaborative: boolean;
  track_count: number;
  duration_ms: number;
  version: number;
}

export interface PlaylistEntry {
  position: number;
  track: Track;
  added_by?: UserRef | null;
  added_at?: string;
}

export interface PlaylistDetail extends Playlist {
  tracks: PlaylistEntry[];
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

/** What a recommendation comes from, as data (`reason` says it in words). */
export type BecauseKind = "track" | "artist" | "genre" | "similar_listeners" | "popular" | "discover";

export interface Because {
  kind: BecauseKind;
  /** kind "track": the listener's own track it is like. */
  track?: { id: string; title: string };
  /** kind "artist": an artist the listener likes. */
  artist?: ArtistRef;
  /** kind "genre". */
  genre?: string;
}

/** One item of `GET /api/v1/me/recommendations`. */
export interface Recommendation {
  track: Track;
  /** In words: "Because you played Yesterday", "More Jazz", "Popular on this server"… */
  reason: string;
  because: Because;
}

export interface SearchReply {
  top?: { type: "track" | "album" | "artist" | "playlist"; item: unknown } | null;
  tracks: { items: Track[] };
  albums: { items: Album[] };
  artists: { items: Artist[] };
  playlists: { items: Playlist[] };
}

export interface ScanStatus {
  id: string;
  state: "queued" | "running" | "idle";
  files_seen: number;
  tracks_added: number;
  tracks_updated: number;
  tracks_removed: number;
  errors: { path: string; reason: string }[];
  started_at?: string | null;
  finished_at?: string | null;
}

export interface AuthReply {
  user: User;
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}
