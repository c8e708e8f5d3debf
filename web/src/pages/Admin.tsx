import { useEffect, useState, type FormEvent } from "react";
import { api, ApiError, describeError } from "../api/client";
import type { Page, ScanStatus, Track, User } from "../api/types";
import { ErrorMessage, Loaded } from "../components/Status";
import { useLive } from "../live/LiveContext";
import { useLoad } from "../useLoad";

export function Admin() {
  return (
    <>
      <h1>Admin</h1>
      <Scan />
      <Upload />
      <Users />
    </>
  );
}

function Scan() {
  const [scan, setScan] = useState<ScanStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    try {
      setScan(await api.get<ScanStatus>("/api/v1/library/scan"));
      setError(null);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) setError(describeError(e));
    }
  };
  const { subscribe } = useLive();
  useEffect(() => {
    load();
    // A scan started elsewhere (the watcher, another admin) shows as it runs.
    return subscribe((message) => {
      if (message.type === "scan.progress") load();
    });
  }, [subscribe]);
  const active = scan?.state === "running" || scan?.state === "queued";
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(load, 700);
    return () => clearInterval(timer);
  }, [active]);
  const start = async () => {
    try {
      await api.send("POST", "/api/v1/library/scan");
      await load();
    } catch (e) {
      setError(describeError(e));
    }
  };
  return (
    <section aria-label="Library scan">
      <h2>Library scan</h2>
      <button type="button" className="primary" onClick={start} disabled={active}>
        {active ? "Scanning…" : "Scan library"}
      </button>
      {error && <ErrorMessage error={error} />}
      {scan && (
        <div role="status" aria-live="polite" data-testid="scan-status">
          <p>
            State: <strong>{scan.state}</strong> · files seen {scan.files_seen} · added {scan.tracks_added} · updated {scan.tracks_updated} · removed {scan.tracks_removed}
            {scan.finished_at ? ` · finished ${new Date(scan.finished_at).toLocaleString()}` : ""}
          </p>
          {active && <progress aria-label="Scan progress" />}
          {scan.errors.length > 0 && (
            <details>
              <summary>{scan.errors.length} files skipped</summary>
              <ul>
                {scan.errors.slice(0, 100).map((e) => (
                  <li key={e.path}>
                    <code>{e.path}</code>: {e.reason}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </div>
      )}
    </section>
  );
}

function Upload() {
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const input = e.currentTarget.elements.namedItem("file") as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    setBusy(true);
    const done: string[] = [];
    for (const file of files) {
      const form = new FormData();
      form.append("file", file, file.name);
      try {
        const track = await api.send<Track>("POST", "/api/v1/tracks", form);
        done.push(`added “${track.title}”`);
      } catch (err) {
        done.push(`${file.name}: ${describeError(err)}`);
      }
    }
    setBusy(false);
    setMessage(done.join("; "));
    input.value = "";
  };
  return (
    <section aria-label="Upload">
      <h2>Upload tracks</h2>
      <form className="inline" onSubmit={submit}>
        <input type="file" name="file" accept="audio/*" multiple aria-label="Audio files" required />
        <button type="submit" disabled={busy}>
          {busy ? "Uploading…" : "Upload"}
        </button>
      </form>
      {message && <p role="status">{message}</p>}
    </section>
  );
}

function Users() {
  const users = useLoad(() => api.get<Page<User>>("/api/v1/admin/users?limit=500"), []);
  const [error, setError] = useState<string | null>(null);
  const patch = async (user: User, body: Partial<User>) => {
    try {
      await api.send("PATCH", `/api/v1/admin/users/${user.id}`, body);
      setError(null);
      await users.reload();
    } catch (e) {
      setError(describeError(e));
    }
  };
  return (
    <section aria-label="Users">
      <h2>Users</h2>
      {error && <ErrorMessage error={error} />}
      <Loaded state={users}>
        {(page) => (
          <table>
            <thead>
              <tr>
                <th>User</th>
                <th>Role</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((u) => (
                <tr key={u.id}>
                  <td>{u.username}</td>
                  <td>
                    <select aria-label={`Role of ${u.username}`} value={u.role} onChange={(e) => patch(u, { role: e.target.value as User["role"] })}>
                      <option value="user">user</option>
                      <option value="admin">admin</option>
                    </select>
                  </td>
                  <td>
                    <button type="button" onClick={() => patch(u, { disabled: !u.disabled })}>
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </section>
  );
}
