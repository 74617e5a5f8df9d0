#!/usr/bin/env bash
# Install the distribution packages geoplatform needs, when they are missing.
# Debian/Ubuntu: as root or with passwordless sudo it installs them; otherwise it prints the exact
# command and exits 1. Fast (no apt call at all) when everything is already there.
set -euo pipefail

missing=()

major=""
for bindir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
  if [ -x "$bindir/initdb" ]; then major=$(basename "$(dirname "$bindir")"); break; fi
done
if [ -z "$major" ]; then
  missing+=(postgresql postgresql-postgis postgresql-contrib)
elif [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
  missing+=("postgresql-$major-postgis-3")
fi
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
# the viewer's MapLibre comes from the npm registry
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
# a CJK font: map labels' glyph PBFs are built from it, and Chromium draws Chinese with it
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
# test and benchmark peers: a real browser, GDAL's OAPIF/MVT clients, wrk, docker-compose
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v ogrinfo >/dev/null 2>&1 || missing+=(gdal-bin)
# QGIS 3.22 (Debian 12) opens the API through its OAPIF provider in the standards tests
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || missing+=(python3-qgis)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "geoplatform needs: ${missing[*]} (PostgreSQL with PostGIS). Install them with your" \
       "package manager, or set GEOPLATFORM_DATABASE_URL to an existing PostGIS." >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "geoplatform needs system packages; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
