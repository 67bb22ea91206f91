-- synclua.pictures: sparklines, bars, Gantt charts and histograms as
-- strings, in Unicode and in ASCII (forced with `ascii`), exact to the
-- character.
local pictures = require "synclua.pictures"
local support = dofile("spec/fixtures/support.lua")

local S = 1000000000
local T0 = 1764547200 * S                      -- 2025-12-01T00:00:00Z
local U, A = { ascii = false }, { ascii = true }

describe("pictures.sparkline()", function()
  it("draws each value at its height between the smallest and the largest",
     function()
    assert.equal("▁▃█▂", pictures.sparkline({ 3, 5, 9, 4 }, U))
    assert.equal("_.#.", pictures.sparkline({ 3, 5, 9, 4 }, A))
    assert.equal("▁▂▃▄▅▆▇█", pictures.sparkline({ 0, 1, 2, 3, 4, 5, 6, 7 }, U))
    assert.equal("_.-=#", pictures.sparkline({ 0, 1, 2, 3, 4 }, A))
  end)

  it("sits a flat series on the lowest level and leaves holes blank",
     function()
    assert.equal("▁▁▁", pictures.sparkline({ 7, 7, 7 }, U))
    assert.equal("___", pictures.sparkline({ 7, 7, 7 }, A))
    assert.equal("▁ █", pictures.sparkline({ 1, nil, 3, n = 3 }, U))
    assert.equal("_ #", pictures.sparkline({ 1, nil, 3 }, { ascii = true, n = 3 }))
    assert.equal("", pictures.sparkline({}, U))
  end)

  it("scales to a given range, clamping, and averages runs to fit a width",
     function()
    assert.equal("▁▅█", pictures.sparkline({ -5, 5, 50 }, { ascii = false,
                                                             min = 0, max = 10 }))
    assert.equal("▁▃▆█", pictures.sparkline({ 1, 2, 3, 4, 5, 6, 7, 8 },
                                             { ascii = false, width = 4 }))
    assert.equal("_-#", pictures.sparkline({ 1, 1, 5, 5, 9, 9 },
                                           { ascii = true, width = 3 }))
  end)

  it("raises on misuse in Lua's words", function()
    assert.equal("bad argument #1 to 'sparkline' (table expected, got nil)",
                 support.error_of(pictures.sparkline))
    assert.equal("bad argument #1 to 'sparkline' (values[2]: number expected,"
                 .. " got string)", support.error_of(pictures.sparkline,
                                                     { 1, "x" }, A))
    assert.equal("bad argument #2 to 'sparkline' (width: a positive integer "
                 .. "expected)", support.error_of(pictures.sparkline, { 1 },
                                                  { width = 0 }))
  end)
end)

describe("pictures.bars()", function()
  local rows = { { label = "desktop", value = 5 },
                 { label = "nas", value = 2.5, text = "2.5 of 7" },
                 { "phone", 0 } }

  it("draws labelled bars to the eighth of a cell in Unicode", function()
    assert.equal(table.concat({
      "desktop  ██████████  5",
      "nas      █████       2.5 of 7",
      "phone                0",
      "" }, "\n"), pictures.bars(rows, 10, U))
    assert.equal("a  ███▎      1\nb  ████████  2.5\n",
                 pictures.bars({ { "a", 1 }, { "b", 2.5 } }, 8, U))
  end)

  it("draws whole '#' in ASCII, indented, against a given maximum",
     function()
    assert.equal(table.concat({
      "  desktop  #####       5",
      "  nas      ###         2.5 of 7",
      "  phone                0",
      "" }, "\n"), pictures.bars(rows, 10, { ascii = true, max = 10,
                                             indent = "  " }))
    assert.equal("x  #      1\n", pictures.bars({ { "x", 1 } }, 5,
                                                { ascii = true, max = 1000 }))
  end)

  it("raises on misuse", function()
    assert.equal("bad argument #2 to 'bars' (positive integer expected, got "
                 .. "float)", support.error_of(pictures.bars, {}, 1.5))
    assert.equal("bad argument #1 to 'bars' (rows[1].value: number expected,"
                 .. " got nil)", support.error_of(pictures.bars, { { "a" } }, 4))
  end)
end)

