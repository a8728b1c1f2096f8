#!/bin/sh
# mmdebstrap customize hook (runs outside the chroot, $1 = root filesystem):
# the file layout of the orthancteam/orthanc image that helm/orthanc relies
# on, built from Debian's packages: `Orthanc` on PATH in /usr/local/bin, the
# plugins in /usr/share/orthanc/plugins-available, /tmp and the home folder
# owned by 999, /etc/hostid as the image ships it.
set -eu
root=$1
ln -sf /usr/sbin/Orthanc "$root/usr/local/bin/Orthanc"
mkdir -p "$root/usr/share/orthanc/plugins-available"
found=0
for plugin in "$root"/usr/share/orthanc/plugins/*.so "$root"/usr/lib/orthanc/*.so; do
  [ -e "$plugin" ] || continue
  ln -sf "${plugin#"$root"}" "$root/usr/share/orthanc/plugins-available/$(basename "$plugin")"
  found=$((found + 1))
done
# The links are absolute paths inside the image: resolve them under $root,
# not on this machine (which may have no Orthanc, or another one).
for needed in libOrthancPostgreSQLIndex.so libOrthancPostgreSQLStorage.so; do
  link="$root/usr/share/orthanc/plugins-available/$needed"
  [ -L "$link" ] && [ -e "$root$(readlink "$link")" ] || { echo "orthanc-layout.sh: $needed not found in the packages" >&2; exit 1; }
done
mkdir -p "$root/var/lib/orthanc/db"
chown -R 999:999 "$root/var/lib/orthanc"
chown 999:999 "$root/tmp" && chmod 1777 "$root/tmp"
echo not-generated > "$root/etc/hostid"
echo "orthanc-layout.sh: $found plugins linked into /usr/share/orthanc/plugins-available"
