// Auto-refresh without a reload: every `seconds`, re-read `/figures/incidents` (the browser
// revalidates it with its ETag, a 304 while nothing changed); when the layer versions in it move,
// call `onChange` to re-read figures and re-request tiles.
import { url, credentials } from "./api.js";

export function startRefresh(seconds, onChange, status) {
  let last = null;
  const tick = async () => {
    try {
      const response = await fetch(url("/figures/incidents"), { cache: "no-cache", headers: credentials() });
      const body = await response.json();
      const key = JSON.stringify(body.versions);
      if (last !== null && key !== last) await onChange(body.versions);
      last = key;
      status.textContent = `刷新 ${new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" })}`;
    } catch (err) {
      status.textContent = `刷新失败 ${err.message}`;
    }
  };
  tick();
  return window.setInterval(tick, seconds * 1000);
}
