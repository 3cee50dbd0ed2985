// Read iCalendar files as Thunderbird does, with Mozilla's ical.js, and print what it
// understood: each VEVENT's UID, SEQUENCE and STATUS, its start and end as UTC instants,
// the zone each time was read in, and its alarms' triggers.
//
//   node tests/js/ical_instants.mjs FILE.ics [FILE.ics ...]   (or the text on stdin)
//
// Prints one JSON array, an entry per file: {"file", "events": [{"uid", "sequence",
// "status", "start", "end", "startZone", "endZone", "alarms": [{"action", "trigger"}]}]}.
// Each file's own VTIMEZONEs are the only zones known while it is read, as in a calendar
// client that imports it; a time whose TZID has no VTIMEZONE reads as floating and says so.

import { readFileSync } from "node:fs";

import ICAL from "./node_modules/ical.js/dist/ical.js";

function instant(time) {
  return new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
}

function zoneOf(time) {
  if (time.zone === ICAL.Timezone.localTimezone) {
    return "floating";
  }
  return time.zone ? time.zone.tzid : "floating";
}

function alarms(vevent) {
  return vevent.getAllSubcomponents("valarm").map((alarm) => ({
    action: alarm.getFirstPropertyValue("action"),
    trigger: String(alarm.getFirstPropertyValue("trigger")),
  }));
}

function read(text) {
  ICAL.TimezoneService.reset();
  const calendar = new ICAL.Component(ICAL.parse(text));
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtimezone);
  }
  return calendar.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    return {
      uid: event.uid,
      sequence: event.sequence,
      status: vevent.getFirstPropertyValue("status"),
      start: instant(event.startDate),
      end: instant(event.endDate),
      startZone: zoneOf(event.startDate),
      endZone: zoneOf(event.endDate),
      alarms: alarms(vevent),
    };
  });
}

const files = process.argv.slice(2);
const inputs = files.length
  ? files.map((file) => [file, readFileSync(file, "utf8")])
  : [["-", readFileSync(0, "utf8")]];
const results = inputs.map(([file, text]) => ({ file, events: read(text) }));
process.stdout.write(JSON.stringify(results, null, 1) + "\n");
