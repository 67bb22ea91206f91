-- synclua simulate: a realistic multi-device library from a seed. Each
-- device runs a small model of Spacedrive's sync engine on a virtual clock
-- and logs through the real logger, aggregator and emitters into its own
-- sync.db (DIR/<device>/sync.db); DIR/devices.json lists the devices, their
-- ids, their true clock offsets and the faults planted. The same arguments
-- give the same rows. The engine is lua/synclua/sim.lua.
local cli = require "synclua.cli"
local command = require "synclua.command"
local fs = require "synclua.fs"
local runner = require "synclua.runner"
local sim = require "synclua.sim"

local function usage(fmt, ...)
  error(cli.usage_error(fmt:format(...)), 0)
end

-- Text filled to 78 columns; `first` starts the first line, `indent` the
-- others.
local function fill(text, first, indent)
  local lines, line = {}, first
  for word in text:gmatch("%S+") do
    if #line + 1 + #word > 78 and line:match("%S") and #line > #indent then
      lines[#lines + 1] = line
      line = indent .. word
    elseif line:match("%S$") then
      line = line .. " " .. word
    else
      line = line .. word
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

local function epilog()
  local out = { "Faults (--faults a,b,... or all, none, default):" }
  for _, f in ipairs(sim.FAULTS) do
    out[#out + 1] = fill(sim.FAULT_HELP[f], ("  %-20s"):format(f),
                         (" "):rep(22))
  end
  out[#out + 1] = ""
  out[#out + 1] = fill("The default mix is "
    .. table.concat(sim.DEFAULT_FAULTS, ", ") .. "; none gives a clean "
    .. "library (no warning or error events).", "", "")
  out[#out + 1] = ""
  out[#out + 1] = fill("Devices are named desktop, laptop, phone, nas, "
    .. "tablet, workstation, mini, media, studio, backup, desktop-2, ...; "
    .. "the first half exist before the window, the others join and "
    .. "backfill in it. Each stamps its events with the true time plus its "
    .. "own clock offset (seconds; devices.json lists the true offsets and "
    .. "the faults planted). Sessions still running when the window ends "
    .. "run to completion. The same arguments give the same rows.", "", "")
  out[#out + 1] = ""
  out[#out + 1] = fill("Report commands given no --db and no ./sync.db use "
    .. "the demo library, made by this simulator on first use: "
    .. require("synclua.demo").describe() .. ".", "", "")
  return table.concat(out, "\n")
end

local function check_out(dir)
  local kind = fs.kind(dir)
  if kind == "file" then
    usage("--out: %s exists and is not a folder", dir)
  elseif kind == "dir" then
    local names = runner.check(fs.list(dir))
    if #names > 0 then
      usage("--out: %s is not empty; simulate never writes over existing "
            .. "files (choose a new folder)", dir)
    end
  else
    runner.check(fs.mkdir_p(dir))
  end
end

local function offset(ms)
  return ("%+.3f s"):format(ms / 1000)
end

local function report(out, m)
  local lines = {
    ("%d devices, %s hours from %s, seed %d, faults: %s"):format(
      #m.devices, tostring(m.hours), m.start, m.seed,
      #m.faults > 0 and table.concat(m.faults, ", ") or "none"),
  }
  local width = 0
  for _, d in ipairs(m.devices) do width = math.max(width, #d.path) end
  for _, d in ipairs(m.devices) do
    lines[#lines + 1] = ("  %s/%s%s  %s  clock %s  %6d events"):format(
      out, d.path, (" "):rep(width - #d.path), d.device_id,
      offset(d.clock_offset_ms), d.events)
  end
  for _, p in ipairs(m.planted) do
    local what = p.fault .. ": " .. p.device
    if p.peer then what = what .. " (peer " .. p.peer .. ")" end
    if p.session then what = what .. ", session " .. p.session end
    lines[#lines + 1] = "  planted " .. what
  end
  lines[#lines + 1] = "  " .. out .. "/devices.json"
  return table.concat(lines, "\n")
end

return command{
  name = "simulate",
  description = "Write a simulated multi-device library (one sync.db per "
    .. "device) from a seed",
  inputs = false,
  formats = { "text", "json" },
  options = {
    { "--out", metavar = "DIR", required = true,
      help = "a new or empty folder for the library" },
    { "--devices", type = "int", default = 4, min = 2, max = sim.MAX_DEVICES,
      help = "how many devices (2 to " .. sim.MAX_DEVICES .. ")" },
    { "--hours", metavar = "H", type = "number", default = 48,
      help = "length of the simulated window" },
    { "--seed", metavar = "S", type = "int", default = 1,
      help = "the same seed gives the same rows" },
    { "--faults", metavar = "LIST",
      default = table.concat(sim.DEFAULT_FAULTS, ","),
      help = "faults to plant, comma-separated (see below)" },
    { "--start", type = "time", default = sim.DEFAULT_START,
      help = "when the window opens (true time)" },
  },
  epilog = epilog(),
  run = function(ctx)
    local opts = ctx.opts
    if not (opts.hours > 0) or opts.hours > sim.MAX_HOURS then
      usage("--hours must be above 0 and at most %d (got %s)", sim.MAX_HOURS,
            tostring(opts.hours))
    end
    local faults, why = sim.parse_faults(opts.faults)
    if not faults then usage("--faults: %s", why) end
    local start = opts.start
    check_out(opts.out)
    local m = runner.check(sim.generate{
      out = opts.out, devices = opts.devices, hours = opts.hours,
      seed = opts.seed, faults = faults, start = start,
    })
    -- json: the manifest, as devices.json holds it
    if ctx.format == "json" then
      ctx.out:write(require("synclua").json_encode(m), "\n")
    else
      ctx.out:write(report(opts.out, m), "\n")
    end
  end,
}
