#!/usr/bin/env bash
# Prepare a Debian 12 machine for Seamless: system packages, node modules, a running Open vSwitch.
# Idempotent: silent and fast (a few seconds at most) when everything is already in place;
# otherwise one line per action. Run as root (or with sudo available).
set -euo pipefail

cd "$(dirname "$0")/.."

PACKAGES=(
  openvswitch-switch openvswitch-common openvswitch-testcontroller
  mininet iperf3 ethtool iproute2 iputils-ping tshark
  python3-matplotlib python3-os-ken chromium procps psmisc
  qemu-system-x86 linux-image-amd64 busybox-static gcc libc6-dev
  etcd-server etcd-client prometheus
  libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
)
OVS_CTL=/usr/share/openvswitch/scripts/ovs-ctl

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root for: $*"
  fi
}

missing_packages() {
  # dpkg-query exits non-zero when a package is unknown; those count as missing too.
  local installed
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null \
    | awk '$2 == "installed" { print $1 }' || true)
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    grep -qx "$pkg" <<<"$installed" || echo "$pkg"
  done
}

install_packages() {
  local missing
  missing=$(missing_packages | tr '\n' ' ')
  [ -z "$missing" ] && return 0
  say "apt-get update"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # tshark asks whether non-root users may capture; answer no, without a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | as_root debconf-set-selections
  say "apt-get install $missing"
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing >/dev/null
}

check_node() {
  command -v node >/dev/null || die "Node.js >= 20 is required (not found on PATH)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js >= 20 is required (found $(node --version))"
}

install_node_modules() {
  if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
     || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "npm ci"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
  fi
}

ovs_answers() {
  ovs-vsctl --timeout=5 show >/dev/null 2>&1 && ovs-appctl -t ovs-vswitchd version >/dev/null 2>&1
}

start_ovs() {
  ovs_answers && return 0
  say "starting Open vSwitch"
  # ovs-ctl warns about the open-files ulimit on some machines; harmless, so keep its output quiet.
  as_root "$OVS_CTL" start --system-id=random >/dev/null 2>&1 || true
  ovs_answers || die "Open vSwitch did not start: try '$OVS_CTL start --system-id=random' by hand"
}

install_packages
check_node
install_node_modules
start_ovs
