// City-local (Asia/Shanghai, UTC+8, no daylight saving) days: what the cube and statistics use.
const ZONE_OFFSET = "+08:00";
const DAY_MS = 86400000;

export function cityDay(instant) {
  // "YYYY-MM-DD" of an instant (Date or ISO string) in city time
  const t = new Date(instant).getTime() + 8 * 3600000;
  return new Date(t).toISOString().slice(0, 10);
}

export function addDays(day, n) {
  return new Date(Date.parse(day + "T00:00:00Z") + n * DAY_MS).toISOString().slice(0, 10);
}

export function daysBetween(a, b) {
  return Math.round((Date.parse(b + "T00:00:00Z") - Date.parse(a + "T00:00:00Z")) / DAY_MS);
}

export function datetimeParam(from, to) {
  // an OGC datetime interval covering whole city days
  if (!from && !to) return "";
  const start = from ? `${from}T00:00:00${ZONE_OFFSET}` : "..";
  const end = to ? `${to}T23:59:59${ZONE_OFFSET}` : "..";
  return `${start}/${end}`;
}
