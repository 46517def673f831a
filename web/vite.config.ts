import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath } from 'node:url'

// Built into dist/ and served by the edge under / (history fallback to index.html).
// No CDN: every asset is bundled; `vite` dev proxies the API to a running `baobei dev`.
export default defineConfig({
  plugins: [vue()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // Split the heavy libraries so no single file grows past the 1 MB gzip budget and
        // pages that need no chart never load ECharts.
        manualChunks(id: string) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts'
          if (id.includes('node_modules/element-plus') || id.includes('node_modules/@element-plus')) return 'element-plus'
          if (id.includes('node_modules/@marcbachmann/cel-js')) return 'cel' // only the form pages
          if (id.includes('node_modules/')) return 'vendor'
          return undefined
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': process.env.BAOBEI_URL ?? 'http://127.0.0.1:8000',
      '/auth': process.env.BAOBEI_URL ?? 'http://127.0.0.1:8000',
      '/a/': process.env.BAOBEI_URL ?? 'http://127.0.0.1:8000',
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
  },
})
