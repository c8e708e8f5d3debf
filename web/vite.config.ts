import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the player on :5173 and passes the API to a running `beatstream serve`.
const api = process.env.BEATSTREAM_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  plugins: [react()],
  // React, react-dom and the router are most of the 300 kB minified; what a first visit costs
  // (gzipped, about 91 KiB) is measured by scripts/bench-web.sh.
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 320 },
  server: { proxy: { "/api": api, "/healthz": api } },
  test: { include: ["src/**/*.test.ts"] },
});
