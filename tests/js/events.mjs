// Print every event of each .ics file given on the command line as ical.js reads it, as JSON:
// [{file, uid, props, startUtc, endUtc}]. `props` is each property in jCal form
// ([name, parameters, type, ...values]), sorted, so two files can be compared field by field;
// startUtc/endUtc are the instants of timed values, with the file's VTIMEZONEs applied.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const out = [];
for (const file of process.argv.slice(2)) {
  const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  for (const tz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(tz));
  }
  for (const vevent of root.getAllSubcomponents("vevent")) {
    const event = new ICAL.Event(vevent);
    const props = vevent.getAllProperties().map((p) => p.toJSON());
    props.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    const instant = (t) => (t.isDate ? null : t.toJSDate().toISOString());
    out.push({
      file,
      uid: event.uid,
      props,
      startUtc: instant(event.startDate),
      endUtc: instant(event.endDate),
    });
  }
  for (const tz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.remove(tz.getFirstPropertyValue("tzid"));
  }
}
process.stdout.write(JSON.stringify(out));