describe("pictures.gantt()", function()
  local spans = {
    { label = "session", start = T0, stop = T0 + 600 * S },
    { label = "selection", start = T0, stop = T0 },
    { label = "models", start = T0 + 120 * S, stop = T0 + 300 * S },
    { label = "open", start = T0 + 400 * S },
    { label = "batch", start = T0 + 590 * S, stop = T0 + 591 * S,
      text = "1 batch" },
  }

  it("places every span on one time axis, with its duration", function()
    assert.equal(table.concat({
      "           00:00:00                00:10:00",
      "session    │██████████████████████████████│  10 min 00 s",
      "selection  │▏                             │  0 ms",
      "models     │      █████████               │  3 min 00 s",
      "open       │                    █████████▸│  no end",
      "batch      │                             █│  1 batch",
      "" }, "\n"), pictures.gantt(spans, 30, T0, T0 + 600 * S, U))
    assert.equal(table.concat({
      "           00:00:00                00:10:00",
      "session    |==============================|  10 min 00 s",
      "selection  |+                             |  0 ms",
      "models     |      =========               |  3 min 00 s",
      "open       |                    =========>|  no end",
      "batch      |                             =|  1 batch",
      "" }, "\n"), pictures.gantt(spans, 30, T0, T0 + 600 * S, A))
  end)

  it("takes axis labels, and drops the right one where it does not fit",
     function()
    assert.equal("     a   bb\n  x  |====|  1.0 s\n",
                 pictures.gantt({ { "x", T0, T0 + S } }, 4, T0, T0 + S,
                                { ascii = true, left = "a", right = "bb",
                                  indent = "  " }))
    assert.equal("   aaa\nx  |====|  1.0 s\n",
                 pictures.gantt({ { "x", T0, T0 + S } }, 4, T0, T0 + S,
                                { ascii = true, left = "aaa", right = "bbb" }))
    assert.equal("   00:00:00\nx  |=====|  1.0 s\n",
                 pictures.gantt({ { "x", T0, T0 + S } }, 5, T0, T0 + S, A))
  end)

  it("raises on misuse", function()
    assert.equal("bad argument #1 to 'gantt' (spans[1].start: integer "
                 .. "expected, got float)",
                 support.error_of(pictures.gantt, { { "x", 1.5 } }, 4, 0, 1))
    assert.equal("bad argument #4 to 'gantt' (integer expected, got nil)",
                 support.error_of(pictures.gantt, {}, 4, 0))
  end)
end)

describe("pictures.histogram()", function()
  local times = {}
  for i = 1, 50 do times[i] = T0 + (i * i * 7 % 600) * S end
  times[#times + 1] = T0 - S                 -- outside: not counted
  times[#times + 1] = T0 + 600 * S           -- the end: the last bucket

  it("counts events per bucket as horizontal bars", function()
    local text, counts = pictures.histogram(times, 4, T0, T0 + 600 * S,
                                            { ascii = true, width = 20 })
    assert.equal(table.concat({
      "00:00:00  ##############        13",
      "00:02:30  #########             8",
      "00:05:00  ####################  18",
      "00:07:30  #############         12",
      "" }, "\n"), text)
    assert.same({ 13, 8, 18, 12 }, counts)
  end)

  it("draws vertical columns to the eighth of a line in Unicode", function()
    local text, counts = pictures.histogram(times, 20, T0, T0 + 600 * S,
                                            { ascii = false, vertical = true })
    assert.equal(table.concat({
      "4 │  ██ █     ████    █",
      "  │█ ██ █     ████    █",
      "  │█ ████  █ ██████████",
      "0 │█ ████ █████████████",
      "  00:00:00     00:10:00",
      "" }, "\n"), text)
    assert.equal(20, #counts)
    assert.equal("4 |  ## #     ####    #\n  |# ## #     ####    #\n"
                 .. "  |# ####  # ##########\n0 |# #### #############\n"
                 .. "  00:00:00     00:10:00\n",
                 (pictures.histogram(times, 20, T0, T0 + 600 * S,
                                     { ascii = true, vertical = true })))
  end)

  it("draws an empty range as an empty chart", function()
    assert.equal("0 |\n0 |\n  00:00:00\n",
                 (pictures.histogram({}, 3, T0, T0 + S,
                                     { ascii = true, vertical = true,
                                       height = 2 })))
  end)
end)

describe("fmt.duration()", function()
  it("writes durations as the reports and pictures do", function()
    local fmt = require "synclua.fmt"
    assert.same({ "850 ms", "12.4 s", "3 min 05 s", "1 h 02 min", "2 d 03 h" },
                { fmt.duration(850 * 1000000),
                  fmt.duration(12400 * 1000000),
                  fmt.duration(185 * S), fmt.duration(3720 * S),
                  fmt.duration((2 * 86400 + 3 * 3600) * S) })
  end)
end)

describe("pictures.columns()", function()
  it("pads each column to its widest cell in characters, aligns the right "
     .. "ones right, and leaves no trailing blanks", function()
    assert.same({ "peer     score  note",
                  "desktop  307.9  chosen",
                  "phône      8.1" },
                pictures.columns({ { "peer", "score", "note" },
                                   { "desktop", "307.9", "chosen" },
                                   { "phône", "8.1", "" } }, { [2] = true }))
    assert.same({}, pictures.columns({}))
  end)
end)
