#!/usr/bin/env bash
# npm run package: build keepalived-ts_VERSION_ARCH.deb with dpkg-deb (no other packaging tool).
# The program goes to /usr/lib/keepalived-ts (dist/src, the production node_modules, the built
# N-API addon), /usr/sbin/keepalived-ts is a link to its entry point; the unit, the defaults file,
# an example configuration (both conffiles), man pages and the hardening drop-in as a doc example.
# The architecture is the build machine's: the addon and some dependencies are native.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.}

version=$(node -p "require('./package.json').version")
arch=$(dpkg --print-architecture)
deb="$out/keepalived-ts_${version}_${arch}.deb"
ls native/build/Release/*.node >/dev/null 2>&1 || { echo "package: native/build/Release has no addon: run npm ci first" >&2; exit 1; }
# (the tests build first and set KTS_PACKAGE_NO_BUILD)
[ -n "${KTS_PACKAGE_NO_BUILD:-}" ] || npm run build --silent

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
lib="$root/usr/lib/keepalived-ts"
install -d "$lib/dist" "$lib/native/build/Release" "$root/usr/sbin" "$root/lib/systemd/system" \
  "$root/etc/default" "$root/etc/keepalived-ts" "$root/usr/share/man/man8" \
  "$root/usr/share/doc/keepalived-ts/examples" "$root/DEBIAN"

# the program: compiled sources only (no tests, benches), production dependencies only
cp -a dist/src "$lib/dist/"
install -m 0644 native/build/Release/*.node "$lib/native/build/Release/"
cp -a package.json package-lock.json node_modules "$lib/"
(cd "$lib" && npm prune --omit=dev --no-audit --no-fund --ignore-scripts >/dev/null)
rm -f "$lib/package-lock.json"
chmod 0755 "$lib/dist/src/cli.js"
ln -s ../lib/keepalived-ts/dist/src/cli.js "$root/usr/sbin/keepalived-ts"

install -m 0644 systemd/keepalived-ts.service "$root/lib/systemd/system/"
install -m 0644 systemd/keepalived-ts.default "$root/etc/default/keepalived-ts"
install -m 0644 packaging/deb/keepalived.conf "$root/etc/keepalived-ts/keepalived.conf"
for page in keepalived-ts keepalived-ts-status; do
  sed "s/@VERSION@/$version/" "packaging/deb/$page.8" | gzip -9n > "$root/usr/share/man/man8/$page.8.gz"
done
install -m 0644 packaging/deb/copyright "$root/usr/share/doc/keepalived-ts/copyright"
install -m 0644 systemd/hardening.conf conf/keepalived.conf conf/keepalived-backup.conf \
  "$root/usr/share/doc/keepalived-ts/examples/"

install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
printf '/etc/default/keepalived-ts\n/etc/keepalived-ts/keepalived.conf\n' > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: keepalived-ts
Version: $version
Architecture: $arch
Maintainer: keepalived-ts maintainers <maintainers@users.noreply.example>
Installed-Size: $size
Depends: nodejs (>= 20.19), iproute2, bsdutils
Section: net
Priority: optional
Homepage: https://keepalived.org
Description: VRRP high availability, keepalived-compatible, on Node.js
 keepalived-ts runs the VRRP instances of an unchanged keepalived.conf (keepalived 2.2.7
 syntax and wire protocol, VRRPv2 and v3, IPv4 and IPv6), with notify scripts run in order
 with a timeout, reloads that apply only the difference, a status command and Prometheus
 metrics.
CONTROL

mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
