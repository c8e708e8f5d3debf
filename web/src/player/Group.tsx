// Listening together: start a group session and share its link, see who listens, leave or end
// it; and the page an invite link opens.

import { useEffect, useRef, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { describeError } from "../api/client";
import { useGroup } from "../live/SessionContext";

export function GroupPanel() {
  const group = useGroup();
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const run = (work: Promise<unknown>) => {
    setError(null);
    work.catch((e) => setError(describeError(e)));
  };
  const s = group.session;
  const link = s ? `${location.origin}/join/${s.invite_code}` : "";
  return (
    <section id="group" className="queue devices" aria-label="Group session">
      <header>
        <h2>Listen together</h2>
      </header>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!s ? (
        <>
          <p className="muted">Everyone in a group session hears the same queue at the same moment. You lead; guests add tracks.</p>
          <button type="button" onClick={() => run(group.start())}>
            Start a group session
          </button>
        </>
      ) : (
        <>
          <p className="muted">{group.isOwner ? "You lead this session. Share the link to invite:" : `${s.owner.username} leads this session. Its link:`}</p>
          <p className="invite">
            <input readOnly aria-label="Invite link" value={link} onFocus={(e) => e.target.select()} />
            <button
              type="button"
              onClick={() =>
                navigator.clipboard?.writeText(link).then(
                  () => setCopied(true),
                  () => setCopied(false),
                )
              }
            >
              {copied ? "Copied" : "Copy"}
            </button>
          </p>
          <h3>Listening ({s.members.length})</h3>
          <ul aria-label="Listeners">
            {s.members.map((m) => (
              <li key={m.id}>
                {m.username}
                {m.id === s.owner.id && <span className="muted"> (leads)</span>}
              </li>
            ))}
          </ul>
          <p className="muted">{s.queue.length} tracks in the shared queue. Playing or queueing a track adds it.</p>
          {group.isOwner ? (
            <button type="button" onClick={() => run(group.end())}>
              End the session
            </button>
          ) : (
            <button type="button" onClick={() => run(group.leave())}>
              Leave the session
            </button>
          )}
        </>
      )}
    </section>
  );
}

/** `/join/<invite code>`: joins, then goes home with the session on. */
export function JoinSession() {
  const { code = "" } = useParams();
  const group = useGroup();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const asked = useRef(false);
  useEffect(() => {
    if (asked.current) return;
    asked.current = true;
    group
      .join(code)
      .then(() => navigate("/", { replace: true, state: { joined: true } }))
      .catch((e) => setError(describeError(e)));
  }, [code, group, navigate]);
  return error ? (
    <p className="error" role="alert">
      Could not join: {error}
    </p>
  ) : (
    <p aria-busy="true">Joining the session…</p>
  );
}
