import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the player on :5173 and passes the API to a running `beatstream serve`.
const api = process.env.BEATSTREAM_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 300 },
  server: { proxy: { "/api": api, "/healthz": api } },
  test: { include: ["src/**/*.test.ts"] },
});
