// The group session ("listening together") this listener is in, kept current from the live
// connection, and what they can do with it.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
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

export type GroupAction = { action: "play" | "pause" | "next" | "previous" } | { action: "seek"; position_ms: number } | { action: "jump"; index: number };

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

/** The newer of two views of a session. */
export function newer(current: GroupSession | null, next: GroupSession): GroupSession {
  return current && current.id === next.id && current.version > next.version ? current : next;
}

export function GroupProvider({ children }: { children: ReactNode }) {
  const { session: login } = useLibrary();
  const { subscribe } = useLive();
  const [session, setSession] = useState<GroupSession | null>(null);
  const userId = login?.user.id;

  const refetch = useCallback(async () => {
    try {
      setSession(await api.get<GroupSession>("/api/v1/me/session"));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setSession(null);
    }
  }, []);

  useEffect(() => {
    if (!userId) return setSession(null);
    void refetch();
    return subscribe((message) => {
      if (message.type === "session.changed") setSession((current) => newer(current, message.session as GroupSession));
      else if (message.type === "session.ended") setSession((current) => (current?.id === message.session_id ? null : current));
      else if (message.type === "reload") void refetch();
    });
  }, [userId, subscribe, refetch]);

  const value = useMemo<Group>(() => {
    const path = (suffix = "") => `/api/v1/sessions/${encodeURIComponent(session?.id ?? "")}${suffix}`;
    const take = (s: GroupSession) => {
      setSession((current) => newer(current, s));
      return s;
    };
    return {
      session,
      isOwner: !!session && session.owner.id === userId,
      start: async () => take(await api.send<GroupSession>("POST", "/api/v1/sessions")),
      join: async (inviteCode) => take(await api.send<GroupSession>("POST", "/api/v1/sessions/join", { invite_code: inviteCode })),
      leave: async () => {
        await api.send("POST", path("/leave"));
        setSession(null);
      },
      end: async () => {
        await api.send("DELETE", path());
        setSession(null);
      },
      add: async (trackIds) => void take(await api.send<GroupSession>("POST", path("/queue"), { track_ids: trackIds })),
      control: async (action) => void take(await api.send<GroupSession>("POST", path("/playback"), action)),
    };
  }, [session, userId]);
  return <GroupContext.Provider value={value}>{children}</GroupContext.Provider>;
}
