import { describe, expect, it } from "vitest";
import type { Track } from "../api/types";
import { tracksByIds } from "./remote";

const track = (id: string) => ({ id, title: id }) as unknown as Track;

describe("tracks handed over by id", () => {
  it("keeps the order, drops the missing, and follows the current track", async () => {
    const get = async (path: string) => {
      const id = decodeURIComponent(path.split("/").pop()!);
      if (id === "gone") throw new Error("404");
      return track(id);
    };
    const { tracks, index } = await tracksByIds(["a", "gone", "b", "c"], 2, get);
    expect(tracks.map((t) => t.id)).toEqual(["a", "b", "c"]);
    expect(index).toBe(1);
  });

  it("fetches only a window around the current track of a long queue", async () => {
    const asked: string[] = [];
    const ids = Array.from({ length: 1000 }, (_, i) => `t${i}`);
    const { tracks, index } = await tracksByIds(ids, 500, async (path) => {
      asked.push(path);
      return track(decodeURIComponent(path.split("/").pop()!));
    });
    expect(asked.length).toBe(201);
    expect(tracks[index].id).toBe("t500");
  });
});
