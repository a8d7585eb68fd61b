#!/usr/bin/env bash
# Build the vagrant-lxc box the Vagrant end-to-end suites boot (Vagrant Cloud is out of reach): a Debian
# bookworm debootstrap minbase with sshd, sudo and iproute2, a `vagrant` user with NOPASSWD sudo and
# Vagrant's insecure public key; and, for the cluster suite, Debian's zookeeperd (with its JRE) and python3
# (the Mesos and Marathon stand-ins), so that no container ever needs a mirror. The .box is cached under
# ~/.cache/mesos-cluster/boxes/, keyed by a hash of this script, so later runs only print its path. Needs
# root, debootstrap and vagrant; the only steps that reach the network are debootstrap and apt-get in the
# tree (deb.debian.org, or $DEBIAN_MIRROR).
# `lxc-box.sh --cached` only prints the cached box's path, or fails when it is not built yet.
set -euo pipefail

cache="${XDG_CACHE_HOME:-$HOME/.cache}/mesos-cluster/boxes"
hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
box="$cache/debian-bookworm-lxc-$hash.box"
if [ -f "$box" ]; then
  echo "$box"
  exit 0
fi
if [ "${1:-}" = --cached ]; then
  echo "lxc-box.sh: no box at $box yet: run scripts/lxc-box.sh" >&2
  exit 1
fi
[ "$(id -u)" -eq 0 ] || { echo "lxc-box.sh: run as root (debootstrap)" >&2; exit 1; }

insecure_key=
for key in /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub; do
  if [ -f "$key" ]; then insecure_key=$key; fi
done
[ -n "$insecure_key" ] || { echo "lxc-box.sh: Vagrant's insecure key not found (apt-get install vagrant)" >&2; exit 1; }

mkdir -p "$cache"
work=$(mktemp -d "$cache/.build.XXXXXX")
cleanup() {
  # debootstrap mounts /proc and /sys inside the tree; a failed run can leave them behind.
  grep -o " $work/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l || true
  rm -rf "$work"
}
trap cleanup EXIT

rootfs="$work/rootfs"
# Two stages, so that dpkg in the second skips its fsyncs (a throwaway tree: the box is made from it).
{
  debootstrap --foreign --variant=minbase --include=openssh-server,sudo,iproute2 \
    bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" &&
    echo force-unsafe-io >"$rootfs/etc/dpkg/dpkg.cfg.d/unsafe-io" &&
    chroot "$rootfs" /debootstrap/debootstrap --second-stage
} >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# The cluster's packages that containers cannot fetch. Debian's zookeeper depends on the desktop
# default-jre (GTK, Mesa, LLVM: the unpacked tree 654 MB instead of 393 MB, unpacked again for every
# container) though the server needs only the headless JRE: an empty package of that name, depending on
# default-jre-headless, stands in for it. Nothing may start in the tree (policy-rc.d); the JRE's
# certificate store is made with java, which needs /proc.
mkdir -p "$work/default-jre/DEBIAN"
cat >"$work/default-jre/DEBIAN/control" <<'CONTROL'
Package: default-jre
Version: 2:1.17-74+headless1
Architecture: all
Maintainer: mesos-cluster <root@localhost>
Depends: default-jre-headless
Description: headless stand-in for default-jre (mesos-cluster's lxc box)
 ZooKeeper's server runs on the headless JRE; this spares the box the desktop one.
CONTROL
dpkg-deb --build "$work/default-jre" "$rootfs/tmp/default-jre.deb" >/dev/null
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
mount -t proc proc "$rootfs/proc"
{
  chroot "$rootfs" apt-get update -qq &&
    chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      /tmp/default-jre.deb zookeeperd python3
} >"$work/apt.log" 2>&1 || { tail -n 30 "$work/apt.log" >&2; exit 1; }
umount "$rootfs/proc"
rm "$rootfs/usr/sbin/policy-rc.d" "$rootfs/etc/dpkg/dpkg.cfg.d/unsafe-io" "$rootfs/tmp/default-jre.deb"
# No systemd: `service` runs /etc/init.d scripts, and invoke-rc.d honours the rc2.d links as on sysvinit.
printf '#!/bin/sh\necho "N 2"\n' >"$rootfs/usr/sbin/runlevel"
chmod 0755 "$rootfs/usr/sbin/runlevel"

chroot "$rootfs" useradd --create-home --shell /bin/bash vagrant
echo "vagrant ALL=(ALL) NOPASSWD: ALL" >"$rootfs/etc/sudoers.d/vagrant"
chmod 0440 "$rootfs/etc/sudoers.d/vagrant"
install -d -m 0700 -o 1000 -g 1000 "$rootfs/home/vagrant/.ssh"
install -m 0600 -o 1000 -g 1000 "$insecure_key" "$rootfs/home/vagrant/.ssh/authorized_keys"
[ "$(chroot "$rootfs" id -u vagrant)" = 1000 ]

printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
# Every container makes its own host keys at boot instead of sharing the box's.
rm -f "$rootfs"/etc/ssh/ssh_host_*

# PID 1: sshd only. lxc-stop sends SIGPWR, shutdown and halt send TERM: each stops sshd and ends the container.
cat >"$rootfs/sbin/init" <<'EOF'
#!/bin/sh
mkdir -p /run/sshd
# The hostname is the container's name: make it resolvable, or sudo complains on every call.
grep -q "[[:space:]]$(hostname)\$" /etc/hosts || echo "127.0.1.1 $(hostname)" >>/etc/hosts
ssh-keygen -A >/dev/null
/usr/sbin/sshd -D -e &
sshd=$!
trap 'kill -TERM $sshd; exit 0' TERM INT PWR
while :; do wait; done
EOF
# Vagrant's halt runs `shutdown -h now`, then /sbin/halt through lxc-attach: without them halt and
# destroy fail and leave the container running. PID 1 is signalled only once they have returned: a
# halt killed with its container makes lxc-attach, and so `vagrant destroy`, fail.
printf '#!/bin/sh\n(sleep 1; kill -TERM 1) >/dev/null 2>&1 &\n' >"$rootfs/sbin/shutdown"
cp "$rootfs/sbin/shutdown" "$rootfs/sbin/halt"
chmod 0755 "$rootfs/sbin/init" "$rootfs/sbin/shutdown" "$rootfs/sbin/halt"

# Smaller box: no package cache, lists, docs or locales.
rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*

echo '{"provider":"lxc","version":"1.0.0"}' >"$work/metadata.json"
# LXC's common defaults: /proc, /sys and cgroups mounted, device access and capabilities limited.
echo "lxc.include = /usr/share/lxc/config/common.conf" >"$work/lxc-config"
tar -C "$work" --numeric-owner -cf - ./rootfs | gzip -1 >"$work/rootfs.tar.gz"
tar -C "$work" -cf "$work/box.tar" metadata.json lxc-config rootfs.tar.gz
mv "$work/box.tar" "$box"
# Boxes of earlier versions of this script.
find "$cache" -maxdepth 1 -name 'debian-bookworm-lxc-*.box' ! -name "$(basename "$box")" -delete
echo "$box"
