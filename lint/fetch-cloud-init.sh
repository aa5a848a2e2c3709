#!/bin/sh
# Debian 12's and Debian 13's cloud-init packages, unpacked side by side under
# DEST/12 and DEST/13, so the servers' user data is checked by the cloud-init
# each image boots with (22.4 and 25.1). apt-get downloads them from Debian's
# archive with lists of its own in DEST/apt, so the machine's apt setup is
# neither used nor changed. Both run on the machine's python3 with the
# libraries its own cloud-init package pulled in (.ci/run installs it).
set -eu
mkdir -p "$1"
dest=$(cd "$1" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
apt_dir=$dest/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
for pair in 12:bookworm 13:trixie; do
    release=${pair%%:*}
    codename=${pair#*:}
    echo "deb $mirror $codename main" > "$apt_dir/$codename.list"
    opts="-q -o Dir::Etc::SourceList=$apt_dir/$codename.list -o Dir::Etc::SourceParts=/dev/null
          -o Dir::State::Lists=$apt_dir/lists/$codename -o Dir::Cache::Archives=$apt_dir/archives
          -o Dir::State::status=/dev/null -o APT::Sandbox::User=root"
    mkdir -p "$apt_dir/lists/$codename/partial"
    # shellcheck disable=SC2086
    apt-get $opts update >/dev/null
    rm -rf "$apt_dir/deb-$codename" && mkdir -p "$apt_dir/deb-$codename"
    # shellcheck disable=SC2086
    (cd "$apt_dir/deb-$codename" && apt-get $opts download cloud-init >/dev/null)
    rm -rf "$dest/$release.tmp" && mkdir -p "$dest/$release.tmp"
    dpkg-deb -x "$apt_dir"/deb-"$codename"/cloud-init_*.deb "$dest/$release.tmp"
    rm -rf "${dest:?}/$release" && mv "$dest/$release.tmp" "$dest/$release"
    echo "cloud-init for Debian $release ($codename): $(basename "$apt_dir"/deb-"$codename"/cloud-init_*.deb)"
done
rm -rf "$apt_dir/lists"
