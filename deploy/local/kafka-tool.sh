#!/usr/bin/env bash
# Run a Kafka command-line tool against the local broker, from the jars up.sh fetched.
#   kafka-tool.sh topics   [args...]   org.apache.kafka.tools.TopicCommand
#   kafka-tool.sh produce  [args...]   kafka.tools.ConsoleProducer (reads lines from stdin)
#   kafka-tool.sh consume  [args...]   org.apache.kafka.tools.consumer.ConsoleConsumer
#   kafka-tool.sh groups   [args...]   org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
#   kafka-tool.sh <main.Class> [args...]
# For the aliases, --bootstrap-server 127.0.0.1:$KAFKA_PORT is added unless given.
# e.g.  kafka-tool.sh topics --describe --topic 'otlp.*'
#       echo hi | kafka-tool.sh produce --topic otlp.logs
#       kafka-tool.sh consume --topic otlp.logs --from-beginning --max-messages 1
set -euo pipefail
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

[[ $# -ge 1 && "$1" != -h && "$1" != --help ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }
[[ -f "$KAFKA_HOME/.complete" ]] || die "no Kafka jars in $KAFKA_LIBS: run deploy/local/up.sh kafka first"

cmd=$1; shift
case $cmd in
  topics) class=org.apache.kafka.tools.TopicCommand ;;
  produce) class=kafka.tools.ConsoleProducer ;;
  consume) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  groups) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  *) class=$cmd ;;
esac
args=("$@")
if [[ "$class" != "$cmd" && " $* " != *" --bootstrap-server "* ]]; then
  args=(--bootstrap-server "127.0.0.1:$KAFKA_PORT" "$@")
fi
kafka_tool "$class" "${args[@]}"
