// The devices menu: the listener's players, what each plays, remote controls, and moving
// playback from one to another.

import { useEffect, useState } from "react";
import { api, describeError } from "../api/client";
import type { Track } from "../api/types";
import { duration } from "../format";
import { useLive, type Device, type DeviceState } from "../live/LiveContext";

const titles = new Map<string, Promise<string>>();

/** A track's title, fetched once per track. */
function useTrackTitle(id: string | null | undefined): string | null {
  const [title, setTitle] = useState<string | null>(null);
  useEffect(() => {
    if (!id) return setTitle(null);
    let live = true;
    if (!titles.has(id)) titles.set(id, api.get<Track>(`/api/v1/tracks/${encodeURIComponent(id)}`).then((t) => t.title, () => "Unknown track"));
    titles.get(id)!.then((t) => live && setTitle(t));
    return () => {
      live = false;
    };
  }, [id]);
  return title;
}

/** Where a playing device is now: its reported position moved on by the time since. */
export function positionNow(state: DeviceState, now = Date.now()): number {
  if (!state.playing) return state.position_ms;
  const asOf = Date.parse(state.as_of);
  return state.position_ms + (Number.isFinite(asOf) ? Math.max(0, now - asOf) : 0);
}

/** Re-renders once a second while `on`. */
function useTick(on: boolean) {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!on) return;
    const timer = setInterval(() => setTick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [on]);
}

function DeviceRow({ device, isThis, onError }: { device: Device; isThis: boolean; onError(message: string | null): void }) {
  const title = useTrackTitle(device.state?.track_id);
  const state = device.state;
  useTick(!!state?.playing);
  const run = (request: Promise<unknown>) => {
    onError(null);
    request.catch((e) => onError(describeError(e)));
  };
  const command = (body: unknown) => run(api.send("POST", `/api/v1/me/devices/${encodeURIComponent(device.id)}/commands`, body));
  const transferHere = () => run(api.send("POST", "/api/v1/me/player/transfer", { device_id: device.id, play: true }));
  const where = state && title ? `${state.playing ? "Playing" : "Paused"}: ${title} · ${duration(positionNow(state))}` : device.online ? "Idle" : "Offline";
  return (
    <li className={device.active ? "current" : ""} data-testid={`device-${device.id}`}>
      <span className="name">
        {device.kind !== "web" && <span className="muted">{device.kind} · </span>}
        {device.name}
        {isThis && <span className="muted"> (this device)</span>}
      </span>
      <span className="muted" data-testid="device-status">
        {where}
      </span>
      {device.online && (
        <span className="device-actions">
          <button type="button" onClick={transferHere} aria-label={isThis ? "Play here" : `Play on ${device.name}`}>
            {isThis ? "Play here" : "Play there"}
          </button>
          {!isThis && state && (
            <>
              <button type="button" aria-label={`${state.playing ? "Pause" : "Resume"} ${device.name}`} onClick={() => command({ action: state.playing ? "pause" : "play" })}>
                {state.playing ? "Pause" : "Resume"}
              </button>
              <button type="button" aria-label={`Next on ${device.name}`} onClick={() => command({ action: "next" })}>
                Next
              </button>
            </>
          )}
        </span>
      )}
    </li>
  );
}

export function DevicesPanel() {
  const live = useLive();
  const [error, setError] = useState<string | null>(null);
  const others = live.devices.filter((d) => d.id !== live.device.id && d.online);
  const me = live.devices.find((d) => d.id === live.device.id);
  return (
    <section id="devices" className="queue devices" aria-label="Devices">
      <header>
        <h2>Devices</h2>
        <span className="muted">{live.status === "open" ? "Connected" : "Reconnecting…"}</span>
      </header>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ul>
        {me && <DeviceRow device={me} isThis onError={setError} />}
        {others.map((d) => (
          <DeviceRow key={d.id} device={d} isThis={false} onError={setError} />
        ))}
      </ul>
      {others.length === 0 && <p className="muted">Open Beatstream on another device to control it from here.</p>}
    </section>
  );
}
