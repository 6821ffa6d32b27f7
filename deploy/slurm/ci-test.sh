#!/bin/bash
# A real Slurm cluster of one node on this machine, for .ci/run: installs
# Debian's slurm-wlm and munge where they are missing, starts munged,
# slurmctld and slurmd (configured in a temporary directory, on free ports),
# submits the GNN table of cora (gcn and sage, 2 seeds, λ grid of 2 values,
# 20 epochs) with submit.sh as two arrays of 4 tasks and a report job, and a
# gnsr tune as one array of 4, waits for them, and checks that each joined
# table equals, record for record, the table of a single gnsr process with
# the same flags (gnsr bench compare). The daemons are stopped by their PIDs
# at the end, on failure too.
#
# It needs root (to install packages and run the daemons). Without root, or
# without apt-get to install what is missing, it says so and skips, unless
# CI=true: then it fails. GNSR_DATA must hold cora (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/sbin:/sbin"
start=$SECONDS

skip() {
  if [ "${CI:-}" = true ]; then
    echo "slurm test: $1; CI=true, so this is a failure" >&2
    exit 1
  fi
  echo "slurm test: SKIPPED: $1"
  exit 0
}
[ "$(id -u)" = 0 ] || skip "not root (it installs slurm-wlm and munge and runs their daemons)"
have_all() {
  for c in sbatch scontrol sinfo slurmctld slurmd munged mungekey; do
    command -v "$c" >/dev/null || return 1
  done
}
if ! have_all; then
  command -v apt-get >/dev/null || skip "slurm-wlm and munge are not installed and apt-get is not available"
  echo "== slurm test: installing slurm-wlm and munge"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; }; then
    skip "apt-get could not install slurm-wlm and munge"
  fi
fi
data=${GNSR_DATA:-$(cd ../shared/datasets 2>/dev/null && pwd || true)}
[ -n "$data" ] && [ -d "$data/cora/raw" ] || skip "no cora under GNSR_DATA (${GNSR_DATA:-unset})"
export GNSR_DATA=$data

work=$(mktemp -d /tmp/gnsr-slurm.XXXXXX)
chmod 700 "$work"
pids=()
cleanup() {
  status=$?
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "$status" != 0 ]; then
    echo "slurm test FAILED (status $status); the daemons' and jobs' logs:" >&2
    tail -n 20 "$work"/*.log "$work"/results/*/logs/* >&2 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nothing listens on (another cluster, say another CI run's).
free_port() {
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
ctld_port=$(free_port)
d_port=$(free_port)
while [ "$d_port" = "$ctld_port" ]; do d_port=$(free_port); done

mkdir -p "$work/state" "$work/spool"
mungekey -c -k "$work/munge.key"
munged -F -f --key-file="$work/munge.key" --socket="$work/munge.sock" --pid-file="$work/munged.pid" \
  --log-file="$work/munged.log" --seed-file="$work/munged.seed" >"$work/munged.log" 2>&1 &
pids+=($!)
# The node claims 8 CPUs whatever it has (config_overrides), so that the
# four tasks of an array, 2 CPUs each as the scripts ask, run at once: the
# jobs are small, and Slurm starting them one after the other takes longer.
cat >"$work/slurm.conf" <<CONF
ClusterName=gnsrci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/munge
AuthInfo=socket=$work/munge.sock
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmdParameters=config_overrides
NodeName=localhost CPUs=8 State=UNKNOWN
PartitionName=ci Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
for _ in $(seq 50); do [ -S "$work/munge.sock" ] && break; sleep 0.1; done
slurmctld -D -f "$SLURM_CONF" >"$work/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$work/slurmd.log" 2>&1 &
pids+=($!)
echo "== slurm test ($((SECONDS - start)) s): munged, slurmctld (port $ctld_port) and slurmd (port $d_port) started, PIDs ${pids[*]}"
for i in $(seq 60); do
  state=$(sinfo -h -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  [ "$i" = 60 ] && { echo "slurm test: the node is not idle after 30 s (sinfo: '$state')" >&2; exit 1; }
  sleep 0.5
done
sinfo

echo "== slurm test ($((SECONDS - start)) s): building gnsr (CGO_ENABLED=0)"
CGO_ENABLED=0 go build -o "$work/gnsr" ./cmd/gnsr
export GNSR=$work/gnsr

gnn=(--dataset cora --model gcn,sage --seeds 2 --tune-seeds 1 --nsr-lambda-grid 0.3,3 --epochs 20)
tune=(--dataset cora --seeds 2 --epochs 20 --nsr-lambda-grid 0.3,3)
echo "== slurm test ($((SECONDS - start)) s): the GNN table as two arrays of 4 tasks and a report job (submit.sh gnn -n 4 -w)"
deploy/slurm/submit.sh gnn -n 4 -w "$work/results/gnn" "${gnn[@]}"
echo "== slurm test ($((SECONDS - start)) s): gnsr tune as an array of 4 tasks and a report job (submit.sh tune -n 4 -w)"
deploy/slurm/submit.sh tune -n 4 -w "$work/results/tune" "${tune[@]}"
ls "$work/results/gnn" "$work/results/tune"

echo "== slurm test ($((SECONDS - start)) s): the same tables by one process each, compared record for record"
"$GNSR" bench gnn "${gnn[@]}" --out "$work/one/gnn" -q >/dev/null
"$GNSR" tune "${tune[@]}" --out "$work/one/tune" -q >/dev/null
"$GNSR" bench compare "$work/one/gnn" "$work/results/gnn"
"$GNSR" bench compare "$work/one/tune" "$work/results/tune"
"$GNSR" tune "${tune[@]}" --out "$work/results/tune"
echo "== slurm test ($((SECONDS - start)) s): passed"
