import { useState, type FormEvent } from "react";
import { api, describeError } from "../api/client";
import type { Page } from "../api/types";
import { ErrorMessage, Loaded } from "../components/Status";
import { useLoad } from "../useLoad";

/** An app password, as listed (the password itself is shown once, when made). */
interface AppPassword {
  id: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export function Settings() {
  return (
    <>
      <h1>Settings</h1>
      <AppPasswords />
    </>
  );
}

/** Passwords for Subsonic apps (DSub, Symfonium, Feishin…): one per app, revocable. */
function AppPasswords() {
  const list = useLoad(() => api.get<Page<AppPassword>>("/api/v1/me/app-passwords"), []);
  const [name, setName] = useState("");
  const [made, setMade] = useState<{ name: string; password: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const created = await api.send<{ name: string; password: string }>("POST", "/api/v1/me/app-passwords", { name });
      setMade(created);
      setName("");
      setError(null);
      await list.reload();
    } catch (err) {
      setError(describeError(err));
    }
  };
  const revoke = async (p: AppPassword) => {
    try {
      await api.send("DELETE", `/api/v1/me/app-passwords/${p.id}`);
      setError(null);
      await list.reload();
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <section aria-label="App passwords">
      <h2>App passwords</h2>
      <p>
        Subsonic apps sign in with your username and an app password, never your own password. Server address:{" "}
        <code>{window.location.origin}</code>
      </p>
      <form onSubmit={create}>
        <label>
          App name <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} placeholder="My phone" />
        </label>{" "}
        <button type="submit" className="primary">Create app password</button>
      </form>
      {made && (
        <p role="status" data-testid="new-app-password">
          Password for {made.name} (shown only now): <code>{made.password}</code>
        </p>
      )}
      {error && <ErrorMessage error={error} />}
      <Loaded state={list}>
        {(page) =>
          page.items.length === 0 ? (
            <p>No app passwords yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>App</th>
                  <th>Created</th>
                  <th>Last used</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {page.items.map((p) => (
                  <tr key={p.id}>
                    <td>{p.name}</td>
                    <td>{new Date(p.created_at).toLocaleDateString()}</td>
                    <td>{p.last_used_at ? new Date(p.last_used_at).toLocaleString() : "never"}</td>
                    <td>
                      <button type="button" onClick={() => revoke(p)} aria-label={`Revoke ${p.name}`}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </section>
  );
}
