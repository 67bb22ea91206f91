--- synclua.follow: what a filter matches, as other processes commit it
-- (`synclua events --follow`). First the newest `limit` matching events,
-- oldest first as a log reads; then every matching event committed after
-- that, in the order of each commit's events in time, as it is committed
-- -- by Spacedrive, `synclua serve`, a logging engine, any process.
-- Between commits it sleeps in the core's watch of the store's files
-- (inotify: no polling), with a look every `interval` ms in case the
-- file system does not tell. Ctrl-C ends it cleanly.
local synclua = require "synclua"
local runner = require "synclua.runner"
local with = require("synclua.query").with

local M = {}

--- The formats that stream: a row is whole once written.
M.FORMATS = { ndjson = true, csv = true }

-- Is `err` the Ctrl-C the host raises in running code?
local function interrupted(err)
  return type(err) == "string" and err:find("interrupted!", 1, true) ~= nil
end

-- Write the newest `limit` events filter selects, oldest first.
local function newest(out, log, filter, format, with_device, limit)
  local rows = {}
  for ev in log:events(with(filter, { limit = limit, raw = true })) do
    rows[#rows + 1] = ev
  end
  for i = #rows, 1, -1 do
    out:write(synclua.render(rows[i], format, with_device))
  end
end

-- Write the events filter selects with ids above `mark`, oldest first;
-- returns the mark to look above next: the highest id the store had
-- before the look, or a higher one written.
local function newer(out, log, filter, format, with_device, mark)
  local top = runner.check(log:max_id())
  if top < mark then return top, true end    -- the file was replaced
  if top == mark then return mark end
  local cur <close> = log:cursor(with(filter, {
    after_id = mark, order = "asc", render = format,
    with_device = with_device or nil }))
  local chunk = cur:chunk()
  while chunk do
    out:write(chunk)
    chunk = cur:chunk()
  end
  return top
end

--- Follow a store until Ctrl-C.
-- @tparam table out an Output (write, flush)
-- @tparam Store log an open store
-- @tparam table filter as `log:events` takes it (no limit, order or render)
-- @tparam table opts `format` ("ndjson" or "csv"), `with_device`,
-- `limit` (the newest shown first; 0: none), `interval` (ms, default
-- 1000), `on_replaced` (called when the store's ids went back: the file
-- was replaced), `watch` (a Watch to use instead of one of the path's)
function M.events(out, log, filter, opts)
  local format = opts.format
  assert(M.FORMATS[format], "follow: a streaming format expected")
  local watch <close> = opts.watch or runner.check(synclua.watch(log:path()))
  local mark = runner.check(log:max_id())
  local ok, err = pcall(function()
    if format == "csv" then out:write(synclua.csv_header()) end
    if opts.limit ~= 0 then
      newest(out, log, filter, format, opts.with_device, opts.limit)
    end
    out:flush()
    local function look()
      local before, replaced = mark, nil
      mark, replaced = newer(out, log, filter, format, opts.with_device, mark)
      if replaced and opts.on_replaced then opts.on_replaced() end
      out:flush()
      return mark ~= before
    end
    while true do
      -- false: the interval passed (look anyway) or a signal came.
      local changed, err, code = watch:wait(opts.interval or 1000)
      if changed == nil then runner.check(nil, err, code) end
      -- A commit's first write to the -wal wakes the watch before SQLite
      -- shows the commit to readers (its last step is in the -shm, which
      -- every reader writes too, so it is not watched): when the look
      -- finds nothing new, look again a few times, sooner than the
      -- interval.
      local delay = 2
      while not look() and changed and delay <= 64 do
        watch:wait(delay)
        delay = delay * 2
      end
    end
  end)
  if not ok and not interrupted(err) then error(err, 0) end
end

return M
