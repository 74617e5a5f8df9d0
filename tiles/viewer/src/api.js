// Talks to this server only: every URL is built on the page's own origin.
// Access-control seam (issue 12): once API keys exist, `credentials()` returns the key's header
// and `transformRequest` adds it to tile requests, so what the map shows follows the key's role.
export const base = window.location.origin;

export function credentials() {
  return {};  // the key field (and its header) arrives with access control
}

export function transformRequest(url) {
  return { url, headers: credentials() };
}

export function url(path, params = {}) {
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
  }
  return u.toString();
}

export async function getJSON(path, params) {
  const response = await fetch(url(path, params), { headers: credentials() });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}
