// Lists are paged (`{items, next_cursor}`): follow the cursors.

import { api } from "./client";
import type { Page } from "./types";

export function withCursor(path: string, cursor: string | null | undefined): string {
  if (!cursor) return path;
  return `${path}${path.includes("?") ? "&" : "?"}cursor=${encodeURIComponent(cursor)}`;
}

/** Every item of a list, page after page (for what the app keeps whole: likes, playlists). */
export async function getAll<T>(path: string, maxPages = 200): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null | undefined = null;
  for (let n = 0; n < maxPages; n++) {
    const page: Page<T> = await api.get<Page<T>>(withCursor(path, cursor));
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}
