--- synclua.command: the one frame every bundled command, and any user's
-- script, stands on (DESIGN.md "The command line"; STYLE rule 26). A
-- command declares its name, description, typed options and `run`; the
-- frame parses and checks the options before anything is opened, resolves
-- the inputs (synclua.inputs), sets the window (synclua.window), opens the
-- output (synclua.output: stdout, or -o written atomically) and turns
-- every outcome into the documented exit status (synclua.runner): the
-- command only does its own work.
--
--     local command = require "synclua.command"
--     return command{
--       name = "my_report", description = "Records per peer",
--       formats = { "text", "json" },          -- -f/--format; first: default
--       options = { { "--min", type = "int", default = 0, help = "..." } },
--       run = function(ctx)
--         for _, src in ipairs(ctx.inputs) do      -- one per device
--           for ev in src.log:events(ctx.window:filter{ event_type = "batch_ingestion" }) do
--             ...
--           end
--         end
--         ctx.out:write("...\n")
--         return 0                                 -- the exit status
--       end,
--     }
--
-- Declaration fields: `name`, `description`, `usage`, `epilog`, `options`
-- (synclua.cli entries), `run(ctx)`, and what the frame adds:
--
--   inputs    true (the default): --db, repeatable (a sync.db, library
--             folder, folder of devices, glob or export; default
--             $SYNCLUA_DB, then ./sync.db); "one": exactly one device;
--             false: none (the command declares its own)
--   demo      fall back to the demo library when there is no input
--   window    --since/--until (default: with inputs)
--   formats   the -f/--format names (from text, json, ndjson, csv,
--             markdown, sql; "md" is markdown), the first the default;
--             with them comes -o/--output
--   redact    true: --redact and --redact-key KEY, for a command that
--             writes events or their ids: ctx.redactor is then made once
--             for the run (synclua.redactor), every input's rows come out
--             redacted through it (synclua.inputs' `redact`), and a
--             successful run says on stderr what was replaced
--
-- `ctx`: opts (parsed, typed), argv, name, now (SYNCLUA_NOW or the clock),
-- inputs (the set of sources, closed after run), window, format, out (the
-- output: write(...); committed after a successful run, removed
-- otherwise), redactor (with --redact, else nil), and note(msg) /
-- warn(msg) for stderr.
local synclua = require "synclua"
local cli = require "synclua.cli"
local term = require "synclua.term"
local runner = require "synclua.runner"
local output = require "synclua.output"

local M = {}

--- The current instant, or $SYNCLUA_NOW's (a time, for reproducible
-- output; a bad one is bad input, exit 2).
-- @treturn integer instant
function M.now()
  local fixed = os.getenv("SYNCLUA_NOW")
  if not fixed or fixed == "" then return synclua.now() end
  local t, err = synclua.parse_time(fixed)
  if not t then error(runner.failure("invalid", "SYNCLUA_NOW: " .. err), 0) end
  return t
end

--- A `check` for "KEY=VALUE" options: { key, value }, or nil and the
-- message naming `option`.
-- @tparam string option
-- @treturn function
function M.pair(option)
  return function(v)
    local k, val = v:match("^([^=]+)=(.+)$")
    if not k then
      return nil, ("%s: KEY=VALUE expected, got '%s'"):format(option, v)
    end
    return { key = k, value = val }
  end
end

-- The options the frame adds: inputs and window before the command's own
-- (so they are checked first), format and output after.
local function common(decl)
  local list, after = {}, {}
  if decl.inputs ~= false then
    list[#list + 1] = { "--db", type = "inputs",
      help = "a sync.db, library folder, folder of devices, glob or export "
        .. (decl.inputs == "one" and "" or "(repeat for several) ")
        .. "(default $SYNCLUA_DB, then ./sync.db"
        .. (decl.demo and ", then the demo library)" or ")") }
    list[#list + 1] = { "--library", type = "uuid", what = "library id",
      help = "of a PostgreSQL fleet store given as --db, only this "
        .. "library's devices" }
    list[#list + 1] = { "--device-of", metavar = "FILE=UUID",
      repeatable = true, check = M.pair("--device-of"),
      help = "the device of an export that carries none (a JSON export "
        .. "without device data)" }
  end
  if decl.window then
    list[#list + 1] = { "--since", type = "time",
      help = "only events since (e.g. '2 hours ago', '2025-12-03 10:00:00'); "
        .. "alone: until now" }
    list[#list + 1] = { "--until", type = "time",
      help = "only events until (same forms)" }
  end
  if decl.formats then
    after[#after + 1] = { "-f", "--format", type = "format",
      default = decl.formats[1],
      help = "output format: " .. cli.either(decl.formats) }
    after[#after + 1] = { "-o", "--output", metavar = "FILE",
      help = "write to FILE (atomically) instead of stdout" }
  end
  if decl.redact then
    after[#after + 1] = { "--redact", flag = true,
      help = "share safely: device, peer, correlation and library ids "
        .. "become pseudonyms (valid UUIDs), ids and paths in summaries and "
        .. "strings in details are replaced, labels come from the "
        .. "pseudonyms; times, types, counts and durations are kept "
        .. "(a random key: pseudonyms of this run only)" }
    after[#after + 1] = { "--redact-key", metavar = "KEY",
      check = function(v)
        if v == "" then
          return nil, "option '--redact-key' expects a non-empty key"
        end
        return v
      end,
      help = "--redact with pseudonyms keyed by KEY (any text; "
        .. "$SYNCLUA_REDACT_KEY when --redact is given alone): the same key "
        .. "gives the same pseudonyms in every run" }
  end
  if decl.formats and decl.formats[1] == "text" then
    after[#after + 1] = { "--color", type = "enum", default = "auto",
      values = { "auto", "always", "never" }, metavar = "WHEN",
      help = "colour severities, verdicts and devices: auto (on a "
        .. "terminal, unless NO_COLOR), always or never" }
    after[#after + 1] = { "--no-pager", flag = true,
      help = "on a terminal, write long text straight out instead of "
        .. "through $PAGER (default: less -FRX)" }
  end
  return list, after
