// The bar at the bottom: what plays, the controls, and the queue.

import { useState } from "react";
import { Link } from "react-router";
import { duration, names } from "../format";
import { usePlayer } from "./PlayerContext";
import { Icon } from "../components/Icon";
import { LikeButton } from "../components/TrackList";
import { useLive } from "../live/LiveContext";
import { DevicesPanel } from "./Devices";
import { GroupPanel } from "./Group";
import { useGroup } from "../live/SessionContext";

export function PlayerBar() {
  const p = usePlayer();
  const [showQueue, setShowQueue] = useState(false);
  const [showDevices, setShowDevices] = useState(false);
  const [showGroup, setShowGroup] = useState(false);
  const group = useGroup();
  // In a group session only its owner controls playback.
  const guest = !!group.session && !group.isOwner;
  const live = useLive();
  const online = live.devices.filter((d) => d.online).length;
  const [startingRadio, setStartingRadio] = useState(false);
  const track = p.queue.tracks[p.queue.index];
  return (
    <footer className="player" aria-label="Player">
      {p.error && (
        <div className="error" role="alert">
          {p.error}
          <button type="button" onClick={p.dismissError}>
            Dismiss
          </button>
        </div>
      )}
      <div className="now">
        {track ? (
          <>
            <span className="name" data-testid="now-playing">
              {track.title}
            </span>
            <span className="muted">
              {names(track.artists)} · <Link to={`/albums/${track.album.id}`}>{track.album.title}</Link>
            </span>
          </>
        ) : (
          <span className="muted">Nothing playing</span>
        )}
      </div>
      <div className="controls">
        <button type="button" aria-label="Shuffle" aria-pressed={p.queue.shuffle} onClick={p.toggleShuffle}>
          <Icon name="shuffle" />
        </button>
        <button type="button" aria-label="Previous" onClick={p.previous} disabled={!track || guest}>
          <Icon name="previous" />
        </button>
        <button type="button" className="primary round" aria-label={p.playing ? "Pause" : "Play"} onClick={p.toggle} disabled={!track || guest}>
          <Icon name={p.playing ? "pause" : "play"} />
        </button>
        <button type="button" aria-label="Next" onClick={p.next} disabled={!track || guest}>
          <Icon name="next" />
        </button>
        <button type="button" aria-label={`Repeat: ${p.queue.repeat}`} aria-pressed={p.queue.repeat !== "off"} onClick={p.cycleRepeat}>
          <Icon name={p.queue.repeat === "one" ? "repeatOne" : "repeat"} />
        </button>
        <span className="time">{duration(p.position * 1000)}</span>
        <input
          type="range"
          className="seek"
          aria-label="Seek"
          min={0}
          max={Math.max(p.duration, 0)}
          step={0.1}
          value={Math.min(p.position, p.duration || 0)}
          onChange={(e) => p.seek(Number(e.target.value))}
          disabled={!track || guest}
        />
        <span className="time">{duration(p.duration * 1000)}</span>
      </div>
      <div className="extra">
        {track && <LikeButton track={track} />}
        {track && (
          <button
            type="button"
            aria-label={`Start radio from ${track.title}`}
            disabled={startingRadio}
            onClick={() => {
              setStartingRadio(true);
              p.startRadio(track).finally(() => setStartingRadio(false));
            }}
          >
            {startingRadio ? "Radio…" : "Radio"}
          </button>
        )}
        <input type="range" aria-label="Volume" min={0} max={1} step={0.05} value={p.volume} onChange={(e) => p.setVolume(Number(e.target.value))} />
        <button type="button" aria-expanded={showQueue} aria-controls="queue" onClick={() => setShowQueue(!showQueue)}>
          Queue ({p.queue.tracks.length})
        </button>
        <button type="button" aria-expanded={showDevices} aria-controls="devices" onClick={() => setShowDevices(!showDevices)}>
          Devices ({online})
        </button>
        <button type="button" aria-expanded={showGroup} aria-controls="group" onClick={() => setShowGroup(!showGroup)}>
          {group.session ? `Group (${group.session.members.length})` : "Group"}
        </button>
      </div>
      {showDevices && <DevicesPanel />}
      {showGroup && <GroupPanel />}
      {showQueue && (
        <section id="queue" className="queue" aria-label="Queue">
          <header>
            <h2>Queue</h2>
            <button type="button" onClick={p.clear}>
              Clear upcoming
            </button>
          </header>
          <ol>
            {p.queue.tracks.map((t, i) => (
              <li key={`${t.id}-${i}`} className={i === p.queue.index ? "current" : ""}>
                <button type="button" className="result" onClick={() => p.jumpTo(i)} aria-current={i === p.queue.index}>
                  {t.title} <span className="muted">{names(t.artists)}</span>
                </button>
                <button type="button" aria-label={`Move ${t.title} up in the queue`} disabled={i === 0} onClick={() => p.move(i, i - 1)}>
                  ↑
                </button>
                <button type="button" aria-label={`Move ${t.title} down in the queue`} disabled={i === p.queue.tracks.length - 1} onClick={() => p.move(i, i + 1)}>
                  ↓
                </button>
                <button type="button" aria-label={`Remove ${t.title} from the queue`} onClick={() => p.remove(i)}>
                  ✕
                </button>
              </li>
            ))}
          </ol>
        </section>
      )}
    </footer>
  );
}
