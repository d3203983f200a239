#!/usr/bin/env bash
# Runs the benchmark harness (docs/BENCHMARKS.md): compiles the project's test classes, unpacks the
# Tomcat and Jetty distributions into target/containers and lists the library's runtime jars for
# the web applications deployed there, then runs the load generator (dev.switchboard.bench.BenchMain)
# on the test classpath, pinned to CPU 1; it starts each server under test pinned to CPU 0.
# Options go to BenchMain, e.g.
#   bench/run.sh --targets switchboard,raw-tomcat,socketio --scenarios S2,S3 --size smoke
#   bench/run.sh --jmh            # the codec microbenchmarks instead (JMH)
#   bench/run.sh --broadcaster-cpu 2000 100   # a broadcasting thread's CPU per delivery (BroadcasterCpu)
#   bench/run.sh --echo-cpu 500 40            # the server's CPU per acknowledged event (EchoCpu)
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p target/bench
mvn -B -q test-compile dependency:unpack@unpack-containers dependency:build-classpath@bench-webapp-libs \
  dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench/classpath.txt
# A private copy of the compiled classes: a build started meanwhile (mvn clean, another test-compile)
# must not pull them from under a run that takes minutes.
SNAPSHOT="$(mktemp -d)"
trap 'rm -rf "$SNAPSHOT"' EXIT
cp -r target/classes "$SNAPSHOT/classes"
cp -r target/test-classes "$SNAPSHOT/test-classes"
CP="$SNAPSHOT/test-classes:$SNAPSHOT/classes:$(cat target/bench/classpath.txt)"

if [ "${1:-}" = "--broadcaster-cpu" ]; then
  shift
  java -XX:+UseG1GC -cp "$CP" dev.switchboard.bench.BroadcasterCpu "$@"
  exit
fi
if [ "${1:-}" = "--echo-cpu" ]; then
  shift
  java -XX:+UseG1GC -cp "$CP" dev.switchboard.bench.EchoCpu "$@"
  exit
fi
if [ "${1:-}" = "--jmh" ]; then
  shift
  java -cp "$CP" org.openjdk.jmh.Main "${@:-dev.switchboard.bench.CodecBenchmark}"
  exit
fi

PIN=()
if [[ " $* " != *" --no-pin "* ]] && command -v taskset >/dev/null && [ "$(nproc --all)" -ge 2 ]; then
  PIN=(taskset -c 1)
fi
# G1 named explicitly: pinned to one core, the JVM would pick the serial collector by itself.
"${PIN[@]}" java -XX:+UseG1GC -Xms2g -Xmx2g -cp "$CP" dev.switchboard.bench.BenchMain "$@"
