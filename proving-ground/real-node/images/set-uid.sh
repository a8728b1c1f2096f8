#!/bin/sh
# mmdebstrap customize hook (runs outside the chroot): gives user and group $2
# the uid/gid $3 inside the root filesystem $1 and moves the files they own.
# Orthanc's image runs as 999 (the orthancteam/orthanc layout the chart expects);
# Debian's package creates the user with the next free system id.
set -eu
root=$1 user=$2 id=$3
old_uid=$(awk -F: -v u="$user" '$1 == u { print $3 }' "$root/etc/passwd")
old_gid=$(awk -F: -v u="$user" '$1 == u { print $3 }' "$root/etc/group")
[ -n "$old_uid" ] && [ -n "$old_gid" ] || { echo "set-uid.sh: no user/group $user in $root" >&2; exit 1; }
taken=$(awk -F: -v u="$user" -v id="$id" '$3 == id && $1 != u { print $1 }' "$root/etc/passwd" "$root/etc/group")
[ -z "$taken" ] || { echo "set-uid.sh: id $id is already used by $taken" >&2; exit 1; }
sed -i -E "s/^$user:([^:]*):$old_uid:$old_gid:/$user:\\1:$id:$id:/" "$root/etc/passwd"
sed -i -E "s/^$user:([^:]*):$old_gid:/$user:\\1:$id:/" "$root/etc/group"
find "$root" -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h "$id:$id" {} +
