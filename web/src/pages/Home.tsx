import { Link } from "react-router";
import { api } from "../api/client";
import { getRecommendations, reasonText } from "../api/recommend";
import type { Album, Page, Track } from "../api/types";
import { AlbumGrid } from "./Albums";
import { Loaded } from "../components/Status";
import { TrackList } from "../components/TrackList";
import { useLibrary } from "../session";
import { useLoad } from "../useLoad";

export function Home() {
  const { session, playlists } = useLibrary();
  const recommendations = useLoad(() => getRecommendations(20), []);
  const history = useLoad(() => api.get<Page<{ track: Track; played_at: string }>>("/api/v1/me/history?limit=10"), []);
  const albums = useLoad(() => api.get<Page<Album>>("/api/v1/albums?sort=newest&limit=12"), []);
  return (
    <>
      <h1>Welcome, {session?.user.display_name || session?.user.username}</h1>
      <section aria-labelledby="made-for-you">
        <h2 id="made-for-you">Made for you</h2>
        <Loaded state={recommendations}>
          {(items) =>
            items.length ? (
              <TrackList
                label="Made for you"
                tracks={items.map((r) => r.track)}
                note={(_, i) => (
                  <span className="muted reason" data-testid="reason">
                    {reasonText(items[i])}
                  </span>
                )}
              />
            ) : (
              <p className="muted">Play or like some music and recommendations appear here.</p>
            )
          }
        </Loaded>
      </section>
      <section>
        <h2>Recently played</h2>
        <Loaded state={history}>{(page) => (page.items.length ? <TrackList label="Recently played" tracks={page.items.map((h) => h.track)} /> : <p className="muted">Nothing played yet.</p>)}</Loaded>
      </section>
      <section>
        <h2>Recently added albums</h2>
        <Loaded state={albums}>{(page) => (page.items.length ? <AlbumGrid albums={page.items} /> : <p className="muted">The library is empty{session?.user.role === "admin" ? <>: <Link to="/admin">scan it</Link>.</> : "."}</p>)}</Loaded>
      </section>
      <section>
        <h2>Your playlists</h2>
        {playlists.length ? (
          <ul className="cards">
            {playlists.map((p) => (
              <li key={p.id}>
                <Link to={`/playlists/${p.id}`}>{p.name}</Link> <span className="muted">{p.track_count} tracks</span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">
            No playlists yet: <Link to="/playlists">create one</Link>.
          </p>
        )}
      </section>
    </>
  );
}
