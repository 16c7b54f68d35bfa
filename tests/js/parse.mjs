// Print the events of each .ics file given on the command line as JSON:
// [{file, uid, summary, start, end, isDate, tz}], start/end as ical.js renders them
// (local wall time for TZID values) plus the UTC instant for timed values.
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
    const start = event.startDate;
    const end = event.endDate;
    out.push({
      file,
      uid: event.uid,
      summary: event.summary,
      start: start.toString(),
      end: end.toString(),
      startUtc: start.isDate ? null : start.toJSDate().toISOString(),
      endUtc: end.isDate ? null : end.toJSDate().toISOString(),
      isDate: start.isDate,
      tz: start.isDate ? null : start.zone.tzid,
    });
  }
}
process.stdout.write(JSON.stringify(out));
