#!/bin/sh
# vrrp_script chk_httpd: succeed while an httpd (Apache) process runs, fail otherwise.
# keepalived(-ts) adds the script's weight to the instance priority while this fails.
if pgrep -x httpd >/dev/null 2>&1 || pgrep -x apache2 >/dev/null 2>&1; then
    exit 0
fi
exit 1
