// The group session ("listening together") this listener is in, kept current from the live
// connection, and what they can do with it.

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api, ApiError } from "../api/client";
import { useLibrary } from "../session";
import { useLive } from "./LiveContext";

export interface GroupSession {
  id: string;
  owner: { id: string; username: string };
  members: { id: string; username: string; joined_at: string }[];
  invite_code: string;
  queue: { track_id: string; added_by: string }[];
  queue_index: number | null;
  position_ms: number;
  playing: boolean;
  as_of: string;
  version: number;
  created_at: string;
}

export type GroupAction = { action: "play" | "pause" | "previous" } | { action: "next"; from_index?: number } | { action: "seek"; position_ms: number } | { action: "jump"; index: number };

interface Group {
  session: GroupSession | null;
  isOwner: boolean;
  start(): Promise<GroupSession>;
  join(inviteCode: string): Promise<GroupSession>;
  leave(): Promise<void>;
  end(): Promise<void>;
  add(trackIds: string[]): Promise<void>;
  control(action: GroupAction): Promise<void>;
}

const GroupContext = createContext<Group | null>(null);

export function useGroup() {
  const group = useContext(GroupContext);
  if (!group) throw new Error("useGroup outside GroupProvider");
  return group;
}

/** What to show after hearing of `next`: the newer view of the current session; another
 * session only when in none (the server keeps one session per listener); never one that ended. */
export function newer(current: GroupSession | null, next: GroupSession, ended: Set<string> = new Set()): GroupSession | null {
  if (ended.has(next.id)) return current;
  if (!current) return next;
  if (current.id !== next.id) return current;
  return current.version > next.version ? current : next;
}

export function GroupProvider({ children }: { children: ReactNode }) {
  const { session: login } = useLibrary();
  const { subscribe } = useLive();
  const [session, setSession] = useState<GroupSession | null>(null);
  const userId = login?.user.id;
  // Sessions that ended or were left: late replies about them are ignored.
  const ended = useRef(new Set<string>());
  // Bumped by every change heard, so a fetch that started before it does not overwrite it.
  const changes = useRef(0);
  const forget = useCallback((id: string) => {
    ended.current.add(id);
    changes.current += 1;
    setSession((current) => (current?.id === id ? null : current));
  }, []);

  const refetch = useCallback(async () => {
    const asked = changes.current;
    try {
      const fresh = await api.get<GroupSession>("/api/v1/me/session");
      if (changes.current === asked && !ended.current.has(fresh.id)) setSession(fresh);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && changes.current === asked) setSession(null);
    }
  }, []);

  useEffect(() => {
    if (!userId) return setSession(null);
    void refetch();
    return subscribe((message) => {
      if (message.type === "session.changed") {
        changes.current += 1;
        setSession((current) => newer(current, message.session as GroupSession, ended.current));
      } else if (message.type === "session.ended") forget(String(message.session_id));
      else if (message.type === "reload") void refetch();
    });
  }, [userId, subscribe, refetch, forget]);

  const value = useMemo<Group>(() => {
    const path = (suffix = "") => `/api/v1/sessions/${encodeURIComponent(session?.id ?? "")}${suffix}`;
    /** A reply about a session: the current one's newer view; a session just started or
     * joined replaces the one shown (the server left that one). */
    const take = (s: GroupSession, replaces = false) => {
      changes.current += 1;
      setSession((current) => (replaces && !ended.current.has(s.id) ? s : newer(current, s, ended.current)));
      return s;
    };
    return {
      session,
      isOwner: !!session && session.owner.id === userId,
      start: async () => take(await api.send<GroupSession>("POST", "/api/v1/sessions"), true),
      join: async (inviteCode) => take(await api.send<GroupSession>("POST", "/api/v1/sessions/join", { invite_code: inviteCode }), true),
      leave: async () => {
        const id = session?.id;
        await api.send("POST", path("/leave"));
        if (id) forget(id);
      },
      end: async () => {
        const id = session?.id;
        await api.send("DELETE", path());
        if (id) forget(id);
      },
      add: async (trackIds) => void take(await api.send<GroupSession>("POST", path("/queue"), { track_ids: trackIds })),
      control: async (action) => void take(await api.send<GroupSession>("POST", path("/playback"), action)),
    };
  }, [session, userId, forget]);
  return <GroupContext.Provider value={value}>{children}</GroupContext.Provider>;
}
