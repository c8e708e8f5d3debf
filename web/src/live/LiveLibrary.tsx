// Keeps what the whole app shows of the library (likes, the playlists list) in step with
// changes made on the listener's other devices, and refetches it when the server says to.

import { useEffect } from "react";
import { useLibrary } from "../session";
import { useLive } from "./LiveContext";

export function LiveLibrary() {
  const { subscribe } = useLive();
  const { likeChanged, reloadPlaylists } = useLibrary();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    // Bursts of playlist edits refetch the list once.
    const reloadSoon = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => reloadPlaylists().catch(() => undefined), 300);
    };
    const off = subscribe((message) => {
      if (message.type === "like.changed") likeChanged(String(message.track_id), message.liked === true);
      else if (message.type === "playlist.changed" || message.type === "playlist.deleted" || message.type === "reload") reloadSoon();
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [subscribe, likeChanged, reloadPlaylists]);
  return null;
}
