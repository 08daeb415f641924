# Sourced by run_slurm_tests.sh: a private one-node Slurm cluster for this host (munged,
# slurmctld, slurmd started here, stopped by pid on exit). Needs root and slurm-wlm + munge.
# Sets SLURM_CONF for the clients (sbatch, squeue, scancel, sacct).
slurm_start() {
  local base=$1
  SLURM_BASE=$base
  mkdir -p "$base"/{munge,state,spool,log,run}
  chmod 700 "$base/munge"
  local host; host=$(hostname -s)
  # A fresh key: 1 KiB of random bytes, readable only by its owner (munged checks).
  head -c 1024 /dev/urandom > "$base/munge/munge.key"
  chmod 400 "$base/munge/munge.key"
  munged --key-file="$base/munge/munge.key" --socket="$base/munge/munge.socket" \
         --pid-file="$base/munge/munged.pid" --log-file="$base/munge/munged.log" \
         --seed-file="$base/munge/munged.seed" --force
  local port=$(( 20000 + RANDOM % 20000 ))
  cat > "$base/slurm.conf" <<CONF
ClusterName=tribev2test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$base/munge/munge.socket
CredType=cred/munge
SlurmctldPort=$port
SlurmdPort=$(( port + 1 ))
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/run/slurmctld.pid
SlurmdPidFile=$base/run/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MinJobAge=300
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$host CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$base/slurm.conf
  slurmctld -f "$SLURM_CONF" -i
  slurmd -f "$SLURM_CONF"
  local i
  for i in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then return 0; fi
    sleep 0.5
  done
  echo "slurm did not come up; logs:" >&2
  tail -n 30 "$base"/log/*.log "$base/munge/munged.log" >&2 || true
  return 1
}

slurm_stop() {
  local base=${SLURM_BASE:-}
  [ -n "$base" ] || return 0
  local f pid
  for f in "$base/run/slurmd.pid" "$base/run/slurmctld.pid" "$base/munge/munged.pid"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  done
}
