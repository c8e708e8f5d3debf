import { expect, it } from "vitest";
import { duration, names } from "./format";

it("formats durations and artist lists", () => {
  expect(duration(0)).toBe("0:00");
  expect(duration(61_400)).toBe("1:01");
  expect(duration(3_725_000)).toBe("1:02:05");
  expect(names([{ name: "A" }, { name: "B" }])).toBe("A, B");
});
