#!/usr/bin/env bash
# Builds target/jib-image.tar with no registry and no Docker daemon: a base image from this machine's JDK
# (local-base-image.sh), then Jib on top of it. Where a registry is reachable, use the registry's base instead:
#   mvn -B -Pimage package jib:buildTar -DskipTests
# ImageTarTest then runs the image (as root: chroot into its layers, the JVM as PID 1 of its own PID namespace).
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/image/local-base-image.sh target/local-base.tar
mvn -B -q -Pimage package jib:buildTar -DskipTests -Djib.from.image="tar://$PWD/target/local-base.tar"
echo "image: target/jib-image.tar"
