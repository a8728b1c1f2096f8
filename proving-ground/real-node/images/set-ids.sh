#!/bin/sh
# (The PostgreSQL image still uses set-uid.sh, the simpler first version: no id conflict there; to be unified.)
# mmdebstrap customize hook (runs outside the chroot): gives user and group $2
# the uid/gid $3 inside the root filesystem $1 and moves the files they own.
# Orthanc's image runs as 999 (the orthancteam/orthanc layout the chart expects);
# Debian's package creates the user with the next free system id. Another
# user or group already holding the id (sid's sysusers gives gid 999 to
# lpadmin) is moved to a free system id first, its files with it.
set -eu
root=$1 user=$2 id=$3

# free_id FILE: the highest unused id below 999 in an /etc/passwd or /etc/group file.
free_id() {
  candidate=998
  while awk -F: -v id="$candidate" '$3 == id { found = 1 } END { exit !found }' "$1"; do candidate=$((candidate - 1)); done
  echo "$candidate"
}

# move FILE NAME NEW: renumber entry NAME of FILE (passwd or group) to NEW, and its files.
move() {
  file=$1 name=$2 new=$3
  old=$(awk -F: -v n="$name" '$1 == n { print $3 }' "$root/etc/$file")
  [ -n "$old" ] || { echo "set-uid.sh: no $file entry $name in $root" >&2; exit 1; }
  [ "$old" = "$new" ] && return 0
  if [ "$file" = passwd ]; then
    sed -i -E "s/^($name:[^:]*):$old:/\\1:$new:/" "$root/etc/passwd"
    find "$root" -xdev -uid "$old" -exec chown -h "$new" {} +
  else
    sed -i -E "s/^($name:[^:]*):$old:/\\1:$new:/" "$root/etc/group"
    # The primary group of users in passwd follows.
    sed -i -E "s/^([^:]*:[^:]*:[0-9]+):$old:/\\1:$new:/" "$root/etc/passwd"
    find "$root" -xdev -gid "$old" -exec chgrp -h "$new" {} +
  fi
}

for file in passwd group; do
  holder=$(awk -F: -v u="$user" -v id="$id" '$3 == id && $1 != u { print $1 }' "$root/etc/$file")
  if [ -n "$holder" ]; then
    spare=$(free_id "$root/etc/$file")
    echo "set-uid.sh: $file id $id was $holder's; $holder moves to $spare"
    move "$file" "$holder" "$spare"
  fi
  move "$file" "$user" "$id"
done
