#!/usr/bin/env bash
# Builds every artifact of one release into one directory, all of the one
# version in Cargo.toml ([workspace.package] version; scripts/version.py --check
# runs first). docs/RELEASING.md says how they are published and which
# platforms they cover: this script builds linux x86_64 (glibc) only.
#
#   scripts/release.sh                        release profile, into dist/
#   scripts/release.sh --profile dev --out D  debug builds (the registry test)
#
# Out:
#   python/  pyralog-V-cp38-abi3-manylinux_2_17_x86_64.whl (zig links it against
#            glibc 2.17; auditwheel must agree) and pyralog-V.tar.gz (the sdist)
#   npm/     pyralog-V.tgz (no install script; @pyralog/linux-x64-gnu as an
#            optional dependency) and pyralog-linux-x64-gnu-V.tgz (the .node)
#   maven/   pyralog-V.jar (native library inside), -sources.jar, -javadoc.jar,
#            pyralog-V.pom
#   goproxy/ github.com/pyralog/pyralog/go/@v/{list,vV.info,vV.mod,vV.zip}: the
#            module zip with include/pyralog.h and lib/linux_amd64/libpyralog_c.a,
#            laid out as a GOPROXY serves it
#   c/       pyralog-c-V-x86_64-linux-gnu.tar.gz: header, static and shared
#            libraries, pkg-config file
#   server/  pyralog-V-x86_64-linux-gnu.tar.gz: pyralog-server and pyralog
#   SHA256SUMS
#
# Needs Rust, a C compiler, Python 3 with venv, Java 17 with Maven and Node
# with npm (not Go). Installs its own tools (maturin, ziglang,
# cargo-zigbuild, auditwheel: pinned, into $CARGO_TARGET_DIR/release-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

profile=release
out=$repo/dist
while [ $# -gt 0 ]; do
  case $1 in
    --profile) profile=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--profile release|dev] [--out DIR]" >&2; exit 2 ;;
  esac
done
case $profile in
  release) profile_dir=release ;;
  dev) profile_dir=debug ;;
  *) echo "$0: --profile is release or dev, not $profile" >&2; exit 2 ;;
esac
mkdir -p "$out"
out=$(cd "$out" && pwd)

export CARGO_TERM_COLOR=never
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# The one platform this script builds, and the glibc its binaries and libraries need at least.
rust_target=x86_64-unknown-linux-gnu
glibc_floor=2.17
# Tool versions: maturin embeds cargo-zigbuild 0.24, and zig 0.17 is the one both were run with.
tool_pins=("maturin==1.16.0" "ziglang==0.17.1" "cargo-zigbuild==0.24.0" "auditwheel==6.8.2")

version=$(python3 scripts/version.py)
python3 scripts/version.py --check
echo "== release $version ($profile profile) into $out"
rm -rf "${out:?}"/{python,npm,maven,goproxy,c,server,SHA256SUMS}
stage=$(mktemp -d "${TMPDIR:-/tmp}/pyralog-release.XXXXXX")
trap 'rm -rf "$stage"' EXIT