end

local Ctx = {}
Ctx.__index = Ctx

--- A note on stderr: "synclua NAME: note: message".
function Ctx:note(message)
  io.stderr:write("synclua ", self.name, ": note: ", message, "\n")
end

--- A warning on stderr: "synclua NAME: warning: message".
function Ctx:warn(message)
  io.stderr:write("synclua ", self.name, ": warning: ", message, "\n")
end

--- The inputs' survey of the window (cached): see synclua.window.
function Ctx:survey()
  if not self._survey then self._survey = self.window:survey(self.inputs) end
  return self._survey
end

--- Say on stdout what -o received (as Spacedrive's `sd sync events`
-- does): "Exported 12 events to x.json".
-- @tparam integer count
function Ctx:exported(count)
  self.out:commit()
  print(("Exported %d events to %s"):format(count, self.opts.output))
end

--- How far Ctx:cut counts, at least: every row of a large store would
-- cost more than the answer did (20 ms for a million rows).
M.CUT_COUNT = 100000

--- Say on stderr that --limit cut the rows: "1000 of 2020 events;
-- --limit 0 for all", or "1000 of more than 100000 events; ..." past
-- M.CUT_COUNT (or the rows shown, when more).
-- @tparam integer shown
-- @tparam function count count(limit): the rows there are, counted no
-- further than limit
function Ctx:cut(shown, count)
  local cap = math.max(shown, M.CUT_COUNT) + 1
  local total = count(cap)
  if total > shown then
    io.stderr:write(("synclua %s: %d of %s events; --limit 0 for all\n")
      :format(self.name, shown, total >= cap
        and ("more than %d"):format(cap - 1) or tostring(total)))
  end
end

