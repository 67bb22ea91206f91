--- synclua.output: where a command's data goes (DESIGN.md "The command
-- line": data to stdout, diagnostics to stderr). `-o FILE` is written
-- atomically: into a temporary file beside it, renamed over FILE only when
-- the command succeeded, so a failed run leaves no half file (and an
-- existing FILE as it was). A FILE that is a device or a pipe
-- (/dev/null, a FIFO) is written in place: renaming over it would replace
-- it with a file.
--
--     local out <close> = output.open(opts.output)   -- nil: stdout
--     out:write("...")                               -- any number of strings
--     out:commit()                                    -- done: rename, flush
--
-- A write that fails ends the command (exit 3) naming the file. Closing
-- without commit (an error on the way) removes the temporary file.
local synclua = require "synclua"
local runner = require "synclua.runner"

local M = {}

--- The format names every command shares, and the one alias.
M.FORMATS = { "text", "json", "ndjson", "csv", "markdown", "sql", "html",
              "trace" }
M.ALIASES = { md = "markdown" }

local Output = {}
Output.__index = Output

local function fail(name, err)
  error(runner.failure("ioerr", ("%s: %s"):format(name, tostring(err))), 0)
end

--- Write strings; a failure ends the command (exit 3).
-- @param ... strings
-- @return self
function Output:write(...)
  for i = 1, select("#", ...) do
    local s = (select(i, ...))
    if self.shape then s = self:shaped(s) end
    local ok, err = self.file:write(s)
    if not ok then fail(self.name, err) end
  end
  return self
end

-- The whole lines of what was written so far, each shaped for the
-- terminal (self.shape); a line not ended yet waits for its end.
function Output:shaped(s)
  local text = self.partial .. s
  local last = text:match(".*()\n")
  if not last then
    self.partial = text
    return ""
  end
  self.partial = text:sub(last + 1)
  return (text:sub(1, last):gsub("([^\n]*)\n", function(line)
    return self.shape(line) .. "\n"
  end))
end

-- Write what waits of an unended line.
local function drain(self)
  if self.shape and self.partial ~= "" then
    local rest = self.shape(self.partial)
    self.partial = ""
    local ok, err = self.file:write(rest)
    if not ok then fail(self.name, err) end
  end
end

--- Send what was written on (a follower's rows as they come); a failure
-- ends the command (exit 3).
-- @return self
function Output:flush()
  drain(self)
  local ok, err = self.file:flush()
  if not ok then fail(self.name, err) end
  return self
end

--- Finish: flush stdout, or close the temporary file and rename it over
-- the destination. A failure ends the command (exit 3).
function Output:commit()
  if self.done then return end
  drain(self)
  self.done = true
  if self.pager then
    -- The pager's own status (the reader quit early) is not ours: wait
    -- for it to end, so that the prompt comes back after it.
    self.file:close()
  elseif self.direct then
    local ok, err = self.file:close()
    if not ok then fail(self.name, err) end
  elseif self.tmp then
    local ok, err = self.file:close()
    if not ok then
      os.remove(self.tmp)
      fail(self.name, err)
    end
    local renamed, why = os.rename(self.tmp, self.name)
    if not renamed then
      os.remove(self.tmp)
      fail(self.name, why)
    end
  else
    local ok, err = self.file:flush()
    if not ok then fail(self.name, err) end
  end
end

--- Give up: remove the temporary file (nothing of it reaches the
-- destination). Called by __close when commit was not.
function Output:abort()
  if self.done then return end
  self.done = true
  if self.pager then
    pcall(self.file.close, self.file)
  elseif self.direct then
    self.file:close()
  elseif self.tmp then
    self.file:close()
    os.remove(self.tmp)
  end
end

Output.__close = Output.abort
Output.__gc = Output.abort

--- Open the output: stdout when `path` is nil or "-", else a temporary file
-- beside `path` (exit 3, naming `path`, when it cannot be created). On
-- stdout, `term` (synclua.term's decision) may put a pager between, and
-- shape each line: cut to the terminal's width, its columns painted.
-- @tparam[opt] string path
-- @tparam[opt] table term { pager, width, color }
-- @treturn table an output with write, commit and abort (to-be-closed)
function M.open(path, term)
  if path ~= nil and type(path) ~= "string" then
    error(("bad argument #1 to 'open' (string expected, got %s)")
      :format(type(path)), 2)
  end
  if path == nil or path == "-" then
    local out = setmetatable({ file = io.stdout, name = "stdout",
                               partial = "" }, Output)
    if term and term.pager then
      io.stdout:flush()
      local pipe = io.popen(term.pager, "w")
      if pipe then out.file, out.pager = pipe, term.pager end
    end
    if term and (term.width or term.color) then
      local t = require "synclua.term"
      out.shape = function(line)
        line = t.paint_line(line)
        return term.width and t.cut(line, term.width) or line
      end
    end
    return out
  end
  local fs = require "synclua.fs"
  -- Before anything opens it: a pipe opened to read waits for a writer.
  if fs.special(path) then
    local file, err = io.open(path, "wb")
    if not file then fail(path, (err:gsub("^[^:]*: ", ""))) end
    return setmetatable({ file = file, name = path, direct = true }, Output)
  end
  if path:sub(-1) == "/" or fs.kind(path) == "dir" then
    fail(path, "is a folder (give a file name)")
  end
  local dir = path:match("^(.*)/[^/]*$") or "."
  local tmp = ("%s/.%s.synclua-%s"):format(dir, path:match("([^/]*)$"),
                                          synclua.uuid():sub(1, 8))
  local file, err = io.open(tmp, "wb")
  if not file then
    fail(path, (err:gsub("^[^:]*: ", "")))
  end
  return setmetatable({ file = file, name = path, tmp = tmp }, Output)
end

--- Refuse (exit 2) an output that is one of the inputs (a store, its
-- -wal or -shm, an export): writing there would destroy what is read.
-- @tparam string path the -o value
-- @tparam {string,...} inputs the inputs' files
function M.guard(path, inputs)
  local fs = require "synclua.fs"
  if path == "-" or fs.kind(path) ~= "file" then return end
  for _, input in ipairs(inputs) do
    for _, f in ipairs{ input, input .. "-wal", input .. "-shm" } do
      if fs.kind(f) == "file" and fs.same_file(path, f) then
        runner.invalid(("-o %s is the input %s: refusing to write over it")
          :format(path, f))
      end
    end
  end
end

--- The canonical name of a format ("md" -> "markdown"), or nil.
-- @tparam string name
-- @treturn string|nil
function M.canonical(name)
  name = M.ALIASES[name] or name
  for _, f in ipairs(M.FORMATS) do
    if f == name then return name end
  end
  return nil
end

return M
