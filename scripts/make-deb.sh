#!/usr/bin/env bash
# Builds qubemem's Debian packages with dpkg-deb (`make deb`), into build/deb/ by default:
#
#   qubemem_<version>-1_amd64.deb
#       the self-contained CLI (.build/release/qubemem, from `make release`), qubemem(1),
#       qubemem.conf(5), shell completions from the argument parser, the examples under
#       /usr/share/doc/qubemem
#   slurm-wlm-qubemem-plugin_<version>+slurm<SLURM version>-1_amd64.deb, one per SLURM release
#       job_submit_qubemem.so in Debian's SLURM plugin folder, job_submit_qubemem(8),
#       /etc/slurm/qubemem.conf as a conffile; Depends on qubemem; Depends pins slurmctld to the
#       exact Debian version it was built against (slurmctld refuses a plugin of another release,
#       and a refused plugin stops slurmctld at start), so apt refuses a mismatch.
#
# Usage: scripts/make-deb.sh [--out DIR] [PLUGIN_SO[:SLURM_ROOT] ...]
#   PLUGIN_SO    plugin/build/<version>/job_submit_qubemem.so
#   SLURM_ROOT   the Debian root whose slurmctld it was built for (scripts/slurm-root.sh);
#                without it, the host's installed slurmctld
# The name follows Debian's own SLURM plugin packages (slurm-wlm-mysql-plugin,
# slurm-wlm-jwt-plugin, ...). One package name for every release: the version tells them apart,
# and only one can be installed, since they ship the same file.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"

die() { echo "make-deb: error: $*" >&2; exit 1; }

OUT=build/deb
if [[ ${1:-} == --out ]]; then OUT=$2; shift 2; fi
PLUGINS=("$@")

MAINTAINER=${DEB_MAINTAINER:-"qubemem maintainers <maintainers@users.noreply.r-seed-35d0bb7d.example>"}
REVISION=${DEB_REVISION:-1}
ARCH=$(dpkg --print-architecture)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
UPSTREAM=$(sed -n 's/.*public static let string = "\([^"]*\)".*/\1/p' Sources/QubeMemCLI/QubeMemCommand.swift)
[[ -n $UPSTREAM ]] || die "no version in Sources/QubeMemCLI/QubeMemCommand.swift"
CLI=.build/release/qubemem
[[ -x $CLI ]] || die "$CLI is missing: run make release"
# The changelog date is the last commit's, so that the same checkout gives the same packages.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
DATE=$(date -u -R -d "@$SOURCE_DATE_EPOCH")
FIRST_YEAR=$(git log --format=%cd --date=format:%Y 2>/dev/null | tail -n 1)
YEARS=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)
[[ -n $FIRST_YEAR && $FIRST_YEAR != "$YEARS" ]] && YEARS=$FIRST_YEAR-$YEARS

