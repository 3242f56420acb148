#!/usr/bin/env bash
# Build the lab's QEMU guest from Debian packages: the installed kernel (linux-image-amd64) and an
# initramfs with busybox-static, the virtio modules of that kernel and seamless-guest (a static C
# program: control agent, stream receiver, probes; topologies/qemu/guest/).
#   scripts/build-guest.sh [OUT_DIR]     default: $SEAMLESS_GUEST_DIR, else <repo>/.cache/guest
# Idempotent: when nothing it is built from has changed it only prints OUT_DIR. Prints OUT_DIR last,
# which then holds vmlinux (the kernel QEMU boots), initramfs.cpio.gz, guest.json and seamless-guest.
set -euo pipefail

cd "$(dirname "$0")/.."
SRC=topologies/qemu/guest
OUT=$(realpath -m "${1:-${SEAMLESS_GUEST_DIR:-$PWD/.cache/guest}}")
# What the guest needs beyond the built-in drivers; their dependencies come from modules.dep.
MODULES=(virtio_pci virtio_net virtio_console)

die() { echo "build-guest: error: $*" >&2; exit 1; }

# The newest installed kernel that has its modules.
kernel_version() {
  local image version
  for image in $(ls -v /boot/vmlinuz-* 2>/dev/null | tac); do
    version=${image#/boot/vmlinuz-}
    [ -f "/lib/modules/$version/modules.dep" ] && { echo "$version"; return; }
  done
  die "no /boot/vmlinuz-* with /lib/modules (install linux-image-amd64)"
}

# Module paths (relative to /lib/modules/VERSION), dependencies first, each once.
module_order() {
  local dep=$1; shift
  declare -A seen=()
  visit() {
    local path=$1 deps
    [ -n "${seen[$path]:-}" ] && return
    seen[$path]=1
    deps=$(awk -v m="$path:" '$1 == m { $1 = ""; print }' "$dep")
    for d in $deps; do visit "$d"; done
    echo "$path"
  }
  local name path
  for name in "$@"; do
    path=$(awk -F: -v re="/$name[.]ko([.]xz|[.]zst)?\$" '$1 ~ re { print $1; exit }' "$dep")
    [ -n "$path" ] || die "module $name not found in $dep"
    visit "$path"
  done
}

# The uncompressed kernel (an ELF with a PVH entry note) out of the bzImage: QEMU boots it directly,
# which spares a TCG guest some 14 s of decompressing itself. Empty when that is not possible.
extract_vmlinux() {
  local image=$1 out=$2 magic tool offset
  for pair in '\xfd7zXZ\x00:xz' '\x1f\x8b\x08:gzip' '\x28\xb5\x2f\xfd:zstd'; do
    magic=${pair%%:*} tool=${pair##*:}
    command -v "$tool" >/dev/null || continue
    for offset in $(LC_ALL=C grep -obUaP "$magic" "$image" | cut -d: -f1); do
      # The compressed kernel is followed by other data: a decompressor that complains about it is fine.
      tail -c +$((offset + 1)) "$image" | "$tool" -dc 2>/dev/null > "$out" || true
      if readelf -n "$out" 2>/dev/null | grep -q 'Xen.*(0x00000012)'; then return 0; fi
    done
  done
  rm -f "$out"
  return 1
}

VERSION=$(kernel_version)
KERNEL=/boot/vmlinuz-$VERSION
MODDIR=/lib/modules/$VERSION
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' \
  || { [ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1; } || die "$BUSYBOX is not a static busybox (install busybox-static)"
command -v gcc >/dev/null || die "gcc not found (install gcc libc6-dev)"
command -v cpio >/dev/null || die "cpio not found"

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9

STAMP=$( { sha256sum "$SRC"/* "$0"; stat -c '%n %s %Y' "$KERNEL" "$BUSYBOX" "$MODDIR/modules.dep"; } | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$STAMP" ] && [ -f "$OUT/vmlinux" ] && [ -f "$OUT/initramfs.cpio.gz" ] && [ -x "$OUT/seamless-guest" ]; then
  echo "$OUT"
  exit 0
fi

echo "build-guest: building the guest (kernel $VERSION) in $OUT" >&2
WORK=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,dev,proc,sys,tmp,run,lib/modules}

gcc -static -O2 -Wall -Wextra -Werror -std=gnu11 -o "$ROOT/sbin/seamless-guest" "$SRC"/*.c
strip "$ROOT/sbin/seamless-guest"
cp "$BUSYBOX" "$ROOT/bin/busybox"
install -m 0755 "$SRC/init" "$ROOT/init"
ORDER=$(module_order "$MODDIR/modules.dep" "${MODULES[@]}")
for path in $ORDER; do
  name=$(basename "$path")
  case "$name" in
    *.ko) cp "$MODDIR/$path" "$ROOT/lib/modules/$name" ;;
    *.ko.xz) xz -dc "$MODDIR/$path" > "$ROOT/lib/modules/${name%.xz}"; name=${name%.xz} ;;
    *.ko.zst) zstd -qdc "$MODDIR/$path" > "$ROOT/lib/modules/${name%.zst}"; name=${name%.zst} ;;
    *) die "unsupported module file $path" ;;
  esac
  echo "${name%.ko}" >> "$ROOT/lib/modules/load-order"
done

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --quiet --null -o -H newc --owner 0:0) | gzip -9 > "$WORK/initramfs.cpio.gz"
if extract_vmlinux "$KERNEL" "$WORK/vmlinux"; then
  BOOT=vmlinux
else
  echo "build-guest: no PVH kernel in $KERNEL, the guest boots the bzImage (slower under TCG)" >&2
  cp "$KERNEL" "$WORK/vmlinux"
  BOOT=bzImage
fi
printf '{"kernelVersion": "%s", "kernelSource": "%s", "kernelFormat": "%s", "modules": "%s"}\n' "$VERSION" "$KERNEL" "$BOOT" \
  "$(tr '\n' ' ' < "$ROOT/lib/modules/load-order" | sed 's/ $//')" > "$WORK/guest.json"
rm -f "$OUT/vmlinuz"
cp "$ROOT/sbin/seamless-guest" "$WORK/seamless-guest"  # also runs on the host: the tests compare it with stream.py and probe.py
mv -f "$WORK/vmlinux" "$WORK/initramfs.cpio.gz" "$WORK/guest.json" "$WORK/seamless-guest" "$OUT/"
echo "$STAMP" > "$OUT/stamp"
echo "$OUT"