tools=$CARGO_TARGET_DIR/release-tools
[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
"$tools/bin/pip" install -q --disable-pip-version-check "${tool_pins[@]}"
# cargo-zigbuild and maturin find zig as `python3 -m ziglang`: this venv's python first.
export PATH="$tools/bin:$PATH"

# One cargo invocation for all of them, so they share every dependency they can.
echo "== the native libraries (C, JNI, Node), the server and the CLI for $rust_target, glibc $glibc_floor (zig)"
cargo-zigbuild build --locked --profile "$profile" --target "$rust_target.$glibc_floor" \
  -p pyralog-c -p pyralog-java -p pyralog-node -p pyralog-server -p pyralog-cli
native=$CARGO_TARGET_DIR/$rust_target/$profile_dir

echo "== python: abi3 wheel (manylinux2014 through zig) and sdist"
# A target directory of its own: maturin's zig wrapper is another linker than
# cargo-zigbuild's, so in one directory each build would invalidate the other's
# shared dependencies and rebuild them all every time.
(cd python && CARGO_TARGET_DIR="$CARGO_TARGET_DIR/wheel" maturin build --locked --profile "$profile" --zig \
  --target "$rust_target" --compatibility manylinux2014 --out "$out/python")
(cd python && maturin sdist --out "$out/python")
wheel=$(ls "$out"/python/*.whl)
auditwheel show "$wheel" | tee "$stage/auditwheel.txt"
grep -q "manylinux_2_17_x86_64" "$stage/auditwheel.txt" ||
  { echo "$0: auditwheel does not find $wheel manylinux_2_17 compliant" >&2; exit 1; }

echo "== npm: pyralog and @pyralog/linux-x64-gnu"
mkdir -p "$out/npm" "$stage/npm/pyralog" "$stage/npm/linux-x64-gnu"
cp -R node/index.cjs node/index.mjs node/index.d.ts node/lib node/README.md "$stage/npm/pyralog/"
# The published package.json: no scripts (nothing runs at install), no dev
# dependencies, the platform packages as optional dependencies.
node -e '
  const [src, dst, version] = process.argv.slice(1);
  const pkg = require(src);
  delete pkg.scripts;
  delete pkg.devDependencies;
  pkg.optionalDependencies = { "@pyralog/linux-x64-gnu": version };
  require("node:fs").writeFileSync(dst, JSON.stringify(pkg, null, 2) + "\n");
' "$repo/node/package.json" "$stage/npm/pyralog/package.json" "$version"
cp node/npm/linux-x64-gnu/package.json node/npm/linux-x64-gnu/README.md "$stage/npm/linux-x64-gnu/"
cp "$native/libpyralog_node.so" "$stage/npm/linux-x64-gnu/pyralog.linux-x64-gnu.node"
for pkg in pyralog linux-x64-gnu; do
  (cd "$stage/npm/$pkg" && npm pack --pack-destination "$out/npm" --loglevel=error >/dev/null)
done

echo "== maven: io.pyralog:pyralog:$version (jar with the native library, sources, javadoc, pom)"
mvn -q -B -f java/pom.xml -Pdist -Dcargo.skip=true -Dnative.lib.dir="$native" -Dmaven.test.skip=true \
  clean package
mkdir -p "$out/maven"
for classifier in "" -sources -javadoc; do
  cp "java/target/pyralog-$version$classifier.jar" "$out/maven/"
done
cp java/pom.xml "$out/maven/pyralog-$version.pom"
unzip -l "$out/maven/pyralog-$version.jar" > "$stage/jar.txt"
grep -q "native/linux-x86_64/libpyralog_jni.so" "$stage/jar.txt" ||
  { echo "$0: the jar has no native/linux-x86_64/libpyralog_jni.so" >&2; exit 1; }

echo "== go: module github.com/pyralog/pyralog/go v$version (prebuilt static library inside)"
module=github.com/pyralog/pyralog/go
moddir=$stage/go
mkdir -p "$moddir/include" "$moddir/lib/linux_amd64"
git ls-files -z go | xargs -0 -I{} cp --parents {} "$stage"
cp bindings/c/include/pyralog.h "$moddir/include/"
cp "$native/libpyralog_c.a" "$moddir/lib/linux_amd64/"
# Without its debug information: the release library is 130 MB with it, over
# the repository host's 100 MB file limit the Go release tag has to respect
# (docs/RELEASING.md); 71 MB without. The C tarball keeps it.
strip --strip-debug "$moddir/lib/linux_amd64/libpyralog_c.a"
python3 - "$moddir" "$out/goproxy/$module/@v" "$module" "v$version" "$(git log -1 --format=%cI)" <<'EOF'
import json, os, sys, zipfile
src, dst, module, version, time = sys.argv[1:]
os.makedirs(dst, exist_ok=True)
prefix = f"{module}@{version}/"
with zipfile.ZipFile(f"{dst}/{version}.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in sorted(os.walk(src)):
        for name in sorted(files):
            path = os.path.join(root, name)
            z.write(path, prefix + os.path.relpath(path, src))
with open(f"{src}/go.mod") as f, open(f"{dst}/{version}.mod", "w") as g:
    g.write(f.read())
with open(f"{dst}/{version}.info", "w") as f:
    json.dump({"Version": version, "Time": time}, f)
with open(f"{dst}/list", "w") as f:
    f.write(version + "\n")
EOF

echo "== c: header, static and shared libraries, pkg-config file"
cdir=pyralog-c-$version-x86_64-linux-gnu
mkdir -p "$stage/$cdir/include" "$stage/$cdir/lib/pkgconfig" "$out/c"
cp bindings/c/include/pyralog.h "$stage/$cdir/include/"
cp "$native/libpyralog_c.a" "$native/libpyralog_c.so" "$stage/$cdir/lib/"
cp bindings/c/README.md "$stage/$cdir/"
cat > "$stage/$cdir/lib/pkgconfig/pyralog.pc" <<EOF
# Relocatable: the paths follow wherever the tarball is unpacked.
prefix=\${pcfiledir}/../..
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: pyralog
Description: C ABI of the Pyralog core client
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lpyralog_c
Libs.private: -lm -ldl -lpthread
EOF
tar -C "$stage" -czf "$out/c/$cdir.tar.gz" "$cdir"

echo "== server: pyralog-server and pyralog"
sdir=pyralog-$version-x86_64-linux-gnu
mkdir -p "$stage/$sdir/bin" "$out/server"
cp "$native/pyralog-server" "$native/pyralog" "$stage/$sdir/bin/"
tar -C "$stage" -czf "$out/server/$sdir.tar.gz" "$sdir"

(cd "$out" && find python npm maven goproxy c server -type f | sort | xargs sha256sum > SHA256SUMS)
echo "== release $version: $out"
(cd "$out" && find python npm maven goproxy c server -type f | sort | xargs du -h)
