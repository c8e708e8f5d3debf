import type { ReactNode } from "react";

export function ErrorMessage({ error, retry }: { error: string; retry?: () => void }) {
  return (
    <div className="error" role="alert">
      <span>{error}</span>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A page's body: loading, its error, or its content. */
export function Loaded<T>({ state, children }: { state: { data: T | null; error: string | null; reload: () => void }; children: (data: T) => ReactNode }) {
  if (state.error) return <ErrorMessage error={state.error} retry={state.reload} />;
  if (state.data === null) return <p className="muted" aria-busy="true">Loading…</p>;
  return <>{children(state.data)}</>;
}
