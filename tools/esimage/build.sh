#!/usr/bin/env bash
# Builds (or loads from cache) procbeat's Elasticsearch test image,
# localhost/procbeat-es:<ES_VERSION>, without any image registry:
#   debootstrap --variant=minbase <release>  ->  podman import (base)
#   + Debian's openjdk-17-jre-headless
#   + org.elasticsearch.distribution.integ-test-zip:elasticsearch:<ES_VERSION>:zip
#     from Maven Central (checksum pinned below)
#   + entrypoint.sh (dotted env vars -> -E settings, runs as "elasticsearch")
#   + esfront (answers "GET /", which this distribution lacks; see there)
#   + Elasticsearch's own KQL engine: org.elasticsearch.plugin:x-pack-kql:<ES_VERSION>
#     and its runtime dependency org.antlr:antlr4-runtime from Maven Central
#     (checksums pinned below) in plugins/x-pack-kql/, so the node answers
#     {"query":{"kql":{...}}} and tests can compare it with procbeat's KQL.
#
# Usage: tools/esimage/build.sh [--force] [--no-save]
#   --force    rebuild even if the image or a cached tarball exists
#   --no-save  do not write the image tarball to the cache
# Prints the image reference on stdout (last line); progress goes to stderr.
#
# Cache ($PROCBEAT_CACHE_DIR, default $HOME/.cache/procbeat):
#   esimage/<release>-<tag>-<hash>.tar          saved image; <hash> covers this
#                                               script, Containerfile,
#                                               entrypoint.sh and esfront, so
#                                               editing any of them
#                                               invalidates the cache
#   downloads/elasticsearch-<version>.zip       Maven Central downloads
#   downloads/x-pack-kql-<version>.jar, downloads/antlr4-runtime-<version>.jar
#   debs/debootstrap-<release>/, debs/apt-<release>/   .deb files
#
# Environment: PROCBEAT_DEBIAN_MIRROR, PROCBEAT_DEBIAN_SECURITY_MIRROR (default:
# the first Debian mirror in /etc/apt/sources.list*), PROCBEAT_MAVEN_URL
# (default https://repo1.maven.org/maven2). Needs root, podman, debootstrap,
# curl, unzip (.ci/podman.sh installs them) and go.
set -euo pipefail

# Newest 8.19.x in maven-metadata.xml at the time of writing; bump both lines
# together (sha512 from the .zip.sha512 file next to the zip).
ES_VERSION=8.19.21
ES_ZIP_SHA512=cf6b0a93860d329937ae7f913ec5073b0c726c77639764b93fc83a304aa1dd9d4defcfa2849948eea3b0b47c2065f994908603939fc2a4774c9c4d868c5ec1dd
# The KQL plugin is built against exactly ES_VERSION; antlr is the version
# its POM names. sha512 computed from the downloads and checked against
# Maven Central's published .sha256 (antlr has no .sha512 there).
KQL_JAR_SHA512=07023f63496d6620edc7ff276e2d41f822378f6eb774fd540965aee52c0a2eb691fb92d386318098efdc4d0034ca0159a3bc8e8ebc3de969151d00e2ce21353d
ANTLR_VERSION=4.13.1
ANTLR_JAR_SHA512=63eb51bfcee49c52848d8b7c3c46d8b4d367d85fb3c3db7175eaacba94e4d0c227b78e5955a0e86e575e1c6206fc2a43e5fa96fb04ad7c16e24ec94015cfc18b
DEBIAN_RELEASE=bookworm
# The tag's suffix names what the image adds to the plain distribution; it
# changed when the KQL plugin came in, so an image built by an older script
# is never mistaken for this one. testcontainers reads the tag as semver
# (8.19.21-kql is 8.x), so the version must stay in front.
TAG=$ES_VERSION-kql
IMAGE=localhost/procbeat-es:$TAG

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${PROCBEAT_CACHE_DIR:-$HOME/.cache/procbeat}
maven=${PROCBEAT_MAVEN_URL:-https://repo1.maven.org/maven2}

log() { printf 'esimage: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

force=false
save=true
for arg in "$@"; do
	case "$arg" in
	--force) force=true ;;
	--no-save) save=false ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
	*) die "unknown argument $arg" ;;
	esac
done

for tool in podman curl unzip sha512sum sha256sum; do
	command -v "$tool" >/dev/null || die "$tool not found (run .ci/podman.sh first)"
done

# The hash covers every input that shapes the image apart from the pinned
# versions above, which are part of this script anyway.
hash=$(cat "$here/build.sh" "$here/Containerfile" "$here/entrypoint.sh" "$here/esfront/main.go" | sha256sum | cut -c1-12)
tarball="$cache/esimage/$DEBIAN_RELEASE-$TAG-$hash.tar"
label=io.procbeat.esimage.hash

image_hash() { podman image inspect --format "{{ index .Labels \"$label\" }}" "$IMAGE" 2>/dev/null || true; }

if [ "$force" = false ]; then
	if [ "$(image_hash)" = "$hash" ]; then
		log "$IMAGE is up to date (hash $hash)"
		echo "$IMAGE"
		exit 0
	fi
	if [ -f "$tarball" ]; then
		log "loading $tarball"
		podman load -q -i "$tarball" >&2
		[ "$(image_hash)" = "$hash" ] || die "$tarball did not provide $IMAGE with hash $hash; delete it and rerun"
		echo "$IMAGE"
		exit 0
	fi
fi

[ "$(id -u)" -eq 0 ] || die "building needs root (debootstrap)"
command -v debootstrap >/dev/null || die "debootstrap not found (run .ci/podman.sh first)"

