-- synclua push: load devices' logs (stores, library folders, folders of
-- devices, exports -- whatever --db takes) into a PostgreSQL fleet store
-- (README, "A fleet in PostgreSQL"). The rows go in with COPY, one
-- transaction per input device; pushing again adds nothing (a row with
-- the same device, instant, type and summary is already there), and a
-- later push of a store reads only the rows it added since.
--
-- The library each device belongs to is --library, else the UUID its
-- path names (a Spacedrive library folder is named by its id). The
-- fleet's schema is made on first use. With --redact, what goes in is
-- what `events --redact` writes: ids (the library's too) as pseudonyms,
-- free text cleaned.
local synclua = require "synclua"
local command = require "synclua.command"
local runner = require "synclua.runner"
local fmt = require "synclua.fmt"

-- The library id the path of source `src` names: its folder's name, or
-- that folder's parent's, when it is a UUID.
local function library_of(src)
  local path = src.path:gsub("/+$", "")
  for _ = 1, 2 do
    path = path:match("^(.*)/[^/]*$")
    if not path then return nil end
    local id = synclua.parse_uuid(path:match("([^/]*)$"))
    if id then return id end
  end
  return nil
end

return command{
  name = "push",
  description = "Load devices' logs into a PostgreSQL fleet store",
  epilog = "Each input device is one transaction: all of its new rows, or "
    .. "none.\nThe fleet store is the same --db for every reading command "
    .. "(synclua report\n--db postgresql://...).",
  window = false,
  redact = true,
  formats = { "text", "json" },
  options = {
    { "--to", metavar = "URL", required = true,
      help = "the fleet store: postgresql://..., postgres://... or libpq's "
        .. "'host=... dbname=...' (its schema is made when missing)",
      check = function(v)
        if synclua.is_database(v) then return v end
        return nil, ("--to: a PostgreSQL connection expected "
          .. "(postgresql://...), got '%s'"):format(v)
      end },
  },
  run = function(ctx)
    local opts = ctx.opts
    local plan = {}
    for _, src in ipairs(ctx.inputs) do
      local library = opts.library or library_of(src)
      if not library then
        runner.invalid(("%s: no library id in its path: give --library "
          .. "UUID"):format(src.given))
      end
      -- Redacted, the library is a pseudonym too (as src.device is).
      if ctx.redactor then library = ctx.redactor:id(library, "library") end
      plan[#plan + 1] = { src = src, library = library }
    end
    local fleet <close> = runner.check(synclua.open(opts.to, { mode = "w" }))
    local all = synclua.array()
    local total = { read = 0, inserted = 0, duplicates = 0 }
    for _, p in ipairs(plan) do
      local src = p.src
      local r = runner.check(fleet:push(src.log, { library_id = p.library,
        device_id = src.device, label = src.label,
        once = src.kind == "export" }))
      r.device = src.device
      r.label = src.label
      r.library_id = p.library
      r.input = src.given
      all[#all + 1] = r
      for k in pairs(total) do total[k] = total[k] + r[k] end
      if ctx.format == "text" then
        local who = ("%s (%s): "):format(src.label,
          src.device and fmt.short(src.device) or "no device id")
        if r.read == 0 and r.after_id > 0 then
          ctx.out:write(who, ("nothing new (up to id %d pushed before)\n")
            :format(r.after_id))
        else
          ctx.out:write(who, ("%s read, %s new, %s already there%s\n")
            :format(fmt.plural(r.read, "event"), fmt.number(r.inserted),
              fmt.number(r.duplicates),
              r.after_id > 0 and (" (from id %d on)"):format(r.after_id + 1)
                or ""))
        end
      end
    end
    if ctx.format == "json" then
      ctx.out:write(synclua.json_encode{ pushed = all, to = fleet:path(),
                                         read = total.read,
                                         inserted = total.inserted,
                                         duplicates = total.duplicates }, "\n")
    else
      ctx.out:write(("%s: %s from %s: %s new\n"):format(fleet:path(),
        fmt.plural(total.read, "event"), fmt.plural(#all, "device"),
        fmt.number(total.inserted)))
    end
    return 0
  end,
}
