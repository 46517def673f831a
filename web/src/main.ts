import { createApp } from 'vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { i18n, currentLocale } from './i18n'

document.documentElement.lang = currentLocale()
createApp(App)
  .use(ElementPlus)
  .use(i18n)
  .use(router)
  .mount('#app')
