#!/usr/bin/env bash
# Builds a base image for Jib from this machine's JDK when no registry is reachable: a jlink'd Java runtime, the
# shared libraries it (and sleep, for the preStop hook) loads, /tmp, and an account for uid 65532 - written as a
# `docker save` tar that Jib takes as its base (tar://). Linux x86-64 with glibc; run from the repository root:
#   deploy/image/local-base-image.sh target/local-base.tar
#   mvn -B -Pimage package jib:buildTar -DskipTests -Djib.from.image=tar://$PWD/target/local-base.tar
# The registry's eclipse-temurin:17-jre is the base everywhere a registry can be reached.
set -euo pipefail
out="$(realpath -m "${1:-target/local-base.tar}")"
java_home="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/opt/java" "$root/etc" "$root/tmp" "$root/proc" "$root/home/nonroot"
"$java_home/bin/jlink" --add-modules java.se,jdk.unsupported,jdk.crypto.ec,jdk.management,jdk.naming.dns,jdk.zipfs \
  --strip-debug --no-man-pages --no-header-files --compress=2 --output "$root/opt/java/openjdk"
install -D -m 0755 "$(readlink -f /bin/sleep)" "$root/usr/bin/sleep"
ln -s usr/bin "$root/bin"
# every shared library the runtime and sleep load, at the path the loader looks for it
{ find "$root/opt/java/openjdk" -type f \( -name '*.so' -o -path '*/bin/*' \); echo "$root/usr/bin/sleep"; } |
  while read -r f; do ldd "$f" 2>/dev/null || true; done |
  awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | grep -v "^$root/" | sort -u |
  while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$root/etc/group"
chmod 1777 "$root/tmp"
chown 65532:65532 "$root/home/nonroot"
tar --sort=name --mtime=@0 --numeric-owner -C "$root" -cf "$work/layer.tar" .
diff_id="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
cat > "$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/opt/java/openjdk/bin:/usr/bin:/bin","JAVA_HOME=/opt/java/openjdk"]},"rootfs":{"type":"layers","diff_ids":["$diff_id"]}}
JSON
echo '[{"Config":"config.json","RepoTags":["cobalt-chat-base:local"],"Layers":["layer.tar"]}]' > "$work/manifest.json"
mkdir -p "$(dirname "$out")"
tar -C "$work" -cf "$out" manifest.json config.json layer.tar
echo "base image: $out ($(du -h "$out" | cut -f1))"
