#!/usr/bin/env bash
# Packs what `cxr bench-model` needs on a GPU host that has PyTorch (pip, with CUDA) but no Java, within the 64 MiB a
# device call may carry: a jlinked Java runtime (Temurin's, built on an old glibc so it runs on most hosts), the
# launcher and model jars and DJL's engine jar, and the JNI headers that bench/gpu/djl-jni/build.sh compiles DJL's
# natives with there. Not DJL's own JNI (built for libtorch 2.7.1 only), the 110 MB CPU libtorch (the host's libtorch
# is used) or OpenCV. Run after `mvn install`; writes launcher/target/gpu-kit (ignored). Then, with the classifier's
# 46 MB weights moved out of the working tree (tracked files travel too):
#   run(command="bash bench/gpu/java-model-limit.sh", carry=["launcher/target/gpu-kit"])
set -euo pipefail
cd "$(dirname "$0")/../.."
JDK=${JLINK_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}
KIT=launcher/target/gpu-kit
rm -rf "$KIT" && mkdir -p "$KIT/lib"
cp launcher/target/launcher-*.jar "$KIT/lib/"
for jar in api-0 common-0 gson jackson-annotations jackson-core jackson-databind jackson-datatype-jsr310 jna log4j-api \
        log4j-core log4j-slf4j2-impl model-0 imaging-0 picocli pytorch-engine slf4j-api; do
    cp launcher/target/lib/"$jar"*.jar "$KIT/lib/"
done
work=$(mktemp -d)
"$JDK/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.unsupported,java.xml,java.naming,java.sql,java.desktop \
    --strip-debug --no-man-pages --no-header-files --compress=zip-9 --output "$work/jre"
rm -f "$work"/jre/lib/server/*.jsa
strip --strip-unneeded "$work/jre/lib/server/libjvm.so"
tar czf "$KIT/jre.tgz" -C "$work" jre
mkdir -p "$KIT/jni-include/linux"
cp "$JDK/include/jni.h" "$KIT/jni-include/"
cp "$JDK/include/linux/jni_md.h" "$KIT/jni-include/linux/"
rm -rf "$work"
du -sh "$KIT"
