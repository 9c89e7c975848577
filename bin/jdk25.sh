# Sourced by ./jllm, ./run-tests and .ci/run: sets JAVA_HOME to a JDK 25 or exits with a clear message.
jllm_is_jdk25() {
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  "$1/bin/java" -version 2>&1 | head -n 1 | grep -Eq 'version "25([."]|$)'
}
jllm_find_jdk25() {
  local c
  for c in "${JLLM_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk* /usr/lib/jvm/*-25* /usr/lib/jvm/jdk-25* /opt/java/*25* \
           "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$c" ] && jllm_is_jdk25 "$c" && { echo "$c"; return 0; }
  done
  return 1
}
if ! JAVA_HOME=$(jllm_find_jdk25); then
  echo "jllm: no JDK 25 found. Install a Java 25 JDK (e.g. Temurin 25) and set JAVA_HOME or JLLM_JAVA_HOME to it." >&2
  exit 2
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
