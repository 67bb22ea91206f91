-- What the browser suite expects of a library's pictures, as JSON on
-- stdout: each device's events counted in its store (all, and those of
-- info or above), and what the view model holds (sessions and batches per
-- device, the causal links and their steps, the first failed backfill
-- session). Run by spec/browser/run with the build's host:
--   synclua spec/browser/expect.lua LIBRARY
local synclua = require "synclua"
local inputs = require "synclua.inputs"
local view = require "synclua.view"

local set <close> = inputs.resolve({ arg[1] }, {})
local model = assert(view.build(set, {}))
model:stream(function() end)
local devices = synclua.array()
for i, src in ipairs(set) do
  local d = { label = src.label, events = src.log:count{},
              non_debug = src.log:count{ severity = "info+" },
              sessions = 0, batches = 0 }
  for _, s in ipairs(model.sessions) do
    if s.device == i then
      d.sessions = d.sessions + 1
      d.batches = d.batches + #s.batches
    end
  end
  devices[i] = d
end
local steps, failed = 0, nil
for _, l in ipairs(model.links) do steps = steps + #l.steps end
for _, s in ipairs(model.sessions) do
  if not failed and s.kind == "backfill" and s.status == "failed" then
    failed = { id = s.id, status = s.status, records = s.records,
               batches = #s.batches, peer_label = s.peer_label,
               label = set[s.device].label }
  end
end
print(synclua.json_encode{ devices = devices, links = #model.links,
                           steps = steps, failed = failed or synclua.null })
