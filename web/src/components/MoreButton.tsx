import { useState } from "react";
import { describeError } from "../api/client";
import { ErrorMessage } from "./Status";

export function MoreButton({ list }: { list: { hasMore: boolean; busy: boolean; more: () => Promise<void> } }) {
  const [error, setError] = useState<string | null>(null);
  if (!list.hasMore) return null;
  return (
    <>
      <button type="button" className="more" disabled={list.busy} onClick={() => list.more().then(() => setError(null), (e) => setError(describeError(e)))}>
        {list.busy ? "Loading…" : "Show more"}
      </button>
      {error && <ErrorMessage error={error} />}
    </>
  );
}
