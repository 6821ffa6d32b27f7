#!/bin/bash
# Submits a gnsr sweep to Slurm as job arrays, and a report job after them:
#
#   submit.sh gnn  [-n SHARDS] [-w] OUT [gnsr bench gnn flags]
#   submit.sh tune [-n SHARDS] [-w] OUT [gnsr tune flags]
#
# gnn: the tune phase as an array of SHARDS tasks (default 16), the final
# phase as a second array that starts once every task of the first has
# succeeded (--dependency=afterok), then report.sbatch. tune: one array,
# then report.sbatch. -w waits for the report job and fails unless every job
# completed. Resources and accounts come from sbatch's environment:
# SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT, ... Each job's log is
# OUT/logs/<job>-<array job id>_<task>.out.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '3,5p' "$0" | sed 's/^# *//' >&2; exit 2; }
[ $# -ge 1 ] || usage
what=$1
shift
[ "$what" = gnn ] || [ "$what" = tune ] || usage
shards=16 wait=false
while getopts n:wh opt; do
  case $opt in
    n) shards=$OPTARG ;;
    w) wait=true ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
out=$1
shift
[[ $shards =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: -n $shards: need a count of at least 1" >&2; exit 2; }
mkdir -p "$out/logs"
out=$(cd "$out" && pwd) # the jobs may start elsewhere
logs=$out/logs
submit() { sbatch --parsable "$@" | cut -d';' -f1; }
array=(--array=0-$((shards - 1)))
if [ "$what" = gnn ]; then
  tune=$(submit "${array[@]}" -o "$logs/gnn-tune-%A_%a.out" "$here/gnn.sbatch" tune "$out" "$@")
  final=$(submit "${array[@]}" -o "$logs/gnn-final-%A_%a.out" --dependency=afterok:"$tune" --kill-on-invalid-dep=yes \
    "$here/gnn.sbatch" final "$out" "$@")
  jobs=("$tune" "$final")
else
  jobs=("$(submit "${array[@]}" -o "$logs/tune-%A_%a.out" "$here/tune.sbatch" "$out" "$@")")
fi
last=${jobs[${#jobs[@]} - 1]}
if ! $wait; then
  report=$(submit -o "$logs/report-%j.out" --dependency=afterok:"$last" --kill-on-invalid-dep=yes "$here/report.sbatch" "$out")
  echo "submitted ${jobs[*]} and the report $report; results in $out, logs in $logs"
  exit 0
fi
# sbatch --wait returns the job's exit status, but 0 for a job cancelled
# because a dependency failed: check every job's state too.
report=$(sbatch --parsable --wait -o "$logs/report-%j.out" --dependency=afterok:"$last" --kill-on-invalid-dep=yes \
  "$here/report.sbatch" "$out" | cut -d';' -f1) || status=$?
status=${status:-0}
failed=0
for j in "${jobs[@]}" "$report"; do
  states=$(scontrol show job "$j" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' ')
  echo "job $j: $states"
  [ "$states" = "COMPLETED " ] || failed=1
done
if [ "$status" != 0 ] || [ "$failed" != 0 ]; then
  echo "submit.sh: a job did not complete (report exit status $status); see $logs" >&2
  exit 1
fi
cat "$logs/report-$report.out"
