#!/bin/sh
# Create the demo calendars once (syncsvc writes events, it does not create calendars),
# then run Radicale in the foreground.
set -eu
root=/var/lib/radicale/collections/collection-root/syncsvc
for cal in org hva-skjer; do
    if [ ! -f "$root/$cal/.Radicale.props" ]; then
        mkdir -p "$root/$cal"
        printf '{"tag": "VCALENDAR", "D:displayname": "%s", "C:supported-calendar-component-set": "VEVENT"}' \
            "$cal" > "$root/$cal/.Radicale.props"
    fi
done
exec python -m radicale --config /etc/radicale/config
