// Loads data for a page: the value, the error a person can act on, and a way to load again.

import { useCallback, useEffect, useRef, useState } from "react";
import { api, describeError } from "./api/client";
import { withCursor } from "./api/pages";
import type { Page } from "./api/types";

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, deps);
  // Only the latest request's answer is shown (a reply for the page left behind is dropped).
  const latest = useRef(0);
  const reload = useCallback(async () => {
    const ticket = ++latest.current;
    try {
      const value = await run();
      if (ticket !== latest.current) return;
      setData(value);
      setError(null);
    } catch (e) {
      if (ticket === latest.current) setError(describeError(e));
    }
  }, [run]);
  useEffect(() => {
    // Another item: do not show the previous one while this one loads.
    setData(null);
    setError(null);
    reload();
  }, [reload]);
  return { data, error, reload, setData };
}

/** A long list, a page at a time: `more()` appends the next page. */
export function usePaged<T>(path: string) {
  const state = useLoad(() => api.get<Page<T>>(path), [path]);
  const { data, setData } = state;
  const [busy, setBusy] = useState(false);
  const more = useCallback(async () => {
    if (!data?.next_cursor || busy) return;
    setBusy(true);
    try {
      const page = await api.get<Page<T>>(withCursor(path, data.next_cursor));
      setData({ items: [...data.items, ...page.items], next_cursor: page.next_cursor });
    } finally {
      setBusy(false);
    }
  }, [data, busy, path, setData]);
  return { ...state, more, hasMore: !!data?.next_cursor, busy };
}