STAGE=$OUT/stage
rm -rf "$STAGE"
mkdir -p "$STAGE" "$OUT"
rm -f "$OUT"/*.deb

# Runs dpkg-shlibdeps on FILE... and prints the Depends it computes (it wants a debian/control).
shlibdeps() {
    local tmp files=()
    tmp=$(mktemp -d)
    mkdir "$tmp/debian"; touch "$tmp/debian/control"
    for f in "$@"; do files+=("$(readlink -f "$f")"); done
    (cd "$tmp" && dpkg-shlibdeps -O "${files[@]}" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
    rm -rf "$tmp"
}

# debian/copyright (DEP-5, machine-readable) and changelog.Debian.gz for package $1 at version
# $2 into its doc folder $3. qubemem is GPL-2.0-or-later (LICENSE): the plugin is loaded into
# slurmctld, which is GPL-2.0-or-later itself. What else is linked into each binary is named with
# its own licence: the Swift standard library and runtime (both packages), Foundation and
# swift-argument-parser (the CLI), and Yams with the libyaml it compiles in (the CLI only: the
# plugin links neither, see docs/design.md's module table). Their sources are SwiftPM's checkouts
# of the versions Package.resolved pins (.build/checkouts/), or the Swift toolchain's.
docfiles() {
    local pkg=$1 version=$2 doc=$3 embedded binary
    install -d "$doc"
    if [[ $pkg == qubemem ]]; then
        binary=usr/bin/qubemem
        embedded="the Swift standard library, runtime and Foundation, swift-argument-parser, and
 Yams with the libyaml C sources it compiles in"
    else
        binary=usr/lib/$MULTIARCH/slurm-wlm/job_submit_qubemem.so
        embedded="the Swift standard library and runtime"
    fi
    {
        cat <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: qubemem
Upstream-Contact: $MAINTAINER
Source: the qubemem repository, git $(git rev-parse --short HEAD 2>/dev/null || echo unknown)
Comment: Built with scripts/make-deb.sh. $binary is self-contained: linked into it are
 $embedded, each under its own licence below. Apache-2.0 is compatible with
 version 3 of the GPL, which qubemem's "or any later version" allows.

Files: *
Copyright: $YEARS the qubemem developers
License: GPL-2+

Files: swift-toolchain/*
Copyright: 2014-2025 Apple Inc. and the Swift project authors
License: Apache-2.0 with Runtime-Library exception
Comment: The Swift standard library and runtime$([[ $pkg == qubemem ]] && echo " and Foundation (swift-corelibs-foundation,
 swift-foundation)"), from the Swift toolchain that built $binary,
 statically linked into it.
EOF
        if [[ $pkg == qubemem ]]; then
            cat <<'EOF'

Files: .build/checkouts/swift-argument-parser/*
Copyright: 2020-2025 Apple Inc. and the Swift project authors
License: Apache-2.0 with Runtime-Library exception

Files: .build/checkouts/Yams/*
Copyright: 2016 JP Simard
License: Expat

Files: .build/checkouts/Yams/Sources/CYaml/*
Copyright: 2006-2016 Kirill Simonov
 2017-2020 Ingy döt Net
License: Expat
Comment: libyaml, as Yams ships it and compiles it into its module.
EOF
        fi
        cat <<'EOF'

License: GPL-2+
 This program is free software; you can redistribute it and/or modify it under
 the terms of the GNU General Public License as published by the Free Software
 Foundation; either version 2 of the License, or (at your option) any later
 version.
 .
 This program is distributed in the hope that it will be useful, but WITHOUT
 ANY WARRANTY; without even the implied warranty of MERCHANTABILITY or FITNESS
 FOR A PARTICULAR PURPOSE. See the GNU General Public License for more details.
 .
 On Debian systems, the complete text of the GNU General Public License
 version 2 can be found in "/usr/share/common-licenses/GPL-2".

License: Apache-2.0 with Runtime-Library exception
 Licensed under the Apache License, Version 2.0 (the "License"); you may not
 use this file except in compliance with the License. You may obtain a copy of
 the License at https://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 License for the specific language governing permissions and limitations under
 the License.
 .
 Runtime Library Exception to the Apache 2.0 License:
 .
 As an exception, if you use this Software to compile your source code and
 portions of this Software are embedded into the binary product as a result,
 you may redistribute such product without providing attribution as would
 otherwise be required by Sections 4(a), 4(b) and 4(d) of the License.
 .
 On Debian systems, the complete text of the Apache License 2.0 can be found
 in "/usr/share/common-licenses/Apache-2.0".
EOF
        if [[ $pkg == qubemem ]]; then
            cat <<'EOF'

License: Expat
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the "Software"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 SOFTWARE.
EOF
        fi
    } >"$doc/copyright"
    printf '%s (%s) unstable; urgency=medium\n\n  * Package built from qubemem %s (git %s).\n\n -- %s  %s\n' \
        "$pkg" "$version" "$UPSTREAM" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        "$MAINTAINER" "$DATE" | gzip -9n >"$doc/changelog.Debian.gz"
}

manpage() {   # manpage SRC DEST_DIR
    install -d "$2"
    gzip -9n <"$1" >"$2/$(basename "$1").gz"
    chmod 0644 "$2/$(basename "$1").gz"
}

lintian_overrides() {   # lintian_overrides PKG ROOT; reads the overrides on stdin
    install -d "$2/usr/share/lintian/overrides"
    cat >"$2/usr/share/lintian/overrides/$1"
}

# Writes DEBIAN/control (and md5sums) for ROOT and builds it into $OUT.
build() {   # build ROOT PKG VERSION (control fields on stdin)
    local root=$1 pkg=$2 version=$3
    install -d "$root/DEBIAN"
    {
        echo "Package: $pkg"
        echo "Version: $version"
        echo "Architecture: $ARCH"
        echo "Maintainer: $MAINTAINER"
        # As dpkg-gencontrol counts it: each file's KiB rounded up, 1 per folder or link (du's
        # folder sizes depend on the file system's history, and so would the package).
        echo "Installed-Size: $(cd "$root" && find . -path ./DEBIAN -prune -o -printf '%y %s\n' |
            awk '$1 == "f" {t += int(($2 + 1023) / 1024); next} {t += 1} END {print t}')"
        cat
    } >"$root/DEBIAN/control"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
        xargs -0 md5sum) >"$root/DEBIAN/md5sums"
    find "$root" -type d -exec chmod 0755 {} +
    # Every file dated the last commit: the same checkout gives byte-identical packages.
    find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    dpkg-deb --root-owner-group -Zxz --build "$root" "$OUT/${pkg}_${version}_${ARCH}.deb" >/dev/null
    echo "$OUT/${pkg}_${version}_${ARCH}.deb"
}

# --- qubemem -----------------------------------------------------------------------------
pkg=qubemem
version=$UPSTREAM-$REVISION
root=$STAGE/$pkg
install -d "$root/usr/bin"
install -m 0755 "$CLI" "$root/usr/bin/qubemem"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/qubemem"
manpage man/qubemem.1 "$root/usr/share/man/man1"
# qubemem.conf(5) is here, not in the plugin package, though the plugin package owns the file it
# describes: the CLI reads qubemem.conf too (predict and audit price with the site's slack, from
# /etc/slurm/qubemem.conf or beside $SLURM_CONF), so a login node with the CLI alone needs the
# page. The plugin package depends on this one, so the controller has it too, and no path is in
# both packages (dpkg refuses two packages shipping one file).
manpage man/qubemem.conf.5 "$root/usr/share/man/man5"
install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"
# bash-completion sources the file: no #! line (lintian: bash-completion-with-hashbang).
"$CLI" --generate-completion-script bash | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/qubemem"
"$CLI" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_qubemem"
"$CLI" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/qubemem.fish"
for f in "$root/usr/share/bash-completion/completions/qubemem" "$root/usr/share/zsh/vendor-completions/_qubemem" \
    "$root/usr/share/fish/vendor_completions.d/qubemem.fish"; do
    [[ -s $f ]] || die "empty completion script $f"
    chmod 0644 "$f"
done
doc=$root/usr/share/doc/qubemem
docfiles "$pkg" "$version" "$doc"
install -d "$doc/examples"
cp -r examples/. "$doc/examples/"
find "$doc/examples" -type f -exec chmod 0644 {} +
lintian_overrides "$pkg" "$root" <<'EOF'
# qubemem.1 is generated by swift-argument-parser's generate-manual (`make man`, snapshot-tested):
# its mdoc has blank lines between paragraphs, which man renders as blank lines, as meant.
qubemem: groff-message Empty input line * [usr/share/man/man1/qubemem.1.gz:*]
# Not uploaded to Debian: there is no ITP bug for the changelog to close.
qubemem: initial-upload-closes-no-bugs *
# The YAML reader of --qube-config is the Swift package Yams, which compiles its own copy of
# libyaml's C sources into its module; Debian packages no Yams that could use the system libyaml.
qubemem: embedded-library libyaml [usr/bin/qubemem]
EOF
depends=$(shlibdeps "$root/usr/bin/qubemem")
# Replaces: plugin packages built before qubemem.conf(5) moved here shipped it too; this lets
# qubemem take the page over from one still installed instead of failing on the shared path
# (unversioned: no later plugin package ships it, and the version of the move, +slurmX.Y.Z-R,
# differs per release).
build "$root" "$pkg" "$version" <<EOF
Depends: $depends
Recommends: libcfitsio10, libmariadb3
Suggests: slurm-wlm-qubemem-plugin
Replaces: slurm-wlm-qubemem-plugin
Section: admin
Priority: optional
Description: memory requests for QUBE runs on SLURM, computed instead of guessed
 qubemem predicts the peak memory of a QUBE (quadratic maximum-likelihood power
 spectrum estimator) run stage by stage, prints the memory request the SLURM
 plugin would set, audits finished jobs against their predictions (sacct or
 slurmdbd's database) and profiles a run's memory from outside the process.
 .
 The plugin itself is in slurm-wlm-qubemem-plugin.
EOF

# --- slurm-wlm-qubemem-plugin, one per SLURM release ----------------------------------------
pkg=slurm-wlm-qubemem-plugin
for spec in "${PLUGINS[@]}"; do
    so=${spec%%:*}
    sroot=
    [[ $spec == *:* ]] && sroot=${spec#*:}
    [[ -f $so ]] || die "no plugin $so: run make -C plugin"
    slurm=$(basename "$(dirname "$so")")            # plugin/build/<SLURM version>/
    [[ $slurm =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "$so is not under build/<SLURM version>/"
    admindir=${sroot:+$sroot/var/lib/dpkg}
    ctld=$(dpkg-query ${admindir:+--admindir="$admindir"} -W -f='${Version}' slurmctld 2>/dev/null) ||
        die "slurmctld is not installed${sroot:+ in $sroot}: its Debian version is what the package pins"
    [[ $ctld == "$slurm"-* ]] || die "$so is for SLURM $slurm, but slurmctld${sroot:+ in $sroot} is $ctld"
    version=$UPSTREAM+slurm$slurm-$REVISION
    root=$STAGE/$pkg-$slurm
    plugindir=$root/usr/lib/$MULTIARCH/slurm-wlm
    install -d "$plugindir" "$root/etc/slurm"
    install -m 0644 "$so" "$plugindir/job_submit_qubemem.so"
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$plugindir/job_submit_qubemem.so"
    install -m 0644 examples/qubemem.conf "$root/etc/slurm/qubemem.conf"
    manpage man/job_submit_qubemem.8 "$root/usr/share/man/man8"
    docfiles "$pkg" "$version" "$root/usr/share/doc/$pkg"
    install -d "$root/DEBIAN"
    echo /etc/slurm/qubemem.conf >"$root/DEBIAN/conffiles"
    # dpkg removes a conffile on purge; the copies dpkg and editors leave beside it go too.
    cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = purge ]; then
    rm -f /etc/slurm/qubemem.conf /etc/slurm/qubemem.conf.dpkg-old \
        /etc/slurm/qubemem.conf.dpkg-new /etc/slurm/qubemem.conf.dpkg-dist \
        /etc/slurm/qubemem.conf.dpkg-bak /etc/slurm/qubemem.conf.ucf-dist
fi
EOF
    chmod 0755 "$root/DEBIAN/postrm"
    lintian_overrides "$pkg" "$root" <<EOF
# Not uploaded to Debian: there is no ITP bug for the changelog to close.
$pkg: initial-upload-closes-no-bugs *
EOF
    depends=$(shlibdeps "$plugindir/job_submit_qubemem.so")
    # qubemem at the very version built with it: qubemem.conf(5) is in that package, and
    # `qubemem predict --request` gives what this plugin sets only when both read qubemem.conf
    # and price with the same code.
    build "$root" "$pkg" "$version" <<EOF
Depends: slurmctld (= $ctld), qubemem (= $UPSTREAM-$REVISION)${depends:+, $depends}
Section: admin
Priority: optional
Description: SLURM job_submit plugin that sets QUBE jobs' memory (SLURM $slurm)
 job_submit/qubemem reads the QUBE dimensions users write in the job comment
 (sbatch --comment "qube: fields=QU n_obs=2496 lmax=64"), sets the job's memory
 to the predicted peak times the site's slack, tells the user why, and records
 the prediction on the job's AdminComment for qubemem's audit.
 .
 Built for SLURM $slurm only: slurmctld refuses a plugin of another release.
 Enable it with JobSubmitPlugins=qubemem in slurm.conf and restart slurmctld;
 the site's settings are in /etc/slurm/qubemem.conf (qubemem.conf(5)).
EOF
done
rm -rf "$STAGE"
