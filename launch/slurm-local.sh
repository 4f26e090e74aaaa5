#!/usr/bin/env bash
# A one-machine Slurm for trying launch/slurm.sbatch (and for its test): munged, slurmctld and
# slurmd with a configuration in a temporary directory, stopped by their pid files.
#
#   launch/slurm-local.sh up        start (stopping an earlier one); prints: export SLURM_CONF=…
#   launch/slurm-local.sh down      stop the daemons it started, remove its directory
#   launch/slurm-local.sh status
#
# Needs root and Debian's slurm-wlm and munge (scripts/install-deps.sh). The node is this machine
# as `slurmd -C` describes it; jobs run through srun --mpi=pmix (Debian's Open MPI has no PMI2).
# Job ids restart at 1 with every `up`: name the output directory (RINGWATT_OUT) rather than
# relying on the default runs/slurm-<job id>.
set -euo pipefail
DIR="${RINGWATT_SLURM_DIR:-/tmp/ringwatt-slurm}"
CONF="$DIR/slurm.conf"

stop() {  # by pid file: only what this script started
  for f in "$DIR"/slurmd.pid "$DIR"/slurmctld.pid "$DIR"/munged.pid; do
    [ -s "$f" ] || continue
    local pid; pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
}

up() {
  [ "$(id -u)" -eq 0 ] || { echo "slurm-local: needs root (slurmd, munged)" >&2; exit 2; }
  for tool in munged slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || { echo "slurm-local: $tool not found: run scripts/install-deps.sh (slurm-wlm, munge)" >&2; exit 2; }
  done
  stop
  # Daemons inherit every open descriptor; one a caller waits on (a pipe, or the socket by which
  # Foundation's Process learns that its child exited) would keep that caller waiting forever.
  local fd
  for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && [ "$fd" != 255 ] && eval "exec $fd>&-" 2>/dev/null || true; done
  rm -rf "$DIR"
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
  chown munge:munge "$DIR/munge"
  chmod 700 "$DIR/munge"
  local node; node=$(slurmd -C | head -1)
  local name; name=$(echo "$node" | sed -n 's/^NodeName=\([^ ]*\).*/\1/p')
  cat > "$CONF" <<CONF
ClusterName=ringwatt
SlurmctldHost=$name
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldPort=6917
SlurmdPort=6918
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
MpiDefault=none
EnforcePartLimits=ALL
ReturnToService=2
$node State=UNKNOWN
PartitionName=debug Nodes=$name Default=YES MaxTime=INFINITE State=UP
CONF
  # munged as the munge user, with its socket and pid in our directory.
  runuser -u munge -- munged --socket="$DIR/munge/munge.socket" --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" --force </dev/null >/dev/null 2>&1
  for _ in $(seq 50); do [ -s "$DIR/munge/munged.pid" ] && break; sleep 0.1; done
  cp "$DIR/munge/munged.pid" "$DIR/munged.pid"
  export SLURM_CONF="$CONF"
  # The daemons must not hold our stdout/stderr: a caller reading them to the end would wait forever.
  slurmctld -i -f "$CONF" </dev/null >/dev/null 2>&1
  slurmd -f "$CONF" </dev/null >/dev/null 2>&1
  for _ in $(seq 100); do
    sinfo -h -o %t 2>/dev/null | grep -qx idle && { echo "export SLURM_CONF=$CONF"; return 0; }
    sleep 0.1
  done
  echo "slurm-local: the node did not become idle within 10 s; logs in $DIR" >&2
  sinfo >&2 || true
  stop
  exit 1
}

case "${1:-}" in
  up) up ;;
  down) stop; rm -rf "$DIR" ;;
  status) SLURM_CONF="$CONF" sinfo ;;
  *) echo "usage: launch/slurm-local.sh up|down|status" >&2; exit 2 ;;
esac
