// Search as you type: results grouped by kind; arrow keys move through them, Enter opens or
// plays the one selected.

import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, describeError } from "../api/client";
import type { SearchReply, Track } from "../api/types";
import { ErrorMessage } from "../components/Status";
import { LikeButton } from "../components/TrackList";
import { duration, names } from "../format";
import { usePlayer } from "../player/PlayerContext";

interface Result {
  key: string;
  label: string;
  detail: string;
  open: () => void;
  track?: Track;
}

export function Search() {
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(params.get("q") ?? "");
  const [reply, setReply] = useState<SearchReply | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState(-1);
  const latest = useRef(0);
  const navigate = useNavigate();
  const player = usePlayer();

  useEffect(() => {
    const query = q;
    const ticket = ++latest.current;
    if (!query.trim()) {
      setReply(null);
      return;
    }
    const timer = setTimeout(async () => {
      try {
        const r = await api.get<SearchReply>(`/api/v1/search?limit=8&q=${encodeURIComponent(query)}`);
        // Only the answer to what is typed now is shown.
        if (ticket === latest.current) {
          setReply(r);
          setError(null);
          setSelected(-1);
        }
      } catch (e) {
        if (ticket === latest.current) setError(describeError(e));
      }
    }, 80);
    setParams(query ? { q: query } : {}, { replace: true });
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q]);

  const tracks = reply?.tracks.items ?? [];
  const groups: [string, Result[]][] = reply
    ? [
        ["Songs", tracks.map((t, i) => ({ key: `t${t.id}`, label: t.title, detail: `${names(t.artists)} · ${duration(t.duration_ms)}`, open: () => player.play(tracks, i), track: t }))],
        ["Artists", reply.artists.items.map((a) => ({ key: `r${a.id}`, label: a.name, detail: "Artist", open: () => navigate(`/artists/${a.id}`) }))],
        ["Albums", reply.albums.items.map((a) => ({ key: `a${a.id}`, label: a.title, detail: names(a.artists), open: () => navigate(`/albums/${a.id}`) }))],
        ["Playlists", reply.playlists.items.map((p) => ({ key: `p${p.id}`, label: p.name, detail: `by ${p.owner.username}`, open: () => navigate(`/playlists/${p.id}`) }))],
      ]
    : [];
  const flat = groups.flatMap(([, results]) => results);

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setSelected((s) => Math.min(s + 1, flat.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setSelected((s) => Math.max(s - 1, -1));
    } else if (e.key === "Enter" && flat[selected]) {
      e.preventDefault();
      flat[selected].open();
    }
  };

  return (
    <>
      <h1>Search</h1>
      <input
        type="search"
        role="combobox"
        aria-expanded={flat.length > 0}
        aria-autocomplete="list"
        className="search"
        placeholder="Songs, artists, albums, playlists"
        aria-label="Search"
        aria-controls="search-results"
        aria-activedescendant={flat[selected] ? `result-${flat[selected].key}` : undefined}
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={onKey}
        autoFocus
      />
      {error && <ErrorMessage error={error} />}
      <div id="search-results" role="listbox" aria-label="Search results">
        {reply && flat.length === 0 && <p className="muted">Nothing found for “{q}”.</p>}
        {groups.map(([title, results]) =>
          results.length ? (
            <section key={title} aria-label={title}>
              <h2>{title}</h2>
              <ul className="results">
                {results.map((r) => {
                  const index = flat.indexOf(r);
                  return (
                    <li key={r.key} className={index === selected ? "selected" : ""}>
                      <button type="button" id={`result-${r.key}`} role="option" aria-selected={index === selected} className="result" onClick={r.open}>
                        <span className="name">{r.label}</span> <span className="muted">{r.detail}</span>
                      </button>
                      {r.track && <LikeButton track={r.track} />}
                    </li>
                  );
                })}
              </ul>
            </section>
          ) : null,
        )}
      </div>
      {!q && <p className="muted">Type a few letters; typos are forgiven. Try <code>artist:</code>, <code>album:</code>, <code>genre:</code> or <code>year:1990..1999</code>.</p>}
      <p className="muted">
        <Link to="/albums">Browse albums</Link> · <Link to="/artists">artists</Link> · <Link to="/genres">genres</Link>
      </p>
    </>
  );
}
