-- Mixed traffic for `python -m bench.soak` (see bench/soak.py, which passes the arguments).
--
-- One connection per wrk thread, so a thread's requests go strictly in order and it can
-- follow its own story: browse the events list and an event page, RSVP to its own event
-- and cancel (alternately), open the advisor's agenda, book one of its own advising slots
-- and cancel that appointment (alternately), open the staff dashboard.
--
-- Arguments after `--`: user agent, student / advisor / staff cookie headers, the
-- student's CSRF token, the event page's id, RSVP event ids ("1,2,…", one per thread),
-- the advisor's id, slot keys per thread ("k1,k2|k3,k4|…").

local threads, count = {}, 0
local plan = { "events", "event", "rsvp", "agenda", "event", "booking", "events", "dashboard" }

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

local function split(text, separator)
  local parts = {}
  for part in string.gmatch(text, "([^" .. separator .. "]+)") do
    table.insert(parts, part)
  end
  return parts
end

local function mine(list)
  return list[((id - 1) % #list) + 1]
end

function init(args)
  agent = args[1]
  cookies = { student = args[2], advisor = args[3], staff = args[4] }
  token, page, advisor = args[5], args[6], args[8]
  my_event = mine(split(args[7], ","))
  my_slots = split(mine(split(args[9], "|")), ",")
  slot, appointment, going_next, step, kind = 1, nil, true, 0, nil
  n5xx, n503, n500, unexpected, signed_out, seen = 0, 0, 0, 0, 0, ""
end

local function send(method, path, who, body)
  local headers = { ["Cookie"] = cookies[who], ["User-Agent"] = agent }
  if method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    headers["X-CSRFToken"] = token
  end
  return wrk.format(method, path, headers, body)
end

function request()
  step = step % #plan + 1
  kind = plan[step]
  if kind == "events" then
    return send("GET", "/events/", "student")
  elseif kind == "event" then
    return send("GET", "/events/" .. page, "student")
  elseif kind == "agenda" then
    return send("GET", "/advising/agenda", "advisor")
  elseif kind == "dashboard" then
    return send("GET", "/dashboard/", "staff")
  elseif kind == "rsvp" then
    local path = "/events/" .. my_event .. (going_next and "/rsvp" or "/rsvp/cancel")
    return send("POST", path, "student", "")
  elseif appointment then
    return send("POST", "/advising/appointments/" .. appointment .. "/cancel", "student", "reason=")
  end
  local path = "/advising/advisors/" .. advisor .. "/book?start=" .. my_slots[slot]
  return send("POST", path, "student", "topic=course_planning&note=")
end

function response(status, headers, body)
  local expected = (kind == "rsvp" or kind == "booking") and 302 or 200
  if status >= 500 then
    n5xx = n5xx + 1
    if status == 503 then n503 = n503 + 1 elseif status == 500 then n500 = n500 + 1 end
  elseif status ~= expected then
    unexpected = unexpected + 1
    if #seen < 200 then seen = seen .. " " .. kind .. ":" .. status end
  elseif status == 302 and string.find(headers["Location"] or "", "sign%-in") then
    signed_out = signed_out + 1
  end
  -- The next action follows the answers, not the requests sent.
  if kind == "rsvp" then
    if status == 302 then going_next = not going_next elseif status == 404 then going_next = true end
  elseif kind == "booking" then
    if appointment then
      if status < 500 then appointment = nil end -- cancelled (or gone): book again next time
    elseif status == 302 then
      appointment = string.match(headers["Location"] or "", "/advising/appointments/(%d+)")
    elseif status < 500 then
      slot = slot % #my_slots + 1 -- taken (a lost answer's booking holds it): the next one
    end
  end
end

function done(summary, latency, requests)
  local totals = { n5xx = 0, n503 = 0, n500 = 0, unexpected = 0, signed_out = 0 }
  local statuses = ""
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
    statuses = statuses .. thread:get("seen")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "status_errors": %d, ' ..
    '"n5xx": %d, "n503": %d, "n500": %d, "unexpected": %d, "signed_out": %d, "seen": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, e.status, totals.n5xx, totals.n503,
    totals.n500, totals.unexpected, totals.signed_out, string.sub(statuses, 1, 300)))
end
