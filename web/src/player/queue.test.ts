import { describe, expect, it } from "vitest";
import type { Track } from "../api/types";
import { clearUpcoming, cycleRepeat, current, emptyQueue, enqueue, move, next, nextIndex, playNow, previous, remove, toggleShuffle } from "./queue";

const track = (id: string): Track => ({ id, title: id, artists: [], album: { id: "a", title: "A" }, duration_ms: 1000 });
const abcd = ["a", "b", "c", "d"].map(track);
const ids = (tracks: Track[]) => tracks.map((t) => t.id).join("");

describe("queue", () => {
  it("plays from the chosen track and stops at the end without repeat", () => {
    let q = playNow(emptyQueue, abcd, 2);
    expect(current(q)?.id).toBe("c");
    q = next(q);
    expect(current(q)?.id).toBe("d");
    expect(nextIndex(q)).toBeNull();
    expect(next(q)).toBe(q);
  });

  it("wraps with repeat all and replays one track with repeat one only when it ends", () => {
    let q = cycleRepeat(playNow(emptyQueue, abcd, 3));
    expect(q.repeat).toBe("all");
    expect(current(next(q))?.id).toBe("a");
    expect(current(previous(playNow(q, abcd, 0)))?.id).toBe("d");
    q = cycleRepeat(q);
    expect(q.repeat).toBe("one");
    expect(current(next(q, true))?.id).toBe("d");
    expect(current(next(q, false))?.id).toBe("a");
    expect(cycleRepeat(q).repeat).toBe("off");
  });

  it("keeps the playing track when entries move around it", () => {
    const q = playNow(emptyQueue, abcd, 1); // b plays
    expect(current(move(q, 1, 3))?.id).toBe("b");
    expect(ids(move(q, 1, 3).tracks)).toBe("acdb");
    const moved = move(q, 3, 0); // d before a
    expect(ids(moved.tracks)).toBe("dabc");
    expect(current(moved)?.id).toBe("b");
    expect(current(move(q, 0, 2))?.id).toBe("b");
    expect(move(q, 0, 9)).toBe(q);
  });

  it("removes entries and clears what is upcoming", () => {
    const q = playNow(emptyQueue, abcd, 2); // c
    expect(current(remove(q, 0))?.id).toBe("c");
    expect(current(remove(q, 2))?.id).toBe("d");
    expect(current(remove(playNow(emptyQueue, abcd, 3), 3))).toBeNull();
    const shuffledThenRemoved = remove(toggleShuffle(q, () => 0), 3);
    expect(ids(toggleShuffle(shuffledThenRemoved).tracks)).toHaveLength(3);
    expect(ids(clearUpcoming(q).tracks)).toBe("c");
    expect(clearUpcoming(emptyQueue).index).toBe(-1);
  });

  it("shuffles what is upcoming and restores the order", () => {
    const random = () => 0; // deterministic: every swap with the first
    const q = playNow(emptyQueue, abcd, 1);
    const s = toggleShuffle(q, random);
    expect(current(s)?.id).toBe("b");
    expect(ids(s.tracks.slice(0, 2))).toBe("ab");
    expect(s.tracks.map((t) => t.id).sort().join("")).toBe("abcd");
    expect(ids(s.tracks.slice(2))).not.toBe("cd");
    const back = toggleShuffle(s);
    expect(ids(back.tracks)).toBe("abcd");
    expect(current(back)?.id).toBe("b");
  });

  it("starts a shuffled queue with the chosen track and appends in both orders", () => {
    const shuffle = { ...emptyQueue, shuffle: true };
    const q = playNow(shuffle, abcd, 2, () => 0.5);
    expect(current(q)?.id).toBe("c");
    expect(q.index).toBe(0);
    const more = enqueue(q, [track("e")]);
    expect(more.tracks.at(-1)?.id).toBe("e");
    expect(ids(toggleShuffle(more).tracks)).toBe("abcde");
    expect(enqueue(emptyQueue, [track("x")]).index).toBe(0);
  });
});