-- Says once, after the command, how many rows of a source it read
-- leniently (NULL where a value is required, a wrong type, invalid UTF-8,
-- an unknown name: see synclua.h, sl_bad_rows), however many queries read
-- them.
local function warn_bad_rows(ctx, src)
  local n, ids, columns, at_least = src.log:bad_rows()
  if n == 0 then return end
  local shown = {}
  for i, id in ipairs(ids) do shown[i] = tostring(id) end
  ctx:warn(("%s: %s%s with values Spacedrive cannot read (%s; %s %s%s): "
    .. "shown as read leniently"):format(src.given,
    at_least and "at least " or "", n == 1 and "1 row" or (n .. " rows"),
    table.concat(columns, ", "), #ids == 1 and "id" or "ids",
    table.concat(shown, ", "), n > #ids and ", ..." or ""))
end

--- The redactor of a run given --redact or --redact-key (nil without):
-- keyed by --redact-key, else by $SYNCLUA_REDACT_KEY when set and not
-- empty, else by a random key.
-- @tparam table opts the parsed options
-- @treturn Redactor|nil
function M.redactor(opts)
  if not opts.redact and not opts.redact_key then return nil end
  local key = opts.redact_key or os.getenv("SYNCLUA_REDACT_KEY")
  return synclua.redactor{ key = key ~= "" and key or nil }
end

--- What a redactor replaced, in one line for stderr (without the
-- "synclua NAME: " before it): "redacted 5 device ids, 5 peer ids, 38
-- correlation ids, 52 ids in summaries, 96 strings in details (keyed: the
-- same key gives the same pseudonyms)"; library ids and paths in
-- summaries are named when there were any.
-- @tparam Redactor r
-- @treturn string
function M.redacted(r)
  local fmt = require "synclua.fmt"
  local c = r:counts()
  local parts = { fmt.plural(c.device, "device id"),
                  fmt.plural(c.peer, "peer id"),
                  fmt.plural(c.correlation, "correlation id") }
  if c.library > 0 then parts[#parts + 1] = fmt.plural(c.library, "library id") end
  parts[#parts + 1] = fmt.plural(c.summary_id, "id") .. " in summaries"
  if c.summary_path > 0 then
    parts[#parts + 1] = fmt.plural(c.summary_path, "path") .. " in summaries"
  end
  parts[#parts + 1] = fmt.plural(c.details, "string") .. " in details"
  return ("redacted %s (%s)"):format(table.concat(parts, ", "),
    r:keyed() and "keyed: the same key gives the same pseudonyms"
              or "a random key: these pseudonyms match no other run")
end

-- Runs a declared command on its arguments: the frame's main.
local function main(decl, argv, name)
  local now = M.now()
  local opts = cli.parse(decl, argv, name, { now = now,
                                             formats = decl.formats })
  local ctx = setmetatable({ opts = opts, argv = argv, name = name,
                             now = now, format = opts.format }, Ctx)
  if decl.window then
    ctx.window = require("synclua.window").new(opts.since, opts["until"], now)
  end
  if decl.check then decl.check(opts, ctx) end
  ctx.redactor = decl.redact and M.redactor(opts) or nil
  -- Closed however run ends: the stores, and a -o file not committed.
  local set <close> = decl.inputs ~= false and
    require("synclua.inputs").resolve(opts.db, {
      demo = decl.demo, devices = opts.device_of, library = opts.library,
      redact = ctx.redactor, note = function(s) ctx:note(s) end }) or nil
  ctx.inputs = set
  -- A fleet (or a folder) of devices, and --device names one of them.
  if decl.inputs == "one" and #set > 1 and opts.device then
    set:only(ctx.redactor and ctx.redactor:id(opts.device, "device")
             or opts.device)
  end
  if decl.inputs == "one" and #set > 1 then
    error(runner.failure("invalid", ("%d devices given: %s reads one "
      .. "(several devices: synclua timeline)"):format(#set, name)), 0)
  end
  if opts.output and set then
    local paths = {}
    for i, src in ipairs(set) do paths[i] = src.path end
    output.guard(opts.output, paths)
  end
  local decided = decl.formats and term.setup{ format = opts.format,
    output = opts.output, color = opts.color, pager = not opts.no_pager,
    streaming = opts.follow }
  if decided and set then
    local labels = {}
    for i, src in ipairs(set) do labels[i] = src.label end
    term.devices(labels)
  end
  local out <close> = decl.formats and output.open(opts.output, decided)
                      or nil
  ctx.out = out
  local pictures = require "synclua.pictures"
  pictures.legend()   -- nothing drawn yet
  local status, message, code = decl.run(ctx)
  -- A person at a terminal is told what the pictures' characters mean.
  local legend = pictures.legend()
  if out and decided.tty and not opts.follow and legend ~= "" and
     (status == 0 or status == 1 or (status == nil and not message)) then
    out:write("\n", legend)
  end
  -- A result, or a finding: the output is whole. A failure (`nil,
  -- message`, or any other status) leaves no file.
  if out and (status == 0 or status == 1 or (status == nil and not message))
  then
    out:commit()
  end
  for _, src in ipairs(set or {}) do warn_bad_rows(ctx, src) end
  -- What was replaced, once the run wrote its output (fetch writes it
  -- with status 3 too: a peer failed, the others were written).
  if ctx.redactor and not (status == nil and message) then
    io.stderr:write("synclua ", name, ": ", M.redacted(ctx.redactor), "\n")
  end
  return status, message, code
end

--- Declare a command on the frame; the script returns what this returns.
-- @tparam table decl see the top of this module
-- @treturn table the declaration, with the frame's options added, ready
--   for synclua.runner (and for synclua.cli.describe)
function M.command(decl)
  if type(decl) ~= "table" then
    error(("bad argument #1 to 'command' (table expected, got %s)")
      :format(type(decl)), 2)
  end
  if type(decl.name) ~= "string" then
    error("bad argument #1 to 'command' (field 'name' must be a string)", 2)
  end
  if type(decl.run) ~= "function" then
    error("bad argument #1 to 'command' (field 'run' must be a function)", 2)
  end
  if decl.formats ~= nil and decl.formats ~= false then
    if type(decl.formats) ~= "table" or #decl.formats == 0 then
      error("bad argument #1 to 'command' (field 'formats' must be a "
        .. "non-empty list)", 2)
    end
    for i, f in ipairs(decl.formats) do
      if not output.canonical(f) or output.canonical(f) ~= f then
        error(("bad argument #1 to 'command' (formats[%d]: unknown format "
          .. "'%s')"):format(i, tostring(f)), 2)
      end
    end
  end
  local d = {}
  for k, v in pairs(decl) do d[k] = v end
  if d.inputs == nil then d.inputs = true end
  if d.window == nil then d.window = d.inputs ~= false end
  if d.formats == false then d.formats = nil end
  local options, after = common(d)
  for _, e in ipairs(decl.options or {}) do options[#options + 1] = e end
  for _, e in ipairs(after) do options[#options + 1] = e end
  d.options, d.args = options, nil
  d.main = function(argv, name) return main(d, argv, name) end
  return d
end

setmetatable(M, { __call = function(_, decl) return M.command(decl) end })

return M
