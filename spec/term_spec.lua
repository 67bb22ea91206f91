-- What a person at a terminal gets (issue 15's terminal part): lines cut to
-- the width with "…", colour (--color, NO_COLOR), the pager ($PAGER,
-- --no-pager), the pictures' legend; and pipes, files and dumb terminals
-- get the plain text they always got. The commands run on a
-- pseudo-terminal (util-linux `script`) of a set size.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local term = require "synclua.term"
local quote = support.quote

local ESC = "\27"

-- `synclua ARGS` in dir on a terminal of `cols` x 24, with the extra
-- environment `env`: its output (stdout and stderr, as the terminal shows
-- them, CR LF made LF) and exit status.
local function on_terminal(dir, args, cols, env)
  local inner = ("stty cols %d rows 24; SYNCLUA_DB= %s %s %s"):format(cols,
    env or "", quote(support.EXE), args)
  local out = dir .. "/.term-out"
  local ok, _, status = os.execute(("cd %s && env -u COLUMNS -u NO_COLOR "
    .. "TERM=xterm SYNCLUA_UNICODE=1 LANG=C.UTF-8 script -qec %s /dev/null "
    .. "</dev/null >%s 2>&1"):format(quote(dir), quote(inner), quote(out)))
  local text = (support.slurp(out) or ""):gsub("\r\n", "\n")
  os.remove(out)
  return text, ok and 0 or status
end

-- The display width of a line: its characters, colour codes taking none.
local function width(line)
  return utf8.len((line:gsub(ESC .. "%[[%d;]*m", "")))
end

describe("synclua.term", function()
  after_each(function() term.setup{ format = "json" } end)

  it("cuts a line to a width with …, counting characters, not bytes or "
     .. "colour codes", function()
    assert.equal("abcdefghij", term.cut("abcdefghij", 10))
    assert.equal("abcdefgh…", term.cut("abcdefghijk", 9))
    assert.equal("  héllo…", term.cut("  héllo wörld", 8))
    assert.equal("▁▂▃…", term.cut("▁▂▃▄▅▆▇█", 4))
    assert.equal(ESC .. "[31merror" .. ESC .. "[0m …" .. ESC .. "[0m",
                 term.cut(ESC .. "[31merror" .. ESC .. "[0m    backfill", 7))
    assert.equal("", term.cut("", 5))
  end)

  it("paints severities and device labels where they stand as columns",
     function()
    term.setup{ format = "text", color = "always" }
    term.devices{ "desktop", "phone" }
    assert.equal("  " .. ESC .. "[31merror" .. ESC .. "[0m    backfill "
      .. "failed  " .. ESC .. "[35mphone" .. ESC .. "[0m",
      term.paint_line("  error    backfill failed  phone"))
    -- Inside a summary, or glued to other text, a word stays as it is.
    assert.equal("  an error on phones and a phone", term.paint_line(
      "  an error on phones and a phone"):gsub(ESC .. "%[35mphone"
      .. ESC .. "%[0m$", "phone"))
    assert.equal(ESC .. "[1;31mslow" .. ESC .. "[0m",
                 term.paint("finding", "slow"))
    term.setup{ format = "text", color = "never" }
    assert.equal("  error    x", term.paint_line("  error    x"))
    assert.equal("slow", term.paint("finding", "slow"))
  end)

  it("leaves a picture the width it wants when output is no terminal",
     function()
    term.setup{ format = "text" }     -- a pipe: no width
    assert.is_nil(term.width())
    assert.equal(48, term.cells(48, 70))
  end)
end)

describe("text on a terminal", function()
  local dir

  setup(function()
    dir = support.tmpdir()
    local _, err, status = support.synclua(dir, "simulate --out lib "
      .. "--devices 3 --hours 12 --seed 5 --start 2025-12-03T12:00:00Z")
    assert.equal(0, status, err)
  end)

  teardown(function() support.rmdir(dir) end)

  it("fits every line to the width, cutting with …, and colours the "
     .. "devices", function()
    local out, status = on_terminal(dir, "timeline --db lib --limit 4 "
      .. "--no-pager", 60)
    assert.equal(0, status)
    local lines = support.lines(out)
    assert.equal(7, #lines)   -- 2 header lines, 4 rows, the --limit note
    for _, l in ipairs(lines) do assert.truthy(width(l) <= 60, l) end
    assert.equal("# clock offsets (relative to desktop): laptop +8.863 s "
      .. "±0.0…", lines[2])
    assert.equal("  2025-12-03 12:02:30.199  " .. ESC .. "[35mlaptop" .. ESC
      .. "[0m   debug    batch_ingestio…" .. ESC .. "[0m", lines[3])
    -- COLUMNS decides when set.
    out = on_terminal(dir, "timeline --db lib --limit 1 --no-pager", 60,
                      "COLUMNS=40")
    assert.equal("# clock offsets (relative to desktop): …",
                 support.lines(out)[2])
  end)

  it("gives plain text with NO_COLOR, --color=never and TERM=dumb, and "
     .. "colour through a pipe only when asked", function()
    local plain = support.synclua(dir, "why_failed --db lib")
    for _, env in ipairs{ "NO_COLOR=1", "TERM=dumb" } do
      local out = on_terminal(dir, "why_failed --db lib --no-pager", 200,
                              env)
      assert.is_nil(out:find(ESC, 1, true), env)
    end
    local out = on_terminal(dir, "why_failed --db lib --no-pager "
      .. "--color=never", 200)
    assert.is_nil(out:find(ESC, 1, true))
    -- A dumb terminal gets exactly what a pipe gets.
    assert.equal(plain, (on_terminal(dir, "why_failed --db lib", 200,
                                      "TERM=dumb")))
    -- --color=always through a pipe: colour, but nothing cut.
    out = support.synclua(dir, "why_failed --db lib --color=always")
    assert.equal(ESC .. "[1;31msync failed: 1 backfill session failed, "
      .. "buffer overflow" .. ESC .. "[0m\n", out:match("^[^\n]*\n"))
    assert.equal(#support.lines(plain), #support.lines(out))
  end)

  it("pages long text through $PAGER, and not with --no-pager, -o or a "
     .. "pipe", function()
    local paged = dir .. "/paged.txt"
    local pager = "PAGER=" .. quote("tee " .. quote(paged) .. " >/dev/null")
    local out, status = on_terminal(dir, "why_failed --db lib --color=never",
                                    200, pager)
    assert.equal(1, status)   -- the finding's status, not the pager's
    assert.equal("", out)
    local plain = support.synclua(dir, "why_failed --db lib")
    assert.equal(plain, support.slurp(paged))
    os.remove(paged)
    on_terminal(dir, "why_failed --db lib --no-pager", 200, pager)
    assert.is_nil(support.slurp(paged))
    on_terminal(dir, "why_failed --db lib -o x.txt", 200, pager)
    assert.is_nil(support.slurp(paged))
    assert.equal(plain, support.slurp(dir .. "/x.txt"))
    support.synclua(dir, "why_failed --db lib", pager)
    assert.is_nil(support.slurp(paged))
  end)

  it("explains the pictures' characters under them, on a terminal only",
     function()
    local out = on_terminal(dir, "why_slow --db lib --no-pager "
      .. "--color=never", 200)
    local lines = support.lines(out)
    assert.equal("legend: ▁▂▃▄▅▆▇█ sparkline: a step of time each, low to "
      .. "high within its row", lines[#lines])
    out = on_terminal(dir, "session --db lib --no-pager --color=never "
      .. "667d8e5b", 200)
    lines = support.lines(out)
    assert.equal("legend: │█▸▏ Gantt: the time axis, a span, no end yet, "
      .. "no length", lines[#lines])
    assert.is_nil(support.synclua(dir, "why_slow --db lib"):find("legend:",
                                                               1, true))
  end)
end)
