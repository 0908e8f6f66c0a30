#!/usr/bin/env bash
# The reproductions of issue 11 (a TaskManager outliving its JobManager, a JobManager restarted,
# an unreadable savepoint), with daemons as a user runs them, on ports 25081/25123/25200.
# Usage: scripts/repro-recovery.sh   (builds the tide binary into /tmp/tide-repro first)
set -u
cd "$(dirname "$0")/.." && go build -o /tmp/tide-repro ./cmd/tide || exit 1
T=/tmp/tide-repro
P="-Drest.port=25081 -Djobmanager.rpc.port=25123 -Dmetrics.reporter.prom.port=25200"
clean() { TIDE_HOME=$1 $T taskmanager stop-all >/dev/null 2>&1; TIDE_HOME=$1 $T standalone-job stop >/dev/null 2>&1; sleep 1; }
jobid() { curl -s localhost:25081/jobs | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["id"])'; }
state() { curl -s localhost:25081/jobs/$1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' 2>/dev/null; }

echo "== repro 1: a TaskManager outlives its JobManager"
export TIDE_HOME=/tmp/r1; rm -rf $TIDE_HOME /tmp/o1 /tmp/o2
$T standalone-job start -j Verify $P -Dexecution.checkpointing.interval=1s -- --count 0 --rate 2000 --output /tmp/o1
$T taskmanager start $P
sleep 4; $T standalone-job stop; sleep 1
$T verify --output /tmp/o1 --keys 16 --count 0 | head -1
before=$(ls /tmp/o1 | wc -l)
$T standalone-job start -j Verify $P -Dexecution.checkpointing.interval=1s -- --keys 4 --count 8000 --rate 4000 --output /tmp/o2
for i in $(seq 60); do [ -d /tmp/o2 ] && $T verify --output /tmp/o2 --keys 4 --count 8000 >/dev/null 2>&1 && break; sleep 1; done
$T verify --output /tmp/o2 --keys 4 --count 8000 | head -3
$T verify --output /tmp/o1 --keys 16 --count 0 | head -3
echo "o1 files before $before, after $(ls /tmp/o1 | wc -l)"
clean $TIDE_HOME

echo "== repro 3: the JobManager restarted (SIGTERM, then kill -9) with the same TIDE_HOME"
export TIDE_HOME=/tmp/r3; rm -rf $TIDE_HOME /tmp/o3
$T standalone-job start -j Verify $P -Dexecution.checkpointing.interval=1s -- --count 60000 --rate 4000 --output /tmp/o3
$T taskmanager start $P; $T taskmanager start $P
sleep 4; $T standalone-job stop; sleep 1
$T standalone-job start -j Verify $P -Dexecution.checkpointing.interval=1s -- --count 60000 --rate 4000 --output /tmp/o3
sleep 4; pkill -9 -f "standalone-job start-foreground.*25123" ; sleep 1
$T standalone-job start -j Verify $P -Dexecution.checkpointing.interval=1s -- --count 60000 --rate 4000 --output /tmp/o3
for i in $(seq 90); do $T verify --output /tmp/o3 --keys 16 --count 60000 >/dev/null 2>&1 && break; sleep 1; done
$T verify --output /tmp/o3 --keys 16 --count 60000 | head -3
grep -h "resuming\|starting the job" $TIDE_HOME/log/*standalone*.log | sed 's/^.*msg=/msg=/' | cut -c1-200
clean $TIDE_HOME

echo "== repro 2A: a savepoint with a state file deleted"
export TIDE_HOME=/tmp/r2a; rm -rf $TIDE_HOME /tmp/o2a
$T standalone-job start -j Verify $P -- --count 0 --rate 2000 --output /tmp/o2a
$T taskmanager start $P
sleep 4; id=$(jobid)
curl -s -XPOST -H 'Content-Type: application/json' localhost:25081/jobs/$id/stop -d '{}' >/dev/null
sleep 4
loc=$(grep -h "savepoint complete" $TIDE_HOME/log/*standalone*.log | sed 's/.*location=//' | tail -1)
echo "savepoint $loc"
[ -n "$loc" ] || { echo "no savepoint"; clean $TIDE_HOME; exit 1; }
d=${loc#file://}; f=$(ls $d | grep -v _metadata | head -1); rm "$d/$f"; echo "deleted $f"
$T standalone-job start -j Verify $P -Dexecution.savepoint.path=$loc -- --count 0 --rate 2000 --output /tmp/o2a; echo "start exit $?"
$T verify --output /tmp/o2a --keys 16 --count 0 | head -1
clean $TIDE_HOME
