// The live connection as app state: this tab's device, the listener's devices as the server
// reports them, and a way for any component to follow live messages.

import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api } from "../api/client";
import { useLibrary } from "../session";
import { deviceIdentity, LiveConnection, type DeviceIdentity, type LiveMessage, type LiveStatus } from "./connection";
import { ServerClock } from "./sync";

export interface DeviceState {
  track_id: string | null;
  position_ms: number;
  playing: boolean;
  volume: number;
  queue_length: number;
  queue_index: number | null;
  shuffle: boolean;
  repeat: "off" | "all" | "one";
  as_of: string;
  reported_at: string;
}

export interface Device {
  id: string;
  name: string;
  kind: string;
  online: boolean;
  active: boolean;
  state: DeviceState | null;
}

interface Live {
  status: LiveStatus;
  device: DeviceIdentity;
  devices: Device[];
  /** Follows every live message; returns the unsubscribe function. */
  subscribe(handler: (message: LiveMessage) => void): () => void;
  /** Sends a message on the socket; false when it is not open. */
  send(message: unknown): boolean;
  /** The server's time now (ms), estimated from pings on the socket. */
  serverNow(): number;
}

const LiveContext = createContext<Live | null>(null);

export function useLive() {
  const live = useContext(LiveContext);
  if (!live) throw new Error("useLive outside LiveProvider");
  return live;
}

/** The device list after `message`, or null when it does not change it. */
export function devicesAfter(devices: Device[], message: LiveMessage): Device[] | null {
  if (message.type === "hello" || message.type === "devices.changed") return (message.devices as Device[]) ?? [];
  if (message.type === "player.state") {
    const device = message.device as Device;
    const others = devices.filter((d) => d.id !== device.id).map((d) => (device.active ? { ...d, active: false } : d));
    return [device, ...others];
  }
  return null;
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const { session } = useLibrary();
  const [device] = useState(() => deviceIdentity());
  const [devices, setDevices] = useState<Device[]>([]);
  const [status, setStatus] = useState<LiveStatus>("closed");
  const userId = session?.user.id;
  const [clock] = useState(() => new ServerClock());
  const connection = useMemo(() => (userId ? new LiveConnection(() => api.accessToken(), device) : null), [userId, device]);

  useEffect(() => {
    if (!connection) {
      setDevices([]);
      return;
    }
    const offStatus = connection.onStatus(setStatus);
    const off = connection.on((message) => {
      if (message.type === "pong" && typeof message.t === "number") clock.sample(message.t, Number(message.server_time_ms), Date.now());
      setDevices((current) => devicesAfter(current, message) ?? current);
    });
    // Clock samples: a few at once when the socket opens, then one every 20 s.
    const ping = () => connection.send({ type: "ping", t: Date.now() });
    const pings: ReturnType<typeof setTimeout>[] = [];
    const offOpen = connection.onStatus((s) => {
      if (s === "open") {
        clock.reset();
        [0, 200, 400, 800, 1600].forEach((d) => pings.push(setTimeout(ping, d)));
      }
    });
    const every = setInterval(ping, 20_000);
    connection.start();
    return () => {
      off();
      offStatus();
      offOpen();
      clearInterval(every);
      pings.forEach(clearTimeout);
      connection.stop();
    };
  }, [connection, clock]);

  // Stable while the connection is: followers do not resubscribe at every device update.
  const subscribe = useCallback((handler: (message: LiveMessage) => void) => connection?.on(handler) ?? (() => undefined), [connection]);
  const send = useCallback((message: unknown) => connection?.send(message) ?? false, [connection]);
  const serverNow = useCallback(() => clock.now(), [clock]);
  const value = useMemo<Live>(() => ({ status, device, devices, subscribe, send, serverNow }), [status, device, devices, subscribe, send, serverNow]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}
