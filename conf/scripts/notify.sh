#!/bin/sh
# notify_master / notify_backup / notify_fault: notify.sh {master|backup} VIP
# Becoming master starts httpd; leaving master stops it (the seed's behaviour), and it is logged.
state="$1"
vip="$2"
logger -t keepalived-notify "$(hostname) now ${state} for ${vip:-?}" 2>/dev/null || true
case "$state" in
    master) systemctl start httpd 2>/dev/null || systemctl start apache2 2>/dev/null ;;
    backup) systemctl stop httpd 2>/dev/null || systemctl stop apache2 2>/dev/null ;;
    *) echo "Usage: $0 master|backup VIP" >&2; exit 2 ;;
esac
exit 0
