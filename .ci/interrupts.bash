# Sourced by the .ci scripts, so that an interrupted script fails and says
# where it was. Without a trap of its own, bash runs a script's EXIT trap on
# SIGTERM with $? still holding the last command's status (0 after a passing
# step): .ci/docker-test then printed "PASS" and exited 0 when it was stopped.
# Here SIGINT, SIGTERM and SIGHUP print the stage that was running (the value
# of the variable named by the second argument) and exit with 128 + the
# signal's number, which an EXIT trap then sees in $?. A signal that comes
# while a command runs in the foreground is acted on once that command ends
# (it usually got the same signal: CI stops the whole process group).
#
#   source .ci/interrupts.bash SCRIPT_NAME STAGE_VARIABLE
ci_script_name=$1
ci_stage_variable=$2

ci_interrupted() {
  local stage=${!ci_stage_variable:-}
  printf '\n=== %s: interrupted by SIG%s%s\n' "$ci_script_name" "$1" \
    "${stage:+ during: $stage}" >&2
  exit $((128 + $2))
}
trap 'ci_interrupted INT 2' INT
trap 'ci_interrupted TERM 15' TERM
trap 'ci_interrupted HUP 1' HUP
