#!/usr/bin/env bash
# The reproductions of issue 11 (a TaskManager outliving its JobManager, a JobManager restarted,
# the same while the checkpoint store fails, an unreadable savepoint, the checkpoint store away
# while a TaskManager is killed), with daemons as a user runs them, on ports 25081/25123/25200.
# Usage: scripts/repro-recovery.sh   (builds the tide binary into /tmp/tide-repro first; about 90 s)
set -u
cd "$(dirname "$0")/.." && go build -o /tmp/tide-repro ./cmd/tide || exit 1
T=/tmp/tide-repro
P="-Drest.port=25081 -Djobmanager.rpc.port=25123 -Dmetrics.reporter.prom.port=25200"
clean() { TIDE_HOME=$1 $T taskmanager stop-all >/dev/null 2>&1; TIDE_HOME=$1 $T standalone-job stop >/dev/null 2>&1; sleep 1; }
jobid() { curl -s localhost:25081/jobs | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["id"])'; }
state() { curl -s localhost:25081/jobs/$1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' 2>/dev/null; }
# jmpid is the pid of the newest JobManager daemon of $TIDE_HOME, from its pid file.
jmpid() { head -1 "$(ls -t $TIDE_HOME/pids/standalonejob-*.pid | head -1)"; }
# jmlog greps every JobManager log of $TIDE_HOME, rotated ones included, in time order.
jmlog() { grep -h "$1" $TIDE_HOME/log/*standalone*.log* | sort | sed 's/^time=[^ ]* //' | cut -c1-${2:-220}; }

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
sleep 4; kill -9 $(jmpid); sleep 1
$T standalone-job start -j Verify $P -Dexecution.checkpointing.interval=1s -- --count 60000 --rate 4000 --output /tmp/o3
for i in $(seq 90); do $T verify --output /tmp/o3 --keys 16 --count 60000 >/dev/null 2>&1 && break; sleep 1; done
$T verify --output /tmp/o3 --keys 16 --count 60000 | head -3
jmlog "resuming\|starting the job"
clean $TIDE_HOME

echo "== repro 2A: a savepoint with a state file deleted"
export TIDE_HOME=/tmp/r2a; rm -rf $TIDE_HOME /tmp/o2a
$T standalone-job start -j Verify $P -- --count 0 --rate 2000 --output /tmp/o2a
$T taskmanager start $P
sleep 4; id=$(jobid)
curl -s -XPOST -H 'Content-Type: application/json' localhost:25081/jobs/$id/stop -d '{}' >/dev/null
sleep 4
loc=$(grep -h "savepoint complete" $TIDE_HOME/log/*standalone*.log* | sed 's/.*location=//' | tail -1)
echo "savepoint $loc"
[ -n "$loc" ] || { echo "no savepoint"; clean $TIDE_HOME; exit 1; }
d=${loc#file://}; f=$(ls $d | grep -v _metadata | head -1); rm "$d/$f"; echo "deleted $f"
$T standalone-job start -j Verify $P -Dexecution.savepoint.path=$loc -- --count 0 --rate 2000 --output /tmp/o2a; echo "start exit $?"
$T verify --output /tmp/o2a --keys 16 --count 0 | head -1
clean $TIDE_HOME

echo "== repro 3, store failing: the JobManager killed (-9) and started again while the job's checkpoint directory returns errors for 4 s"
export TIDE_HOME=/tmp/r3s; rm -rf $TIDE_HOME /tmp/o3s
$T standalone-job start -j Verify $P -Dexecution.checkpointing.interval=1s -- --count 40000 --rate 4000 --output /tmp/o3s
$T taskmanager start $P; $T taskmanager start $P
tms=$(for f in $TIDE_HOME/pids/taskmanager-*.pid; do head -1 $f; done | tr '\n' ' ')
sleep 5; id=$(jobid); kill -9 $(jmpid); sleep 1
# Every access under the job's directory fails (ENOTDIR) rather than reading as empty.
d=$TIDE_HOME/checkpoints/$id; mv $d $d.away; echo "not a directory" > $d
( sleep 4; rm $d; mv $d.away $d ) &
$T standalone-job start -j Verify $P -Dexecution.checkpointing.interval=1s -- --count 40000 --rate 4000 --output /tmp/o3s; echo "start exit $?"
wait
for i in $(seq 90); do $T verify --output /tmp/o3s --keys 16 --count 40000 >/dev/null 2>&1 && break; sleep 1; done
$T verify --output /tmp/o3s --keys 16 --count 40000 | head -3
echo "state $(state $id); the TaskManagers started before the kill, still running: $(for p in $tms; do kill -0 $p 2>/dev/null && echo -n "$p "; done)(of $tms)"
jmlog "checkpoint storage\|resuming\|starting the job\|not the directory" 300
clean $TIDE_HOME

echo "== repro 2B: state.checkpoints.dir away for 4 s while a TaskManager is killed (-9)"
export TIDE_HOME=/tmp/r2b; rm -rf $TIDE_HOME /tmp/o2b
$T standalone-job start -j Verify $P -Dexecution.checkpointing.interval=1s -- --count 40000 --rate 4000 --output /tmp/o2b
$T taskmanager start $P; $T taskmanager start $P
sleep 5; id=$(jobid)
d=$TIDE_HOME/checkpoints
mv $d $d.away
kill -9 $(head -1 $TIDE_HOME/pids/taskmanager-2.pid)
sleep 4
mkdir -p $d; cp -a $d.away/. $d/ && rm -rf $d.away
for i in $(seq 120); do $T verify --output /tmp/o2b --keys 16 --count 40000 >/dev/null 2>&1 && break; sleep 1; done
$T verify --output /tmp/o2b --keys 16 --count 40000 | head -3
echo "state $(state $id)"
curl -s localhost:25081/jobs/$id/rescales | python3 -c '
import json,sys
for r in json.load(sys.stdin)["rescales"]: print("rescale", {k: r[k] for k in ("trigger", "from", "to", "checkpoint", "status")})'
jmlog "restored_checkpoint\|cannot load the checkpoint\|checkpoint storage failed" 260
clean $TIDE_HOME
