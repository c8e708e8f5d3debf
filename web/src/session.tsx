// Who is signed in, and what the whole app shows of their library: liked tracks and their
// playlists (for every track's heart and "add to playlist" menu).

import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, type Session } from "./api/client";
import { getAll } from "./api/pages";
import type { Playlist, Track } from "./api/types";

interface Library {
  session: Session | null;
  liked: Set<string>;
  playlists: Playlist[];
  toggleLike(track: Track): Promise<void>;
  reloadPlaylists(): Promise<void>;
  /** A like changed elsewhere (another device): show it. */
  likeChanged(trackId: string, liked: boolean): void;
}

const LibraryContext = createContext<Library | null>(null);

export function useLibrary() {
  const library = useContext(LibraryContext);
  if (!library) throw new Error("useLibrary outside LibraryProvider");
  return library;
}

export function LibraryProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(api.current);
  const [liked, setLiked] = useState<Set<string>>(new Set());
  const [playlists, setPlaylists] = useState<Playlist[]>([]);

  useEffect(() => api.onChange(setSession), []);

  const reloadPlaylists = useCallback(async () => {
    setPlaylists(await getAll<Playlist>("/api/v1/me/playlists?limit=500"));
  }, []);

  const userId = session?.user.id;
  useEffect(() => {
    if (!userId) {
      setLiked(new Set());
      setPlaylists([]);
      return;
    }
    getAll<{ track: Track }>("/api/v1/me/likes/tracks?limit=500")
      .then((likes) => setLiked(new Set(likes.map((l) => l.track.id))))
      .catch(() => undefined);
    reloadPlaylists().catch(() => undefined);
  }, [userId, reloadPlaylists]);

  const toggleLike = useCallback(
    async (track: Track) => {
      const was = liked.has(track.id);
      const path = `/api/v1/me/likes/tracks/${encodeURIComponent(track.id)}`;
      setLiked((s) => {
        const next = new Set(s);
        if (was) next.delete(track.id);
        else next.add(track.id);
        return next;
      });
      try {
        await api.send(was ? "DELETE" : "PUT", path);
      } catch (e) {
        setLiked((s) => {
          const back = new Set(s);
          if (was) back.add(track.id);
          else back.delete(track.id);
          return back;
        });
        throw e;
      }
    },
    [liked],
  );

  const likeChanged = useCallback((trackId: string, isLiked: boolean) => {
    setLiked((s) => {
      if (s.has(trackId) === isLiked) return s;
      const next = new Set(s);
      if (isLiked) next.add(trackId);
      else next.delete(trackId);
      return next;
    });
  }, []);

  return <LibraryContext.Provider value={{ session, liked, playlists, toggleLike, reloadPlaylists, likeChanged }}>{children}</LibraryContext.Provider>;
}