# The Debian mirror this machine is configured for (deb822 "URIs:" or
# one-line "deb URL suite" form), skipping the security archive.
detect_mirror() {
	local kind=$1 url
	url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' |
		tr ' ' '\n' | grep -E "/debian${kind}/?\$" | head -n1 || true)
	printf '%s' "${url%/}"
}
mirror=${PROCBEAT_DEBIAN_MIRROR:-$(detect_mirror '')}
mirror=${mirror:-http://deb.debian.org/debian}
security_mirror=${PROCBEAT_DEBIAN_SECURITY_MIRROR:-$(detect_mirror '-security')}
security_mirror=${security_mirror:-http://deb.debian.org/debian-security}
log "building $IMAGE (hash $hash) from $DEBIAN_RELEASE via $mirror and $security_mirror"

work=$(mktemp -d /var/tmp/procbeat-esimage.XXXXXX)
base_image=localhost/procbeat-esimage-base:$DEBIAN_RELEASE-$hash
cleanup() {
	rm -rf "$work"
	podman rmi -f "$base_image" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# download PATH-UNDER-MAVEN SHA512: the cached file, downloaded first when
# missing or not matching the pinned checksum. Prints the local path.
download() {
	local rel=$1 sum=$2 file
	file="$cache/downloads/$(basename "$rel")"
	mkdir -p "$cache/downloads"
	if [ ! -f "$file" ] || ! echo "$sum  $file" | sha512sum -c --status; then
		log "downloading $maven/$rel"
		curl -fsSL --retry 3 -o "$file.part" "$maven/$rel"
		echo "$sum  $file.part" | sha512sum -c --status || die "checksum mismatch for $maven/$rel"
		mv "$file.part" "$file"
	fi
	printf '%s' "$file"
}

# 1. Elasticsearch, verified against the pinned checksum.
zip=$(download "org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip" "$ES_ZIP_SHA512")
mkdir -p "$work/ctx"
unzip -q "$zip" -d "$work/ctx"
mv "$work/ctx/elasticsearch-$ES_VERSION" "$work/ctx/elasticsearch"

# 1b. The KQL plugin: an installed plugin is a directory of its jars and its
# descriptor, which the published jar carries under META-INF/es-plugins.
kql_jar=$(download "org/elasticsearch/plugin/x-pack-kql/$ES_VERSION/x-pack-kql-$ES_VERSION.jar" "$KQL_JAR_SHA512")
antlr_jar=$(download "org/antlr/antlr4-runtime/$ANTLR_VERSION/antlr4-runtime-$ANTLR_VERSION.jar" "$ANTLR_JAR_SHA512")
kql_dir="$work/ctx/elasticsearch/plugins/x-pack-kql"
mkdir -p "$kql_dir"
cp "$kql_jar" "$antlr_jar" "$kql_dir/"
unzip -q -j "$kql_jar" META-INF/es-plugins/x-pack-kql/plugin-descriptor.properties -d "$kql_dir"
grep -qx "elasticsearch.version=$ES_VERSION" "$kql_dir/plugin-descriptor.properties" ||
	die "x-pack-kql $ES_VERSION: descriptor does not name elasticsearch.version=$ES_VERSION"
cp "$here/Containerfile" "$here/entrypoint.sh" "$work/ctx/"
command -v go >/dev/null || die "go not found (needed to build esfront)"
log "go build esfront"
(cd "$here/esfront" && CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags=-s -o "$work/ctx/esfront" .)

# 2. Minimal Debian root, imported as the base image.
mkdir -p "$cache/debs/debootstrap-$DEBIAN_RELEASE" "$cache/debs/apt-$DEBIAN_RELEASE"
log "debootstrap --variant=minbase $DEBIAN_RELEASE"
debootstrap --variant=minbase --cache-dir="$cache/debs/debootstrap-$DEBIAN_RELEASE" \
	"$DEBIAN_RELEASE" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
	{ tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
# Leave out what only makes sense on the build host.
rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
tar -C "$work/rootfs" --numeric-owner -cf "$work/rootfs.tar" .
rm -rf "$work/rootfs"
podman import -q "$work/rootfs.tar" "$base_image" >/dev/null
rm -f "$work/rootfs.tar"

# 3. The image. apt's archive directory is a cache volume so the JRE's .debs
# survive for the next cold build.
old_id=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
log "podman build"
podman build -q --layers=false \
	--build-arg BASE_IMAGE="$base_image" \
	--build-arg DEBIAN_RELEASE="$DEBIAN_RELEASE" \
	--build-arg DEBIAN_MIRROR="$mirror" \
	--build-arg DEBIAN_SECURITY_MIRROR="$security_mirror" \
	--build-arg ES_VERSION="$ES_VERSION" \
	--label "$label=$hash" \
	-v "$cache/debs/apt-$DEBIAN_RELEASE:/var/cache/apt/archives" \
	-t "$IMAGE" "$work/ctx" >&2

# The previous build lost its tag: drop it rather than leave it dangling.
if [ -n "$old_id" ] && [ "$old_id" != "$(podman image inspect --format '{{.Id}}' "$IMAGE")" ]; then
	podman rmi "$old_id" >/dev/null 2>&1 || true
fi

# 4. Cache the result; older tarballs of this release and version are stale.
if [ "$save" = true ]; then
	mkdir -p "$cache/esimage"
	log "saving $tarball"
	podman save -q -o "$tarball.part" "$IMAGE"
	mv "$tarball.part" "$tarball"
	for old in "$cache/esimage/$DEBIAN_RELEASE-$TAG-"*.tar; do
		[ "$old" = "$tarball" ] || rm -f "$old"
	done
fi
log "built $IMAGE"
echo "$IMAGE"
