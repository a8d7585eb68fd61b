# Shared body of the STAND-IN init scripts (end-to-end suite only): start-stop-daemon as in Debian's
# init scripts, one python3 process per service. The sourcing script sets NAME and defines standin_args.
PATH=/sbin:/usr/sbin:/bin:/usr/bin
DAEMON=/usr/bin/python3
STANDIN=/usr/lib/mesos-standins/standin.py
PIDFILE=/run/$NAME.pid
LOG=/var/log/$NAME-standin.log

# Each start and stop, with the time in ms, one per line: what the tests read to see when a service restarted.
EVENTS=/var/log/$NAME-standin.events

# A flag file as the Mesos and Marathon wrappers read it, or a default.
flag() { if [ -s "$1" ]; then head -n 1 "$1"; else echo "$2"; fi; }
# A directory of key files (attributes/, resources/) as the Mesos wrapper joins it: key:value;key:value.
joined() {
  [ -d "$1" ] || return 0
  for f in "$1"/*; do if [ -f "$f" ]; then printf '%s:%s;' "$(basename "$f")" "$(head -n 1 "$f")"; fi; done | sed 's/;$//'
}
event() { echo "$1 $(date +%s%3N)" >> "$EVENTS"; }

do_start() {
  if do_status; then return 0; fi
  # shellcheck disable=SC2046
  start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile "$PIDFILE" \
    --exec "$DAEMON" -- "$STANDIN" $(standin_args) --log "$LOG"
  event started
}
do_stop() {
  if do_status; then event stopping; fi
  start-stop-daemon --stop --quiet --oknodo --retry=TERM/5/KILL/2 --pidfile "$PIDFILE" --exec "$DAEMON"
  rm -f "$PIDFILE"
}
do_status() { start-stop-daemon --status --pidfile "$PIDFILE" --exec "$DAEMON"; }

case "$1" in
  start) do_start ;;
  stop) do_stop ;;
  restart | force-reload) do_stop && do_start ;;
  status)
    if do_status; then echo "$NAME (stand-in) is running"; else rc=$?; echo "$NAME (stand-in) is not running"; exit $rc; fi
    ;;
  *)
    echo "Usage: /etc/init.d/$NAME {start|stop|restart|force-reload|status}" >&2
    exit 3
    ;;
esac
