# Shared body of the STAND-IN init scripts (end-to-end suite only): start-stop-daemon as in Debian's
# init scripts, one python3 process per service. The sourcing script sets NAME and defines standin_args.
PATH=/sbin:/usr/sbin:/bin:/usr/bin
DAEMON=/usr/bin/python3
STANDIN=/usr/lib/mesos-standins/standin.py
PIDFILE=/run/$NAME.pid
LOG=/var/log/$NAME-standin.log

# A flag file as the Mesos and Marathon wrappers read it, or a default.
flag() { if [ -s "$1" ]; then head -n 1 "$1"; else echo "$2"; fi; }

do_start() {
  # shellcheck disable=SC2046
  start-stop-daemon --start --quiet --oknodo --background --make-pidfile --pidfile "$PIDFILE" \
    --exec "$DAEMON" -- "$STANDIN" $(standin_args) --log "$LOG"
}
do_stop() {
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
