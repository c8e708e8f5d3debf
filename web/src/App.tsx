import { lazy, Suspense, useEffect } from "react";
import { BrowserRouter, NavLink, Route, Routes, useLocation, useNavigate, useParams } from "react-router";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { api } from "./api/client";
import { AlbumPage, Albums } from "./pages/Albums";
import { ArtistPage, Artists, Genres } from "./pages/Artists";
import { Home } from "./pages/Home";
import { Login } from "./pages/Login";
import { Liked, PlaylistPage, Playlists } from "./pages/Playlists";
import { Search } from "./pages/Search";
import { Settings } from "./pages/Settings";
import { PlayerBar } from "./player/PlayerBar";
import { PlayerProvider, usePlayer } from "./player/PlayerContext";
import { LibraryProvider, useLibrary } from "./session";
import { LiveProvider } from "./live/LiveContext";
import { LiveLibrary } from "./live/LiveLibrary";
import { GroupProvider } from "./live/SessionContext";
import { JoinSession } from "./player/Group";

/** Only admins open it: loaded when first visited, not with everyone's first page. */
const Admin = lazy(() => import("./pages/Admin").then((m) => ({ default: m.Admin })));

export function App() {
  return (
    <BrowserRouter>
      <LibraryProvider>
        <LiveProvider>
          <LiveLibrary />
          <GroupProvider>
            <PlayerProvider>
              <Shell />
            </PlayerProvider>
          </GroupProvider>
        </LiveProvider>
      </LibraryProvider>
    </BrowserRouter>
  );
}

function Shell() {
  const { session, playlists } = useLibrary();
  const location = useLocation();
  if (!session) return <Login />;
  return (
    <div className="app">
      <Shortcuts />
      <a className="skip" href="#main">
        Skip to content
      </a>
      <nav aria-label="Main">
        <p className="brand">Beatstream</p>
        <ul>
          <li><NavLink to="/" end>Home</NavLink></li>
          <li><NavLink to="/search">Search</NavLink></li>
          <li><NavLink to="/albums">Albums</NavLink></li>
          <li><NavLink to="/artists">Artists</NavLink></li>
          <li><NavLink to="/genres">Genres</NavLink></li>
          <li><NavLink to="/liked">Liked Songs</NavLink></li>
          <li><NavLink to="/playlists">Playlists</NavLink></li>
          <li><NavLink to="/settings">Settings</NavLink></li>
          {session.user.role === "admin" && <li><NavLink to="/admin">Admin</NavLink></li>}
        </ul>
        <ul className="playlists" aria-label="Your playlists">
          {playlists.map((p) => (
            <li key={p.id}>
              <NavLink to={`/playlists/${p.id}`}>{p.name}</NavLink>
            </li>
          ))}
        </ul>
        <p className="who">
          {session.user.username}{" "}
          <button type="button" className="link" onClick={() => api.logout()}>
            Log out
          </button>
        </p>
      </nav>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={location.pathname}>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/search" element={<Search />} />
          <Route path="/albums" element={<Albums />} />
          <Route path="/albums/:id" element={<Keyed page={AlbumPage} />} />
          <Route path="/artists" element={<Artists />} />
          <Route path="/artists/:id" element={<Keyed page={ArtistPage} />} />
          <Route path="/genres" element={<Genres />} />
          <Route path="/liked" element={<Liked />} />
          <Route path="/playlists" element={<Playlists />} />
          <Route path="/playlists/:id" element={<Keyed page={PlaylistPage} />} />
          <Route path="/join/:code" element={<JoinSession />} />
          <Route path="/settings" element={<Settings />} />
          <Route
            path="/admin"
            element={
              <Suspense fallback={<p aria-busy="true">Loading…</p>}>
                <Admin />
              </Suspense>
            }
          />
          <Route path="*" element={<p>Nothing here. <NavLink to="/">Go home</NavLink></p>} />
        </Routes>
        </ErrorBoundary>
      </main>
      <PlayerBar />
    </div>
  );
}

/** A page of one item starts afresh for another item (no state carried over). */
function Keyed({ page: Page }: { page: () => React.JSX.Element }) {
  const { id } = useParams();
  return <Page key={id} />;
}

/** Space plays and pauses, arrows seek (with Shift: previous/next), "/" searches; never while
 * typing in a field. */
function Shortcuts() {
  const player = usePlayer();
  const navigate = useNavigate();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      if (target.closest("input, textarea, select, [contenteditable]") || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === " " && !target.closest("button, a, summary, [role], [tabindex]:not(main)")) {
        e.preventDefault();
        player.toggle();
      } else if (e.key === "ArrowRight") {
        if (e.shiftKey) player.next();
        else player.seek(player.position + 10);
      } else if (e.key === "ArrowLeft") {
        if (e.shiftKey) player.previous();
        else player.seek(player.position - 10);
      } else if (e.key === "/") {
        e.preventDefault();
        navigate("/search");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [player, navigate]);
  return null;
}
